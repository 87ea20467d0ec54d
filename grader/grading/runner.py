"""CHILD side: runs in the untrusted, locked-down process forked from the zygote.

It imports the submission from the job's source text, reports the structure of a freshly built
module, then runs every probe (graded and diagnostic) and sends what it saw: outputs, gradients, the
input after forward, tensors outside the reported parameters that took a gradient. It never sees an
expected value and makes no verdict; the judge treats everything sent from here as untrusted data.
Everything this module needs is imported at the top, because after lockdown dlprep's own files are
no longer readable.

The submission's code runs only on a worker thread (grader.grading.guard): this module's frames,
globals and reports are not on any stack the submission can walk, what it patches in the namespaces
used here is put back after each call, and the observations that are self-reports (the input's
version counter and values after forward, the gradient graph's leaves) are made on the main thread
with C methods. Forbidden ops are recorded by the dispatcher itself (grader.grading.oprecord).
"""
from __future__ import annotations

import contextlib
import linecache
import sys
import traceback
import types
from typing import Callable

import torch

from grader.grading import functiontask, guard, modargs, oprecord, probes, stateful
from grader.grading.answer import MAX_CLASSES  # the class names the judge takes
from grader.grading.guard import CLONE, DETACH, EXIT, RAISED, VERSION
from grader.grading.probes import (
    DTYPES, backward, make_input, present, probe_params, step_input, step_prefix, step_upstream, upstream_grad,
)
from grader.sandbox import prepared as prepared_task
from grader.sandbox.child import flush_streams, is_memory_error
from grader.bank.taskspec import Probe, TaskSpec

Send = Callable[[dict, dict], None]
_THIS = sys.modules[__name__]  # this module, after guard.harden() has taken it out of sys.modules
# An error message longer than this is clipped: it is shown, and a submission controls its length.
MAX_MESSAGE = 2000
MAX_UNREPORTED = 16  # shapes of unreported gradient leaves sent per probe
# Elements of a parameter the reference lacks that a probe loads seeded values into: a bias or a
# gate is far below; a bigger one (an extra Linear) already shows with its own random init, and
# drawing its values on every probe would only slow a failing grade.
MAX_EXTRA_VALUES = 1 << 16


class SubmissionError(Exception):
    """Ends the run early with an error kind from the results' table (import-error, ...)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Direct:
    """A Worker's interface, calling on this thread: the zygote's warm-up (no thread may run in
    the zygote when it forks)."""

    def __init__(self, describe):
        self._describe = describe

    def call(self, fn, *args):
        try:
            return guard.RESULT, fn(*args)
        except Exception as exc:
            return RAISED, self._describe(exc)

    def close(self) -> None:
        pass


def child_main(job: dict, send: Send) -> None:
    """Grade nothing, observe everything: import, build, run the probes, send once."""
    prepared = _prepared_for(job)
    spec = prepared[0] if prepared else TaskSpec.model_validate(prepared_task.resolve(job))
    # A sublayer the task passes to the constructor: its class compiled from the job's source now,
    # before the submission is imported (grader.grading.modargs).
    job = {**job, "maker": modargs.child_maker(job, spec)}
    _seed(job["seed"], job.get("device", "cpu"))
    if job.get("device") == "cuda":
        # Exact float32 matmuls and convolutions, as on the CPU: TF32 would be ~1e-3 off.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    meta: dict = {"error": None, "classes": [], "structure": {}, "probes": {}}
    tensors: dict[str, torch.Tensor] = {}
    # Only a sandboxed child (its send carries the record pipe) changes process-wide state: the
    # runner also runs inside test processes.
    # Everything the main thread reads of the task, and every input, made before any of the
    # submission's code runs: afterwards this thread touches only these, its own functions and
    # exact tensors (docs/DESIGN.md, "Trust model").
    plan = prepared[1] if prepared else _plan(spec, job)
    record_fd, watch = getattr(send, "record_fd", None), None
    if record_fd is not None:
        if spec.forbidden.ops and not oprecord.take_prepared(spec.forbidden.ops, record_fd):
            oprecord.install(spec.forbidden.ops, record_fd)
        if not _PREWARMED_WATCH:
            # Refused before the snapshot, as prewarm() does: restore_all() puts back what the
            # snapshot holds, and the submission's own threads may still run while send() works.
            guard.refuse_walks()
        watch, scrub = _PREWARMED_WATCH.pop() if _PREWARMED_WATCH else (
            _watch(send.__module__, _PREPARED_WATCH.pop() if _PREPARED_WATCH else None), None)
        guard.harden(scrub)
    worker = _PREWARMED.pop() if _PREWARMED else guard.Worker(
        None, status_fd=guard.STATUS_FD if record_fd is not None else None)
    worker.describe, worker.watch = (lambda exc: _described(exc, job["filename"])), watch
    if job.get("device") == "cuda":
        worker.count_no_threads()
    try:
        cls = _load_class(worker, spec, job["source"], job["filename"], meta)
        module = _call(worker, "constructor-error", _build, cls, spec, spec.build, "constructor-error", job["filename"],
                       job["maker"])
        meta["structure"] = guard.plain(_call(worker, "constructor-error", _structure, module, spec, job["maker"]))
        for probe, name, check_backward, leaf, x in plan:
            meta["probes"][name] = _run_probe(worker, cls, spec, probe, job, tensors, name, check_backward, leaf, x)
        if spec.kind == "function":
            meta["gradcheck"] = _gradcheck(worker, cls, spec, job)
    except SubmissionError as exc:
        meta["error"] = {"kind": exc.kind, "message": _clip(str(exc))}
    except MemoryError:
        meta["error"] = {"kind": "memory-limit", "message": "MemoryError"}
    finally:
        if record_fd is not None:
            # What the submission printed goes out before the answer (the child is killed once it
            # is in), flushed on its own thread: the streams' flush may be its code.
            worker.call(flush_streams)
        worker.close()
    if watch is None:
        send(meta, tensors)
        return
    watch.restore_all()  # json, the wire, the sender as they were, for send()
    send(meta, tensors, flush=False)


def _plan(spec: TaskSpec, job: dict) -> list[tuple]:
    return [(probe, probe.name, "backward" in probe.checks, *_inputs(probe, job)) for probe in spec.probes]


# A batch's zygote, told its task before forking any child (prepare): the task read, its inputs
# made and its forbidden ops' kernels registered once, not in every child (~7 ms of a child's CPU).
_PREPARED_JOB: list = []


def prepare(task: dict, seed: int, device: str, record_fd: int) -> None:
    """In the zygote, never in a child or a judge: only children run torch ops after this (the
    forbidden kernels raise), and a child of a different job drops it all (_prepared_for)."""
    spec = TaskSpec.model_validate(task)
    job = {"seed": seed, "device": device}
    _PREPARED_JOB[:] = [(spec, _plan(spec, job))]
    prepared_task.keep(task, seed, device)  # which job it serves; the jobs then carry its marker
    if spec.forbidden.ops:
        oprecord.prepare(spec.forbidden.ops, record_fd)
    # The namespaces' snapshot as the zygote sees them: a child reuses each one still the same when
    # its job starts (gc's and sys's are not: the child refuses gc's walks and scrubs sys first).
    _PREPARED_WATCH[:] = [_watch("grader.sandbox.child")]


def _prepared_for(job: dict) -> tuple | None:
    """(spec, plan) as the zygote prepared them, when this job is the one it prepared for; else
    None, with the zygote's kernels released (the job installs its own)."""
    if _PREPARED_JOB:
        spec, plan = _PREPARED_JOB.pop()
        if prepared_task.holds(job):
            return spec, plan
        oprecord.release_prepared()
    return None


def _inputs(probe: Probe, job: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The probe's leaf input and what forward receives: a non-leaf with the probe's layout (an
    in-place write succeeds and shows)."""
    leaf = make_input(job["seed"], probe).to(job.get("device", "cpu")).requires_grad_(probe.grad == "requires")
    return leaf, present(leaf, probe.layout)


def _call(worker, context: str, fn, *args):
    """fn(*args) on the submission's thread: its value, or the SubmissionError (or SystemExit) it
    ended in, described there; the submission's own exception is an error of kind `context`."""
    status, value = worker.call(fn, *args)
    if status == EXIT:
        raise SystemExit(value)
    if status == RAISED:
        kind, message = value if type(value) is tuple and len(value) == 2 else ("error", "the call failed")
        raise SubmissionError(kind if kind in ("memory-limit", "missing-class", "constructor-error") else context,
                              message if type(message) is str else "the call failed with an unreadable exception")
    return value


def _described(exc: BaseException, filename: str) -> tuple[str, str]:
    """On the submission's thread: (kind, message) of an exception; kind "error" for the
    submission's own, which the caller turns into its context's kind."""
    if isinstance(exc, SubmissionError):
        return exc.kind, _clip(str(exc))
    if is_memory_error(exc):
        return "memory-limit", _clip(_describe(exc, ""))
    return "error", _clip(_describe(exc, filename))


def _seed(seed: int, device: str) -> None:
    """Seed torch's global RNG, so the submission's own random draws (an nn.Linear's init) repeat.
    A CPU job seeds the CPU generator alone: torch.manual_seed also queues a lazy seeding of every
    accelerator, with a stack trace recorded for each (~2 ms in every fresh child)."""
    if device == "cuda":
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)


def _load_class(worker, spec: TaskSpec, source: str, filename: str, meta: dict) -> type:
    """Compile and execute the source as the module `submission`; return the task's class."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise SubmissionError("syntax-error", f"line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise SubmissionError("syntax-error", str(exc)) from None
    except (RecursionError, MemoryError) as exc:  # nesting past the parser's limits (errors.UNPARSABLE)
        raise SubmissionError("syntax-error", f"Python cannot compile this source: it is nested too deeply "
                                              f"({type(exc).__name__})") from None
    module = types.ModuleType("submission")
    module.__file__ = filename
    sys.modules["submission"] = module
    # The source exists only in memory here: registered with linecache (no mtime, so never
    # evicted), inspect.getsource works for torch.jit.script and tracebacks show the lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    status, value = worker.call(exec, code, module.__dict__)
    if status == EXIT:
        raise SystemExit(value)
    if status == RAISED:
        kind, message = value if type(value) is tuple and len(value) == 2 else ("error", "the import failed")
        raise SubmissionError("memory-limit" if kind == "memory-limit" else "import-error",
                              message if type(message) is str else "the import failed with an unreadable exception")
    classes, cls = _call(worker, "import-error", _find_class, module, spec.class_name, spec.kind == "function")
    classes = guard.plain(classes)
    # At most what the judge accepts (grader.grading.answer): a file defining 5000 helper classes
    # was "crashed: the answer was malformed".
    meta["classes"] = classes[:MAX_CLASSES] if type(classes) is list else []
    return functiontask.wrap(cls, spec)  # a Function is graded as the module around it


def _find_class(module: types.ModuleType, class_name: str, function: bool = False) -> tuple[list[str], type]:
    """On the submission's thread: the classes the module defines, and the task's."""
    classes = sorted(str(n) for n, v in vars(module).items() if isinstance(v, type) and v.__module__ == "submission")
    spec_name = class_name
    cls = vars(module).get(spec_name)
    if not isinstance(cls, type):
        # A name with a letter that only looks like ASCII (a Cyrillic о pasted from a document) is
        # spelled out, or "LayerNorm is not defined (classes found: LayerNоrm)" reads as nonsense.
        found = ", ".join(n if n.isascii() else f"{n} (written {ascii(n)})" for n in classes) or "none"
        raise SubmissionError("missing-class", f"class {spec_name} is not defined (classes found: {found})")
    if function and not issubclass(cls, torch.autograd.Function):
        raise SubmissionError("missing-class", f"{spec_name} is defined but is not a torch.autograd.Function")
    if not function and not issubclass(cls, torch.nn.Module):
        raise SubmissionError("missing-class", f"{spec_name} is defined but is not a torch.nn.Module")
    return classes, cls


def _build(cls: type, spec: TaskSpec, construct, kind: str, filename: str, maker=None) -> torch.nn.Module:
    """On the submission's thread: construct the module (with the task's sublayers, if `maker`)."""
    args, kwargs = construct.values()
    built = None
    if maker is not None:
        args, kwargs, built = maker.resolve(args, kwargs)
    try:
        module = cls(*args, **kwargs)
    except Exception as exc:
        _raise_if_memory(exc)
        call = construct.call(spec.class_name)
        raise SubmissionError(kind, f"{call} raised {_describe(exc, filename)}") from None
    if not isinstance(module, torch.nn.Module):
        raise SubmissionError(kind, f"{construct.call(spec.class_name)} did not return a torch.nn.Module")
    if built is not None:
        maker.bind(module, built)
    return module


def _structure(module: torch.nn.Module, spec: TaskSpec, maker=None) -> dict:
    """The fresh module as the judge's structure and init checks need it; the task's sublayers
    (`maker`'s) under the reference's names, wherever the submission keeps them."""
    named = _named_parameters(module, spec)
    built = maker.built(module) if maker is not None else None
    params = [
        {"name": name, "shape": list(p.shape), "dtype": str(p.dtype).removeprefix("torch."), "init": _init_of(p)}
        for name, p in named.items()
    ]
    holders = {name.rpartition(".")[0] for name in named}
    submodules = [
        {"name": (built and built.name_of(m)) or name, "type": type(m).__name__}
        for name, m in _aliased(module.named_modules(remove_duplicate=False), holders).items()
        if name and any(True for _ in m.parameters(recurse=False))
    ]
    report = {"parameters": params, "submodules": submodules, "mapping": _mapping(module, spec, maker)}
    if spec.buffers:  # the declared ones only: registered or plain attributes, with their fresh values
        report["buffers"] = stateful.buffer_report(module, spec)
    return report


def _named_parameters(module: torch.nn.Module, spec: TaskSpec) -> dict[str, torch.nn.Parameter]:
    """Each distinct parameter once, under the reference's name when it is reachable under it: a
    Linear registered first in an nn.Sequential and aliased as fc1 is fc1's (docs/DESIGN.md)."""
    return _aliased(module.named_parameters(remove_duplicate=False), {e.name for e in spec.parameters})


def _aliased(named, preferred: set) -> dict:
    """name -> object for each distinct object, named by its first name in `preferred`, else its first."""
    names: dict[int, list] = {}
    for name, obj in named:
        names.setdefault(id(obj), [obj]).append(name)
    chosen = {}
    for obj, *aliases in names.values():
        chosen[next((a for a in aliases if a in preferred), aliases[0])] = obj
    return chosen


_init_of = stateful.init_of  # ones, zeros or other


def _mapping(module: torch.nn.Module, spec: TaskSpec, maker=None) -> dict[str, str]:
    """The submission's parameter name -> the reference's. A task's sublayer's by identity, then by
    name; with param_match by-init, a remaining parameter initialised to ones (zeros) stands for the
    reference's ones (zeros), so gamma/beta work as weight/bias."""
    own = _named_parameters(module, spec)
    built = maker.built(module) if maker is not None else None
    known = {name: built.name_of(p) for name, p in own.items()} if built is not None else {}
    # A task that declares no parameters (an instructor's, often) matches every one by name; the
    # judge compares the names with its reference's.
    declared = {e.name for e in spec.parameters}
    mapping = {name: known.get(name) or name for name in own if known.get(name) or not declared or name in declared}
    if spec.param_match == "by-init":
        for expectation in spec.parameters:
            if expectation.name in mapping.values() or expectation.init == "any":
                continue
            for name, p in own.items():
                if name not in mapping and _init_of(p) == expectation.init:
                    mapping[name] = expectation.name
                    break
    return mapping


def _run_probe(worker, cls: type, spec: TaskSpec, probe: Probe, job: dict, tensors: dict, name: str,
               check_backward: bool, leaf: torch.Tensor, x: torch.Tensor) -> dict:
    """Build, load parameters, forward on a non-leaf input, backward with a random upstream
    gradient: all on the submission's thread (_probe_work). Observed here afterwards: the input's
    version counter and values, and autograd's graph. An exception fails only this probe (memory
    exhaustion ends the run)."""
    report = {"error": None, "grad_none": [], "version_bumped": False}
    version = VERSION(x)
    counting = spec.kind == "function"  # autograd's engine runs, read before and after (functiontask)
    before = functiontask.engine_count() if counting else None
    status, value = worker.call(_probe_work, cls, spec, probe, job, x, leaf, check_backward)
    after = functiontask.engine_count() if counting else None
    report["version_bumped"] = VERSION(x) != version
    tensors[f"{name}/input_after"] = CLONE(DETACH(x), memory_format=guard.CONTIGUOUS)
    if status != guard.RESULT or type(value) is not tuple or len(value) != 4:
        return _failed(report, status, value)
    params, out, backward_result, extra = value  # the submission's objects: only exact tensors are touched
    if type(out) is not guard.TENSOR or type(params) is not list:  # _forward checked; it was patched
        report["error"] = "forward did not return a torch.Tensor"
        return report
    tensors[f"{name}/out"] = DETACH(out)
    if counting:
        report.update(_autograd_report(out, check_backward, before, after))
    for item in extra if type(extra) is list else []:  # earlier steps' tensors, the buffers after the call
        key, t = item if type(item) is tuple and len(item) == 2 else (None, None)  # unpacking runs no code
        full = f"{name}/{key}" if type(key) is str and key.startswith(("step", "buffer/")) else None
        if full is not None and full not in tensors and type(t) is guard.TENSOR:
            tensors[full] = CLONE(DETACH(t), memory_format=guard.CONTIGUOUS)  # never a storage shared
    if unreported := guard.unreported_leaves(out, [leaf, *params]):
        report["unreported"] = unreported[:MAX_UNREPORTED]
    if type(backward_result) is not tuple or len(backward_result) != 3:
        return report
    tag, first, second = backward_result
    if tag != "ok":
        return _failed(report, RAISED, (first, second))
    for key, grad in first if type(first) is list else []:
        if type(key) is str and type(grad) is guard.TENSOR:
            tensors[f"{name}/{key}"] = grad
    report["grad_none"] = [g for g in second if type(g) is str] if type(second) is list else []
    return report


def _autograd_report(out: torch.Tensor, check_backward: bool, before: int | None, after: int | None) -> dict:
    """A function task's signs that autograd computed the gradients: the engine's runs during the
    probe beyond the grader's own backward (which ran when the output required grad), and apply's
    output made by one of autograd's own nodes rather than a custom Function's."""
    ours = 1 if check_backward and functiontask.REQUIRES_GRAD(out) else 0
    runs = 0 if before is None or after is None else max(after - before - 1 - ours, 0)
    return {"autograd_runs": runs, "grad_fn": functiontask.foreign_node(out)}


def _gradcheck(worker, factory, spec: TaskSpec, job: dict) -> dict:
    """torch.autograd.gradcheck on the submission's apply, on its thread: passed, or why not."""
    status, value = worker.call(functiontask.gradcheck, factory, spec, job["seed"], job.get("device", "cpu"))
    if status == guard.RESULT:
        why = value if type(value) is str else "gradcheck's answer was unreadable"
        return {"passed": why == "", "message": _clip(why)}
    return {"passed": False, "message": _failed({}, status, value)["error"]}


def _probe_work(cls: type, spec: TaskSpec, probe: Probe, job: dict, x: torch.Tensor, leaf: torch.Tensor,
                check_backward: bool) -> tuple:
    """On the submission's thread, one hand-over a probe: forward, then backward when the probe
    checks it. Returns the module's parameters, the output and ("ok", grads, grad_none) or
    ("error", kind, message): a failed backward keeps the output; and the (key, tensor) pairs of
    earlier steps and buffers (grader.grading.stateful)."""
    module, params, mapping, out, (extra, earlier_none, earlier_error) = _forward(cls, spec, probe, job, x)
    if not check_backward:
        return params, out, None, extra
    if earlier_error is not None:  # an earlier step's backward failed: the outputs stand, the gradients do not
        return params, out, ("error", *earlier_error), extra
    try:
        grads, grad_none = _backward(module, mapping, probe, job["seed"], out, leaf)
        grads += _site_gradient(job, module)
    except Exception as exc:
        return params, out, ("error", *_described(exc, job["filename"])), extra
    return params, out, ("ok", grads, grad_none + [n for n in earlier_none if n not in grad_none]), extra


def _failed(report: dict, status: int, value) -> dict:
    if status == EXIT:
        raise SystemExit(value)
    kind, message = value if type(value) is tuple and len(value) == 2 else ("error", "the probe's call failed")
    message = message if type(message) is str else "the probe's call failed with an unreadable exception"
    if kind == "memory-limit":
        raise SubmissionError("memory-limit", message)
    report["error"] = message
    return report


def _forward(cls: type, spec: TaskSpec, probe: Probe, job: dict, x: torch.Tensor) -> tuple:
    """On the submission's thread: build, load the probe's parameters, forward. Returns the
    module's parameters (for the graph's cross-check), the name mapping and the output."""
    seed, device = job["seed"], job.get("device", "cpu")
    dtype = DTYPES[probe.input.dtype]
    module = _build(cls, spec, spec.build_for(probe), "probe", job["filename"], job.get("maker"))
    module.to(device=device, dtype=dtype)
    mapping = _mapping(module, spec, job.get("maker"))
    _load_params(module, mapping, probe, seed, dtype)
    if probe.mode == "eval":
        module.eval()
    context = torch.no_grad if probe.grad == "no_grad" else contextlib.nullcontext
    for _ in range(probe.calls - 1):  # earlier calls on other inputs: state they leave shows
        with context():
            module(present(make_input(seed, probe, "first").to(device), probe.layout))
    extra, earlier_none, earlier_error = (_earlier_steps(module, spec, mapping, probe, job, context) if probe.steps
                                          else ([], [], None))
    recorder = _site_recorder(job, module)
    if recorder is not None:
        recorder.arm()  # the dropout site's gradient, from this call only
    with context():
        out = module(x)
    _check_output(out, x)
    if "state" in probe.checks:
        extra += stateful.buffer_values(module, spec)
    return module, list(dict(module.named_parameters()).values()), mapping, out, (extra, earlier_none, earlier_error)


def _site_recorder(job: dict, module):
    built = job["maker"].built(module) if job.get("maker") is not None else None
    return built.recorder if built is not None else None


def _site_gradient(job: dict, module) -> list:
    """The gradient that reached the dropout site's output in the probe's call (where dropout's mask
    shows: grader.grading.dropout), as a (key, tensor) pair, or none."""
    recorder = _site_recorder(job, module)
    grad = recorder.grad() if recorder is not None else None
    return [("branch_grad", grad)] if grad is not None else []


def _check_output(out, x: torch.Tensor) -> None:
    """Exactly a tensor on the input's device: a subclass's methods or a meta tensor would
    otherwise break (or lie to) the send that follows, ending the whole run as a crash."""
    if type(out) is not torch.Tensor:
        raise SubmissionError("probe", f"forward returned {type(out).__name__}, not a torch.Tensor")
    if out.device != x.device:
        raise SubmissionError("probe", f"forward returned a tensor on {out.device}, expected {x.device}")


def _earlier_steps(module, spec: TaskSpec, mapping: dict, probe: Probe, job: dict, context) -> tuple:
    """On the submission's thread: every step of a call sequence but the last, which is the probe's
    own call: the step's mode, forward on its own input, its buffers, backward; the parameters'
    gradients cleared for the next step. Returns the (key, tensor) pairs under each step's prefix,
    the reference names no gradient reached and the first failed backward's (kind, message), after
    which the steps go on forward only. A failed forward ends the probe. The last step's mode is set
    on the way out."""
    seed, device, steps = job["seed"], job.get("device", "cpu"), probe.steps
    found, grad_none, failed = [], [], None
    for i, mode in enumerate(steps[:-1]):
        where = f"step {i + 1} of {len(steps)} ({mode})"
        prefix = step_prefix(i, len(steps))
        try:
            module.train(mode == "train")
            leaf = step_input(seed, probe, i).to(device).requires_grad_(probe.grad == "requires")
            with context():
                out = module(present(leaf, probe.layout))
            _check_output(out, leaf)
            found.append((prefix + "out", out.detach()))
            if "state" in probe.checks:
                found += stateful.buffer_values(module, spec, prefix)
        except SubmissionError as exc:
            raise SubmissionError(exc.kind, f"{where}: {exc}") from None
        except Exception as exc:
            _raise_if_memory(exc)
            raise SubmissionError("probe", f"{where}: {_describe(exc, job['filename'])}") from None
        if "backward" not in probe.checks or failed is not None:
            continue
        try:
            upstream = step_upstream(seed, probe, i, out.shape, DTYPES[probe.input.dtype]).to(out.device)
            grads, none = _backward(module, mapping, probe, seed, out, leaf, upstream)
            found += [(prefix + key, grad) for key, grad in grads]
            grad_none += [n for n in none if n not in grad_none]
            for p in module.parameters():
                p.grad = None
        except Exception as exc:
            _raise_if_memory(exc)
            kind, message = _described(exc, job["filename"])
            failed = (kind, f"{where}: {message}")
    module.train(steps[-1] == "train")
    return found, grad_none, failed


def _backward(module, mapping: dict, probe: Probe, seed: int, out: torch.Tensor, leaf: torch.Tensor,
              upstream: torch.Tensor | None = None) -> tuple:
    """On the submission's thread: backward (with the probe's upstream gradient, or an earlier
    step's), and the gradients as ("grad_input" | "grad/<ref>", tensor) pairs with the reference
    names whose parameter's .grad stayed None."""
    if not out.requires_grad:
        raise SubmissionError("probe", "the output does not require grad: no gradient can reach the input")
    if upstream is None:
        upstream = upstream_grad(seed, probe.name, out.shape, DTYPES[probe.input.dtype]).to(out.device)
    backward(out, upstream)
    grads, grad_none = [], []
    if leaf.grad is not None:
        grads.append(("grad_input", leaf.grad))
    own = dict(module.named_parameters(remove_duplicate=False))  # every alias: the mapping's name is one
    for name, ref in mapping.items():
        grad = own[name].grad
        if grad is None:
            grad_none.append(str(ref))
        else:
            grads.append((f"grad/{ref}", grad))
    return grads, grad_none


def _load_params(module: torch.nn.Module, mapping: dict, probe: Probe, seed: int, dtype) -> None:
    if probe.params == "init":
        return
    own = dict(module.named_parameters(remove_duplicate=False))  # every alias: the mapping's name is one
    shapes = {ref: tuple(own[name].shape) for name, ref in mapping.items()}
    values = probe_params(seed, probe, shapes, dtype)
    with torch.no_grad():
        for name, ref in mapping.items():
            own[name].copy_(values[ref])
        # A parameter the reference lacks gets seeded values too (keyed by its own name): left at
        # its fresh value (an RMSNorm's zero bias) it would change no output, caught by structure only.
        seen = {id(own[name]) for name in mapping}
        for name, p in own.items():
            if id(p) not in seen and p.numel() <= MAX_EXTRA_VALUES:
                seen.add(id(p))
                p.copy_(probes.param_values(seed, probe.name, name, tuple(p.shape), dtype))


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
# Python binding's argument parser, each op's overload object and each kernel
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
    ] + [{"name": "warm-up-values", "input": {"values": [[1.0, 2.0, 3.0, 4.0]]}, "checks": ["forward"]}] + [
        # the drawn probes' ways of running (grader.bank.families): layouts, grad modes, eval, calls
        {"name": f"warm-up-{layout}", "input": {"shape": [2, 3, 4]}, "layout": layout, "checks": ["forward"],
         "grad": grad, "mode": mode, "calls": calls}
        for layout, grad, mode, calls in (("transposed", "plain", "eval", 2), ("sliced", "requires", "train", 1),
                                          ("expanded", "requires", "train", 1))
    ],
}


def _warm_up(backward: bool = False) -> None:
    """Run the probe machinery on the stand-in, as child_main would: forward only in the zygote
    (a backward there would start autograd's threads before the fork, docs/DESIGN.md)."""
    task = _WARM_UP_TASK
    if backward:
        task = {**task, "probes": [{**p, "checks": ["forward", "backward"]} for p in task["probes"]]}
    spec = TaskSpec.model_validate(task)
    job = {"seed": 0, "filename": "<warm-up>"}
    describe = lambda exc: _described(exc, "<warm-up>")  # noqa: E731
    # No thread in the zygote; with a backward, in a locked-down child (prewarm) only.
    worker = guard.Worker(describe, status_fd=guard.STATUS_FD) if backward else Direct(describe)
    if backward:
        # The job's worker thread, warmed now: a thread's first ops and first backward set up its
        # thread-local state (autograd, the dispatcher's TLS), ~10 ms in a fresh thread.
        _PREWARMED[:] = [worker]
    try:
        _structure(_build(_StandIn, spec, spec.build, "constructor-error", job["filename"]), spec)
        for probe in spec.probes:
            report = _run_probe(worker, _StandIn, spec, probe, job, {}, probe.name, "backward" in probe.checks,
                                *_inputs(probe, job))
            if report["error"]:  # dlprep's own bug: fail the zygote's start, loudly
                raise RuntimeError(f"runner warm-up failed: {report['error']}")
        _warm_up_function(worker, job, backward)
    finally:
        if not backward:
            worker.close()


class _StandInFunction(torch.autograd.Function):
    """A function task's Function: apply's machinery (Function.apply, the custom node) warmed too."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        ctx.save_for_backward(weight)
        return x * weight + bias + eps

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        return grad * weight, grad.reshape(-1, grad.shape[-1]).sum(0), grad.reshape(-1, grad.shape[-1]).sum(0), None


_WARM_UP_FUNCTION = {
    **_WARM_UP_TASK, "class_name": "_StandInFunction", "kind": "function", "function": {"defaults": [0.0]},
    "param_match": "by-name", "reference": "grader.grading.runner:_StandInFunction",
    "probes": [{"name": f"warm-up-function-{grad}", "input": {"shape": [2, 3, 4]}, "grad": grad, "checks": ["forward"]}
               for grad in ("requires", "plain")],
}


def _warm_up_function(worker, job: dict, backward: bool) -> None:
    """The function tasks' first uses (grader.grading.functiontask): apply (in the zygote, forward
    only), then the engine count, backward and, where its imports are already loaded (a zygote that
    preloaded them), gradcheck (in the child's prewarm)."""
    task = _WARM_UP_FUNCTION
    if backward:
        task = {**task, "probes": [{**p, "checks": ["forward", "backward"]} for p in task["probes"]]}
    spec = TaskSpec.model_validate(task)
    factory = functiontask.wrap(_StandInFunction, spec)
    for probe in spec.probes:
        leaf, x = _inputs(probe, job)
        if not backward:  # in the zygote: apply alone (_run_probe would count the engine's runs with a backward)
            status, value = worker.call(_probe_work, factory, spec, probe, job, x, leaf, False)
            if status != guard.RESULT:
                raise RuntimeError(f"runner warm-up failed: {value}")
            continue
        report = _run_probe(worker, factory, spec, probe, job, {}, probe.name, True, leaf, x)
        if report["error"]:
            raise RuntimeError(f"runner warm-up failed: {report['error']}")
    if backward and "torch.fx.experimental.symbolic_shapes" in sys.modules:
        _gradcheck(worker, factory, spec, job)


_PREWARMED: list = []  # the worker thread prewarm() started, for child_main to take
_PREWARMED_WATCH: list = []  # and the namespaces' snapshot it took, with dlprep's module names
_PREPARED_WATCH: list = []  # a batch's zygote's snapshot (prepare), for its children to reuse


def _watch(sender: str, taken: guard.Watch | None = None) -> guard.Watch:
    """The snapshot of what the main thread and send() use; the sender's module and its wire are
    named: send() looks their functions up when it runs. taken: the zygote's (see guard.Watch)."""
    senders = [sys.modules[m] for m in (sender, "grader.sandbox.wire") if m in sys.modules]
    return guard.watch([_THIS], [SubmissionError], senders, taken)


def prewarm() -> None:
    """Called by a locked-down child while it waits for its job: the same run with a backward, so
    the pages it touches are copied and autograd is started before the job's clock runs (the child
    never forks, so its backward is safe); then what child_main would otherwise do on the clock
    (~10 ms of copy-on-write page faults in a fresh child): gc's walks refused, the namespaces'
    snapshot, the op names read once."""
    _warm_up(backward=True)
    functiontask.engine_count()  # the main thread's first run of autograd's engine, off the clock
    guard.refuse_walks()
    _PREWARMED_WATCH[:] = [(_watch("grader.sandbox.child"), guard.dlprep_modules())]
    oprecord.prewarm()


_warm_up()
