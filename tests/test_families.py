"""Probe families (grader/bank/families.py, the `probe_space` of a task file): what a draw holds for any
seed, how families merge, what the schema refuses, and what the task page promises. No sandbox here:
the property over seeds with the real child and judge is in tests/test_mutation.py.
"""
from __future__ import annotations

import copy
import random
import re
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


SPECS = {name: TaskFile.model_validate(load(f"{name}.yaml")).task for name in ("layernorm", "residual-block", "rmsnorm",
                                                                              "causal-self-attention",
                                                                              "prenorm-residual", "postnorm-residual")}


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
            "eps by keyword or by position": ("by position", "按位置"), "the input is never modified": ("never modified", "从不被修改"),
            "one head or several": ("one head or several", "一个或多个头"),
            "sequences of train and eval calls": ("sequences of train and eval calls", "训练和评估调用的序列"),
            "sequences as short as one token": ("sequences as short as one token", "短至一个 token 的序列"),
            "dropout rates in train and eval mode": ("p_drop 0, 0.1 or 0.3", "0、0.1 或 0.3 的 p_drop")}
    covers = hidden_coverage(spec)
    assert len(covers) >= 7
    for phrase in covers:
        en, zh = cues[phrase]
        assert en in spec.prompt.en and zh in spec.prompt.zh, phrase
    shown = task_json(spec)["hidden_tests"]
    assert shown["covers"] == covers and shown["families"] == [f.name for f in spec.probe_space.families]


# -- attention's vocabulary (issue 18): `features: heads` builds (d_model, n_heads) on (B, T, d_model)
def test_a_heads_space_builds_d_model_and_n_heads_on_a_three_dim_input():
    """`sizes` is the head size there, so d_model is always a multiple of n_heads; an open `heads`
    is 2 (one head would hide a wrong scale), and `seq` fixes T."""
    spec = SPECS["causal-self-attention"]
    declared = {f.name: f for f in spec.probe_space.families}
    for seed in range(30):
        for probe in spec.drawn(seed).probes:
            if not probe.families:
                continue
            (d_model, heads), shape = probe.build.args, probe.input.shape
            assert len(shape) == 3 and shape[-1] == d_model and d_model % heads == 0
            chosen = [declared[name] for name in probe.families]
            assert heads == next((h for f in chosen if f.heads for h in f.heads if h == heads), 2)
            if any(f.seq for f in chosen):
                assert shape[1] in next(f.seq for f in chosen if f.seq)
            else:
                assert 2 <= shape[1] <= 4
            if "prime-head-size" in probe.families:
                assert d_model // heads in families.SIZE_POOLS["prime"]


@pytest.mark.parametrize("features, family, message", [
    ("int", {"name": "a", "heads": [2]}, "heads needs features: heads"),
    ("int", {"name": "a", "seq": [1]}, "seq (the length T of (B, T, ...)) needs batch: deep"),
    ("heads", {"name": "a", "batch": ["unbatched"]}, "an attention input is (B, T, d_model): batch deep only"),
    ("heads", {"name": "a", "heads": [0]}, "greater than or equal to 1"),
])
def test_heads_and_seq_are_refused_where_they_cannot_apply(features, family, message):
    doc = copy.deepcopy(load("causal-self-attention.yaml"))
    doc["task"]["probe_space"].update(features=features, families=[family])
    with pytest.raises(ValidationError, match=re.escape(message)):
        TaskFile.model_validate(doc)


def test_the_new_axes_draw_nothing_where_they_are_left_open():
    """An open heads and seq consume no randomness and change nothing: a point realised as before the
    axes existed gives the same probe, so the other tasks' draws are unchanged."""
    space = SPECS["layernorm"].probe_space
    for combo in families.combos({"rank": [1, 2, 3], "batch": ["batched", "deep"]}, space):
        older = {axis: value for axis, value in combo.items() if axis not in ("heads", "seq")}
        assert (families.realise(combo, space, random.Random(7), "p", ["f"])
                == families.realise(older, space, random.Random(7), "p", ["f"]))
    assert families.defaults(space) is families.DEFAULTS
