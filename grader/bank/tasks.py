"""The coding-task commands' logic: find a task, describe it, write its starter file.
No torch: listing and showing tasks stays as fast as the quiz."""
from __future__ import annotations

import difflib
from pathlib import Path

from grader.errors import UsageError


def find_task(tasks: dict, task_id: str):
    """The loaded task with this id (grader.bank.catalog.LoadedTask), or a usage error naming close ids."""
    if task_id in tasks:
        return tasks[task_id]
    close = difflib.get_close_matches(task_id, list(tasks), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else f" (tasks: {', '.join(sorted(tasks)) or 'none'})"
    raise UsageError(f"unknown task: {task_id}{hint}")


def public_examples(spec) -> list[dict]:
    """The public probes as shown to the learner: construction, dtype and input values (explicit
    values only; a seeded public input is described by its shape and kind)."""
    return [_example(spec, probe) for probe in spec.probes if not (probe.hidden or probe.diagnostic)]


def _example(spec, probe) -> dict:
    spec_in = probe.input
    shown = spec_in.values if spec_in.kind == "values" else f"{spec_in.kind} of shape {spec_in.shape}"
    build = apply_call(spec, probe) if spec.kind == "function" else spec.build_for(probe).call(spec.class_name)
    return {"name": probe.name, "build": build, "dtype": spec_in.dtype, "input": shown}


def apply_call(spec, probe) -> str:
    """How a function task's probe calls apply (grader.grading.functiontask): its tensors by name,
    or as their start values on a `params: init` probe, then the construction's other arguments
    padded with the task's defaults: `LayerNormFunction.apply(x, torch.ones(4), torch.zeros(4), 1e-05)`."""
    args, _ = spec.build_for(probe).values()
    shape = args[0] if args else ()
    tensors = [f"torch.{'zeros' if p.init == 'zeros' else 'ones'}({shape!r})" if probe.params == "init" else p.name
               for p in spec.parameters]
    rest = [*args[1:], *spec.function.defaults[max(len(args) - 1, 0):]]
    return f"{spec.class_name}.apply({', '.join(['x', *tensors, *map(repr, rest)])})"


def example_line(spec, probe) -> str:
    """A public probe in one line, as a failed check shows it: `LayerNorm(4)(x), x (float32) = ...`."""
    example = _example(spec, probe)
    call = example["build"] if spec.kind == "function" else f"{example['build']}(x)"
    return f"{call}, x ({example['dtype']}) = {example['input']}"


# What the hidden probes cover, axis by axis (grader/bank/families.py), as the task page states it:
# (axis, the values that make it worth saying) -> the words. The prompt must say each covered one
# in its own words (tests/test_taskspec.py): hidden tests test nothing the prompt does not state.
CONTRACT = [
    ("batch", {"unbatched"}, {"en": "with or without batch dims", "zh": "有或没有批维度"}),
    ("rank", {2, 3}, {"en": "a tuple normalized shape", "zh": "元组形式的规范化形状"}),
    ("dtype", {"float64"}, {"en": "float32 or float64", "zh": "float32 或 float64"}),
    ("layout", {"transposed", "sliced", "expanded"}, {"en": "contiguous or not", "zh": "连续或不连续"}),
    ("grad", {"plain", "no_grad"}, {"en": "with or without grad, and under torch.no_grad()",
                                    "zh": "需要或不需要梯度，以及在 torch.no_grad() 下"}),
    ("mode", {"eval"}, {"en": "train and eval mode", "zh": "训练和评估模式"}),
    ("calls", {2, 3}, {"en": "called repeatedly on the same module", "zh": "同一模块被重复调用"}),
    ("eps", {"positional-above", "positional-below"}, {"en": "eps by keyword or by position",
                                                        "zh": "eps 按关键字或按位置传入"}),
    # any call sequence: what a probe's steps do is the task's to state (BatchNorm's running statistics)
    ("steps", None, {"en": "sequences of train and eval calls", "zh": "训练和评估调用的序列"}),
    ("heads", {1}, {"en": "one head or several", "zh": "一个或多个头"}),
    ("seq", {1}, {"en": "sequences as short as one token", "zh": "短至一个 token 的序列"}),
    # any drawn dropout p (0 included: it must equal eval mode)
    ("dropout", None, {"en": "dropout rates in train and eval mode", "zh": "训练和评估模式下的各种 dropout 概率"}),
]
NEVER_MODIFIED = {"en": "the input is never modified", "zh": "输入从不被修改"}


def hidden_coverage(spec, lang: str = "en") -> list[str]:
    """What the hidden tests cover, as phrases: every axis value some family draws."""
    if spec.probe_space is None:
        return []
    drawn: dict[str, set] = {}
    for family in spec.probe_space.families:
        for axis in CONTRACT_AXES:
            drawn.setdefault(axis, set()).update(getattr(family, axis) or [])
    said = [words for axis, values, words in CONTRACT
            if drawn.get(axis, set()) & (values or drawn.get(axis, set()))] + [NEVER_MODIFIED]
    return [words.get(lang, words["en"]) for words in said]


CONTRACT_AXES = sorted({axis for axis, _, _ in CONTRACT})


def task_json(spec, brief: bool = False) -> dict:
    """A task as `dlprep tasks --json` (brief) and `dlprep task show --json` print it."""
    data = {"id": spec.id, "title": spec.title.model_dump(), "topic": spec.topic, "difficulty": spec.difficulty,
            "class_name": spec.class_name, "signature": spec.signature}
    if not brief:
        data.update(prompt=spec.prompt.model_dump(), starter=spec.starter, examples=public_examples(spec),
                    hidden_checks=sum(len(p.checks) for p in spec.drawn().graded_probes() if p.hidden),
                    hidden_tests={"covers": hidden_coverage(spec),
                                  "families": [f.name for f in spec.probe_space.families] if spec.probe_space else []})
    return data


def write_starter(spec, path: Path | None) -> Path:
    """Write the starter code to `path` (default ./<id>.py); never overwrite an existing file."""
    path = path or Path(f"{spec.id}.py")
    if path.is_dir():
        path = path / f"{spec.id}.py"
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": fails if the file exists
            f.write(spec.starter)
    except FileExistsError:
        raise UsageError(f"{path} already exists; dlprep never overwrites it (choose another PATH)") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    return path
