"""JUDGE side: runs in a trusted process forked from the zygote after the child has been reaped.

Only now is the reference imported and the float64 truth computed, so no expected value existed while
submission code ran. Everything the child left (its meta, its tensors) is untrusted data: tensors are
parsed with safetensors (never pickle), and anything that is not exactly a torch.Tensor of the
expected dtype and shape fails its check; the meta is validated against grader.grading.answer's
schema first, and what fails it is the submission's malformed answer. The forbidden ops come from
the record pipe (grader.grading.oprecord), not from the meta. An exception of the judge's own on
validated data is an `internal-error` result, with the traceback only when the job asks for it
(DLPREP_DEBUG in the CLI). The result is SubmissionResult.to_dict().

The slot imports this module while the child runs (on the other core), so everything the judge
needs that is not the reference or a mutant (checks, the pitfall detectors) is imported at the top:
their import is then off the critical path.
"""
from __future__ import annotations

import importlib
import importlib.util
import traceback
from pathlib import Path

import torch
from safetensors.torch import load, save

import grader.pitfalls.diagnosis  # noqa: F401  (the detectors load now, not after the child is reaped)
from grader import pitfalls
from grader.grading import answer, dropout, functiontask, modargs, oprecord, stateful
from grader.grading import truth as batch_truth
from grader.grading.checks import build_checks, plan, shown_why
from grader.grading.functionchecks import autograd_sign
from grader.sandbox import prepared
from grader.sandbox.outcome import ChildOutcome
from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.grading.probes import (
    DTYPES, backward, make_input, present, probe_params, step_input, step_prefix, step_upstream, upstream_grad,
)
from grader.results import CheckResult, ErrorInfo, SubmissionResult
from grader.bank.taskspec import Probe, TaskSpec

# The submission's output kept in the result: enough to see a traceback or a debug print.
OUTPUT_KEPT = 8000
# Error kinds the child may report about itself (it cannot claim timeout or crashed).
CHILD_ERROR_KINDS = {"syntax-error", "import-error", "missing-class", "constructor-error", "memory-limit"}
STATUS_MESSAGES = {
    "timeout": "the deadline passed before the submission answered",
    "memory-limit": "the submission ran out of memory",
    "crashed": "the submission's process ended before its answers were in",
    "output-limit": "the submission's answers exceeded the size limit",
}


def judge_main(job: dict, outcome: ChildOutcome) -> dict:
    task = task_of(job)
    spec = task.spec
    result = SubmissionResult(
        task=spec.id, file=job["filename"], verdict="error", score=0.0,
        max_score=sum(points for *_, points in plan(spec)),
        output=_clip_output(outcome.stdout, outcome.stderr), duration_s=outcome.duration_s,
    )
    meta = None
    if outcome.status == "ok" and isinstance(outcome.meta, dict):
        try:
            meta = answer.validate(outcome.meta, [p.name for p in spec.probes])
        except answer.BadAnswer as exc:
            result.error = ErrorInfo("crashed", f"the submission's answer was malformed: {exc}")
            return result.to_dict()
    result.error = _error_of(outcome, meta)
    if result.error is None:
        try:
            judge = Judgement(job, spec, meta, _parse_tensors(outcome.tensors), outcome.records, task)
            result.checks = judge.checks()
            result.pitfalls = pitfalls.diagnose(judge.evidence(job.get("exclude_mutant")))
        except Exception as exc:  # noqa: BLE001 - the data was valid: the fault is dlprep's
            result.checks, result.pitfalls = [], []
            result.error = _internal_error(exc, bool(job.get("debug")))
            return result.to_dict()
        result.score = sum(c.points for c in result.checks if c.passed)
        failed = any(not c.passed for c in result.checks) or any(p.severity == "error" for p in result.pitfalls)
        result.verdict = "fail" if failed else "pass"
        if (job.get("trusted") or {}).get("want_truth"):
            return {**_bounded(result).to_dict(), "truth": batch_truth.pack(judge.truth)}
    return _bounded(result).to_dict()


# Report-sized limits on the texts a result carries: the child's names and messages reach them.
MESSAGE_KEPT = 2000


def _bounded(result: SubmissionResult) -> SubmissionResult:
    for check in result.checks:
        check.message = _cut(check.message)
        check.example = None if check.example is None else _cut(check.example)
    for pitfall in result.pitfalls:
        pitfall.evidence = _cut(pitfall.evidence)
    return result


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_KEPT else text[:MESSAGE_KEPT] + " [clipped]"


def _internal_error(exc: Exception, debug: bool) -> ErrorInfo:
    message = f"dlprep failed while judging this submission: {type(exc).__name__}: {exc}"
    if debug:
        message += "\n" + "".join(traceback.format_exception(exc))
    else:
        message += " (set DLPREP_DEBUG=1 for the traceback)"
    return ErrorInfo("internal-error", message)


def _error_of(outcome: ChildOutcome, meta: dict | None) -> ErrorInfo | None:
    if outcome.status != "ok":
        detail = f" ({outcome.detail})" if outcome.detail else ""
        return ErrorInfo(outcome.status, STATUS_MESSAGES.get(outcome.status, outcome.status) + detail)
    if meta is None:
        return ErrorInfo("crashed", "the submission's process ended without a readable answer")
    error = meta.get("error")
    if error is None:
        return None
    if error["kind"] in CHILD_ERROR_KINDS:
        return ErrorInfo(error["kind"], error["message"])
    return ErrorInfo("crashed", "the submission's answer was malformed: an error kind it may not report")


# A real answer's safetensors header is a few KB (a key per probe and tensor); a forged one listing
# 500k tiny tensors takes the judge 6 s to load, so anything past this counts as unreadable.
MAX_TENSOR_HEADER = 1 << 20


def _parse_tensors(data: bytes | None) -> dict:
    """safetensors bytes -> tensors; unreadable bytes count as no answers at all."""
    if not data or len(data) < 8 or int.from_bytes(bytes(data[:8]), "little") > MAX_TENSOR_HEADER:
        return {}
    try:
        return load(bytes(data))
    except Exception:
        return {}


def _clip_output(stdout: str, stderr: str) -> str:
    text = (stdout or "") + (stderr or "")
    if len(text) <= OUTPUT_KEPT:
        return text
    return text[:OUTPUT_KEPT] + f"\n[output clipped: {len(text) - OUTPUT_KEPT} more characters not shown]"


def load_class(reference: str, task_dir: str | None):
    """`package.module:Class` (a dlprep module) or `file.py:Class` (beside the task's YAML)."""
    target, name = reference.rsplit(":", 1)
    if not target.endswith(".py"):
        return getattr(importlib.import_module(target), name)
    return _class_from_file(Path(task_dir or ".") / target, name)


class JobTask:
    """A job's task as the judge uses it: the spec, and the trusted files the truth (`references`)
    and the detectors (`trusted`: references and mutants) come from."""

    def __init__(self, task: dict, task_dir: str | None):
        self.task, self.task_dir = task, task_dir
        self.spec = TaskSpec.model_validate(task)
        self.references = reference_files(self.spec, task_dir)
        self.trusted = [*self.references, *(m.path(task_dir) for m in self.spec.mutants)]


# In the judge process (judgeserver.SERVING), the last task judged: a batch's or a --watch session's
# jobs all carry the same one, whose validation and file lookups (~20 stat calls) cost ~1.5 ms a job.
_LAST_TASK: list[JobTask] = []


def task_of(job: dict) -> JobTask:
    from grader.sandbox import judgeserver

    task, task_dir = prepared.resolve(job), job.get("task_dir")  # a batch's: the zygote's (forked after it)
    last = _LAST_TASK[0] if _LAST_TASK else None
    if last is not None and last.task_dir == task_dir and (last.task is task or last.task == task):
        return last
    made = JobTask(task, task_dir)
    if judgeserver.SERVING:
        _LAST_TASK[:] = [made]
    return made


def reference_files(spec: TaskSpec, task_dir: str | None) -> list[Path]:
    """The .py files beside the task's YAML that its reference classes come from (dlprep's own
    modules are imported once per process and cannot change under it)."""
    refs = [spec.reference, *spec.module_refs()]
    return [Path(task_dir or ".") / ref.rsplit(":", 1)[0] for ref in refs if ref.rsplit(":", 1)[0].endswith(".py")]


def _class_from_file(path: Path, name: str):
    key = batch_truth.file_key(path, name)  # the judge process loads a file once until it changes
    if key in _LOADED:
        return _LOADED[key]
    spec = importlib.util.spec_from_file_location(f"dlprep_trusted_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = getattr(module, name)
    if key is not None:
        _LOADED[key] = cls
    return cls


_LOADED: dict = {}  # (file, its stat, class name) -> class, in the judge process: mutants load once


class Judgement:
    """One submission's data, the float64 truth for every probe, and the checks built from both."""

    def __init__(self, job: dict, spec: TaskSpec, meta: dict, tensors: dict, records: bytes = b"",
                 task: JobTask | None = None):
        """`meta` as the child sent it (validated here again: BadAnswer); `records` the record pipe's
        bytes; `task` the job's task and files (task_of(job) when not given)."""
        self.files = task or task_of(job)
        meta = answer.validate(meta, [p.name for p in spec.probes])
        self.job, self.spec, self.meta, self.tensors = job, spec, meta, tensors
        # probe name -> {"forward"/"backward"/"state": within tolerance}, as the checks measured it
        # (grader.grading.checks._measured), handed to the detectors with the evidence.
        self.verdicts: dict[str, dict[str, bool]] = {}
        # probe name -> is every value of its truth finite (grader.grading.checks._finite_truth)
        self.finite: dict[str, bool] = {}
        self.seed = int(job["seed"])
        # Forbidden ops the child called, as recorded by the dispatcher at the moment of the call.
        self.ops = oprecord.decode(records, spec.forbidden.ops)
        # Tensors outside the reported parameters that received a gradient, over all probes.
        self.unreported = [shape for report in meta.get("probes", {}).values() for shape in report["unreported"]]
        # A function task's Function is built as the module around it (grader.grading.functiontask).
        self.reference = functiontask.wrap(load_class(spec.reference, job.get("task_dir")), spec)
        self._mutants: dict[str, type] = {}
        # Module-valued arguments (a sublayer), built as the child built them (grader.grading.modargs).
        self.maker = modargs.Maker({r: load_class(r, job.get("task_dir")) for r in spec.module_refs()}, self.seed)
        # A batch's later judges get the truth its first judge computed (grader.grading.truth).
        given = (job.get("trusted") or {}).get("truth")
        self.truth = batch_truth.remembered(job, self.files.references, lambda: (
            batch_truth.unpack(given) if given
            else {p.name: self._expected(p) for p in spec.probes if not spec.stochastic(p)}))
        dropout.settle(self)  # stochastic probes: the truth with the submission's own mask (or why not)

    # -- the truth ------------------------------------------------------------------------------
    def build(self, name: str, args=(), kwargs=None) -> torch.nn.Module:
        """The reference ("reference") or a mutant (by id) built with the given arguments."""
        args, kwargs, _ = self.maker.resolve(tuple(args), dict(kwargs or {}))
        if name == "reference":
            return self.reference(*args, **kwargs)
        if name not in self._mutants:  # the detectors build each mutant once per probe: load it once
            mutant = next(m for m in self.spec.mutants if name in (m.file, m.id))  # by file: ids may repeat
            self._mutants[name] = functiontask.wrap(
                _class_from_file(mutant.path(self.job.get("task_dir")), self.spec.class_name), self.spec)
        return self._mutants[name](*args, **kwargs)

    def _expected(self, probe: Probe, mask: torch.Tensor | None = None) -> dict:
        args, kwargs = self.spec.build_for(probe).values()
        ref = self.build("reference", args, kwargs)
        dtype = DTYPES[probe.input.dtype]
        params = self.probe_params(probe, ref)
        ref.to(torch.float64)
        with torch.no_grad():
            for name, p in ref.named_parameters():
                p.copy_(params[name])
        if probe.steps or "state" in probe.checks:  # a call sequence, buffers compared after each call
            return {"params": params, **self._expected_calls(probe, ref)}
        ref.train(probe.mode == "train")
        if self.spec.stochastic(probe):  # eval mode, and with a mask the site's output times mask / (1 - p)
            dropout.apply_mask(ref, self.spec, probe, mask)
        x = make_input(self.seed, probe)
        x64 = x.to(torch.float64, copy=True).requires_grad_(probe.grad == "requires")
        out = ref(present(x64, probe.layout))
        upstream = upstream_grad(self.seed, probe.name, out.shape, dtype)
        expected = {"out": out.detach()}
        if "backward" in probe.checks:
            backward(out, upstream)
            if probe.grad == "requires":
                expected["grad_input"] = x64.grad
            expected.update({f"grad/{n}": p.grad for n, p in ref.named_parameters()})
        return {"x": x, "params": params, "upstream": upstream, "expected": expected}

    def _expected_calls(self, probe: Probe, ref: torch.nn.Module) -> dict:
        """The truth of a call sequence or of a probe comparing buffers (grader.grading.stateful):
        x and upstream are the last call's; every step's tensors are in expected."""
        dtype, seed, n = DTYPES[probe.input.dtype], self.seed, len(probe.steps)
        inputs = [step_input(seed, probe, i) for i in range(n)] if n else [make_input(seed, probe)]

        def upstream(i: int, shape) -> torch.Tensor:
            return step_upstream(seed, probe, i, shape, dtype) if n else upstream_grad(seed, probe.name, shape, dtype)

        first = make_input(seed, probe, "first") if probe.calls > 1 else None
        expected, used = stateful.run_steps(ref, probe, torch.float64, [b.name for b in self.spec.buffers],
                                            inputs, upstream, first)
        return {"x": inputs[-1], "upstream": used[-1], "expected": expected}

    def probe_params(self, probe: Probe, ref: torch.nn.Module) -> dict:
        """The values loaded for this probe, in the probe's dtype (what the child loaded)."""
        dtype = DTYPES[probe.input.dtype]
        if probe.params == "init":
            return {n: p.detach().to(dtype) for n, p in ref.named_parameters()}
        shapes = {n: tuple(p.shape) for n, p in ref.named_parameters()}
        return probe_params(self.seed, probe, shapes, dtype)

    # -- what the child sent ----------------------------------------------------------------------
    def probe_meta(self, name: str) -> dict:
        """The child's report on a probe (validated), or an error when it sent none."""
        report = self.meta.get("probes", {}).get(name)
        if report is None:
            return {"error": "no report for this probe", "grad_none": [], "version_bumped": False, "unreported": []}
        return report

    def got(self, probe: Probe, key: str, like: torch.Tensor) -> tuple[torch.Tensor | None, str]:
        """The child's tensor `key` if it is exactly a torch.Tensor of `like`'s shape and the probe's
        dtype; else None and why."""
        t = self.tensors.get(f"{probe.name}/{key}")
        want = DTYPES[probe.input.dtype]
        if t is None:
            return None, "missing"
        if type(t) is not torch.Tensor:
            return None, f"a {type(t).__name__}, not a torch.Tensor"
        if t.dtype != want:
            return None, f"dtype {str(t.dtype).removeprefix('torch.')}, expected {probe.input.dtype}"
        if tuple(t.shape) != tuple(like.shape):
            return None, f"shape {list(t.shape)}, expected {list(like.shape)}"
        return t, ""

    def checks(self) -> list[CheckResult]:
        return build_checks(self)

    def _steps(self, probe: Probe, expected: dict) -> list[tuple]:
        """A call sequence's (mode, input, upstream gradient) per step, made again from the seed
        (as the child made them), for the detectors; empty for a probe without steps."""
        dtype, n = DTYPES[probe.input.dtype], len(probe.steps)
        return [(mode, step_input(self.seed, probe, i),
                 step_upstream(self.seed, probe, i, expected[step_prefix(i, n) + "out"].shape, dtype))
                for i, mode in enumerate(probe.steps)]

    def evidence(self, exclude_mutant: str | None) -> Evidence:
        """What the pitfall detectors see: every probe (diagnostic ones too) with inputs, loaded
        parameters, the child's tensors and the truth."""
        probes = {}
        for probe in self.spec.probes:
            truth, report = self.truth[probe.name], self.probe_meta(probe.name)
            checked = {key: self.got(probe, key, value) for key, value in truth["expected"].items()}
            got = {key: tensor for key, (tensor, _) in checked.items()}
            after, _ = self.got(probe, "input_after", truth["x"])
            # An output refused without an error of the child's (float16, a wrong shape) says why.
            refused = None if got["out"] is not None else shown_why(probe, checked["out"][1])
            probes[probe.name] = ProbeEvidence(
                name=probe.name, spec=probe, x=truth["x"], params=truth["params"],
                upstream=truth["upstream"], expected=truth["expected"],
                got=None if got["out"] is None else got,
                error=report["error"] or (f"output {refused}" if refused else None),
                input_changed=after is not None and not torch.equal(after, truth["x"]),
                version_bumped=report["version_bumped"], grad_none=report["grad_none"],
                first=make_input(self.seed, probe, "first") if probe.calls > 1 else None,
                steps=self._steps(probe, truth["expected"]),
                mask=self.masks.get(probe.name),
                autograd=autograd_sign(report, self.spec.class_name) or None,
                verdicts=dict(self.verdicts.get(probe.name, {})),
            )
            if probe.name in self.mask_problems:  # no mask to judge this probe by: it failed
                probes[probe.name].mask_problem = self.mask_problems[probe.name]
                probes[probe.name].error = probes[probe.name].error or self.mask_problems[probe.name]
                probes[probe.name].verdicts.update(forward=False, backward=False)
        structure = self.meta.get("structure") or {}
        if structure and self.unreported:
            structure = {**structure, "unreported": self.unreported}
        return Evidence(
            task=self.spec, source=self.job["source"], structure=structure,
            probes=probes, traced_ops=self.ops,
            build=self.build, exclude_mutant=exclude_mutant, lang=str(self.job.get("lang") or "en"),
            memo=batch_truth.memo(self.job, self.files.trusted),
        )


def _warm_up() -> None:
    """Run the judge's torch paths once on throwaway data: a float64 backward (the truth's) and a
    safetensors round trip (the child's answer). The slot imports this module while the child runs,
    on the other core, so part of their first-use costs (autograd's engine, argument parsers: ~1 ms
    of a judge's ~15) is paid there instead of after the child is reaped. A backward is safe here,
    unlike in the zygote: the slot never forks again. Nothing here depends on a task."""
    x = torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(2, 4).requires_grad_(True)
    weight = torch.ones(4, 4, dtype=torch.float64, requires_grad=True)
    hidden = torch.relu(torch.nn.functional.linear(x, weight, weight[0]))
    centred = hidden - hidden.mean(-1, keepdim=True)
    out = centred / torch.sqrt((centred**2).mean(-1, keepdim=True) + 1e-5) + x
    backward(out, torch.ones_like(out))
    load(save({"out": out.detach().float()}))


_warm_up()
