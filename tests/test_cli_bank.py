"""`dlprep bank list/show/validate/schema` on the fixture and the shipped banks, and the promise
that the quiz and bank commands never import torch."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import cli
from grader.authoring import validate
from grader.bank import catalog as banks

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "banks"
runner = CliRunner()


def bank(*args: str):
    return runner.invoke(cli.app, ["bank", *args])


def test_list_json_has_builtin_and_extra_banks():
    result = bank("list", "--json", "--bank", str(FIXTURES))
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["t-single"]["line"] == 5 and rows["t-single"]["file"].endswith("basic.yaml")
    assert rows["t-num"]["prompt"] == {"en": None, "zh": "nn.LayerNorm(512) 有多少个可学习参数？"}
    assert len(rows) > 5  # the shipped questions are listed beside the extra bank's


def test_list_by_topic_table_and_unknown_topic():
    result = bank("list", "--topic", "fx-residual", "--bank", str(FIXTURES))
    assert result.exit_code == 0
    assert "t-short" in result.stdout and "t-tf" in result.stdout and "t-single" not in result.stdout
    result = bank("list", "--topic", "fx-resdual", "--bank", str(FIXTURES))
    assert result.exit_code == 2
    assert "unknown topic fx-resdual" in result.stderr


@pytest.mark.parametrize(
    ("qid", "expected"),
    [
        ("t-single", {"type": "single", "answer": "B", "topic": "fx-norm"}),
        ("t-multi", {"type": "multi", "answer": "AB"}),
        ("t-tf", {"type": "truefalse", "answer": True}),
        ("t-num", {"type": "numeric", "answer": 1024.0, "abs_tol": 0.0}),
    ],
)
def test_show_json_gives_the_answer_in_answers_file_form(qid, expected):
    result = bank("show", qid, "--json", "--bank", str(FIXTURES))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in expected} == expected
    assert set(data["prompt"]) == {"en", "zh"}
    if "choices" in data:
        assert data["choices"][1] == {"en": "bias", "zh": "bias"} if qid == "t-multi" else data["choices"]


def test_show_json_short_has_model_answer_in_both_languages():
    data = json.loads(bank("show", "t-short", "--json", "--bank", str(FIXTURES)).stdout)
    assert data["model_answer"]["zh"] == "恒等路径让梯度直接传到浅层，从而缓解梯度消失。"
    assert data["model_answer"]["en"] == data["answer"]
    assert [p["weight"] for p in data["rubric"]] == [2.0, 1.0]


def test_show_renders_code_answer_and_explanation():
    result = bank("show", "t-single", "--bank", str(FIXTURES), "--lang", "zh")
    assert result.exit_code == 0
    assert "x.std(-1, keepdim=True)" in result.stdout  # the fenced code block
    assert "```" not in result.stdout
    assert "B. 最后一个（特征）维度" in result.stdout
    assert "dim=-1 是每个样本的特征维度" in result.stdout


def test_lang_falls_back_to_the_other_language():
    result = bank("show", "t-num", "--bank", str(FIXTURES), "--lang", "en")
    assert "nn.LayerNorm(512) 有多少个可学习参数？" in result.stdout  # no English prompt written
    assert "512 weights and 512 biases." in result.stdout
    assert "1024" in result.stdout


def test_show_unknown_id_suggests_close_ones():
    result = bank("show", "t-singel", "--bank", str(FIXTURES))
    assert result.exit_code == 2
    assert "unknown question id: t-singel (did you mean t-single?)" in result.stderr


def test_schema_is_json_schema_of_a_bank_file():
    result = bank("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["required"] == ["questions"] and schema["additionalProperties"] is False
    mapping = schema["properties"]["questions"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == {"single", "multi", "truefalse", "numeric", "short"}


def test_validate_shipped_question_banks():
    shipped = sorted(banks.builtin_dir().glob("*.yaml"))
    assert shipped, "no question banks shipped"
    result = bank("validate", *map(str, shipped))
    assert result.stdout == "" and result.exit_code == 0, result.stdout
    assert "valid" in result.stderr


def test_validate_prints_one_line_per_problem_and_exits_1(tmp_path):
    text = (FIXTURES / "basic.yaml").read_text(encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(text.replace("answer: B", "answer: Q").replace("difficulty: hard", "difficulty: 3"))
    (tmp_path / "copy.yaml").write_text(text)
    result = bank("validate", str(tmp_path / "bad.yaml"), "--bank", str(tmp_path / "copy.yaml"))
    assert result.exit_code == 1
    duplicates = [
        f"{tmp_path}/copy.yaml:{line}: id={qid}: duplicate id, also defined at {tmp_path}/bad.yaml:{line}"
        for qid, line in (("t-multi", 20), ("t-tf", 36), ("t-num", 46))
    ]
    assert result.stdout.splitlines() == [
        f"{tmp_path}/bad.yaml:16: id=t-single: answer: 'Q' is not among the choices (A-C)",
        f"{tmp_path}/bad.yaml:59: id=t-short: difficulty: must be one of easy, medium, hard",
        *duplicates,
    ]


def test_validate_without_path_uses_builtin_and_dlprep_banks(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("questions: []\n")
    monkeypatch.setenv("DLPREP_BANKS", str(tmp_path))
    result = bank("validate")
    assert result.exit_code == 1
    assert result.stdout == f"{tmp_path}/bad.yaml:1: questions: needs at least 1 item, has 0\n"


def test_validate_prints_task_proofs_and_fails_on_a_weak_task(monkeypatch):
    """The proof itself is grader.authoring.mutation's; here: its lines are printed and decide the exit code."""
    proofs = [
        SimpleNamespace(task_id="a", ok=True, lines=["a: 5 checks; 3/3 mutants caught and named"]),
        SimpleNamespace(task_id="b", ok=False, lines=["b: 5 checks; 2/3 mutants caught and named",
                                                      "b.yaml:1: id=b: mutant eps-outside-sqrt not caught"]),
    ]
    seen = []
    monkeypatch.setattr(validate, "prove_tasks", lambda catalog: seen.append(catalog) or proofs)
    result = bank("validate", str(FIXTURES))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["b.yaml:1: id=b: mutant eps-outside-sqrt not caught"]  # problems only
    assert "dlprep: a: 5 checks; 3/3 mutants caught and named" in result.stderr
    assert len(seen) == 1


# ---- no torch on the quiz path ---------------------------------------------------------------

NO_TORCH = """
import sys, cli
try:
    cli.app(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "numpy", "grader.sandbox", "grader.authoring.mutation", "jieba") if m in sys.modules)
print("HEAVY:", ",".join(heavy), file=sys.stderr)
"""


BANK = ["--bank", str(FIXTURES)]


@pytest.mark.parametrize(
    "args",
    [
        ["quiz", "--count", "2", "--seed", "0", *BANK],  # interactive, ended at once by EOF on stdin
        ["quiz", "--answers", "{answers}", "--json", *BANK],
        ["bank", "list", "--json", *BANK],
        ["bank", "show", "t-short", *BANK],
        ["bank", "validate", str(FIXTURES)],
        ["bank", "schema"],
    ],
)
def test_quiz_and_bank_commands_never_import_torch(tmp_path, args):
    answers = tmp_path / "answers.yaml"
    answers.write_text("t-single: B\n")
    argv = [arg.format(answers=answers) for arg in args]
    proc = subprocess.run(
        [sys.executable, "-c", NO_TORCH, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    # Only grading a Chinese text loads jieba: `bank validate` grades the fixture's Chinese model answer.
    assert ("HEAVY: jieba\n" if "validate" in args else "HEAVY: \n") in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
