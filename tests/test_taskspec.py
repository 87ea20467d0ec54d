"""The task-file schema: the shipped tasks load, each kind of mistake in a task file is refused with
its field named, and nothing here needs torch."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from grader.bank.taskspec import Construct, TaskFile

TASKS = Path(__file__).resolve().parent.parent / "questions" / "tasks"


def load(name: str) -> dict:
    return yaml.safe_load((TASKS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["layernorm.yaml", "residual-block.yaml"])
def test_shipped_tasks_validate(name):
    spec = TaskFile.model_validate(load(name)).task
    assert spec.title.en and spec.title.zh and spec.prompt.en and spec.prompt.zh
    assert spec.class_name in spec.starter and spec.class_name in spec.signature
    drawn = spec.drawn()
    assert any(not p.hidden for p in drawn.probes) and any(p.hidden for p in drawn.probes)
    assert all(not p.hidden for p in spec.probes if not p.diagnostic)  # public probes stay explicit


@pytest.mark.parametrize("seed", [0, 1, 7, 123456])
def test_every_layernorm_draw_covers_the_issue(seed):
    """Stratified: whatever the seed, one draw reaches every blind spot of the held-out set."""
    probes = [p for p in TaskFile.model_validate(load("layernorm.yaml")).task.drawn(seed).probes if p.families]
    kinds = {p.input.kind for p in probes}
    assert {"randn", "small-variance", "offset", "constant-int"} <= kinds
    assert {p.input.dtype for p in probes} == {"float32", "float64"}
    builds = [(p.build.args, p.build.kwargs) for p in probes]
    ranks = {len(a[0]) if isinstance(a[0], list) else 1 for a, _ in builds}
    assert ranks == {1, 2, 3}  # a 3-D tuple normalized_shape among them
    sizes = [a[0][-1] if isinstance(a[0], list) else a[0] for a, _ in builds]
    assert any(n > 256 and n & (n - 1) for n in sizes)  # large and not a power of two
    eps = [a[1] if len(a) > 1 else k.get("eps") for a, k in builds]
    assert any(e is not None and e < 1e-5 for e in eps) and any(e is not None and e > 1e-5 for e in eps)
    assert any(p.layout != "contiguous" for p in probes)
    assert any(len(p.input.shape) == (len(b[0][0]) if isinstance(b[0][0], list) else 1) for p, b in zip(probes, builds))
    assert any(p.input.shape[0] == 1 for p in probes)
    assert {"plain", "no_grad"} & {p.grad for p in probes} and any(p.mode == "eval" for p in probes)
    assert any(p.calls > 1 for p in probes) and any(p.params == "init" for p in probes)
    assert all(p.tolerance == "offset" for p in probes if p.input.kind == "offset")
    # fewer, richer probes than families
    assert len(probes) < len(TaskFile.model_validate(load("layernorm.yaml")).task.probe_space.families)


def test_construct_passes_lists_as_tuples_and_prints_the_call():
    c = Construct(args=[[4, 6]], kwargs={"eps": 0.01})
    assert c.values() == (((4, 6),), {"eps": 0.01})
    assert c.call("LayerNorm") == "LayerNorm((4, 6), eps=0.01)"


def test_default_seed_is_fixed_per_task():
    a = TaskFile.model_validate(load("layernorm.yaml")).task
    b = TaskFile.model_validate(load("residual-block.yaml")).task
    assert a.default_seed == TaskFile.model_validate(load("layernorm.yaml")).task.default_seed
    assert a.default_seed != b.default_seed


def _set(doc, path, value):
    target = doc["task"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("surprise",), 1, "Extra inputs are not permitted"),
        (("reference",), "not a reference", "must be package.module:Class or file.py:Class"),
        (("class_name",), "Layer Norm", "must be a Python name"),
        (("param_match",), "by-luck", "by-name"),
        (("probes", 1, "params"), "ones", "params must be random, init or zero"),
        (("probes", 1, "params"), "zero:[", "bad regex"),
        (("probes", 1, "tolerance"), "loose", "'tight', 'offset' or 'constant'"),
        (("probes", 1, "input"), {"kind": "randn"}, "needs a `shape`"),
        (("probes", 1, "input"), {"shape": [0, 3]}, "each >= 1"),
        (("probes", 1, "input"), {"values": [[1, 2], [3]]}, "rectangular"),
        (("probes", 1, "input"), {"shape": [2], "kind": "offset", "values": [1.0, 2.0]}, "only for kind: values"),
        (("probes", 1, "input", "dtype"), "float16", "float32"),
        (("probes", 1, "checks"), [], "at least one check"),
        (("probes", 1, "name"), "example", "duplicate probe names: example"),
        (("forbidden", "ops"), ["(unclosed"], "bad regex"),
        (("mutants",), [{"id": "m", "file": "m.txt"}], "must be a .py file"),
        (("title",), {}, "at least one language"),
    ],
)
def test_mistakes_in_a_task_file_are_refused(path, value, message):
    doc = copy.deepcopy(load("layernorm.yaml"))
    doc["task"]["probes"].append({"name": "rows-2d", "input": {"shape": [8, 16]}})  # explicit hidden probes stay valid
    _set(doc, path, value)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("[", r"\[")):
        TaskFile.model_validate(doc)


def test_a_task_needs_a_graded_probe():
    doc = copy.deepcopy(load("residual-block.yaml"))
    for probe in doc["task"]["probes"]:
        probe["diagnostic"] = True
    del doc["task"]["probe_space"]  # drawn probes are graded ones
    with pytest.raises(ValidationError, match="at least one graded"):
        TaskFile.model_validate(doc)


def test_the_bank_loader_reports_a_bad_task_with_file_and_line(tmp_path):
    from grader.bank import catalog as banks

    text = (TASKS / "residual-block.yaml").read_text(encoding="utf-8").replace("param_match: by-name", "param_match: maybe")
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    catalog = banks.load_paths([tmp_path], strict=False)
    line = text.splitlines().index("  param_match: maybe") + 1
    assert any(f"bad.yaml:{line}:" in p and "param_match" in p for p in catalog.problems)


def test_taskspec_does_not_import_torch():
    code = "import sys, grader.bank.taskspec, grader.grading.submit, grader.grading.formats, grader.bank.tasks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TASKS.parent.parent)
    assert out.stdout.strip() == "False", out.stderr
