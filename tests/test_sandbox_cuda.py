"""The sandbox on --device cuda. CI has no GPU, so this file skips there; run it on a GPU machine:
python -m pytest -q tests/test_sandbox_cuda.py. The zygote must not initialise CUDA (a forked CUDA
context is unusable); each child initialises its own before Landlock and seccomp, and memory is
bounded without RLIMIT_AS (which breaks CUDA's start-up). The host-side layers hold on CUDA too:
the child is pid 1 of its own PID namespace, in its own user, IPC, UTS, network and mount
namespaces, with no capability, in a pids and memory cgroup."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from grader.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not Path("/dev/nvidiactl").exists(), reason="no NVIDIA GPU here")
ENTRY = {"child_entry": "tests.sandbox_entries:run_source", "judge_entry": "tests.sandbox_entries:echo_judge"}
SECRET = Path(__file__).resolve().parent.parent / "grader" / "judge.py"


@pytest.fixture(scope="module")
def cuda_sandbox():
    with Sandbox(device="cuda", preload=("tests.sandbox_entries",)) as sb:
        yield sb


def run(sb, source: str, deadline_s: float = 20.0) -> dict:
    return sb.run({**ENTRY, "source": source}, deadline_s=deadline_s)


def test_layers_on_cuda(cuda_sandbox):
    layers = cuda_sandbox.layers()
    for name in ("cuda-memory", "rlimits", "landlock", "seccomp", "namespaces", "pidns", "userns", "capabilities",
                 "cgroup"):
        assert layers[name] == "on", (name, layers[name])


def test_the_cuda_child_is_isolated_from_the_host(cuda_sandbox):
    """What the probe child had on CUDA (CUDA initialised inside its namespaces), read from outside."""
    from grader.sandbox import facts

    seen = cuda_sandbox.facts()
    assert facts.missing(seen, cuda_sandbox.layers()) == []
    assert seen["pid_inside"] == 1 and seen["no_capabilities"] and seen["seccomp"] == "filter"
    assert seen["memory_bytes"] and seen["threads_max"]


def test_zygote_never_initialises_cuda(cuda_sandbox):
    """Initialising CUDA opens /dev/nvidiactl and maps device memory: the zygote has done neither."""
    cuda_sandbox.layers()
    proc = Path(f"/proc/{cuda_sandbox._proc.pid}")
    opened = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
    assert not [f for f in opened if f.startswith("/dev/nvidia")]
    assert "/dev/nvidia" not in (proc / "maps").read_text()


def test_locked_down_child_computes_on_the_gpu(cuda_sandbox):
    got = run(cuda_sandbox, f"""
import socket, torch
x = torch.randn(64, 128, device="cuda", requires_grad=True)
ln = torch.nn.LayerNorm(128).cuda()
y = ln(x @ torch.eye(128, device="cuda"))  # cuBLAS loads after lockdown
y.backward(torch.ones_like(y))
report["device"] = str(y.device)
def err(fn):
    try:
        fn()
    except OSError as e:
        return e.errno
    return 0
report["secret"] = err(lambda: open({str(SECRET)!r}))
report["socket"] = err(socket.socket)
report["pid"] = __import__("os").getpid()
tensors = {{"grad": x.grad}}
""")
    assert got["status"] == "ok", (got["detail"], got["stderr"][-2000:])
    assert got["meta"] == {"device": "cuda:0", "secret": errno.EACCES, "socket": errno.EPERM, "pid": 1}
    assert len(got["tensors"]["grad"]) == 64


@pytest.mark.parametrize("where", ["cuda", "cpu"])
def test_memory_bombs_are_memory_limit(cuda_sandbox, where):
    got = run(cuda_sandbox, f"import torch\nx = torch.empty(50 * 2**30, dtype=torch.uint8, device={where!r})")
    assert got["status"] == "memory-limit", (got["detail"], got["stderr"][-2000:])


def test_correct_solutions_pass_on_cuda(cuda_sandbox):
    from grader.bank.catalog import load_catalog
    from grader.grading.submit import grade_source
    from test_hostile import HOSTILE_DIR, benign  # benign twins are correct solutions

    tasks = load_catalog().tasks
    for name, task in (("segfault", "layernorm"), ("nan_outputs", "residual-block")):
        source = benign((HOSTILE_DIR / f"{name}.py").read_text())
        result = grade_source(source, f"{name}.py", tasks[task], cuda_sandbox, device="cuda", deadline_s=30)
        assert result.verdict == "pass", (task, result.error, [c.message for c in result.checks if not c.passed][:3])
