"""Choices on screen and code on the page: the interactive quiz shuffles choices by default (seeded,
`shuffle: false` keeps a question's order, `--no-shuffle` every question's), letters typed against
the screen are kept in the bank's letters, and a question's `code:` is shown highlighted with line
numbers in the quiz and in `bank show` (and given in `bank show --json`)."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
from typer.testing import CliRunner

import cli
from grader.bank import catalog as banks
from grader.practice import quiz
from grader.render import quiz as render

ROOT = Path(__file__).resolve().parent.parent
CODE_BANK = Path(__file__).parent / "code_bank"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
runner = CliRunner()


def spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="40")
    command = [str(ROOT / "cli.py"), "quiz", "--bank", str(CODE_BANK), "--topic", "fx-code", *args]
    return pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", dimensions=(40, 100), timeout=20)


def screen_letters(screen: str) -> dict[str, str]:
    """Choice text -> the letter shown beside it."""
    return {m.group(2).strip(): m.group(1) for m in re.finditer(r"│ ([A-D])\. (.+?)\s*│", ANSI.sub("", screen))}


def play_through(child: pexpect.spawn) -> dict[str, dict[str, str]]:
    """Answer both questions right by reading the screen; return each question's letters."""
    seen = {}
    for _ in range(2):
        child.expect(r"· (c-[a-z]+) ·")
        qid = child.match.group(1)
        child.expect(r"\): ")
        seen[qid] = letters = screen_letters(child.before)
        if qid == "c-shape":
            text = ANSI.sub("", child.before)
            assert "1 x = torch.randn(8, 16, 32)" in text and "3 y = ln(x).mean(dim=1)" in text  # numbered code
            child.sendline(letters["(8, 32)"])
        else:
            child.sendline(letters["Both weight and bias"])
        child.expect("✓ Correct")
    child.expect(r"fx-code\s*│\s*2\s*│\s*2\s*│")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return seen


FIXED = {"weight": "A", "bias": "B", "running_mean": "C", "Both weight and bias": "D"}


def test_choices_are_shuffled_by_default_except_where_a_question_says_not():
    seen = play_through(spawn("--seed", "1"))
    assert seen["c-shape"]["(8, 32)"] != "A", "the choices were not shuffled"
    assert seen["c-both"] == FIXED  # shuffle: false: "both of the above" stays last


def test_no_shuffle_keeps_the_bank_order_and_the_seed_repeats_the_shuffle():
    assert play_through(spawn("--seed", "1", "--no-shuffle"))["c-shape"] == {"(8, 32)": "A", "(8, 16)": "B", "(16, 32)": "C"}
    assert play_through(spawn("--seed", "1"))["c-shape"] == play_through(spawn("--seed", "1"))["c-shape"]


def test_the_session_keeps_answers_in_the_bank_letters(monkeypatch, capsys):
    """The learner types on-screen letters; results (what is stored and reported) use the bank's."""
    questions = {qid: e.question for qid, e in banks.load_paths([CODE_BANK]).questions.items()}
    session = quiz.QuizSession([questions["c-shape"], questions["c-both"]])
    typed = []

    def answer(*_):
        letters = screen_letters(capsys.readouterr().out)
        typed.append(letters.get("(8, 16)") or letters["running_mean"])  # a wrong choice, by its screen letter
        return typed[-1]

    monkeypatch.setattr("builtins.input", answer)
    for seed in range(20):  # a seed that moves (8, 16) off the bank's B
        session.results.clear()
        render.play(session, shuffle_seed=seed)
        if typed[-2] != "B":
            break
    assert typed[-2] != "B"
    shape, both = session.results
    assert (shape.given, shape.answer, shape.score) == ("B", "A", 0.0)  # the bank's B is (8, 16)
    assert (both.given, both.answer) == ("C", "D")


def test_bank_show_numbers_the_code_lines_and_json_gives_the_code():
    result = runner.invoke(cli.app, ["bank", "show", "c-shape", "--bank", str(CODE_BANK)])
    assert result.exit_code == 0
    lines = [line.strip("│ ") for line in result.stdout.splitlines()]  # not a terminal: plain and readable
    assert ["1 x = torch.randn(8, 16, 32)", "2 ln = nn.LayerNorm(32)", "3 y = ln(x).mean(dim=1)"] == [
        line for line in lines if re.match(r"\d x|\d ln|\d y", line)
    ]
    assert "\x1b[" not in result.stdout
    data = json.loads(runner.invoke(cli.app, ["bank", "show", "c-shape", "--json", "--bank", str(CODE_BANK)]).stdout)
    assert data["code"] == "x = torch.randn(8, 16, 32)\nln = nn.LayerNorm(32)\ny = ln(x).mean(dim=1)\n"
    assert (data["shuffle"], data["revision"], data["answer"]) == (True, 1, "A")
    both = json.loads(runner.invoke(cli.app, ["bank", "show", "c-both", "--json", "--bank", str(CODE_BANK)]).stdout)
    assert both["shuffle"] is False and "code" not in both


def test_the_code_bank_fixture_is_clean_under_validate():
    result = runner.invoke(cli.app, ["bank", "validate", str(CODE_BANK)])
    assert (result.exit_code, result.stdout) == (0, "")
    assert "warning" not in result.stderr  # c-both names D, but its choices keep their order
