"""Probe families (grader/bank/families.py, the `probe_space` of a task file): what a draw holds for any
seed, how families merge, what the schema refuses, and what the task page promises. No sandbox here:
the property over seeds with the real child and judge is in tests/test_mutation.py.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from grader.bank import families
from grader.bank.tasks import hidden_coverage, task_json
from grader.bank.taskspec import TaskFile

TASKS = Path(__file__).resolve().parent.parent / "questions" / "tasks"


def load(name: str) -> dict:
    return yaml.safe_load((TASKS / name).read_text(encoding="utf-8"))


SPECS = {name: TaskFile.model_validate(load(f"{name}.yaml")).task for name in ("layernorm", "residual-block")}


@settings(max_examples=60, derandomize=True, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63 - 1), task=st.sampled_from(sorted(SPECS)))
def test_every_draw_is_stratified_valid_and_merged(seed, task):
    spec = SPECS[task]
    space = spec.probe_space
    drawn = [p for p in spec.drawn(seed).probes if p.families]
    covered = [name for p in drawn for name in p.families]
    assert sorted(covered) == sorted(f.name for f in space.families)  # each family once, in every draw
    assert len(drawn) < len(space.families)  # merged into fewer, richer probes
    alone = {f.name for f in space.families if not f.merge}
    for probe in drawn:
        assert len(probe.families) <= space.per_probe
        assert probe.hidden and not probe.diagnostic
        assert not (alone & set(probe.families)) or len(probe.families) == 1
        assert len(probe.input.shape) <= 6 and _elements(probe.input.shape) <= 60_000  # cheap to run
        if probe.input.kind == "offset":
            assert probe.tolerance == "offset"
        if probe.grad == "no_grad":
            assert probe.checks == ["forward"]
    assert spec.drawn(seed) == spec.drawn(seed)  # a pure function of the seed


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def test_a_draw_depends_on_the_seed_and_the_task_default_is_fixed():
    spec = SPECS["layernorm"]
    assert spec.drawn().probes == spec.drawn(spec.default_seed).probes
    assert spec.drawn(1).probes != spec.drawn(2).probes


def test_a_family_constrains_its_probe_and_merged_families_share_one():
    spec = SPECS["layernorm"]
    for seed in range(20):
        for probe in spec.drawn(seed).probes:
            args, kwargs = probe.build.args if probe.build else [], probe.build.kwargs if probe.build else {}
            if "tuple-3d" in probe.families:
                assert isinstance(args[0], list) and len(args[0]) == 3
                assert probe.input.shape[-3:] == args[0]
            if "large-n" in probe.families:
                last = args[0][-1] if isinstance(args[0], list) else args[0]
                assert last > 256 and last & (last - 1)
            if "eps-below" in probe.families:
                eps = args[1] if len(args) > 1 else kwargs["eps"]
                assert eps < 1e-5 and probe.input.kind == "small-variance"
            if "unbatched" in probe.families:
                rank = len(args[0]) if isinstance(args[0], list) else 1
                assert len(probe.input.shape) == rank
            if "transposed" in probe.families:
                assert probe.layout == "transposed" and len(probe.input.shape) >= 3


def test_explicit_probes_stay_valid_and_come_first():
    doc = copy.deepcopy(load("layernorm.yaml"))
    doc["task"]["probes"].append({"name": "rows-2d", "input": {"shape": [8, 16]}})
    spec = TaskFile.model_validate(doc).task
    names = [p.name for p in spec.drawn(3).probes]
    assert names[:2] == ["example", "rows-2d"] and len(names) > 2
    del doc["task"]["probe_space"]
    assert [p.name for p in TaskFile.model_validate(doc).task.drawn(3).probes] == ["example", "rows-2d"]


def _space(**change) -> dict:
    doc = copy.deepcopy(load("layernorm.yaml"))
    doc["task"]["probe_space"].update(change)
    return doc


@pytest.mark.parametrize("doc, message", [
    (_space(families=[{"name": "a", "layout": []}]), "empty axis layout"),
    (_space(families=[{"name": "a"}, {"name": "a"}]), "duplicate family names: a"),
    (_space(families=[{"name": "a", "layout": ["transposed"], "batch": ["unbatched"]}]),
     "family a can draw no probe: a transposed input needs two dims"),
    (_space(features="int", families=[{"name": "a", "rank": [2]}]), "family a can draw no probe: rank 2 needs"),
    (_space(eps=None, families=[{"name": "a", "eps": ["keyword-below"]}]), "needs probe_space.eps"),
    (_space(eps={"default": 1e-5, "above": [1e-6]}), "eps.above must be above"),
    (_space(families=[{"name": "a", "sizes": ["huge"]}]), "sizes"),
    (_space(families=[]), "at least 1 item"),
])
def test_a_family_that_cannot_be_drawn_is_refused(doc, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        TaskFile.model_validate(doc)


def test_yaml_off_is_refused_with_the_values_named(tmp_path):
    """`grad: [off]` reads as a boolean in YAML: the message lists the words that work."""
    from grader.bank import catalog

    text = (TASKS / "layernorm.yaml").read_text(encoding="utf-8").replace("grad: [plain]", "grad: [off]")
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    problems = catalog.load_paths([tmp_path], strict=False).problems
    assert any("grad" in p and "requires, plain, no_grad" in p for p in problems), problems


def test_corners_cover_each_family_at_both_ends_of_its_sizes():
    space = SPECS["layernorm"].probe_space
    large = next(f for f in space.families if f.name == "large-n")
    sizes = {p["input"]["shape"][-1] for p in families.corners(space, large)}
    assert sizes == {families.SIZE_POOLS["large"][0], families.SIZE_POOLS["large"][-1]}
    below = next(f for f in space.families if f.name == "eps-below")
    eps = {p["build"]["args"][1] if len(p["build"]["args"]) > 1 else p["build"]["kwargs"]["eps"]
           for p in families.corners(space, below)}
    assert eps == set(space.eps.below)


@pytest.mark.parametrize("task", sorted(SPECS))
def test_the_prompt_states_everything_the_hidden_tests_cover(task):
    """Hidden tests test nothing the prompt does not state: each covered axis has its words in the
    prompt (en and zh), and `task show --json` lists the coverage and the families."""
    spec = SPECS[task]
    cues = {"with or without batch dims": ("without batch dims", "没有批维度"),
            "a tuple normalized shape": ("tuple", "元组"), "float32 or float64": ("float64", "float64"),
            "contiguous or not": ("contiguous or not", "不连续"),
            "with or without grad, and under torch.no_grad()": ("torch.no_grad()", "torch.no_grad()"),
            "train and eval mode": ("eval mode", "评估模式"), "called repeatedly on the same module": ("repeatedly", "重复调用"),
            "eps by keyword or by position": ("by position", "按位置"), "the input is never modified": ("never modified", "从不被修改")}
    covers = hidden_coverage(spec)
    assert len(covers) >= 7
    for phrase in covers:
        en, zh = cues[phrase]
        assert en in spec.prompt.en and zh in spec.prompt.zh, phrase
    shown = task_json(spec)["hidden_tests"]
    assert shown["covers"] == covers and shown["families"] == [f.name for f in spec.probe_space.families]
