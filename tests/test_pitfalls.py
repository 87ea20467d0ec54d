"""Pitfall diagnosis end to end: real submissions (tests/pitfall_cases/<task>/) graded through the
real sandbox, one warm zygote for the lot.

A case file `<pitfall-id>--<style>.py` makes that mistake and must be named with it; every id of
the contract has two cases in different styles. `correct--<style>.py` is right and must pass with
nothing of severity error or warning named. The source article's code is read from tests/golden/article-*/.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from grader.pitfalls import registry
from grader.grading.submit import grade_source

CASES = Path(__file__).parent / "pitfall_cases"
# The source article's own code, kept once, with the golden end-to-end cases.
ARTICLE = {task: Path(__file__).parent / "golden" / f"article-{task}" / "submission.py"
           for task in ("layernorm", "residual-block")}
TASKS = ("layernorm", "residual-block", "prenorm-residual", "postnorm-residual", "batchnorm1d")


def cases(prefix_ok) -> list:
    return [pytest.param(task, path, id=f"{task}/{path.stem}")
            for task in TASKS for path in sorted((CASES / task).glob("*.py")) if prefix_ok(path.stem)]


MISTAKES = cases(lambda stem: "--" in stem and not stem.startswith("correct--"))
CORRECT = cases(lambda stem: stem.startswith("correct--"))


@pytest.fixture(scope="module")
def grade(sandbox, builtin_tasks):
    """Grade a case file (once per module) or a source string in the shared sandbox."""
    done = {}

    def run(task: str, path: Path | None = None, source: str | None = None):
        key = (task, path, source)
        if key not in done:
            text = source if source is not None else path.read_text(encoding="utf-8")
            done[key] = grade_source(text, path.name if path else "submission.py", builtin_tasks[task], sandbox)
        return done[key]

    return run


def named(result) -> dict[str, str]:
    return {p.id: p.evidence for p in result.pitfalls}


@pytest.mark.parametrize("task, path", MISTAKES)
def test_each_mistake_is_named(grade, task, path):
    pitfall = path.stem.split("--")[0]
    result = grade(task, path)
    assert pitfall in named(result), [(p.id, p.evidence) for p in result.pitfalls]
    assert named(result)[pitfall]  # always with evidence
    expected_verdict = "pass" if registry.get(pitfall).severity == "note" else "fail"
    assert result.verdict == expected_verdict


@pytest.mark.parametrize("task, path", CORRECT)
def test_correct_implementations_raise_no_alarm(grade, task, path):
    result = grade(task, path)
    assert result.verdict == "pass", [(c.name, c.message) for c in result.checks if not c.passed]
    assert [p.id for p in result.pitfalls if p.severity in ("error", "warning")] == []


@pytest.mark.parametrize("task", TASKS)
def test_every_contract_id_has_two_cases_in_different_styles(task):
    styles = Counter(p.stem.split("--")[0] for p in (CASES / task).glob("*--*.py"))
    assert {pid for pid in registry.ids_for(task) if styles[pid] < 2} == set()
    assert styles["correct"] >= 3


def test_article_layernorm_is_named_with_its_six_mistakes_and_evidence(grade):
    result = grade("layernorm", ARTICLE["layernorm"])
    evidence = named(result)
    assert result.verdict == "fail"
    assert evidence["extra-layers"].startswith("structure: fc1 (Linear), fc2 (Linear)")
    assert "line 9: nn.ReLU()" in evidence["extra-activation"]
    assert evidence["unbiased-variance"] == "line 13: x.std(dim=1, keepdim=True)"
    assert evidence["eps-outside-sqrt"] == "line 14: std + 1e-5"
    assert "line 12: x.mean(dim=1, keepdim=True)" in evidence["wrong-normalized-dims"]
    assert evidence["missing-affine"] == "structure: no parameter for weight, bias"


def test_article_residual_block_passes_clean(grade):
    result = grade("residual-block", ARTICLE["residual-block"])
    assert result.verdict == "pass" and result.pitfalls == []


@pytest.mark.parametrize("case, family", [
    ("eps-outside-sqrt--sqrt-then-eps", ""),
    ("unbiased-variance--hand-written", ""),
    ("missing-eps--rsqrt", "constant-rows"),
    ("unstable-variance--square-mean", "offset"),
    ("wrong-normalized-dims--last-dim", "tuple-"),
])
def test_behavioural_evidence_names_the_probe_and_the_measured_error(grade, case, family):
    """The evidence names the drawn probe (its families) that shows the mistake, with the error."""
    pitfall = case.split("--")[0]
    evidence = named(grade("layernorm", CASES / "layernorm" / f"{case}.py"))[pitfall]
    assert re.match(rf"probe [\w.-]*{family}[\w.-]*\b.*(off the reference by [0-9.e+-]+|NaN or inf)", evidence), evidence


def test_compound_mistakes_are_each_named(grade):
    source = (CASES / "layernorm" / "extra-activation--functional-relu.py").read_text()
    source = source.replace("correction=0", "correction=1")  # and the unbiased variance
    assert {"extra-activation", "unbiased-variance"} <= set(named(grade("layernorm", source=source)))


def test_unexplained_failure_on_a_hidden_probe_quotes_no_values(grade):
    """A wrong output no known mistake explains is reported plainly; a hidden probe is named with
    its error only, never its elements."""
    source = (CASES / "layernorm" / "correct--two-pass.py").read_text()
    source = source.replace("return centred /", "scale = 1.5 if x.dim() == 1 else 1.0\n        return scale * centred /")
    result = grade("layernorm", source=source)
    assert [p.id for p in result.pitfalls] == ["wrong-output"]
    assert re.fullmatch(r"probe [\w.-]*unbatched[\w.-]*: output off by [0-9.e+-]+ \(relative\)",
                        result.pitfalls[0].evidence)


def test_a_static_rule_does_not_claim_a_write_the_child_did_not_see(grade):
    """inplace=True on an intermediate is harmless: a failing block is not told it modifies x."""
    source = (CASES / "residual-block" / "activation-placement--no-inner-relu.py").read_text()
    source = source.replace("return F.relu(self.fc2(self.fc1(x)) + x)",
                            "return nn.ReLU(inplace=True)(self.fc2(self.fc1(x)) + x)")
    assert [p.id for p in grade("residual-block", source=source).pitfalls] == ["activation-placement"]


def test_residual_diagnostic_probe_is_evidence_for_a_missing_skip(grade):
    evidence = named(grade("residual-block", CASES / "residual-block" / "missing-skip--sequential-branch.py"))
    assert "probe skip-only (branch zeroed, input > 0): output is 0" in evidence["missing-skip"]


def test_registry_texts_are_bilingual_and_fixes_are_one_line_of_code():
    for pitfall in registry.PITFALLS.values():
        for text in (pitfall.title, pitfall.explanation):
            assert text["en"].strip() and re.search(r"[\u4e00-\u9fff]", text["zh"]), pitfall.id
        for fix in pitfall.fix.values():
            assert "\n" not in fix
            ast.parse(fix.strip())  # code, not prose
    zh = registry.get("unbiased-variance").result("line 3: x.std()", task="layernorm", lang="zh")
    assert zh.title == "用了无偏方差（除以 n-1）" and zh.fix.startswith("var = x.var(")


def test_an_instructors_task_gets_no_fix_written_for_another_module():
    pitfall = registry.get("extra-layers")
    assert pitfall.result("e", task="layernorm").fix.startswith("self.weight = nn.Parameter(")
    assert pitfall.result("e", task="residual-block").fix.startswith("self.fc1, self.fc2")
    assert pitfall.result("e", task="my-rmsnorm").fix == ""


def test_the_contract_ids_and_severities():
    assert registry.ids_for("layernorm") == [
        "extra-layers", "extra-activation", "unbiased-variance", "eps-outside-sqrt", "missing-eps",
        "wrong-eps", "unstable-variance", "wrong-normalized-dims", "missing-affine", "affine-init",
        "detached-statistics", "forbidden-builtin", "modifies-input", "wrong-gradient", "wrong-backward",
        "unused-parameter", "wrong-output", "param-names"]
    assert set(registry.ids_for("residual-block")) == {
        "missing-skip", "detached-skip", "scaled-skip", "activation-placement", "extra-layers",
        "missing-parameters", "unused-parameter", "modifies-input", "wrong-gradient", "wrong-backward",
        "wrong-output"}
    assert {p.id for p in registry.PITFALLS.values() if p.severity != "error"} == {"param-names"}


def test_pitfall_texts_follow_the_language_of_the_job(sandbox, builtin_tasks):
    source = (CASES / "layernorm" / "missing-eps--rsqrt.py").read_text()
    result = grade_source(source, "s.py", builtin_tasks["layernorm"], sandbox, lang="zh")
    (pitfall,) = [p for p in result.pitfalls if p.id == "missing-eps"]
    assert pitfall.title == "分母里没有 eps" and "常数行" in pitfall.explanation
    assert pitfall.fix == "x_hat = (x - mean) / torch.sqrt(var + self.eps)"


# ---- mutant matching on its own: the other detectors switched off ---------------------------
def evidence_here(loaded, source: str, exclude: str | None = None):
    """The judge's Evidence for `source`, with the child's code run in this test process (these are
    trusted test files; production never runs submission code outside the child)."""
    from grader.grading.judge import Judgement
    from grader.grading.runner import child_main

    spec = loaded.spec
    job = {"task": spec.model_dump(mode="json"), "task_dir": str(loaded.dir), "source": source,
           "filename": "s.py", "seed": spec.default_seed, "device": "cpu", "mode": "grade"}
    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=tensors))
    return Judgement(job, spec, sent["meta"], sent["tensors"]).evidence(exclude)


@pytest.mark.parametrize("case, mutant", [
    ("unbiased-variance--torch-std", "unbiased-variance"),
    ("detached-statistics--no-grad", "detached-statistics"),
    ("wrong-gradient--custom-backward", None),  # right forward, but not the detached mutant's gradient
    ("correct--two-pass", None),
])
def test_a_submission_matches_the_mutant_making_its_mistake(builtin_tasks, case, mutant):
    from grader.pitfalls.mutantmatch import match_mutants

    ev = evidence_here(builtin_tasks["layernorm"], (CASES / "layernorm" / f"{case}.py").read_text())
    matches = dict(match_mutants(ev, skip=set()))
    assert list(matches) == ([mutant] if mutant else [])
    if mutant:
        assert matches[mutant].startswith(f"outputs and gradients equal those of the known mistake '{mutant}'")


def test_the_excluded_mutant_is_not_matched(builtin_tasks):
    from grader.pitfalls.mutantmatch import match_mutants

    source = (CASES / "layernorm" / "unbiased-variance--torch-std.py").read_text()
    ev = evidence_here(builtin_tasks["layernorm"], source, exclude="unbiased-variance")
    assert list(match_mutants(ev, skip=set())) == []


# -- naming from evidence (issue 9) -------------------------------------------------------------------
@pytest.mark.parametrize("task, case, ids", [
    # each mistake of a compound named, and nothing claiming forward is right
    ("layernorm", "wrong-backward--unbiased-custom-function", {"unbiased-variance", "wrong-backward"}),
    ("layernorm", "wrong-backward--relu-and-detached-mean", {"extra-activation", "wrong-backward"}),
    ("residual-block", "wrong-backward--straight-through-inner", {"activation-placement", "wrong-backward"}),
    ("residual-block", "wrong-backward--halved-no-skip", {"missing-skip", "wrong-backward"}),
    # an unused bias is not a gradient mistake; a scaled skip is not a detached one
    ("layernorm", "unused-parameter--bias-never-added", {"unused-parameter"}),
    ("layernorm", "unused-parameter--bias-times-zero", {"unused-parameter"}),
    ("residual-block", "unused-parameter--linear-weight-only", {"unused-parameter"}),
    ("residual-block", "unused-parameter--bias-cancelled", {"unused-parameter"}),
    ("residual-block", "scaled-skip--gradient-hook", {"scaled-skip"}),
    ("residual-block", "scaled-skip--custom-function", {"scaled-skip"}),
    ("layernorm", "wrong-normalized-dims--mean-last-var-all", {"wrong-normalized-dims"}),
    ("layernorm", "wrong-normalized-dims--var-last-only", {"wrong-normalized-dims"}),
    ("layernorm", "wrong-eps--eps-times-eps", {"wrong-eps"}),
    ("layernorm", "wrong-eps--squared-in-init", {"wrong-eps"}),
    ("residual-block", "activation-placement--relu-input-both-paths", {"activation-placement"}),
    ("residual-block", "activation-placement--relu-after-fc2-module", {"activation-placement"}),
])
def test_exactly_the_mistakes_made_are_named(grade, task, case, ids):
    result = grade(task, CASES / task / f"{case}.py")
    assert {p.id for p in result.pitfalls if p.severity == "error"} == ids, named(result)


FORWARD_RIGHT = sorted(p.id for p in registry.PITFALLS.values() if p.forward_right)
# Appended to a case: the same module, its output scaled by 1.01 (every forward check then fails).
PERTURB = """

_forward_as_written = {cls}.forward


def _perturbed(self, x):
    return _forward_as_written(self, x) * 1.01


{cls}.forward = _perturbed
"""


@pytest.mark.parametrize("pitfall", FORWARD_RIGHT)
def test_a_pitfall_saying_forward_is_right_needs_every_forward_check_passed(grade, builtin_tasks, pitfall):
    """Metamorphic: each case named with a 'forward is right' pitfall, with its output perturbed, is
    no longer named with it (and is still told something), and where it is named, the forward checks
    all passed."""
    assert FORWARD_RIGHT == ["detached-skip", "detached-statistics", "scaled-skip", "wrong-gradient"]
    paths = [(task, path) for task in TASKS for path in sorted((CASES / task).glob(f"{pitfall}--*.py"))]
    assert len(paths) >= 2
    for task, path in paths:
        result = grade(task, path)
        assert pitfall in named(result)
        assert all(c.passed for c in result.checks if c.kind == "forward")
        cls = builtin_tasks[task].spec.class_name
        perturbed = grade(task, source=path.read_text() + PERTURB.format(cls=cls))
        assert not any(c.passed for c in perturbed.checks if c.kind == "forward" and c.hidden)
        assert pitfall not in named(perturbed) and perturbed.pitfalls, named(perturbed)


def test_closeness_ruled_out_on_the_first_element_agrees_with_the_full_comparison():
    """measure.close() rejects on the first element before comparing whole tensors: never a
    different answer from error() <= tolerance, whatever the values (non-finite ones included)."""
    import types

    import torch
    from hypothesis import given, settings, strategies as st

    from grader.pitfalls import measure

    probe = types.SimpleNamespace(spec=types.SimpleNamespace(tolerance="tight", input=types.SimpleNamespace(dtype="float32")))
    values = st.one_of(st.floats(-4, 4, width=32), st.sampled_from([0.0, float("nan"), float("inf"), -float("inf")]))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(values, min_size=0, max_size=6), st.lists(values, min_size=0, max_size=6),
           st.floats(0, 2))
    def agree(a, b, factor):
        want = torch.tensor(b, dtype=torch.float64)
        near = want.clone()  # its first element off by `factor` tolerances: either side of the line
        if near.numel():
            near[0] += factor * measure.tol(probe) * max(float(want.abs().max()), 1e-6)
        for got in (torch.tensor(a, dtype=torch.float64), near):
            assert measure.close(got, want, probe) == (measure.error(got, want) <= measure.tol(probe))

    agree()
