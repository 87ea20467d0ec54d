"""YAML loading with line numbers, and pydantic errors mapped back onto those lines."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.bank import yamlsrc
from grader.bank.schema import BankFile

TEXT = """\
questions:
  - id: a
    tags:
      - x
      - y
  - id: b
"""


def test_lines_of_keys_and_list_items():
    source = yamlsrc.parse(TEXT)
    assert source.data == {"questions": [{"id": "a", "tags": ["x", "y"]}, {"id": "b"}]}
    assert source.lines[("questions",)] == 1
    assert source.lines[("questions", 0)] == 2
    assert source.lines[("questions", 0, "tags", 1)] == 5
    assert source.lines[("questions", 1, "id")] == 6


def test_line_for_skips_union_tags_and_falls_back_to_the_parent():
    source = yamlsrc.parse(TEXT)
    assert source.line_for(("questions", 0, "single", "tags", 1)) == 5
    assert source.line_for(("questions", 1, "multi", "explanation")) == 6  # missing: its question
    assert source.line_for(()) == 1


def test_syntax_error_names_its_line():
    with pytest.raises(yamlsrc.SourceError) as info:
        yamlsrc.parse("questions:\n  - id: a\n    tags: [x, y\n  - id: b\n", "f.yaml")
    (line,) = info.value.problems
    assert line.startswith("f.yaml:4: YAML syntax error:")


def test_duplicate_keys_are_problems_not_silently_dropped():
    with pytest.raises(yamlsrc.SourceError) as info:
        yamlsrc.parse("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert info.value.problems == ["f.yaml:3: duplicate key 'a' (first on line 1)"]


def test_non_utf8_and_unreadable_files(tmp_path):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("questions:\n  - id: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(yamlsrc.SourceError) as info:
        yamlsrc.read(latin1)
    assert info.value.problems == [f"{latin1}:1: not UTF-8 text (byte 0xe9 on line 2)"]

    with pytest.raises(yamlsrc.SourceError) as info:
        yamlsrc.read(tmp_path)  # a directory cannot be read as a file
    assert info.value.problems[0].startswith(f"{tmp_path}:1: cannot read:")


def test_validation_problems_are_short_sorted_and_carry_the_id():
    text = """\
questions:
  - id: q1
    topic: t
    difficulty: extreme
    type: single
    prompt: {en: Q}
    choices: [{en: a}, {en: b}]
    answer: A
    explanaton: {en: typo}
"""
    source = yamlsrc.parse(text)
    with pytest.raises(ValidationError) as info:
        BankFile.model_validate(source.data)
    assert yamlsrc.validation_problems("f.yaml", source, info.value) == [
        "f.yaml:2: id=q1: missing field 'explanation'",
        "f.yaml:4: id=q1: difficulty: must be one of easy, medium, hard",
        "f.yaml:9: id=q1: unknown field 'explanaton'",
    ]


DEEP = {"flow-sequences": "questions: " + "[" * 40_000 + "]" * 40_000 + "\n",
        "flow-mappings": "questions: " + "{a: " * 40_000 + "1" + "}" * 40_000 + "\n",
        "compact-sequences": "questions:\n  - " + "- " * 40_000 + "x\n",
        "unclosed": "questions: " + "[" * 40_000 + "\n"}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_nesting_past_the_limit_is_a_problem_not_a_crash(tmp_path, text):
    """libyaml's composer recurses in C: 40 000 levels overflowed the stack and killed the process
    (a segfault: no message, no report), as `bank validate` and as an answers file. Run as a real
    process, so a crash fails the test instead of ending the suite."""
    bank = tmp_path / "deep.yaml"
    bank.write_text(text, encoding="utf-8")
    cli = str(Path(__file__).resolve().parent.parent / "cli.py")
    for args in (["bank", "validate", str(bank)], ["quiz", "--answers", str(bank), "--json"]):
        done = subprocess.run([sys.executable, cli, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "DLPREP_HOME": str(tmp_path / "home")})
        assert done.returncode in (1, 2), (args, done.returncode, done.stderr[-500:])
        assert "nested more than 64 levels deep" in done.stdout + done.stderr, (args, done.stdout, done.stderr)
    with pytest.raises(yamlsrc.SourceError, match="nested more than 64 levels deep"):
        yamlsrc.parse(text)
