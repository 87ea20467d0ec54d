"""The sandbox that runs submitted code: a warm zygote, a locked-down child per submission, a judge.

    sb = Sandbox(device="cpu")           # starts the zygote now; returns at once (preload=(...))
    result = sb.run(job, deadline_s=10)  # the judge's dict (see docs/DESIGN.md, flow 2)
    sb.layers()                          # {"seccomp": "on", "uid": "off: ...", ...}
    sb.close()                           # or use it as a context manager

Processes. The CLI (no torch) starts the zygote (`python -I`, torch imported, idle; client.py,
zygote.py). The zygote keeps one grading slot forked ahead of the next job, and the slot forks its
child at once: the child locks itself down and waits, so forks and lockdown cost a job nothing. The
slot reads the job from the CLI's pipe, hands it to the child, supervises it (supervisor.py) and,
once the child is reaped, imports and runs the judge itself and replies; the zygote then says the
slot is reaped, so run() returns with no process of that job left. The zygote never reads a job, so
nothing of one submission survives into the memory a later child is forked from. Child entries must
be imported by the zygote (`grader.grading.runner` always; others through `preload=`), because a locked-down
child can no longer read dlprep's files; the zygote refuses to hold grader.references, grader.mutants
or grader.grading.judge.

Layers, applied by the child to itself in this order (lockdown.py), each probed at start-up in a
throwaway child (probe_layers.py) and skipped with a reason where it does not work here:
  session         its own session and process group: the supervisor kills the whole group
  namespaces      a network namespace (no interfaces) and a private mount namespace
  scratch-tmpfs   cwd is a 64 MiB, 4096-inode tmpfs seen by the child only (a file-size limit
                  alone does not stop many small files filling the disk)
  rlimits         CPU seconds, file size, 64 open files, no core dump; on the CPU address space =
                  the zygote's VmSize (torch maps ~0.6 GB) + 2 GiB; on CUDA, where RLIMIT_AS breaks
                  CUDA's start-up, RLIMIT_DATA instead
  cuda-memory     --device cuda only: CUDA initialised in the child, before Landlock and seccomp
                  (the zygote never touches CUDA), and torch's per-process memory fraction set
  no-new-privs    no privilege gain through exec; required by Landlock for a non-root process
  landlock        read-only on the interpreter, stdlib, installed packages and system libraries,
                  except dlprep's own files (grader/, questions/, cli.py, the source checkout, an
                  installed distribution's files); read-write on scratch only
  landlock-scope  (ABI >= 6) no TCP bind/connect, no signals and abstract UNIX sockets outside
  uid             an unprivileged uid per slot (two, alternating), when it can read the interpreter
                  (a pyenv under /root, mode 0700, cannot: reported off with that reason); after a
                  job everything of that uid is killed
  pdeathsig       SIGKILL when the slot dies, set after the uid change, then getppid() re-checked
  seccomp         socket (every family), ptrace, process_vm_*, fork/vfork/clone without
                  CLONE_THREAD/clone3 (ENOSYS, so glibc falls back to clone), exec, mount/unshare/
                  setns, bpf, perf_event_open, keyctl, io_uring, userfaultfd; signals only to itself
Then a scrubbed environment, and only then the child entry imports the submission.

Supervision (supervisor.py): a wall-clock deadline (SIGKILL of the child's process group: status
`timeout`); the answer's length is read first and refused over 64 MiB (`output-limit`); stdout and
stderr keep 64 KiB each, a flood is drained and noted; an end without an answer is `crashed`, a
memory failure `memory-limit`. With no isolating layer working (namespaces, landlock, seccomp, uid)
the sandbox refuses to grade (CannotGrade, exit 3) unless insecure=True.

May import: grader.errors
Must not be imported by: anything but grader.grading, grader.authoring and cli.py; it imports the child and judge entry points by name (never grader.references, grader.mutants or the judge into the zygote).
"""
from grader.sandbox.client import Sandbox

__all__ = ["Sandbox"]
