"""CHILD side: runs in the untrusted, locked-down process forked from the zygote.

It imports the submission from the job's source text, reports the structure of a freshly built
module, then runs every probe (graded and diagnostic) and sends what it saw: outputs, gradients, the
input after forward, traced aten ops. It never sees an expected value and makes no verdict; the judge
treats everything sent from here as untrusted data. Everything this module needs is imported at the
top, because after lockdown dlprep's own files are no longer readable.
"""
from __future__ import annotations

import contextlib
import linecache
import sys
import traceback
import types
from typing import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.grading.probes import DTYPES, backward, make_input, present, probe_params, upstream_grad
from grader.sandbox.child import is_memory_error
from grader.bank.taskspec import Probe, TaskSpec

Send = Callable[[dict, dict], None]
# An error message longer than this is clipped: it is shown, and a submission controls its length.
MAX_MESSAGE = 2000


class SubmissionError(Exception):
    """Ends the run early with an error kind from the results' table (import-error, ...)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class OpRecorder(TorchDispatchMode):
    """Records the aten ops a forward pass dispatches (evidence for forbidden built-ins: a fused
    layer norm shows up as aten.native_layer_norm however it was reached)."""

    def __init__(self, ops: set):
        super().__init__()
        # Shared across probes; filled even when forward raises. It holds the op objects: their
        # names are made once per distinct op (_op_names), not on each of the ~150 dispatches.
        self.ops = ops

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Nothing is compiled here; without this, torch wraps __torch_dispatch__ in dynamo's
        # disable(), whose first call imports torch._dynamo: 1.2 s per child on this machine.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(func)
        return func(*args, **(kwargs or {}))


def _op_names(ops: set) -> list[str]:
    """The recorded ops as the judge reads them: "aten.native_layer_norm.default", sorted."""
    return sorted({str(op) for op in ops})


def child_main(job: dict, send: Send) -> None:
    """Grade nothing, observe everything: import, build, run the probes, send once."""
    spec = TaskSpec.model_validate(job["task"])
    _seed(job["seed"], job.get("device", "cpu"))
    if job.get("device") == "cuda":
        # Exact float32 matmuls and convolutions, as on the CPU: TF32 would be ~1e-3 off.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    meta: dict = {"error": None, "classes": [], "structure": {}, "probes": {}, "traced_ops": []}
    tensors: dict[str, torch.Tensor] = {}
    try:
        cls = _load_class(spec, job["source"], job["filename"], meta)
        meta["structure"] = _structure(_build(cls, spec, spec.build, "constructor-error", job["filename"]), spec)
        ops: set = set()
        for probe in spec.probes:
            meta["probes"][probe.name] = _run_probe(cls, spec, probe, job, tensors, ops)
        meta["traced_ops"] = _op_names(ops)
    except SubmissionError as exc:
        meta["error"] = {"kind": exc.kind, "message": _clip(str(exc))}
    except MemoryError:
        meta["error"] = {"kind": "memory-limit", "message": "MemoryError"}
    send(meta, tensors)


def _seed(seed: int, device: str) -> None:
    """Seed torch's global RNG, so the submission's own random draws (an nn.Linear's init) repeat.
    A CPU job seeds the CPU generator alone: torch.manual_seed also queues a lazy seeding of every
    accelerator, with a stack trace recorded for each (~2 ms in every fresh child)."""
    if device == "cuda":
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)


def _load_class(spec: TaskSpec, source: str, filename: str, meta: dict) -> type:
    """Compile and execute the source as the module `submission`; return the task's class."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise SubmissionError("syntax-error", f"line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise SubmissionError("syntax-error", str(exc)) from None
    module = types.ModuleType("submission")
    module.__file__ = filename
    sys.modules["submission"] = module
    # The source exists only in memory here: registered with linecache (no mtime, so never
    # evicted), inspect.getsource works for torch.jit.script and tracebacks show the lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        _raise_if_memory(exc)
        raise SubmissionError("import-error", _describe(exc, filename)) from None
    classes = sorted(n for n, v in vars(module).items() if isinstance(v, type) and v.__module__ == "submission")
    meta["classes"] = classes
    cls = vars(module).get(spec.class_name)
    if not isinstance(cls, type):
        found = ", ".join(classes) or "none"
        raise SubmissionError("missing-class", f"class {spec.class_name} is not defined (classes found: {found})")
    if not issubclass(cls, torch.nn.Module):
        raise SubmissionError("missing-class", f"{spec.class_name} is defined but is not a torch.nn.Module")
    return cls


def _build(cls: type, spec: TaskSpec, construct, kind: str, filename: str) -> torch.nn.Module:
    args, kwargs = construct.values()
    try:
        module = cls(*args, **kwargs)
    except Exception as exc:
        _raise_if_memory(exc)
        call = construct.call(spec.class_name)
        raise SubmissionError(kind, f"{call} raised {_describe(exc, filename)}") from None
    if not isinstance(module, torch.nn.Module):
        raise SubmissionError(kind, f"{construct.call(spec.class_name)} did not return a torch.nn.Module")
    return module


def _structure(module: torch.nn.Module, spec: TaskSpec) -> dict:
    """The fresh module as the judge's structure and init checks need it."""
    params = [
        {"name": name, "shape": list(p.shape), "dtype": str(p.dtype).removeprefix("torch."), "init": _init_of(p)}
        for name, p in module.named_parameters()
    ]
    submodules = [
        {"name": name, "type": type(m).__name__}
        for name, m in module.named_modules()
        if name and any(True for _ in m.parameters(recurse=False))
    ]
    return {"parameters": params, "submodules": submodules, "mapping": _mapping(module, spec)}


def _init_of(p: torch.Tensor) -> str:
    with torch.no_grad():
        if bool((p == 1).all()):
            return "ones"
        if bool((p == 0).all()):
            return "zeros"
    return "other"


def _mapping(module: torch.nn.Module, spec: TaskSpec) -> dict[str, str]:
    """The submission's parameter name -> the reference's. By name first; with param_match by-init,
    a remaining parameter initialised to ones (zeros) stands for the reference's ones (zeros), so
    gamma/beta work as weight/bias."""
    own = dict(module.named_parameters())
    # A task that declares no parameters (an instructor's, often) matches every one by name; the
    # judge compares the names with its reference's.
    declared = {e.name for e in spec.parameters}
    mapping = {name: name for name in own if not declared or name in declared}
    if spec.param_match == "by-init":
        for expectation in spec.parameters:
            if expectation.name in mapping.values() or expectation.init == "any":
                continue
            for name, p in own.items():
                if name not in mapping and _init_of(p) == expectation.init:
                    mapping[name] = expectation.name
                    break
    return mapping


def _run_probe(cls: type, spec: TaskSpec, probe: Probe, job: dict, tensors: dict, ops: set) -> dict:
    """Build, load parameters, forward on a non-leaf input, backward with a random upstream
    gradient. An exception here fails only this probe (memory exhaustion ends the run)."""
    report = {"error": None, "grad_none": [], "version_bumped": False}
    seed, device = job["seed"], job.get("device", "cpu")
    dtype = DTYPES[probe.input.dtype]
    try:
        module = _build(cls, spec, spec.build_for(probe), "probe", job["filename"])
        module.to(device=device, dtype=dtype)
        mapping = _mapping(module, spec)
        _load_params(module, mapping, probe, seed, dtype)
        if probe.mode == "eval":
            module.eval()
        context = torch.no_grad if probe.grad == "no_grad" else contextlib.nullcontext
        for _ in range(probe.calls - 1):  # earlier calls on other inputs: state they leave shows
            with context(), OpRecorder(ops):
                module(present(make_input(seed, probe, "first").to(device), probe.layout))
        leaf = make_input(seed, probe).to(device).requires_grad_(probe.grad == "requires")
        x = present(leaf, probe.layout)  # a non-leaf: an in-place write succeeds and shows
        version = x._version
        with context(), OpRecorder(ops):
            out = module(x)
        report["version_bumped"] = x._version != version
        tensors[f"{probe.name}/input_after"] = x.detach().clone(memory_format=torch.contiguous_format)
        # Exactly a tensor on the input's device: a subclass's methods or a meta tensor would
        # otherwise break (or lie to) the send that follows, ending the whole run as a crash.
        if type(out) is not torch.Tensor:
            raise SubmissionError("probe", f"forward returned {type(out).__name__}, not a torch.Tensor")
        if out.device != x.device:
            raise SubmissionError("probe", f"forward returned a tensor on {out.device}, expected {x.device}")
        tensors[f"{probe.name}/out"] = out.detach()
        if "backward" in probe.checks:
            if not out.requires_grad:
                raise SubmissionError("probe", "the output does not require grad: no gradient can reach the input")
            backward(out, upstream_grad(seed, probe.name, out.shape, dtype).to(out.device))
            _collect_grads(module, mapping, probe.name, leaf, tensors, report)
    except SubmissionError as exc:
        if exc.kind == "memory-limit":
            raise
        report["error"] = _clip(str(exc))
    except Exception as exc:
        _raise_if_memory(exc)
        report["error"] = _clip(_describe(exc, job["filename"]))
    return report


def _load_params(module: torch.nn.Module, mapping: dict, probe: Probe, seed: int, dtype) -> None:
    if probe.params == "init":
        return
    own = dict(module.named_parameters())
    shapes = {ref: tuple(own[name].shape) for name, ref in mapping.items()}
    values = probe_params(seed, probe, shapes, dtype)
    with torch.no_grad():
        for name, ref in mapping.items():
            own[name].copy_(values[ref])


def _collect_grads(module, mapping: dict, probe_name: str, leaf, tensors: dict, report: dict) -> None:
    if leaf.grad is not None:
        tensors[f"{probe_name}/grad_input"] = leaf.grad
    own = dict(module.named_parameters())
    for name, ref in mapping.items():
        grad = own[name].grad
        if grad is None:
            report["grad_none"].append(ref)
        else:
            tensors[f"{probe_name}/grad/{ref}"] = grad


def _raise_if_memory(exc: BaseException) -> None:
    """An allocation that failed anywhere is the memory limit, not the submission's own error."""
    if is_memory_error(exc):  # the sandbox's own test, so CUDA's "out of memory" counts too
        raise SubmissionError("memory-limit", _clip(_describe(exc, ""))) from None


def _describe(exc: BaseException, filename: str) -> str:
    """`TypeError: ... (line 12)`: the exception and the last line of the submission it came from."""
    text = f"{type(exc).__name__}: {exc}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if filename and f.filename == filename]
    return f"{text} (line {lines[-1]})" if lines else text


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " [clipped]"


# -- warm-up, once in the zygote ---------------------------------------------------------------------
# The zygote imports this module and forks every child (and every judge) from it. torch builds each
# Python binding's argument parser, each op's overload object (what OpRecorder sees) and each kernel
# on first use, ~0.1-1.5 ms apiece: run here once, they are inherited instead of paid in every child.
class _StandIn(torch.nn.Module):
    """Shaped like the tasks' modules: a Linear, a ReLU, a normalization, an affine pair, a skip."""

    def __init__(self, n: int):
        super().__init__()
        self.fc = torch.nn.Linear(n, n)
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.bias = torch.nn.Parameter(torch.zeros(n))

    def forward(self, x):
        h = torch.relu(self.fc(x))
        mean = h.mean(-1, keepdim=True)
        var = ((h - mean) ** 2).mean(-1, keepdim=True)
        return (h - mean) / torch.sqrt(var + 1e-5) * self.weight + self.bias + x


_WARM_UP_TASK = {
    "id": "warm-up", "title": {"en": "warm-up"}, "prompt": {"en": "warm-up"}, "class_name": "_StandIn",
    "signature": "_StandIn(n)", "reference": "grader.grading.runner:_StandIn", "build": {"args": [4]},
    "param_match": "by-init", "parameters": [{"name": "weight", "init": "ones"}, {"name": "bias", "init": "zeros"}],
    "starter": "", "probes": [
        {"name": f"warm-up-{dtype}-{params}", "input": {"shape": [2, 4], "dtype": dtype}, "params": params,
         "checks": ["forward"]}
        for dtype in DTYPES for params in ("random", "init")
    ] + [{"name": "warm-up-values", "input": {"values": [[1.0, 2.0, 3.0, 4.0]]}, "checks": ["forward"]}],
}


def _warm_up(backward: bool = False) -> None:
    """Run the probe machinery on the stand-in, as child_main would: forward only in the zygote
    (a backward there would start autograd's threads before the fork, docs/DESIGN.md)."""
    task = _WARM_UP_TASK
    if backward:
        task = {**task, "probes": [{**p, "checks": ["forward", "backward"]} for p in task["probes"]]}
    spec = TaskSpec.model_validate(task)
    job = {"seed": 0, "filename": "<warm-up>"}
    _structure(_build(_StandIn, spec, spec.build, "constructor-error", job["filename"]), spec)
    ops: set = set()
    for probe in spec.probes:
        report = _run_probe(_StandIn, spec, probe, job, {}, ops)
        if report["error"]:  # dlprep's own bug: fail the zygote's start, loudly
            raise RuntimeError(f"runner warm-up failed: {report['error']}")
    _op_names(ops)


def prewarm() -> None:
    """Called by a locked-down child while it waits for its job: the same run with a backward, so
    the pages it touches are copied and autograd is started before the job's clock runs. The child
    never forks, so its backward is safe."""
    _warm_up(backward=True)


_warm_up()
