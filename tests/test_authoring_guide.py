"""docs/authoring.md and its worked examples (docs/examples/): both examples validate, every excerpt
the guide quotes from a file is that file as it is, and the reports the guide shows for its three
slips are what `bank validate` prints for them."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from grader.authoring import validate
from grader.bank.catalog import load_paths
from grader.bank.tasks import hidden_coverage

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "docs" / "examples"
FENCED = re.compile(r"<!-- (from|report):? (\S+) -->\n```[a-z]*\n(.*?)```", re.S)


def marked(kind: str) -> dict[str, list[str]]:
    """The guide's fenced blocks marked `<!-- KIND: WHAT -->`, by WHAT."""
    found: dict[str, list[str]] = {}
    for mark, what, body in FENCED.findall(GUIDE):
        if mark == kind:
            found.setdefault(what, []).append(body)
    return found


def test_the_worked_examples_validate(sandbox):
    """What `bank validate docs/examples` does, on the suite's warm sandbox (test_scaffold.py runs the
    command itself): no problem, no warning, every mutant caught and named."""
    catalog = validate.load([EXAMPLES])
    assert (catalog.problems, catalog.warnings, sorted(catalog.questions)) == ([], [], ["tf-swiglu-vs-relu-ffn"])
    (proof,) = validate.prove_tasks(catalog, sandbox)
    assert proof.ok, proof.lines
    shown = GUIDE.split("A valid run of the worked examples prints on stderr:", 1)[1].split("```")[1].strip()
    summary, verdict = shown.splitlines()  # the summary the guide shows is the one printed
    assert summary == f"dlprep: {proof.lines[0]}" and verdict == "dlprep: 1 questions, 1 tasks in 2 files: valid"


def test_every_excerpt_is_the_file_as_it_is():
    excerpts = marked("from")
    assert len([b for blocks in excerpts.values() for b in blocks]) >= 8
    for path, blocks in excerpts.items():
        text = (ROOT / path).read_text(encoding="utf-8")
        for block in blocks:
            assert block in text, f"docs/authoring.md quotes {path} as it no longer is:\n{block}"
    # every mutant of the worked task is named in the guide
    assert all(p.name in GUIDE for p in (EXAMPLES / "swiglu" / "mutants").glob("*.py"))


def test_the_worked_task_states_what_its_hidden_tests_cover():
    spec = load_paths([EXAMPLES / "swiglu"]).tasks["swiglu"].spec
    for lang in ("en", "zh"):
        assert all(phrase in spec.prompt.get(lang) for phrase in hidden_coverage(spec, lang))


def _swap(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_guides_reports_are_what_validate_prints(sandbox, tmp_path, monkeypatch):
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    monkeypatch.chdir(copy)
    # slip 1 and 2: "Instead of" in a correct example; one mutant of silu-on-value
    _swap(copy / "questions" / "swiglu.yaml", "Where the ReLU FFN computes relu(xW1)W2, SwiGLU multiplies",
          "Instead of relu(xW1)W2 it multiplies")
    _swap(copy / "swiglu" / "swiglu.yaml", "    - {id: silu-on-value, file: mutants/swish_by_hand_on_value.py}\n", "")
    (static,) = marked("report")["static"]
    assert validate.load([Path(".")]).problems == static.splitlines()
    # slip 3: the second sigmoid-gate variant written with tanh
    shutil.copytree(EXAMPLES, copy, dirs_exist_ok=True)
    gate = copy / "swiglu" / "mutants"
    (gate / "glu_builtin.py").write_text((gate / "sigmoid_gate.py").read_text().replace("torch.sigmoid", "torch.tanh"))
    catalog = validate.load([Path(".")])
    assert catalog.problems == []
    (proof,) = validate.prove_tasks(catalog, sandbox)
    (shown,) = marked("report")["proof"]
    assert proof.lines[1:] == shown.splitlines()


@pytest.mark.parametrize("command", ["bank new question --type short", "bank new task my-swiglu",
                                     "bank validate mybank/", "bank schema"])
def test_the_commands_the_guide_shows_exist(command):
    assert f"dlprep {command}" in GUIDE
    words = command.split()[:3 if command.startswith("bank new") else 2]
    assert CliRunner().invoke(app, [*words, "--help"]).exit_code == 0
