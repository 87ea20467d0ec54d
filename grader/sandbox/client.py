"""The CLI side of the sandbox: start the zygote, send it jobs, read its replies. No torch here.

`Sandbox()` starts the zygote at once and returns; the zygote imports torch and probes the layers
while the CLI reads the submission and loads the task. Every wait on the zygote has a deadline, so a
dead or stuck zygote becomes CannotGrade (exit 3), never a hang.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.errors import CannotGrade
from grader.sandbox import cgroups, prepared, wire
from grader.sandbox.lockdown import ISOLATING, isolating_on

START_DEADLINE_S = 120.0  # torch's import plus the probe; ~2 s here, far more on a cold disk
JUDGE_DEADLINE_S = 60.0
REPLY_MARGIN_S = 10.0  # a child's fork, reaping and the judge's import on top of the two deadlines
LOG_TAIL = 2000
GRADER_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the dir holding grader/: the zygote runs this code
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from grader.sandbox.zygote import main; main(sys.argv[2:])"
# The zygote's whole environment: nothing of the user's (tokens, paths) reaches a child's memory.
ZYGOTE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              # glibc's heap in transparent huge pages (where the kernel offers them on request):
              # torch's ~90 MB of it then costs each fork ~45 page-table entries to copy, not ~23000
              # (a job's CPU: ~15 ms less over its two forks). Ignored by a glibc before 2.35.
              # Blocks up to 32 MiB (tensors, a serialized answer) from that heap, and freed memory
              # kept up to 64 MiB, not mapped and unmapped each time in 4 KiB faults: a failing
              # 512-wide residual block graded ~20 ms sooner (warm, median; benchmarks/watch_latency.py).
              "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432"
                                ":glibc.malloc.trim_threshold=67108864"}
PASSED_ENV = ("CUDA_VISIBLE_DEVICES",)


class Sandbox:
    """sb = Sandbox(device="cpu"); sb.run(job, deadline_s) -> the judge's dict; sb.close()."""

    def __init__(self, device: str = "cpu", insecure: bool = False, preload: tuple[str, ...] = (),
                 prewarm: bool = True, prepare: dict | None = None, huge_pages: bool = False,
                 cpus: tuple[int, ...] | None = None):
        """preload: modules holding child entries besides grader.grading.runner (a locked-down child
        cannot import anything of dlprep's, so the zygote imports them first). prewarm: each idle
        child warms the runner up while it waits (one job's latency); batch grading, where every
        core is busy grading, turns it off (that warm-up costs more CPU than it saves). prepare
        ({"task", "seed", "device"} as its jobs will carry them; with prewarm off): a batch's task,
        read once by the zygote rather than by every child (grader.sandbox.zygote.serve). huge_pages:
        the zygote's memory gathered into transparent huge pages before it serves (~0.2 s of CPU
        once, ~2.8 ms less per job: grader.sandbox.zygote.collapse_memory), for a batch with many
        jobs per sandbox. cpus: the cores the zygote and every process it starts run on (a batch
        gives each of its sandboxes a core of its own: grader.grading.batch.sandbox_cores); None:
        wherever the CLI may run."""
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda, not {device!r}")
        self.device, self.insecure = device, insecure
        self._hello: dict | None = None
        self._prepare = prepare
        self._base = tempfile.mkdtemp(prefix="dlprep-sandbox-")
        os.chmod(self._base, 0o711)  # a child under the uid layer must reach its scratch; no listing
        self._log = open(Path(self._base, "zygote.log"), "w+b")
        control_r, self._control = os.pipe()
        self._reply, reply_w = os.pipe()
        env = ZYGOTE_ENV | {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        self._proc = subprocess.Popen(
            # The directory's name tags this sandbox's processes (ps, the tests); it is no secret:
            # the child works in it.
            [sys.executable, "-I", "-c", BOOT, GRADER_ROOT, str(control_r), str(reply_w), Path(self._base).name],
            pass_fds=(control_r, reply_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=env, cwd=self._base, start_new_session=True,
        )
        os.close(control_r)
        os.close(reply_w)
        # The rest through the pipe, not the command line, which every child inherits in memory.
        start = {"device": device, "base": self._base, "preload": list(preload), "prewarm": bool(prewarm),
                 "prepare": prepare, "huge_pages": bool(huge_pages), "cpus": list(cpus) if cpus else None}
        wire.write_json(self._control, start)

    def layers(self) -> dict[str, str]:
        """Isolation layer -> "on" | "off: why" (waits for the zygote's start-up probe)."""
        return dict(self._ready()["layers"])

    def facts(self) -> dict:
        """What the probe child really had, read from its /proc entries (grader.sandbox.facts)."""
        return dict(self._ready().get("facts") or {})

    def check(self) -> None:
        """Wait for the zygote; raise CannotGrade unless it started and isolates (or insecure=True).
        Batch grading asks before the first job, so a machine that cannot grade fails once."""
        layers = self.layers()
        if not self.insecure and not isolating_on(layers):
            raise CannotGrade(
                "no isolation layer works here (" + "; ".join(f"{n}: {layers.get(n)}" for n in ISOLATING)
                + "); pass --insecure to grade without isolation"
            )

    def run(self, job: dict, deadline_s: float = 10.0, trusted: dict | None = None) -> dict:
        """Grade one job: the child gets deadline_s of wall-clock time; returns the judge's dict.
        `trusted`: for the judge alone, added to its copy of the job as job["trusted"] once the
        child has its own (a batch's float64 truth: grader.grading.truth)."""
        self.check()
        if self._prepare and self._hello.get("prepared") and prepared.matches(job, self._prepare):
            job = {**job, "task": prepared.MARKER}  # the zygote's task: its child and judge hold it
        request = {"job": job, "deadline_s": deadline_s, "judge_deadline_s": JUDGE_DEADLINE_S}
        if trusted is not None:
            request["trusted"] = trusted
        try:
            wire.write_json(self._control, request)
            deadline = time.monotonic() + deadline_s + JUDGE_DEADLINE_S + REPLY_MARGIN_S
            reply = wire.read_json(self._reply, deadline)
            # Until the zygote says it has reaped the job's child. (A warden that ended after writing
            # its answer, before telling the zygote, is followed by the zygote's error: not the answer.)
            while not wire.read_json(self._reply, deadline).get("reaped"):
                pass
        except (OSError, wire.WireError, ValueError) as exc:
            self._fail(f"the grading process stopped answering ({exc})")
        if not reply.get("ok"):
            raise CannotGrade(f"grading failed inside dlprep: {reply.get('error')}")
        return reply["result"]

    def _ready(self) -> dict:
        if self._hello is None:
            try:
                self._hello = wire.read_json(self._reply, time.monotonic() + START_DEADLINE_S)
            except (OSError, wire.WireError, ValueError) as exc:
                self._fail(f"the grading process did not start ({exc})")
        return self._hello

    def _fail(self, message: str):
        """Kill the zygote and raise CannotGrade with the end of its log."""
        self._kill()
        self._log.seek(0)
        tail = self._log.read().decode("utf-8", "replace")[-LOG_TAIL:].strip()
        raise CannotGrade(message + (f":\n{tail}" if tail else ""))

    def _kill(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)  # the zygote, its warden and judge (its process group)
        except ProcessLookupError:
            pass
        self._proc.wait()
        cgroups.remove_owned(self._proc.pid)  # its children's cgroups (they die of their death signal)

    def interrupt(self) -> None:
        """Kill the zygote and whatever it runs, from any thread (Ctrl-C in a batch): a run() waiting
        on it raises CannotGrade at once. close() still reaps and frees the rest."""
        if self._proc.returncode is not None:  # reaped: its pid may be another process's now
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        """Kill and reap the zygote and everything it started; remove the sandbox's directory."""
        if self._proc.returncode is None:
            self._kill()
        for fd in (self._control, self._reply):
            try:
                os.close(fd)
            except OSError:
                pass
        self._control = self._reply = -1
        self._log.close()
        shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
