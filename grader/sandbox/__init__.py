"""The sandbox that runs submitted code: a warm zygote, a locked-down child per submission, a judge.

    sb = Sandbox(device="cpu")           # starts the zygote now; returns at once (preload=(...))
    result = sb.run(job, deadline_s=10)  # the judge's dict (see docs/DESIGN.md, flow 2)
    sb.layers()                          # {"seccomp": "on", "uid": "off: ...", ...}
    sb.facts()                           # what the probe child really had (uids, caps, namespaces)
    sb.close()                           # or use it as a context manager

Processes. The CLI (no torch) starts the zygote (`python -I`, torch imported, idle; client.py,
zygote.py); its command line holds two fd numbers, the rest (device, directory, preloads) comes
through the control pipe. The zygote keeps one child forked ahead of the next job, into a new PID
namespace where it is pid 1 (namespaces.py: root re-enters its own namespace with setns, any other
uid reparents through a short-lived intermediate): the child locks itself down and waits, so the
fork and the lockdown cost a job nothing. The zygote hands the parent's ends of the child's pipes to
the sandbox's warden (warden.py: forked once by the zygote, never forked from), which reads the job
from the CLI's pipe, hands it to the child, supervises it (supervisor.py), asks the zygote to reap
it, hands the job and the child's outcome to the sandbox's judge process (judgeserver.py: forked
once by the zygote, warm, never forked from) and relays its answer; the zygote then says the child
is reaped, so run() returns with no process of that job left. The zygote never reads a job or
anything a child wrote, so nothing of one submission survives into the memory a later child is
forked from. (A grading slot forked per job used to do the warden's work and fork the child: a
second fork of torch's address space per job, ~12 ms of CPU.) What every child would compute the
same way is prepared once by the zygote: the seccomp program (for pid 1) and the Landlock ruleset;
glibc's heap is in transparent huge pages (GLIBC_TUNABLES), so each fork copies a few dozen
page-table entries for it instead of ~23000, and blocks up to 32 MiB come from it. Child entries
must be imported by the zygote (`grader.grading.runner` always; others through `preload=`), because
a locked-down child can no longer read dlprep's files; the zygote refuses to hold
grader.references, grader.mutants or grader.grading.judge.

Layers, applied by the child to itself in this order (lockdown.py), each probed at start-up in a
throwaway child forked the same way (probe_layers.py) and skipped with a reason where it does not
work here; the zygote then reads the probe child's /proc entries (facts.py) and turns off a layer
they contradict:
  cgroup          joins its job's pids (128 tasks) and memory cgroup (the address-space headroom
                  + 1 GiB, no swap), made by the zygote below dlprep's own cgroup (v2 where its
                  controllers can be enabled there, else v1) and removed once the child is reaped;
                  stale ones (their zygote gone) are swept at start. A kernel kill at the memory
                  limit is `memory-limit`
  session         its own session and process group: the supervisor kills the whole group
  pidns           it is pid 1 of its PID namespace (made by the zygote's fork): it sees and names no
                  process outside; when it dies, everything in the namespace dies. As pid 1 it
                  would ignore the fatal signals it sends itself: it handles them (alarm, SIGTERM,
                  SIGXCPU, ...) by exiting as if killed by them; its own SIGKILL does nothing, and
                  abort() ends in SIGSEGV
  uid             an unprivileged uid per child (two, alternating), when it can read the interpreter
                  (a pyenv under /root, mode 0700, cannot: reported off with that reason)
  userns          a user namespace: root inside, the slot uid outside (uid layer on) or dlprep's
                  uid (0 -> 0 for root); its capabilities are the namespace's, then dropped
  namespaces      network (no interfaces), mount (private), IPC (System V objects die with it) and
                  UTS (host name) namespaces, owned by its user namespace
  scratch-tmpfs   cwd is a 64 MiB, 4096-inode tmpfs seen by the child only (a file-size limit
                  alone does not stop many small files filling the disk); the directory holding its
                  mount point is made read-only in the child's mount namespace
  rlimits         CPU seconds, file size, 64 open files, no core dump; on the CPU address space =
                  the zygote's VmSize (torch maps ~0.6 GB) + 2 GiB; on CUDA, where RLIMIT_AS breaks
                  CUDA's start-up, RLIMIT_DATA instead
  cuda-memory     --device cuda only: CUDA initialised in the child, before Landlock and seccomp
                  (the zygote never touches CUDA), and torch's per-process memory fraction set
  pdeathsig       SIGKILL when the zygote dies, set after the last uid change and once the zygote
                  is its parent (read from /proc: getppid() is 0 across a PID namespace)
  capabilities    none left in the effective, permitted, inheritable, ambient or bounding set;
                  securebits locked (no root magic, no ambient raise)
  no-new-privs    no privilege gain through exec; required by Landlock for a non-root process
  landlock        read-only on the interpreter, stdlib, installed packages and system libraries,
                  except dlprep's own files (grader/, questions/, cli.py, the source checkout, an
                  installed distribution's files); read-write on scratch only (the zygote's ruleset
                  grants scratch's read-only parent; its descriptor is closed before any submission
                  code runs)
  landlock-scope  (ABI >= 6) no TCP bind/connect, no signals and abstract UNIX sockets outside
  seccomp         socket (every family), ptrace, process_vm_*, fork/vfork/clone without
                  CLONE_THREAD/clone3 (ENOSYS, so glibc falls back to clone), exec, mount/unshare/
                  setns, bpf, perf_event_open, keyctl, io_uring, userfaultfd; sched_setscheduler/
                  setattr, ioprio_*, host name, clock setters, syslog, iopl/ioperm, System V and
                  POSIX IPC, memfd; signals only to itself; prlimit64, [sg]etpriority,
                  sched_setaffinity/setparam, getsid/getpgid/setpgid only on itself (pid 0 or 1
                  in its PID namespace)
Then a scrubbed environment, command line (sys.argv, sys.orig_argv) and linecache, and only then
the child entry imports the submission.

Where user namespaces are refused (Docker's default seccomp profile refuses unshare and clone with
namespace flags to a container without CAP_SYS_ADMIN), userns, pidns and namespaces are reported
off: the child stays in the container's namespaces and keeps Landlock, seccomp (pids pinned to its
own) and, as root, the dropped capabilities. `dlprep doctor` says so, and does not say "isolated".

Supervision (supervisor.py): a wall-clock deadline (SIGKILL of the child's process group: status
`timeout`); the answer's length is read first and refused over 64 MiB (`output-limit`); stdout and
stderr keep 64 KiB each, a flood is drained and noted; an end without an answer is `crashed`, a
memory failure (MemoryError, torch's failed allocation, or a kill at the cgroup's limit)
`memory-limit`. With no isolating layer working (userns, pidns, namespaces, capabilities, landlock,
seccomp, uid) the sandbox refuses to grade (CannotGrade, exit 3) unless insecure=True.

May import: grader.errors
Must not be imported by: anything but grader.grading, grader.authoring and cli.py; it imports the child and judge entry points by name (never grader.references, grader.mutants or the judge into the zygote).
"""
from grader.sandbox.client import Sandbox

__all__ = ["Sandbox"]
