"""What the trusted side's defences cost a job, piece by piece (docs/DESIGN.md, "Trust model").

In this process, as a child would: registering the forbidden-op kernels of the layernorm task (once
per job, after the job arrives), a call of a forbidden op (its byte on a pipe and the exception), a
call of an allowed op (unchanged: nothing sits in its path), one hand-over to the submission's worker
thread with the namespace check that follows it, the autograd-graph walk, and validating a real
answer. The whole-job figure is benchmarks/grading_time.py's. Run: python benchmarks/trusted_side.py
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from grader.bank.catalog import load_paths  # noqa: E402
from grader.grading import answer, guard, oprecord, probes, runner  # noqa: E402


ROUNDS = 5


def per_call_us(fn, n: int) -> float:
    """Median over ROUNDS rounds of the mean time of one call, in microseconds."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def main() -> None:
    global ROUNDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=ROUNDS, help="rounds per figure (the median is shown)")
    ROUNDS = max(1, parser.parse_args().runs)
    spec = load_paths([ROOT / "questions" / "tasks"]).tasks["layernorm"].spec
    job = {"task": spec.model_dump(mode="json"), "source": runner_source(), "filename": "s.py", "seed": 1,
           "device": "cpu", "mode": "grade"}
    sent = {}
    runner.child_main(job, lambda meta, tensors: sent.update(meta=meta))
    names = [p.name for p in spec.probes]
    validate_us = per_call_us(lambda: answer.validate(sent["meta"], names), 200)

    x = torch.randn(8, 16, requires_grad=True)
    w, b = torch.nn.Parameter(torch.ones(16)), torch.nn.Parameter(torch.zeros(16))
    out = (x - x.mean(-1, keepdim=True)) * w + b
    walk_us = per_call_us(lambda: guard.unreported_leaves(out, [x, w, b]), 500)

    plain = guard.Worker(lambda exc: ("error", str(exc)))
    call_us = per_call_us(lambda: plain.call(len, ()), 500)
    plain.close()
    watch = guard.watch([runner], [runner.SubmissionError], [probes])
    watched = guard.Worker(lambda exc: ("error", str(exc)), watch)
    watched_us = per_call_us(lambda: watched.call(len, ()), 500)
    watched.close()
    restore_all_us = per_call_us(watch.restore_all, 200)

    allowed_before = per_call_us(lambda: x.mean(), 2000)
    read, write = os.pipe()
    os.set_blocking(read, False)
    installs = []
    for _ in range(ROUNDS):  # a child installs once; here again and again (each stacks on the last)
        oprecord._forbidden_ops.cache_clear()
        started = time.perf_counter()
        kernels = oprecord.install(spec.forbidden.ops, write)
        installs.append((time.perf_counter() - started) * 1000)
    install_ms = statistics.median(installs)
    allowed_after = per_call_us(lambda: x.mean(), 2000)

    def forbidden():
        try:
            F.layer_norm(x, (16,))
        except RuntimeError:
            pass
        os.read(read, 1 << 16)

    forbidden_us = per_call_us(forbidden, 2000)
    print(f"forbidden ops:  {len(oprecord.forbidden_ops(spec.forbidden.ops))} overloads of the installed torch "
          f"{torch.__version__}, {kernels} kernels registered in {install_ms:.2f} ms (median; once per job)")
    print(f"forbidden call: {forbidden_us:.1f} us (byte on the pipe + exception); allowed op: "
          f"{allowed_before:.2f} us before, {allowed_after:.2f} us after (nothing in its path)")
    print(f"worker call:    {call_us:.1f} us a hand-over, {watched_us:.1f} us with the namespace check "
          f"({len(spec.probes) + 4} calls a job); all namespaces before send: {restore_all_us:.1f} us")
    print(f"graph walk:     {walk_us:.1f} us a probe; answer validation: {validate_us:.1f} us a job")


def runner_source() -> str:
    return (
        "import torch\nimport torch.nn as nn\n\n\nclass LayerNorm(nn.Module):\n"
        "    def __init__(self, shape, eps=1e-5):\n        super().__init__()\n"
        "        self.shape = (shape,) if isinstance(shape, int) else tuple(shape)\n        self.eps = eps\n"
        "        self.weight = nn.Parameter(torch.ones(self.shape))\n        self.bias = nn.Parameter(torch.zeros(self.shape))\n\n"
        "    def forward(self, x):\n        dims = tuple(range(-len(self.shape), 0))\n"
        "        mean = x.mean(dims, keepdim=True)\n        var = ((x - mean) ** 2).mean(dims, keepdim=True)\n"
        "        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias\n"
    )


if __name__ == "__main__":
    main()
