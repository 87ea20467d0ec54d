"""`dlprep bank new question|task` (grader/authoring/scaffold.py): each scaffold validates as it
stands with `bank validate` on a temporary bank (the task's own pitfall proved by leave-one-out),
and nothing is ever overwritten."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from grader.authoring import scaffold
from grader.bank.tasks import hidden_coverage

runner = CliRunner()
TYPES = scaffold.QUESTION_TYPES


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> Path:
    """A temporary bank: one question scaffold of every type and a task scaffold."""
    bank = tmp_path_factory.mktemp("bank")
    for kind in TYPES:
        assert invoke("bank", "new", "question", "--type", kind, "--topic", "softmax", "--out", bank).exit_code == 0
    assert invoke("bank", "new", "task", "my-affine", "--topic", "norms", "--out", bank / "my-affine").exit_code == 0
    return bank


def test_every_scaffold_validates_as_it_stands(scaffolded):
    result = invoke("bank", "validate", scaffolded)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # no problem lines
    assert "warning" not in result.stderr  # sourced, bilingual, enough graded examples
    assert re.search(r"my-affine: \d+ checks \(\d+ hidden\) drawn from 3 families .*; 2/2 mutants caught and named",
                     result.stderr)
    assert "5 questions, 1 tasks in 6 files: valid" in result.stderr


def test_the_question_scaffolds_have_their_type_topic_and_id(scaffolded):
    from grader.bank.catalog import load_paths

    questions = load_paths([scaffolded]).questions
    assert {q.question.id: (q.question.type, q.question.topic) for q in questions.values()} == {
        f"softmax-{kind}-1": (kind, "softmax") for kind in TYPES}
    short = questions["softmax-short-1"].question
    assert {e.kind for e in short.examples} >= {"correct", "partial", "negated", "wrong", "off-topic"}


def test_the_task_scaffold_states_what_its_hidden_tests_cover(scaffolded):
    from grader.bank.catalog import load_paths

    spec = load_paths([scaffolded / "my-affine"]).tasks["my-affine"].spec
    assert (spec.class_name, spec.topic, spec.difficulty) == ("MyAffine", "norms", "easy")
    assert [m.id for m in spec.mutants] == ["bias-before-scale"] * 2 and len(spec.hints) == 2
    for lang in ("en", "zh"):
        assert all(phrase in spec.prompt.get(lang) for phrase in hidden_coverage(spec, lang))


def test_a_question_goes_to_stdout_and_never_over_a_file(tmp_path):
    shown = invoke("bank", "new", "question", "--type", "numeric")
    assert shown.exit_code == 0 and "id: general-numeric-1" in shown.stdout and "type: numeric" in shown.stdout
    target = tmp_path / "mine.yaml"
    target.write_text("# my bank\n")
    again = invoke("bank", "new", "question", "--type", "numeric", "--out", target)
    assert again.exit_code == 2 and "already exists" in again.stderr and target.read_text() == "# my bank\n"
    named = invoke("bank", "new", "question", "--type", "truefalse", "--id", "my-q", "--out", tmp_path)
    assert named.exit_code == 0 and (tmp_path / "my-q.yaml").read_text().count("id: my-q") == 1
    nowhere = invoke("bank", "new", "question", "--type", "single", "--out", tmp_path / "no-such-dir")
    assert nowhere.exit_code == 2 and "neither a directory nor a .yaml file" in nowhere.stderr
    assert not (tmp_path / "no-such-dir").exists()


@pytest.mark.parametrize("args, message", [
    (["question", "--type", "essay"],
     "unknown question type 'essay' (types: single, multi, truefalse, numeric, short)"),
    (["question", "--type", "short", "--topic", "Soft Max"], "--topic: 'Soft Max' must be lowercase letters"),
    (["task", "My_Task"], "ID: 'My_Task' must be lowercase letters"),
    (["task", "layernorm"], "a built-in task has the id layernorm; choose another"),
])
def test_bad_scaffold_requests_are_usage_errors(args, message, tmp_path):
    result = invoke("bank", "new", *args, *(["--out", tmp_path / "t"] if args[0] == "task" else []))
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "t").exists()


def test_a_task_scaffold_writes_nothing_when_any_of_its_files_exists(tmp_path):
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "bias_scaled.py").write_text("# mine\n")
    result = invoke("bank", "new", "task", "scale", "--out", tmp_path)
    assert result.exit_code == 2 and "bias_scaled.py already exists" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bias_scaled.py", "mutants"]
    assert (tmp_path / "mutants" / "bias_scaled.py").read_text() == "# mine\n"


@pytest.mark.parametrize("task_id, name", [("my-affine", "MyAffine"), ("layer.norm_2", "LayerNorm2"),
                                           ("3d-conv", "Task3dConv")])
def test_the_class_name_comes_from_the_id(task_id, name):
    assert scaffold.class_name(task_id) == name
