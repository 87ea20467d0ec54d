"""The one task a batch's zygote prepared (Sandbox(prepare=...)), and the marker its jobs carry instead.

Every job of a batch carries the same task, ~11 KB of JSON for the LayerNorm task. Sent whole, it
was encoded by the CLI, decoded and encoded again by the warden for the child and for the judge,
decoded by each of them and compared with what they knew: ~1 ms of a job's CPU across four
processes. The zygote keeps it (`keep`, before it forks the judge, the warden or any child), so a job
whose task is that one carries MARKER instead (Sandbox.run), and the child and the judge, copies
of the zygote's memory, read the task back here (`resolve`).

Not secret: the task is what the child always received. Plain data only; no torch (the CLI imports
this module).
"""
from __future__ import annotations

# job["task"] of a job whose task is the zygote's prepared one.
MARKER = "prepared"

# [{"task", "seed", "device"}] (Sandbox's `prepare`) in a zygote told its batch's task, and in its forks
_KEPT: list = []


def keep(task: dict, seed: int, device: str) -> None:
    """In the zygote, before its first fork."""
    _KEPT[:] = [{"task": task, "seed": seed, "device": device}]


def matches(job: dict, prepare: dict) -> bool:
    """Is this job's task, whole, the one prepared with `prepare` ({"task", "seed", "device"}), for
    its seed and device? (In the CLI: may it carry MARKER?) job_task() hands out one dict per task
    and seed, so the identity test is the usual one and the comparison a fallback."""
    task = job.get("task")
    return (task is prepare["task"] or task == prepare["task"]) and _same_run(job, prepare)


def holds(job: dict) -> bool:
    """In a fork of a zygote that kept its task: is this job's task the kept one, whole or as
    MARKER, for the same seed and device?"""
    if not _KEPT:
        return False
    return _same_run(job, _KEPT[0]) if job.get("task") == MARKER else matches(job, _KEPT[0])


def resolve(job: dict) -> dict:
    """The job's task: itself, or the prepared one when it carries MARKER. ValueError when it carries
    the marker and this process holds no prepared task for its seed and device (a bug: Sandbox.run
    sends the marker only to a zygote that said it prepared that very task)."""
    task = job.get("task")
    if task != MARKER:
        return task
    if not _KEPT:
        raise ValueError("the job names the prepared task, but this process has none")
    if not holds(job):
        raise ValueError("the job names the prepared task with another seed or device")
    return _KEPT[0]["task"]


def _same_run(job: dict, prepare: dict) -> bool:
    return job.get("seed") == prepare["seed"] and job.get("device", "cpu") == prepare["device"]
