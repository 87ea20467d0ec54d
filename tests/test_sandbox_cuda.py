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
SECRET = Path(__file__).resolve().parent.parent / "grader" / "grading" / "judge.py"
assert SECRET.exists()


@pytest.fixture(scope="module")
def cuda_sandbox():
    with Sandbox(device="cuda", preload=("tests.sandbox_entries",)) as sb:
        yield sb


def run(sb, source: str, deadline_s: float = 20.0) -> dict:
    return sb.run({**ENTRY, "source": source}, deadline_s=deadline_s)


def environment_gaps(layers: dict) -> set[str]:
    """What this machine cannot give any child, CPU or CUDA (a VM whose cgroup offers no pids
    controller), and the PID namespace where CUDA's driver refuses to start in one (an H200 VM:
    cudaGetDeviceCount error 304); the sandbox then says why."""
    gaps = set()
    if layers["pidns"] != "on":
        assert layers["pidns"].startswith("off: CUDA's driver does not start inside a PID namespace"), layers["pidns"]
        gaps.add("it shares the host's pid namespace")
    if layers["cgroup"] != "on":
        assert "not available" in layers["cgroup"] or "no pids hierarchy" in layers["cgroup"], layers["cgroup"]
        gaps.add("no memory cgroup (RLIMIT_AS alone misses kernel memory and file pages)")
    return gaps


def test_layers_on_cuda(cuda_sandbox):
    layers = cuda_sandbox.layers()
    for name in ("cuda-memory", "rlimits", "landlock", "seccomp", "namespaces", "userns", "capabilities"):
        assert layers[name] == "on", (name, layers[name])
    environment_gaps(layers)


def test_the_cuda_child_is_isolated_from_the_host(cuda_sandbox):
    """What the probe child had on CUDA (CUDA initialised inside its namespaces), read from outside."""
    from grader.sandbox import facts

    seen, layers = cuda_sandbox.facts(), cuda_sandbox.layers()
    assert set(facts.missing(seen, layers)) <= environment_gaps(layers)
    assert seen["no_capabilities"] and seen["seccomp"] == "filter"
    assert seen["pid_inside"] == 1 or layers["pidns"] != "on"
    assert (seen["memory_bytes"] and seen["threads_max"]) or layers["cgroup"] != "on"


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
    pid = 1 if cuda_sandbox.layers()["pidns"] == "on" else got["meta"]["pid"]  # see environment_gaps
    assert got["meta"] == {"device": "cuda:0", "secret": errno.EACCES, "socket": errno.EPERM, "pid": pid}
    assert len(got["tensors"]["grad"]) == 64


@pytest.mark.parametrize("where", ["cuda", "cpu"])
def test_memory_bombs_are_memory_limit(cuda_sandbox, where):
    # On the GPU: more than the child's share (lockdown.CUDA_MEMORY_FRACTION), whatever the card.
    size = "int(torch.cuda.get_device_properties(0).total_memory * 0.75)" if where == "cuda" else "50 * 2**30"
    got = run(cuda_sandbox, f"import torch\nx = torch.empty({size}, dtype=torch.uint8, device={where!r})")
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
