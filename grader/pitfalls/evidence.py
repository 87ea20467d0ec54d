"""What the judge knows about a submission when it diagnoses pitfalls.

Built by grader/grading/judge.py after the child's answers are in and the reference has run; read by the
detectors in grader/pitfalls/. Lives in the trusted judge only. Tensors are torch tensors (the
judge imports torch; nothing else in this module needs it at import time).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class ProbeEvidence:
    name: str
    spec: Any  # grader.bank.taskspec.Probe
    x: Any  # the input tensor as generated (the judge regenerates it from the seed)
    params: dict[str, Any]  # reference parameter name -> value loaded for this probe
    upstream: Any  # the upstream gradient used for backward
    got: dict[str, Any] | None  # "out", "grad_input", "grad/<name>" from the child; None on error
    expected: dict[str, Any]  # the same keys from the float64 reference
    error: str | None = None  # exception text raised in the child for this probe
    input_changed: bool = False  # input after forward differs from before
    version_bumped: bool = False  # the input's version counter moved (an in-place write)
    grad_none: list[str] = field(default_factory=list)  # parameters whose .grad stayed None
    first: Any = None  # the input of the earlier calls of a repeated-call probe (probe.calls > 1)
    # A call sequence (probe.steps): (mode, input, upstream gradient) per step, the last being x's.
    # Earlier steps' tensors are in got/expected under "step<i>/" (grader.grading.probes.step_prefix).
    steps: list = field(default_factory=list)
    # A dropout task's (grader.grading.dropout): the submission's mask read from the gradient at the
    # dropped output (float64, 1 kept), on every probe that ran backward; None where none was read.
    mask: Any = None
    mask_problem: str | None = None  # why a stochastic probe's mask was refused (its checks failed with it)
    # A function task's probe whose gradients autograd computed (grader.grading.functionchecks), or None.
    autograd: str | None = None
    # "forward"/"backward" -> within tolerance?, measured once and shared by the detectors.
    verdicts: dict[str, bool] = field(default_factory=dict)


@dataclass
class Evidence:
    task: Any  # grader.bank.taskspec.TaskSpec
    source: str
    structure: dict  # the child's report on the fresh module: parameters, submodules
    probes: dict[str, ProbeEvidence]
    traced_ops: list[str]
    # Build the reference (or a named mutant) with construction args, in the judge:
    #   build("reference", args, kwargs) / build("<mutant-id>", args, kwargs)
    build: Callable[..., Any] | None = None
    exclude_mutant: str | None = None  # when proving a task, do not match this mutant (an id, or one file) by output
    lang: str = "en"  # the language of the pitfall texts (the job's "lang", from --lang)
    # The judge process's store (grader.grading.truth.Memo) for what a detector computes from trusted
    # code on the truth's inputs alone, kept across jobs of the same task and seed; None: keep nothing.
    memo: Any = None
