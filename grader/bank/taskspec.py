"""The schema of a coding-task file (top-level `task:`), validated by the same loader as the banks.

A task says what a submission must define, how to build it, which inputs probe it (hidden checks and
public examples), which reference module is the truth, which built-ins are forbidden, and which
pitfalls and mutants apply. No torch here: the CLI and `bank validate` load tasks without it; the
child and the judge rebuild the spec from the job's JSON with `TaskSpec.model_validate`.
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from grader.bank import families  # imported here: the locked-down child validates a spec and cannot import later
from grader.pitfalls.registry import PITFALLS  # torch-free: ids an instructor's own may not take
from grader.bank.schema import Difficulty, Id, Strict, Text, Topic, check_regex

Dtype = Literal["float32", "float64"]
InputKind = Literal["randn", "small-variance", "offset", "constant-int", "positive", "values"]
# Named tolerance families; grader.grading.compare maps (family, dtype) to numbers and says why.
ToleranceName = Literal["tight", "offset", "constant"]
CheckName = Literal["forward", "backward", "state"]  # state: the module's buffers after each call
# How a probe presents its input and runs the module (grader.grading.probes.present; the runner).
Layout = Literal["contiguous", "transposed", "sliced", "expanded"]
GradMode = Literal["requires", "plain", "no_grad"]  # the input requires grad; it does not; no_grad forward
ModuleMode = Literal["train", "eval"]
SizeClass = Literal["small", "prime", "large", "pow2"]
Batching = Literal["batched", "deep", "unbatched", "single"]  # deep: two leading dims, (B, T, ...)
EpsChoice = Literal["default", "keyword-above", "keyword-below", "positional-above", "positional-below"]
MUTANTS_DIR = Path(__file__).resolve().parent.parent / "mutants"  # dlprep's built-in mutants (grader/mutants)
MIN_HINTS, MAX_HINTS = 2, 4  # a task's hints: each a step closer to the answer
# A probe's call sequence (train and eval calls on one module, its buffers compared after each):
# enough for train, train, eval, train, eval, eval; each step is a forward and a backward.
MAX_STEPS = 6
# A family's step sequences are words, "train train eval", so that an axis value stays hashable.
StepsText = Annotated[str, Field(pattern=rf"^(train|eval)( (train|eval)){{0,{MAX_STEPS - 1}}}$")]


def _matching(pattern: str, what: str):
    """A string type checked against `pattern` with a message an author can act on (pydantic's own
    message is the regex); the pattern stays in the JSON Schema for editors."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"{value!r} must be {what}")
        return value

    return Annotated[str, Field(json_schema_extra={"pattern": pattern}), AfterValidator(check)]


Identifier = _matching(r"^[A-Za-z_][A-Za-z0-9_]*$", "a Python name, e.g. LayerNorm")
# "grader.references.layernorm:LayerNorm" (a module of dlprep) or "ref.py:LayerNorm" (a file beside
# an instructor's YAML).
REFERENCE_PATTERN = r"^([A-Za-z_][\w.]*|[\w./-]+\.py):[A-Za-z_]\w*$"
Reference = _matching(REFERENCE_PATTERN, "package.module:Class or file.py:Class (a file beside the task's YAML)")
PyFile = _matching(r"^[\w./-]+\.py$", "a .py file, relative to the task file's directory (else grader/mutants/)")


class Construct(Strict):
    """Construction arguments. JSON has no tuples: a list argument is passed as a tuple, so
    `args: [[4, 6]]` builds `LayerNorm((4, 6))`."""

    args: list[Any] = []
    kwargs: dict[str, Any] = {}

    @field_validator("args", "kwargs")
    @classmethod
    def _module_args(cls, value):
        """An argument written `{module: ..., name: ...}` is a sublayer the task builds (ModuleArg)."""
        if isinstance(value, dict):
            return {k: _module_arg(v) for k, v in value.items()}
        return [_module_arg(v) for v in value]

    def values(self) -> tuple[tuple, dict]:
        return tuple(_tuples(a) for a in self.args), {k: _tuples(v) for k, v in self.kwargs.items()}

    def module_args(self) -> list["ModuleArg"]:
        return [v for v in [*self.args, *self.kwargs.values()] if isinstance(v, ModuleArg)]

    def call(self, class_name: str) -> str:
        """The construction as Python source, for messages: `LayerNorm((4, 6), eps=0.01)`."""
        args, kwargs = self.values()
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"{class_name}({', '.join(parts)})"


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


class ModuleArg(Construct):
    """A module-valued constructor argument (issue 19): a sublayer built from the task's own trusted
    class, `pkg.module:Class` or `file.py:Class` beside the YAML, with these arguments and seeded
    values, identical for the submission and the reference (grader.grading.modargs). `name` is the
    attribute the reference keeps it under: its parameters are compared as `<name>.<parameter>`
    whatever the submission calls it."""

    module: Reference
    name: Identifier

    def __repr__(self) -> str:  # as Construct.call shows it: `Block(16, FeedForward(16), 0.1)`
        return self.call(self.module.rsplit(":", 1)[1])


def _module_arg(value: Any) -> Any:
    return ModuleArg.model_validate(value) if isinstance(value, dict) and "module" in value else value


class InputSpec(Strict):
    """How a probe's input is made (grader/grading/probes.py): seeded, or explicit `values` for examples."""

    shape: list[int] | None = None
    dtype: Dtype = "float32"
    kind: InputKind | None = None  # default: values when `values` is given, else randn
    values: list[Any] | None = None  # nested lists of numbers, for public examples

    @field_validator("shape")
    @classmethod
    def _positive(cls, shape: list[int] | None) -> list[int] | None:
        if shape is not None and (not shape or any(d < 1 for d in shape)):
            raise ValueError("shape needs at least one dimension, each >= 1")
        return shape

    @model_validator(mode="after")
    def _values_or_shape(self) -> "InputSpec":
        if self.kind is None:
            self.kind = "values" if self.values is not None else "randn"
        if self.kind == "values":
            if self.values is None:
                raise ValueError("kind: values needs `values`")
            self.shape = _nested_shape(self.values)
        elif self.values is not None:
            raise ValueError("`values` is only for kind: values")
        elif self.shape is None:
            raise ValueError(f"kind: {self.kind} needs a `shape`")
        return self


def _nested_shape(values: Any) -> list[int]:
    """The shape of a rectangular nested list of numbers; ValueError if ragged or not numbers."""
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return []
    if not isinstance(values, list) or not values:
        raise ValueError("values must be a non-empty nested list of numbers")
    shapes = [_nested_shape(v) for v in values]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("values must be rectangular (every row the same length)")
    return [len(values), *shapes[0]]


class Probe(Strict):
    """One input run through the submission and the reference. A graded probe yields the checks
    `<name>/forward` and `<name>/backward`; a diagnostic probe is evidence for pitfalls only."""

    name: Id
    hidden: bool = True  # hidden: reported by name only; public: shown with inputs and expected values
    diagnostic: bool = False
    build: Construct | None = None  # None: the task's basic construction
    input: InputSpec
    # random: seeded non-trivial values; init: the fresh module's own; zero:<regex>: random, then
    # zero the reference parameters whose names match (e.g. zero:^fc\d to silence a branch).
    params: str = "random"
    tolerance: ToleranceName = "tight"
    checks: list[CheckName] = ["forward", "backward"]
    points: float = Field(1.0, ge=0)
    layout: Layout = "contiguous"  # the input's strides: transposed, sliced (stride 2), expanded (stride 0)
    grad: GradMode = "requires"
    mode: ModuleMode = "train"
    calls: int = Field(1, ge=1, le=3)  # forward on other inputs first: state carried between calls shows
    # A call sequence on one module: each step sets train or eval mode, calls forward on its own input
    # and runs backward; outputs, gradients and buffers are compared after every step. The last step
    # is the probe's own input; `mode` and `calls` are then not used.
    steps: list[ModuleMode] = Field([], max_length=MAX_STEPS)
    families: list[str] = []  # the probe families a drawn probe covers (empty: written by hand)

    @field_validator("params")
    @classmethod
    def _params_mode(cls, mode: str) -> str:
        if mode in ("random", "init"):
            return mode
        if not mode.startswith("zero:"):
            raise ValueError("params must be random, init or zero:<regex>")
        check_regex(mode[5:])
        return mode

    @field_validator("checks")
    @classmethod
    def _some_check(cls, checks: list[str]) -> list[str]:
        if not checks:
            raise ValueError("a probe needs at least one check (forward, backward)")
        return checks

    @model_validator(mode="after")
    def _runnable(self) -> "Probe":
        shape = self.input.shape or []
        if self.grad == "no_grad" and "backward" in self.checks:
            if "checks" in self.model_fields_set:
                raise ValueError("grad: no_grad runs forward only: checks must be [forward]")
            self.checks = [c for c in self.checks if c != "backward"]
        if self.steps and (self.calls > 1 or self.mode != "train"):  # (a job's spec carries the defaults)
            raise ValueError("steps set the mode of every call: leave out mode and calls")
        if self.layout == "transposed" and len(shape) < 2:
            raise ValueError("layout: transposed needs an input of two or more dims")
        if self.layout == "expanded" and (len(shape) < 2 or shape[0] < 2):
            raise ValueError("layout: expanded needs a batch dim of 2 or more")
        return self


class ParamExpectation(Strict):
    """A parameter of the reference (by its name there) and what its fresh value must be."""

    name: str
    init: Literal["ones", "zeros", "any"] = "any"


class BufferExpectation(Strict):
    """A buffer the submission must register under this name (register_buffer, so state_dict and
    .to() carry it), of the reference's shape, its fresh value, and compared after every call of a
    probe that checks `state`."""

    name: str
    init: Literal["ones", "zeros", "any"] = "any"


class Forbidden(Strict):
    """Built-ins a submission must not use. `names`: attribute or imported names found in the
    source (AST, fails the submission); `ops`: regexes over the aten ops traced in the child."""

    names: list[str] = []
    ops: list[str] = []

    @field_validator("ops")
    @classmethod
    def _compile(cls, ops: list[str]) -> list[str]:
        for op in ops:
            check_regex(op)
        return ops

    def __bool__(self) -> bool:
        return bool(self.names or self.ops)


class CheckPoints(Strict):
    """Points of the whole-module checks; each probe check carries the probe's own points."""

    structure: float = Field(1.0, ge=0)
    init: float = Field(1.0, ge=0)
    dtype_shape: float = Field(1.0, ge=0)
    input_unchanged: float = Field(1.0, ge=0)
    forbidden_ops: float = Field(1.0, ge=0)
    gradcheck: float = Field(1.0, ge=0)  # a function task's torch.autograd.gradcheck in the child


class FunctionSpec(Strict):
    """How a `kind: function` task calls its torch.autograd.Function (grader.grading.functiontask):
    `apply(x, *parameters, *rest)`, the parameters being the task's `parameters` in order, each of
    the shape the construction's first argument gives, and rest the construction's other arguments
    padded with `defaults` (apply takes no keywords)."""

    defaults: list[Any] = []  # trailing arguments a construction leaves out (eps = 1e-5)
    # The float64 input torch.autograd.gradcheck runs on in the child, built as the task's `build`.
    gradcheck: list[Annotated[int, Field(ge=1, le=64)]] = Field([2, 3, 4], min_length=1, max_length=4)


class MutantRef(Strict):
    """A known-wrong variant: a .py file defining the task's class, relative to the task file's
    directory, else to grader/mutants/."""

    id: Id
    file: PyFile

    def path(self, task_dir: Path | str | None) -> Path:
        """Where the file is: beside the task's YAML when it is there, else among the built-in ones."""
        beside = Path(task_dir) / self.file if task_dir else None
        return beside if beside is not None and beside.is_file() else MUTANTS_DIR / self.file


class BothLanguages(Text):
    """Text a learner reads in either language, so both must be written."""

    @model_validator(mode="after")
    def _both(self) -> "BothLanguages":
        missing = [lang for lang in ("en", "zh") if not (getattr(self, lang) or "").strip()]
        if missing:
            raise ValueError(f"needs both en and zh (missing {' and '.join(missing)}): a pitfall is shown "
                             "in the learner's language")
        return self


class OwnPitfall(Strict):
    """A mistake of the instructor's own (issue 18), named like a built-in pitfall. No detector knows
    it: it is named when a submission behaves as one of its mutants does, so the task declares at
    least two independent mutants of it, and `bank validate` proves each by the others (leave-one-out)."""

    id: Id
    title: BothLanguages
    explanation: BothLanguages
    fix: str = Field(min_length=1, max_length=200)  # one line of code, shown under "Fix"

    @field_validator("id")
    @classmethod
    def _not_builtin(cls, value: str) -> str:
        if value in PITFALLS:
            raise ValueError(f"'{value}' is a built-in pitfall: list it under `pitfalls:` to use it, or give "
                             "your own pitfall another id")
        return value

    @field_validator("fix")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip():
            raise ValueError("fix is one line of code (the line that corrects the mistake)")
        return value.strip()


def _axis(kind):
    return list[kind] | None  # None: the family leaves the axis open


class Family(Strict):
    """A declared sub-space of probes (grader/bank/families.py): each axis lists the values a drawn
    probe may take; an axis left out takes its ordinary value unless a merged family sets it."""

    name: Id
    merge: bool = True  # false: always a probe of its own (a loose tolerance would hide the others)
    rank: _axis(Annotated[int, Field(ge=1, le=3)]) = None  # dims of the normalized (feature) shape
    sizes: _axis(SizeClass | Annotated[int, Field(ge=1, le=4096)]) = None  # of the last normalized dim
    batch: _axis(Batching) = None
    dtype: _axis(Dtype) = None
    layout: _axis(Layout) = None
    grad: _axis(GradMode) = None
    mode: _axis(ModuleMode) = None
    calls: _axis(Annotated[int, Field(ge=1, le=3)]) = None
    eps: _axis(EpsChoice) = None
    kind: _axis(Literal["randn", "small-variance", "offset", "constant-int", "positive"]) = None
    params: _axis(Literal["random", "init"]) = None
    steps: _axis(StepsText) = None  # call sequences, "train train eval": Probe.steps
    heads: _axis(Annotated[int, Field(ge=1, le=16)]) = None  # n_heads, in a `features: heads` space
    seq: _axis(Annotated[int, Field(ge=1, le=256)]) = None  # T of a (B, T, ...) input (batch: deep)
    dropout: _axis(Annotated[float, Field(ge=0, lt=1)]) = None  # p, as probe_space.build's "$dropout"

    @model_validator(mode="after")
    def _non_empty(self) -> "Family":
        empty = [a for a in type(self).model_fields if isinstance(getattr(self, a), list) and not getattr(self, a)]
        if empty:
            raise ValueError(f"family {self.name}: empty axis {', '.join(empty)} (leave it out to keep it open)")
        return self


class EpsSpace(Strict):
    """The eps a family may build with: by keyword or as the second positional argument."""

    keyword: Identifier = "eps"
    default: float = Field(gt=0)
    above: list[Annotated[float, Field(gt=0)]] = []
    below: list[Annotated[float, Field(ge=0)]] = []

    @model_validator(mode="after")
    def _sides(self) -> "EpsSpace":
        if any(v <= self.default for v in self.above) or any(v >= self.default for v in self.below):
            raise ValueError(f"eps.above must be above and eps.below below the default {self.default:g}")
        return self


class ProbeSpace(Strict):
    """The hidden probes as families; `draw` (grader/bank/families.py) makes the probes."""

    # How the feature shape is the first argument; channels: BatchNorm1d(C) on (N, C), or (N, C, L)
    # where a family asks for batch: deep; heads: CausalSelfAttention(d_model, n_heads) on (B, T,
    # d_model), where `sizes` is the head size and `heads` the number of heads.
    features: Literal["int", "int-or-tuple", "channels", "heads"] = "int"
    state: bool = False  # every drawn probe also checks the task's buffers after its calls
    max_rank: int = Field(1, ge=1, le=3)
    eps: EpsSpace | None = None
    per_probe: int = Field(3, ge=1, le=8)  # families merged into one probe at most
    # The construction of a drawn probe, where it is not `Class(features[, eps])`: "$features" stands
    # for the drawn feature size and "$dropout" for the drawn dropout p, also inside a module argument
    # (`[$features, {module: ..., name: sublayer, args: [$features]}, $dropout]`).
    build: Construct | None = None
    families: list[Family] = Field(min_length=1)

    @model_validator(mode="after")
    def _drawable(self) -> "ProbeSpace":
        names = [f.name for f in self.families]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"duplicate family names: {', '.join(dupes)}")
        for family in self.families:
            if not families.combos(families.family_axes(family), self):
                combo = {**families.defaults(self), **{a: v[0] for a, v in families.family_axes(family).items()}}
                why = "; ".join(families.problems(combo, self)) or "no valid combination"
                raise ValueError(f"family {family.name} can draw no probe: {why}")
        return self


class DropoutSite(Strict):
    """Where the task's dropout sits (issue 19): on the output of the module argument `site`, with
    p the construction's positional argument `arg` or keyword `keyword` (else `default`). A probe in
    train mode with p > 0 is stochastic: checked by properties of the submission's own mask
    (grader.grading.dropout), never against ours."""

    site: Identifier  # a ModuleArg's name
    arg: int = Field(ge=0)
    keyword: Identifier
    default: float = Field(ge=0, lt=1)

    def p(self, construct: Construct) -> float:
        args, kwargs = construct.values()
        value = args[self.arg] if len(args) > self.arg else kwargs.get(self.keyword, self.default)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else self.default


class TaskSpec(Strict):
    id: Id
    title: Text
    # Where the task sits, as `dlprep tasks` lists it: a topic in the quiz's spelling (layernorm,
    # transformer, ...) so a learner finds the questions of the same topic, and how hard it is.
    topic: Topic | None = None
    difficulty: Difficulty | None = None
    prompt: Text
    class_name: Identifier
    signature: str  # shown to the learner, e.g. "LayerNorm(normalized_shape, eps=1e-5)"
    # module: class_name is an nn.Module built from `build`; function: a torch.autograd.Function
    # graded through its apply (`function` says how it is called), its backward written by hand.
    kind: Literal["module", "function"] = "module"
    function: FunctionSpec | None = None
    reference: Reference
    build: Construct  # the basic construction; failing it is `constructor-error`
    param_match: Literal["by-name", "by-init"] = "by-name"
    parameters: list[ParamExpectation] = []
    buffers: list[BufferExpectation] = []  # the state a probe's `state` check compares (BatchNorm's running stats)
    forbidden: Forbidden = Forbidden()
    starter: str
    points: CheckPoints = CheckPoints()
    deadline_s: float = Field(10.0, gt=0, le=600)
    seed: int | None = None  # None: a fixed seed derived from the id (reports are reproducible)
    probes: list[Probe] = []  # explicit probes: the public examples, and hand-picked hidden ones
    probe_space: ProbeSpace | None = None  # hidden probes drawn from families with the seed
    dropout: DropoutSite | None = None  # dropout on a module argument's output: stochastic probes
    pitfalls: list[Id] = []
    own_pitfalls: list[OwnPitfall] = []  # the instructor's own mistakes, each proved by leave-one-out
    mutants: list[MutantRef] = []
    # Escalating hints, from a nudge to nearly the answer: `dlprep task hint ID` shows the next one.
    hints: list[Text] = Field([], max_length=MAX_HINTS)

    @field_validator("hints")
    @classmethod
    def _hint_ladder(cls, hints: list[Text]) -> list[Text]:
        if len(hints) == 1:  # one hint is a spoiler or a shrug: a ladder needs a first step and a last
            raise ValueError(f"give {MIN_HINTS} to {MAX_HINTS} hints, from a nudge to nearly the answer (or none)")
        return hints

    @model_validator(mode="after")
    def _unique_names(self) -> "TaskSpec":
        for what, names in (
            ("probe", [p.name for p in self.probes]),
            ("mutant", [f"{m.id} ({m.file})" for m in self.mutants]),  # an id may have several files
            ("parameter", [p.name for p in self.parameters]),
            ("buffer", [b.name for b in self.buffers]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} names: {', '.join(dupes)}")
        if not self.probes and self.probe_space is None:
            raise ValueError("needs probes or a probe_space")
        if not any(not p.diagnostic for p in self.probes) and self.probe_space is None:
            raise ValueError("needs at least one graded (non-diagnostic) probe")
        stateful = [p.name for p in self.probes if "state" in p.checks]
        if (stateful or (self.probe_space and self.probe_space.state)) and not self.buffers:
            raise ValueError(f"a state check compares the task's `buffers`, and it declares none "
                             f"({', '.join(stateful) or 'probe_space.state'})")
        self._check_dropout()
        return self

    @model_validator(mode="after")
    def _function_kind(self) -> "TaskSpec":
        """A function task's constructions are apply's positional arguments; its probes are single
        calls (a Function keeps no state between them)."""
        if self.kind == "module":
            if self.function is not None:
                raise ValueError("`function:` is for kind: function")
            return self
        self.function = self.function or FunctionSpec()
        for where, construct in [("build", self.build), *((f"probe {p.name}", p.build) for p in self.probes if p.build)]:
            if construct.kwargs:
                raise ValueError(f"{where}: {self.class_name}.apply takes positional arguments only "
                                 f"(kwargs {', '.join(construct.kwargs)})")
        if stepped := [p.name for p in self.probes if p.steps or "state" in p.checks]:
            raise ValueError(f"a Function keeps no state between calls: no steps or state checks ({', '.join(stepped)})")
        keyword = [f.name for f in (self.probe_space.families if self.probe_space else [])
                   if any(e.startswith("keyword") for e in f.eps or [])]
        if keyword:
            raise ValueError(f"families {', '.join(keyword)}: eps by keyword, but apply takes positional arguments only")
        return self

    def _check_dropout(self) -> None:
        """A dropout site is a module argument of the basic construction; a stochastic probe reads
        its mask from the gradient at that site, so it needs a backward and a single call."""
        if self.dropout is None:
            return
        if self.dropout.site not in {m.name for m in self.build.module_args()}:
            raise ValueError(f"dropout.site {self.dropout.site} is not a module argument of build "
                             "(an argument {module: ..., name: " + self.dropout.site + "})")
        for probe in self.probes:
            if self.stochastic(probe) and ("backward" not in probe.checks or probe.grad == "no_grad" or probe.steps):
                raise ValueError(f"probe {probe.name}: dropout in train mode (p > 0) is checked through the "
                                 "gradient at the dropped output: give it a backward check and one call "
                                 "sequence step (or mode: eval, or p = 0)")

    def stochastic(self, probe: Probe) -> bool:
        """Train mode with dropout p > 0: the probe's output depends on the submission's mask."""
        return self.dropout is not None and probe.mode == "train" and self.dropout.p(self.build_for(probe)) > 0

    def module_refs(self) -> list[str]:
        """Every class a module argument names (the basic construction's and the probes'), once."""
        constructs = [self.build, *(p.build for p in self.probes if p.build)]
        if self.probe_space is not None and self.probe_space.build is not None:
            constructs.append(self.probe_space.build)
        return sorted({m.module for c in constructs for m in c.module_args()})

    def drawn(self, seed: int | None = None) -> "TaskSpec":
        """This task with its hidden probes drawn for `seed` (default: the task's) after the explicit
        ones: what a job carries, so the child and the judge run the same probes."""
        if self.probe_space is None:
            return self
        seed = self.default_seed if seed is None else seed
        extra = [Probe.model_validate(p) for p in families.draw(self.probe_space, seed, self.id)]
        taken = {p.name for p in self.probes}
        extra = [p if p.name not in taken else p.model_copy(update={"name": f"drawn-{p.name}"}) for p in extra]
        # Without the space: the child and the judge validate the job's spec and need only the probes.
        return self.model_copy(update={"probes": [*self.probes, *extra], "probe_space": None})

    @property
    def default_seed(self) -> int:
        return self.seed if self.seed is not None else zlib.crc32(self.id.encode())

    def graded_probes(self) -> list[Probe]:
        return [p for p in self.probes if not p.diagnostic]

    def build_for(self, probe: Probe) -> Construct:
        return probe.build or self.build


class TaskFile(Strict):
    """One YAML task file."""

    task: TaskSpec
