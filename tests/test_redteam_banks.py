"""Instructor banks broken the way instructors break them: each must give exactly the expected
`FILE:LINE: id=ID: message` lines (never a traceback, never a hang), and task files must name the
reference, mutant or pitfall that is wrong at the line that names it."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from grader.bank import catalog as banks
from grader.errors import UsageError
from tests.test_banks import GOOD

FIXTURES = Path(__file__).parent / "redteam_banks"
runner = CliRunner()


def problems_of(tmp_path: Path, text: str, name: str = "bank.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    prefix = f"{path}:"
    found = banks.load_paths([path], strict=False).problems
    assert all(line.startswith(prefix) for line in found), found
    return [line[len(prefix):] for line in found]


def edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


SHORT_RUBRIC = "    rubric:\n      - point: {en: identity}\n        match: {en: [identity], zh: [恒等]}\n"

# (case, the bank's text, the expected problems after "FILE:")
CASES = [
    ("tab indentation", edit("    topic: norm\n", "\ttopic: norm\n"),
     ["3: YAML syntax error: found a tab character that violates indentation (while scanning a plain "
      "scalar); indent with spaces, not tabs"]),
    ("second document", GOOD + "---\n" + GOOD,
     ["33: YAML syntax error: but found another document (expected a single document in the stream); "
      "one YAML document per file: remove the `---` line and put every question under the one "
      "`questions:` list"]),
    ("empty file", "", ["1: empty file"]),
    ("only comments", "# TODO: questions\n", ["1: empty file"]),
    ("a scalar", "42\n", ["1: not a bank or task file: needs a top-level `questions:` list or `task:` mapping"]),
    ("a top-level list", "- id: a\n", ["1: not a bank or task file: needs a top-level `questions:` list or `task:` mapping"]),
    ("questions not a list", "questions: hello\n", ["1: questions: must be a valid list"]),
    ("questions empty", "questions:\n", ["1: questions: is empty"]),
    ("no questions", "questions: []\n", ["1: questions: needs at least 1 item, has 0"]),
    ("a question that is text", edit("questions:\n", "questions:\n  - hello\n"),
     ["2: questions[0]: must be a mapping, not 'hello'"]),
    ("a question that is empty", edit("questions:\n", "questions:\n  -\n"), ["2: questions[0]: is empty"]),
    ("single answer as an index", edit("answer: B", "answer: 1"),
     ["12: id=q-single: answer: must be a letter (A is the first choice), not the number 1"]),
    ("single answer as a list", edit("answer: B", "answer: [A]"),
     ["12: id=q-single: answer: must be one letter, not a list ['A'] (several correct choices: type: multi)"]),
    ("single answer with two letters", edit("answer: B", "answer: A,C"),
     ["12: id=q-single: answer: 'A,C' must be one letter (several correct choices: type: multi)"]),
    ("single answer empty", edit("answer: B", "answer:"), ["12: id=q-single: answer: is empty"]),
    ("multi answer twice the same letter", edit("type: single", "type: multi").replace("answer: B", "answer: AAB"),
     ["12: id=q-single: answer: letter A is listed more than once"]),
    ("multi answer as indexes", edit("type: single", "type: multi").replace("answer: B", "answer: [0, 1]"),
     ["12: id=q-single: answer: must be letters (A is the first choice), not the numbers [0, 1]"]),
    ("numeric answer nan", edit("answer: 1024", "answer: .nan"), ["30: id=q-num: answer: must be a finite number"]),
    ("infinite tolerance", edit("abs_tol: 0", "abs_tol: .inf"), ["31: id=q-num: abs_tol: must be a finite number"]),
    ("negative tolerance", edit("abs_tol: 0", "abs_tol: -1"),
     ["31: id=q-num: abs_tol: must be greater than or equal to 0"]),
    ("truefalse answer maybe", edit("type: numeric", "type: truefalse").replace("answer: 1024", "answer: maybe"),
     ["30: id=q-num: answer: must be a valid boolean, unable to interpret input",
      "31: id=q-num: unknown field 'abs_tol'"]),
    ("prompt as plain text", edit("prompt: {en: Why?}", "prompt: Why?"),
     ["19: id=q-short: prompt: must be a mapping, not 'Why?' (write text as {en: ..., zh: ...}; either "
      "language may be left out)"]),
    ("prompt empty", edit("prompt: {en: Why?}", "prompt:"),
     ["19: id=q-short: prompt: is empty (write text as {en: ..., zh: ...}; either language may be left out)"]),
    ("choices as plain strings", edit("      - {en: a, zh: 甲}\n", "      - a\n"),
     ["10: id=q-single: choices[0]: must be a mapping, not 'a' (write text as {en: ..., zh: ...}; either "
      "language may be left out)"]),
    ("id read as a number", edit("id: q-num", "id: 12"),
     ["25: id: must be text, but YAML reads 12 as a number (put it in quotes)"]),
    ("id read as a boolean", edit("id: q-num", "id: yes"),
     ["25: id: must be text, but YAML reads True as true/false (put it in quotes)"]),
    ("id with upper case", edit("id: q-num", "id: Q-Num"),
     ["25: id=Q-Num: id: 'Q-Num' must be lowercase letters, digits, '.', '_' or '-'"]),
    ("topic with a space", edit("topic: norm", "topic: layer norm"),
     ["3: id=q-single: topic: 'layer norm' must be lowercase letters, digits, '.', '_' or '-'"]),
    ("tags as numbers", edit("    type: single\n", "    type: single\n    tags: [2017]\n"),
     ["6: id=q-single: tags[0]: must be text, but YAML reads 2017 as a number (put it in quotes)"]),
    ("a key that is a number", edit("    answer: B\n", "    answer: B\n    1: x\n"),
     ["13: id=q-single: 1: a field name must be text, not 1"]),
    ("short without rubric", edit(SHORT_RUBRIC, ""), ["15: id=q-short: missing field 'rubric'"]),
    ("short with an empty rubric", edit(SHORT_RUBRIC, "    rubric: []\n"),
     ["20: id=q-short: rubric: needs at least 1 item, has 0"]),
    ("a key point without matchers", edit("match: {en: [identity], zh: [恒等]}", "match: {}"),
     ["22: id=q-short: rubric[0].match: needs at least one matcher (under en or zh)"]),
    ("a bad regex", edit("match: {en: [identity]", "match: {en: ['re:[a-']"),
     ["22: id=q-short: rubric[0].match.en: bad regex '[a-': unterminated character set at position 0"]),
    ("a control character", edit("en: Which?", "en: \"Wh\\x07ich?\"").replace("\\x07", "\x07"),
     ["7: control character U+0007 is not allowed in YAML"]),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_broken_bank_gives_exact_problem_lines(tmp_path, text, expected):
    assert problems_of(tmp_path, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        edit("answer: B", "answer: b"),  # lower-case letters are read as upper case
        edit("type: single", "type: multi").replace("answer: B", "answer: 'b, a'"),
        edit("answer: 1024", "answer: '1e-5'").replace("abs_tol: 0", "rel_tol: 1e-3"),
        edit("answer: 1024", "answer: 0").replace("abs_tol: 0", "rel_tol: 0.01"),  # exactly 0: a count
        edit("type: numeric", "type: truefalse").replace("answer: 1024", "answer: yes").replace("    abs_tol: 0\n", ""),
        "---\n" + GOOD,  # one document with an explicit start marker
        edit("    explanation:\n      en: Because.\n", "    explanation: &why\n      en: Because.\n").replace(
            "explanation: {en: Because.}", "explanation: *why"),  # anchors and aliases
    ],
    ids=["lower-case letter", "multi letters in any order", "numeric as a string", "zero with rel_tol",
         "truefalse yes", "document marker", "aliases"],
)
def test_lenient_forms_instructors_write_are_valid(tmp_path, text):
    assert problems_of(tmp_path, text) == []


def test_alias_bomb_and_deep_nesting_are_refused_quickly(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    start = time.monotonic()
    assert problems_of(tmp_path, bomb) == ["1: more than 200000 YAML nodes (after expanding aliases)"]
    # Our own bound says "nested more than 64 levels deep"; PyYAML >= 6.0.4 refuses first with
    # "exceeded maximum nesting depth". Either way: one problem at line 1, quickly, no traceback.
    [deep] = problems_of(tmp_path, "a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert deep.startswith("1: ") and "nest" in deep
    assert problems_of(tmp_path, "a: " + "[" * 100 + "]" * 100 + "\n") == ["1: nested more than 64 levels deep"]
    assert time.monotonic() - start < 5


def test_unreadable_files_are_problems_of_their_own(tmp_path):
    (tmp_path / "gbk.yaml").write_bytes(GOOD.replace("哪个", "哪个").encode("gbk"))
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    (tmp_path / "utf16.yaml").write_bytes(GOOD.encode("utf-16"))
    found = banks.load_paths([tmp_path], strict=False).problems
    assert found == [
        f"{tmp_path / 'binary.yaml'}:1: not UTF-8 text (byte 0x80 on line 2)",
        f"{tmp_path / 'gbk.yaml'}:1: not UTF-8 text (byte 0xc4 on line 8)",
        f"{tmp_path / 'utf16.yaml'}:1: not UTF-8 text (byte 0xff on line 1)",
    ]


def test_yml_files_load_and_hidden_directories_are_skipped(tmp_path):
    (tmp_path / "extra.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yaml").write_text("on: push\n", encoding="utf-8")
    catalog = banks.load_paths([tmp_path], strict=False)
    assert catalog.problems == [] and catalog.files == [tmp_path / "extra.yml"]


def test_a_directory_without_banks_and_a_missing_path_are_usage_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not a bank", encoding="utf-8")
    with pytest.raises(UsageError, match="no bank or task files"):
        banks.load_paths([tmp_path])
    result = runner.invoke(cli.app, ["bank", "validate", str(tmp_path)])
    assert result.exit_code == 2 and result.stdout == ""
    result = runner.invoke(cli.app, ["quiz", "--bank", str(tmp_path / "nope"), "--count", "1"])
    assert result.exit_code == 2 and "no such bank file or directory" in result.stderr
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block forever
    with pytest.raises(UsageError, match="not a bank file or directory"):
        banks.load_paths([tmp_path / "pipe.yaml"])


def test_duplicate_ids_within_and_across_files_name_both_places(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text(GOOD.replace("q-single", "q-other").replace("q-short", "q-short2"), encoding="utf-8")
    found = banks.load_paths([tmp_path], strict=False).problems
    assert found == [f"{tmp_path / 'b.yml'}:25: id=q-num: duplicate id, also defined at {tmp_path / 'a.yaml'}:25"]


def test_validate_prints_problems_only_and_exits_1(tmp_path):
    (tmp_path / "a.yaml").write_text(edit("answer: B", "answer: Z") + "  - hello\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["bank", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'a.yaml'}:12: id=q-single: answer: 'Z' is not among the choices (A-B)",
        f"{tmp_path / 'a.yaml'}:33: questions[3]: must be a mapping, not 'hello'",
    ]
    assert "Traceback" not in result.output


# ---- task files -------------------------------------------------------------------------------

TASK = FIXTURES / "scale-task"


def broken_task(tmp_path: Path, yaml_edit=("", ""), files: dict[str, str | None] | None = None) -> list[str]:
    """The fixture task copied, its YAML edited and files replaced (None: deleted); its problems."""
    shutil.copytree(TASK, tmp_path / "task")
    task_yaml = tmp_path / "task" / "task.yaml"
    text = task_yaml.read_text(encoding="utf-8")
    assert yaml_edit[0] in text
    task_yaml.write_text(text.replace(*yaml_edit, 1), encoding="utf-8")
    for name, content in (files or {}).items():
        target = tmp_path / "task" / name
        target.unlink() if content is None else target.write_text(content, encoding="utf-8")
    prefix = f"{task_yaml}:"
    found = banks.load_paths([task_yaml], strict=False).problems
    assert all(line.startswith(prefix) for line in found), found
    return [line[len(prefix):] for line in found]


@pytest.mark.parametrize(
    ("yaml_edit", "files", "expected"),
    [
        (("", ""), {"scale_ref.py": None}, "9: id=scale: reference: no file scale_ref.py beside the task file"),
        (("", ""), {"scale_ref.py": "class Scale(:\n"},
         "9: id=scale: reference: scale_ref.py has a syntax error on line 1: invalid syntax"),
        (("", ""), {"scale_ref.py": "class Other:\n    pass\n"}, "9: id=scale: reference: scale_ref.py does not define Scale"),
        (("", ""), {"scale_ref.py": "class Scale:\n    pass\nX = " + "1+" * 100_000 + "1\n"},
         "9: id=scale: reference: Python cannot parse scale_ref.py: it is nested too deeply (RecursionError)"),
        (('reference: "scale_ref.py:Scale"', 'reference: "nosuchpkg.refs:Scale"'), None,
         "9: id=scale: reference: no Python module nosuchpkg.refs"),
        (("", ""), {"scale_doubled.py": None},
         "28: id=scale: mutants[0].file: no file scale_doubled.py beside the task file or among dlprep's "
         "built-in mutants"),
        (("", ""), {"scale_doubled.py": "x = 1\n"}, "28: id=scale: mutants[0].file: scale_doubled.py does not define Scale"),
        (("pitfalls: [wrong-output]", "pitfalls: [wrong-output, wrong-outptu]"), None,
         "26: id=scale: pitfalls[1]: unknown pitfall id 'wrong-outptu' (did you mean wrong-output?); a mistake of "
         "your own goes under `own_pitfalls:`"),
        (("{id: wrong-output,", "{id: missing-skip,"), None,
         "28: id=scale: mutants[0].id: 'missing-skip' is not among the task's pitfalls"),
        (("input: {shape: [3, 4]}", "input: {shape: [3, 0]}"), None,
         "23: id=scale: probes[0].input.shape: shape needs at least one dimension, each >= 1"),
        (("  signature: \"Scale(n)\"\n", ""), None, "3: id=scale: missing field 'signature'"),
    ],
    ids=["reference missing", "reference syntax error", "reference without the class", "reference nested too deeply",
         "reference module missing",
         "mutant missing", "mutant without the class", "unknown pitfall", "mutant not a declared pitfall",
         "probe shape", "missing field"],
)
def test_broken_task_files_name_the_line(tmp_path, yaml_edit, files, expected):
    assert broken_task(tmp_path, yaml_edit, files) == [expected]


def test_an_instructor_task_beside_its_reference_validates_and_proves(monkeypatch):
    """Through the real sandbox, given as a relative path: the judge runs in its own scratch
    directory and must still find the reference and mutant beside the YAML."""
    monkeypatch.chdir(FIXTURES)
    result = runner.invoke(cli.app, ["bank", "validate", "scale-task"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # nothing on stdout when valid
    assert "scale: 7 checks (4 hidden); 1/1 mutants caught and named" in result.stderr


def test_a_task_whose_hidden_probes_miss_its_mutant_fails_with_a_problem_line(tmp_path):
    shutil.copytree(TASK, tmp_path / "task")
    (tmp_path / "task" / "scale_doubled.py").write_text(
        (TASK / "scale_doubled.py").read_text(encoding="utf-8").replace("2 * x", "(1 + 1e-12) * x"), encoding="utf-8")
    result = runner.invoke(cli.app, ["bank", "validate", str(tmp_path / "task")])
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{tmp_path / 'task' / 'task.yaml'}:3: id=scale: mutant wrong-output passes every hidden check")
    assert "1 task not proved" in result.stderr
