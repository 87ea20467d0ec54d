"""Child and judge entries for the sandbox's own tests (imported by the zygote's slot, not by pytest).

`run_source` executes job["source"] in the locked-down child; the source reports what it saw by
setting `report` (a JSON-able dict) and may set `tensors`. `echo_judge` hands back how the child
ended, so a test can assert on the supervisor's verdict.
"""
from __future__ import annotations


def run_source(job: dict, send) -> None:
    scope: dict = {"report": {}, "tensors": {}, "send": send}
    exec(compile(job["source"], job.get("filename", "<submission>"), "exec"), scope)
    if not job.get("no_send"):
        send(scope["report"], scope["tensors"])


def echo_judge(job: dict, outcome) -> dict:
    tensors = {}
    if outcome.tensors is not None:
        from safetensors.torch import load

        tensors = {k: v.tolist() for k, v in load(outcome.tensors).items()}
    return {
        "status": outcome.status, "detail": outcome.detail, "meta": outcome.meta, "tensors": tensors,
        "stdout": outcome.stdout, "stderr": outcome.stderr, "duration_s": outcome.duration_s,
        "layers": outcome.layers, "modules": sorted(m for m in __import__("sys").modules if m.startswith("grader.")),
    }


def slow_judge(job: dict, outcome) -> dict:
    import time

    time.sleep(30)
    return {}


def judge_process(job: dict, outcome) -> dict:
    """Which process judged, and whether another process of its uid could read its memory."""
    import ctypes
    import os

    dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
    return {"status": outcome.status, "pid": os.getpid(), "parent": os.getppid(), "dumpable": dumpable}
