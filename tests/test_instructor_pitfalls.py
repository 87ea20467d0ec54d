"""A task's own pitfalls (`own_pitfalls:` in its YAML; grader.pitfalls.registry.for_task): declared
with bilingual texts and a fix line, checked at their lines when the task loads, named by matching
their mutants, and proved by leave-one-out: each mutant must be named by the others of its id. The
task is the `bank new task` scaffold (an affine map whose pitfall bias-before-scale has two mutants)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.authoring import scaffold
from grader.authoring.mutation import prove_task
from grader.bank.catalog import load_paths
from grader.pitfalls import registry

SUBMISSION = """import torch
import torch.nn as nn


class Scale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return torch.addcmul(self.bias * self.weight, x, self.weight)  # a third way to scale the bias
"""


def make_task(root: Path, edit=None, files: dict[str, str] | None = None) -> Path:
    """The scaffolded task `scale` in `root`, its YAML passed through `edit(task dict)`."""
    for path, text in {**scaffold.task_files("scale"), **(files or {})}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    if edit:
        data = yaml.safe_load((root / "scale.yaml").read_text(encoding="utf-8"))
        edit(data["task"])
        (root / "scale.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    """The load problems as `LINE: message`, the file and id left out."""
    return [p.split(": ", 1)[0].rsplit(":", 1)[1] + ": " + p.split(": ", 2)[2]
            for p in load_paths([root], strict=False).problems]


def line_of(root: Path, text: str, nth: int = 0) -> str:
    lines = (root / "scale.yaml").read_text(encoding="utf-8").splitlines()
    return str([i for i, line in enumerate(lines, 1) if text in line][nth])


def _own(task):
    return task["own_pitfalls"][0]


@pytest.mark.parametrize("edit, where, message", [
    (lambda t: t["own_pitfalls"].append(dict(_own(t))), ("- id: bias-before-scale", 1),
     "own_pitfalls[1].id: 'bias-before-scale' is declared twice (also own_pitfalls[0])"),
    (lambda t: _own(t).update(id="wrong-output"), ("- id: wrong-output", 0),
     "own_pitfalls[0].id: 'wrong-output' is a built-in pitfall: list it under `pitfalls:` to use it, or give "
     "your own pitfall another id"),
    (lambda t: _own(t)["explanation"].pop("zh"), ("explanation:", 0),
     "own_pitfalls[0].explanation: needs both en and zh (missing zh): a pitfall is shown in the learner's language"),
    (lambda t: _own(t).update(fix="x = x * w\nreturn x + b"), ("fix:", 0),
     "own_pitfalls[0].fix: fix is one line of code (the line that corrects the mistake)"),
    (lambda t: t.update(mutants=t["mutants"][:1]), ("- id: bias-before-scale", 0),
     "own_pitfalls[0]: own pitfall 'bias-before-scale' has only one mutant (mutants/bias_before_scale.py), so it "
     "cannot be proved: it is named only by matching its mutants, and each is proved by another one naming it "
     "(leave-one-out); add a second, independently written mutant file of the same mistake with id bias-before-scale"),
    (lambda t: t.update(mutants=[]), ("- id: bias-before-scale", 0), "own pitfall 'bias-before-scale' has no mutant, so"),
    (lambda t: t["mutants"][1].update(id="bias-before-scael"), ("id: bias-before-scael", 0),
     "mutants[1].id: unknown pitfall id 'bias-before-scael' (did you mean bias-before-scale?); a mistake of your "
     "own goes under `own_pitfalls:`"),
])
def test_declaration_problems_come_at_their_line(tmp_path, edit, where, message):
    root = make_task(tmp_path, edit)
    found = problems(root)
    assert any(p.startswith(line_of(root, *where) + ": ") and message in p for p in found), found


def test_a_second_variant_must_be_written_independently(tmp_path):
    """The same code twice (comments and layout aside) proves only that a file equals itself."""
    first = scaffold.task_files("scale")["mutants/bias_before_scale.py"]
    root = make_task(tmp_path, files={"mutants/bias_scaled.py": "# a copy\n" + first.replace("    ", "  ")})
    assert problems(root) == [f"{line_of(root, 'file: mutants/bias_scaled.py')}: mutants[1].file: "
                              "mutants/bias_scaled.py has the same code as mutants/bias_before_scale.py (comments "
                              "and layout aside): leave-one-out needs a second variant written independently"]


def test_own_pitfalls_join_the_catalogue_of_their_task_only(tmp_path):
    spec = load_paths([make_task(tmp_path)]).tasks["scale"].spec
    catalogue = registry.for_task(spec)
    own = catalogue["bias-before-scale"]
    assert own.result("e", task="scale", lang="zh").title == "先加偏置再缩放"
    assert own.result("e", task="scale").fix == "return x * self.weight + self.bias"
    assert registry.applicable(spec) == ["extra-layers", "modifies-input", "wrong-gradient", "wrong-output",
                                         "bias-before-scale"]
    bare = spec.model_copy(update={"pitfalls": []})  # no list: the generic ones, and its own still apply
    assert registry.applicable(bare) == [*registry.GENERIC, "bias-before-scale"]
    assert "bias-before-scale" not in registry.PITFALLS  # the built-in catalogue is untouched


def test_leave_one_out_proves_an_own_pitfall_but_never_a_built_in_one(sandbox, tmp_path):
    """Two variants of one own mistake name each other; the same two files under a built-in id must be
    named by a detector, and mutants of different mistakes under one id name nothing: both refused."""
    good = make_task(tmp_path / "good")
    builtin = make_task(tmp_path / "builtin", lambda t: (
        t.update(own_pitfalls=[], pitfalls=[*t["pitfalls"], "unused-parameter"]),
        [m.update(id="unused-parameter") for m in t["mutants"]]))
    sign = scaffold.task_files("scale")["mutants/bias_scaled.py"].replace(
        "scaled + self.weight * self.bias", "scaled - self.bias")
    mixed = make_task(tmp_path / "mixed", files={"mutants/bias_scaled.py": sign})
    roots = {"good": good, "builtin": builtin, "mixed": mixed}  # one id: each loaded on its own
    # corners=False: the families' corners are the scaffold's own business (tests/test_scaffold.py)
    proofs = {name: prove_task(load_paths([root]).tasks["scale"], sandbox, corners=False)
              for name, root in roots.items()}
    assert proofs["good"].ok and proofs["good"].lines[0].endswith("2/2 mutants caught and named"), proofs["good"].lines
    assert not proofs["builtin"].ok and proofs["builtin"].lines[0].endswith("0/2 mutants caught and named")
    assert all("but not named (named: wrong-output)" in line for line in proofs["builtin"].lines[1:])
    assert not proofs["mixed"].ok and proofs["mixed"].lines[0].endswith("0/2 mutants caught and named")
    assert proofs["mixed"].lines[1].startswith("scale: mutant bias-before-scale (mutants/bias_before_scale.py) is "
                                               "caught (")
    assert proofs["mixed"].lines[1].endswith(
        "but not named (named: wrong-output); an own pitfall is named when a submission behaves as another of "
        "its mutants does: do the mutants of bias-before-scale make the same mistake on every probe?")


def test_a_learners_third_variant_is_named_in_their_language(sandbox, tmp_path):
    from grader.grading.submit import grade_source

    loaded = load_paths([make_task(tmp_path)]).tasks["scale"]
    result = grade_source(SUBMISSION, "mine.py", loaded, sandbox, lang="zh")
    assert result.verdict == "fail"
    (pitfall,) = result.pitfalls
    assert (pitfall.id, pitfall.title, pitfall.fix) == (
        "bias-before-scale", "先加偏置再缩放", "return x * self.weight + self.bias")
    assert pitfall.explanation.startswith("这个变换是 x * weight + bias")
