"""Finding and loading banks: every kind of bank error with its file, line and id; duplicate ids
across files; --bank, DLPREP_BANKS and the shipped banks."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.authoring import validate
from grader.bank import catalog as banks
from grader.errors import BankError, UsageError

FIXTURES = Path(__file__).parent / "banks"

GOOD = """\
questions:
  - id: q-single
    topic: norm
    difficulty: easy
    type: single
    prompt:
      en: Which?
      zh: 哪个？
    choices:
      - {en: a, zh: 甲}
      - {en: b, zh: 乙}
    answer: B
    explanation:
      en: Because.
  - id: q-short
    topic: norm
    difficulty: hard
    type: short
    prompt: {en: Why?}
    rubric:
      - point: {en: identity}
        match: {en: [identity], zh: [恒等]}
    model_answer: {en: The identity path., zh: 恒等路径。}
    explanation: {en: Because.}
  - id: q-num
    topic: norm
    difficulty: medium
    type: numeric
    prompt: {en: How many?}
    answer: 1024
    abs_tol: 0
    explanation: {en: Because.}
"""

# (case, text to replace in GOOD, replacement, the expected problem after "FILE:")
BAD = [
    ("unknown field", "    answer: B\n", "    answer: B\n    anwser: B\n", "13: id=q-single: unknown field 'anwser'"),
    ("nested unknown field", "prompt: {en: Why?}", "prompt: {en: Why?, fr: Pourquoi?}", "19: id=q-short: unknown field 'prompt.fr'"),
    ("nested missing field", "      - point: {en: identity}\n", "      - weight: 2\n", "21: id=q-short: missing field 'rubric[0].point'"),
    ("missing field", "    explanation:\n      en: Because.\n", "", "2: id=q-single: missing field 'explanation'"),
    ("bad difficulty", "difficulty: hard", "difficulty: extreme", "17: id=q-short: difficulty: must be one of easy, medium, hard"),
    ("answer not a choice", "answer: B", "answer: C", "12: id=q-single: answer: 'C' is not among the choices (A-B)"),
    ("wrong type", "answer: 1024", "answer: lots", "30: id=q-num: answer: must be a valid number, unable to parse string as a number"),
    ("list expected", "    type: single\n", "    type: single\n    tags: oops\n", "6: id=q-single: tags: must be a valid list"),
    ("unknown question type", "type: numeric", "type: number", "25: id=q-num: type: must be one of single, multi, truefalse, numeric, short, not 'number'"),
    ("missing type", "    type: short\n", "", "15: id=q-short: missing field 'type'"),
    ("neither language", "prompt: {en: Why?}", "prompt: {en: ''}", "19: id=q-short: prompt: needs text in at least one language (en or zh)"),
    ("bad id", "id: q-num", "id: Q Num", "25: id=Q Num: id: 'Q Num' must be lowercase letters, digits, '.', '_' or '-'"),
    ("no tolerance", "    abs_tol: 0\n", "", "25: id=q-num: a numeric question needs abs_tol and/or rel_tol"),
    ("bad regex", "match: {en: [identity]", "match: {en: ['re:(open']", "22: id=q-short: rubric[0].match.en: bad regex '(open': missing ), unterminated subpattern at position 0"),
    ("backspace in a regex", "match: {en: [identity]", 'match: {en: ["re:(?:one)\\b"]',
     "22: id=q-short: rubric[0].match.en: bad regex '(?:one)\\x08': it holds the control character U+0008; in a double-quoted "
     "YAML string write \\\\b for a word boundary (or quote it with ' ')"),
    ("model answer misses its rubric", "model_answer: {en: The identity path.", "model_answer: {en: The skip path.", "23: id=q-short: model_answer.en scores 0.00 against its own rubric (missed: identity)"),
    ("yaml syntax", "    choices:\n", "    choices: [\n", "10: YAML syntax error: did not find expected node content (while parsing a flow node)"),
    ("duplicate key", "    answer: B\n", "    answer: B\n    answer: A\n", "13: duplicate key 'answer' (first on line 12)"),
    ("duplicate id in one file", "id: q-num", "id: q-single", "25: id=q-single: duplicate id, also defined at {file}:2"),
    ("no questions key", "questions:", "question:", "1: not a bank or task file: needs a top-level `questions:` list or `task:` mapping"),
]


@pytest.mark.parametrize(("old", "new", "expected"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_each_bank_error_names_file_line_and_id(tmp_path, old, new, expected):
    assert old in GOOD
    path = tmp_path / "bank.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    catalog = validate.load([path])  # what `bank validate` runs: the bank's checks and the graded ones
    assert catalog.problems == [f"{path}:{expected.format(file=path)}"]


def test_the_good_bank_has_no_problems(tmp_path):
    (tmp_path / "bank.yaml").write_text(GOOD, encoding="utf-8")
    catalog = banks.load_paths([tmp_path], strict=False)
    assert catalog.problems == []
    assert list(catalog.questions) == ["q-single", "q-short", "q-num"]
    assert catalog.questions["q-num"].line == 25


def test_every_problem_in_every_file_is_reported_at_once(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD.replace("answer: B", "answer: C").replace("answer: 1024", "answer: x"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_bytes(b"questions: \xff\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "notes.txt").write_text("not yaml: [")  # only *.yaml is loaded
    problems = banks.load_paths([tmp_path], strict=False).problems
    assert [p.split(": ")[0] for p in problems] == [
        f"{tmp_path}/a.yaml:12",
        f"{tmp_path}/a.yaml:30",
        f"{tmp_path}/empty.yaml:1",
        f"{tmp_path}/sub/b.yaml:1",
    ]
    assert problems[2].endswith("empty file")
    assert problems[3].endswith("not UTF-8 text (byte 0xff on line 1)")


def test_duplicate_ids_across_files_name_both(tmp_path):
    first, second = tmp_path / "a" / "one.yaml", tmp_path / "b" / "two.yaml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(GOOD)
    catalog = banks.load_paths([tmp_path / "a", tmp_path / "b"], strict=False)
    assert catalog.problems == [
        f"{second}:{line}: id={qid}: duplicate id, also defined at {first}:{line}"
        for qid, line in (("q-single", 2), ("q-short", 15), ("q-num", 25))
    ]
    assert catalog.questions["q-single"].file == first


def test_strict_loading_raises_with_every_problem(tmp_path):
    (tmp_path / "bank.yaml").write_text(GOOD.replace("answer: B", "answer: C"))
    with pytest.raises(BankError) as info:
        banks.load_paths([tmp_path])
    assert info.value.exit_code == 2
    assert info.value.problems == [f"{tmp_path}/bank.yaml:12: id=q-single: answer: 'C' is not among the choices (A-B)"]


def test_a_missing_bank_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such bank file or directory"):
        banks.load_catalog([tmp_path / "nope"])


def test_builtin_env_and_bank_paths_are_all_loaded(tmp_path, monkeypatch):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "env.yaml").write_text(GOOD.replace("q-", "env-"))
    monkeypatch.setenv("DLPREP_BANKS", f"{env_dir}{__import__('os').pathsep}")
    catalog = banks.load_catalog([FIXTURES / "basic.yaml"])  # a file is accepted too
    assert {"env-single", "t-single", "t-short"} <= set(catalog.questions)
    assert any(entry.file.parent == banks.builtin_dir() for entry in catalog.questions.values())


def test_bank_dir_given_twice_is_loaded_once():
    catalog = banks.load_catalog([banks.builtin_dir(), banks.builtin_dir()], strict=False)
    assert catalog.problems == []


def test_shipped_banks_load_strictly_and_are_bilingual():
    catalog = banks.load_catalog()
    assert catalog.questions, "the built-in banks are empty"
    for entry in catalog.questions.values():
        assert entry.question.prompt.en and entry.question.prompt.zh, entry.question.id


def test_task_files_are_loaded_and_duplicate_task_ids_named(tmp_path):
    shipped = sorted((banks.builtin_dir() / "tasks").glob("*.yaml"))
    if not shipped:
        pytest.skip("no task files shipped yet")
    copy = tmp_path / shipped[0].name
    shutil.copy(shipped[0], copy)
    catalog = banks.load_paths([banks.builtin_dir() / "tasks", copy], strict=False)
    assert len(catalog.tasks) == len(shipped)
    (problem,) = catalog.problems
    task = next(t for t in catalog.tasks.values() if t.file == shipped[0])
    assert problem == f"{copy}:{task.line}: id={task.spec.id}: duplicate id, also defined at {shipped[0]}:{task.line}"
    assert task.dir == shipped[0].parent
