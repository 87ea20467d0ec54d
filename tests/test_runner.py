"""The child's runner on its own (called in this test process, as tests/test_judge.py does): what it
leaves alone outside a sandbox, and the rule its import-time warm-up must keep, since the zygote
imports it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader.grading.runner import child_main

ROOT = Path(__file__).resolve().parent.parent
FUSED = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return getattr(F, "layer" + "_norm")(x, self.shape, self.weight, self.bias, self.eps)
"""


@pytest.fixture(scope="module")
def job(builtin_tasks):
    loaded = builtin_tasks["layernorm"]
    return {"task": loaded.spec.model_dump(mode="json"), "task_dir": str(loaded.dir), "source": FUSED,
            "filename": "submission.py", "seed": 3, "device": "cpu", "mode": "grade"}


def test_outside_a_sandbox_the_runner_leaves_the_dispatcher_and_modules_alone(job):
    """The forbidden-op kernels, the sys.modules scrub and gc's refusals belong to a sandboxed child
    (its send carries the record pipe); called in a test process, the runner changes none of them.
    The fused norm it met here is refused only in the sandbox (tests/test_trust.py)."""
    import gc

    import torch.nn.functional as F

    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta))
    assert "traced_ops" not in sent["meta"] and sent["meta"]["probes"]
    assert all(report["error"] is None for report in sent["meta"]["probes"].values())
    assert "grader.grading.runner" in sys.modules and callable(gc.get_objects)
    F.layer_norm(torch.ones(2, 4), (4,))


def test_importing_the_runner_runs_no_backward():
    """The zygote imports the runner (and so runs its warm-up) before forking every child: a backward
    there would start autograd's device threads, and a CUDA build then refuses backward in the
    children (docs/DESIGN.md)."""
    script = (
        "import sys, torch\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a backward ran at import')\n"
        "torch.Tensor.backward = torch.autograd.backward = torch.autograd.grad = refuse\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import grader.grading.runner\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_gpu_out_of_memory_in_forward_is_the_memory_limit(job):
    """CUDA says "out of memory" where the CPU allocator says "can't allocate memory": both end the
    run as memory-limit, not as a failed check (the same test as the sandbox's, one definition)."""
    oom = FUSED.replace(
        'return getattr(F, "layer" + "_norm")(x, self.shape, self.weight, self.bias, self.eps)',
        'raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")',
    )
    assert oom != FUSED
    sent = {}
    child_main({**job, "source": oom}, lambda meta, tensors: sent.update(meta=meta))
    assert sent["meta"]["error"]["kind"] == "memory-limit"
    assert "CUDA out of memory" in sent["meta"]["error"]["message"]


# -- the answer's bytes ------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ANSWER_DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                 torch.int8, torch.uint8, torch.bool, torch.complex64]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ANSWER_DTYPES), st.lists(st.integers(0, 5), max_size=3)),
                min_size=0, max_size=6))
def test_a_childs_answer_is_byte_for_byte_what_safetensors_save_writes(specs):
    """The child writes its tensors through safetensors' TensorSpec/serialize (no numpy path per
    tensor); the judge reads them with safetensors' load, so the bytes must be save()'s."""
    from safetensors.torch import load, save

    from grader.sandbox.child import _serialized

    tensors = {f"probe{i}/t": (torch.rand(shape) * 10).to(dtype) for i, (dtype, shape) in enumerate(specs)}
    data = _serialized(tensors)
    assert data == save(tensors)
    back = load(data)
    assert all(torch.equal(back[k], t) and back[k].dtype == t.dtype for k, t in tensors.items())


def test_a_tensor_the_fast_path_does_not_take_falls_back_to_safetensors_save():
    from grader.sandbox.child import _serialized

    with pytest.raises(ValueError):
        _serialized({"x": torch.zeros(4, 4).t()})  # not contiguous
    with pytest.raises(ValueError):
        _serialized({"x": torch.zeros(3).to_sparse()})
