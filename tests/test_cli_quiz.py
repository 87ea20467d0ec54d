"""`dlprep quiz`: the answers-file mode with --json and its exit codes, and the interactive quiz
driven through a real pseudo-terminal (pexpect)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "banks"
runner = CliRunner()


def quiz(*args: str):
    return runner.invoke(cli.app, ["quiz", "--bank", str(FIXTURES), *args])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_answers_json_all_correct_exits_0(tmp_path):
    answers = write(tmp_path, "t-single: b\nt-multi: [A, B]\nt-tf: yes\nt-num: 1024\nt-short: 梯度经恒等路径直接传播，缓解梯度消失\n")
    result = quiz("--answers", str(answers), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stdout holds the JSON document alone
    assert [r["id"] for r in data["results"]] == ["t-single", "t-multi", "t-tf", "t-num", "t-short"]
    assert all(r["correct"] and r["score"] == 1.0 for r in data["results"])
    assert (data["score"], data["max_score"], data["problems"]) == (5.0, 5, [])
    short = data["results"][-1]
    assert short["points_missed"] == [] and short["model_answer"].startswith("The identity path")


def test_answers_json_wrong_and_partial_exit_1(tmp_path):
    answers = write(tmp_path, "t-multi: A\nt-single: C\n")
    result = quiz("--answers", str(answers), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    multi, single = data["results"]
    assert (multi["score"], multi["correct"]) == (0.5, False)
    assert (single["score"], single["feedback"]) == (0.0, "Incorrect: the answer is B.")
    assert (data["score"], data["max_score"]) == (0.5, 2)


def test_unknown_ids_and_wrong_forms_are_reported_not_crashes(tmp_path):
    answers = write(tmp_path, "t-single: B\nno-such-question: A\nt-num: lots\n")
    result = quiz("--answers", str(answers), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    expected = [
        f"{answers}:2: id=no-such-question: unknown question id",
        f"{answers}:3: id=t-num: cannot read the answer: expected a number, got 'lots'",
    ]
    assert data["problems"] == expected
    assert result.stderr.splitlines() == expected  # diagnostics on stderr too
    assert [r["id"] for r in data["results"]] == ["t-single"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "no such answers file"),
        ("just text\n", [], "a YAML mapping of question id to answer"),
        ("t-single: B\n", ["--bank", "/no/such/dir"], "no such bank file or directory"),
    ],
)
def test_unusable_input_exits_2_without_traceback(tmp_path, content, args, message):
    path = write(tmp_path, content) if content is not None else tmp_path / "missing.yaml"
    result = quiz("--answers", str(path), "--json", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


def test_json_without_answers_is_a_usage_error():
    result = quiz("--json")
    assert result.exit_code == 2
    assert "--json needs --answers FILE" in result.stderr


def test_answers_as_tables_in_chinese(tmp_path):
    answers = write(tmp_path, "t-multi: A\n")
    result = quiz("--answers", str(answers), "--lang", "zh")
    assert result.exit_code == 1
    assert "部分正确" in result.stdout and "小结" in result.stdout
    assert "正确答案" in result.stdout and "bias" in result.stdout  # the missed choice is shown


# ---- the interactive quiz in a real pseudo-terminal ------------------------------------------

TITLE = r"(\d)/(\d) · (t-[a-z]+) ·"
PROMPT = r"\): "  # every answer prompt ends with "(...): "


def spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    command = [str(ROOT / "cli.py"), "quiz", "--bank", str(FIXTURES), "--topic", "fx-norm", *args]
    return pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", dimensions=(40, 120), timeout=20)


def read_question(child: pexpect.spawn) -> str:
    child.expect(TITLE)
    qid = child.match.group(3)
    child.expect(PROMPT)
    return qid


def test_interactive_quiz_answers_and_summary():
    child = spawn("--seed", "1", "--shuffle")
    typed = {}
    for _ in range(3):
        qid = read_question(child)
        screen = child.before
        if qid == "t-single":
            # Choices are shuffled on screen: type the letter shown next to the right choice.
            typed[qid] = screen.split(". \x1b[0mThe last (feature) dimension")[0][-1]
        elif qid == "t-multi":
            typed[qid] = ",".join(screen.split(f". \x1b[0m{name} ")[0][-1] for name in ("weight", "bias"))
            child.sendline("Z")  # a wrong form is refused and asked again
            child.expect("Cannot read that: 'Z' is not a choice")
            child.expect(PROMPT)
        else:
            typed[qid] = "1024"
        child.sendline(typed[qid])
        child.expect("✓ Correct")
    assert (typed["t-single"], typed["t-multi"]) != ("B", "A,B"), "the choices were not shuffled"
    child.expect("Summary")
    child.expect(r"fx-norm\s*│\s*3\s*│\s*3\s*│\s*3 / 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("stop", ["ctrl-c", "eof"])
def test_ctrl_c_and_eof_end_with_the_partial_summary(stop):
    child = spawn("--seed", "1", "--count", "3")
    answers = {"t-single": "B", "t-multi": "ABC", "t-num": "1000"}
    qid = read_question(child)
    child.sendline(answers[qid])
    child.expect("Explanation")
    read_question(child)
    child.sendintr() if stop == "ctrl-c" else child.sendeof()
    child.expect("Quiz ended early.")
    child.expect("Summary")
    child.expect(r"fx-norm\s*│\s*1\s*│")
    child.expect("2 not answered")
    child.expect(pexpect.EOF)
    assert "Traceback" not in child.before
    child.close()
    assert child.exitstatus == 0


# ---- short answers the grader is unsure of ---------------------------------------------------

# Long, on the question's subject, and making neither key point in words the rubric knows.
UNSURE_ANSWER = ("Residual connections help deep networks train because the gradient from the loss reaches the "
                 "early layers through the shortcut around each block, so even very deep networks with many "
                 "layers still train and the early layers keep learning.")


def test_answers_json_reports_an_unsure_grade_with_its_score(tmp_path):
    answers = write(tmp_path, f"t-short: {json.dumps(UNSURE_ANSWER)}\nt-tf: yes\n")
    data = json.loads(quiz("--answers", str(answers), "--json").stdout)
    short, truefalse = data["results"]
    assert (short["unsure"], short["score"], short["self_rated"]) == (True, 0.0, False)
    assert "Not sure of this grade" in short["feedback"]
    assert truefalse["unsure"] is False


def test_interactive_quiz_asks_the_learner_to_rate_an_unsure_answer():
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    command = [str(ROOT / "cli.py"), "quiz", "--bank", str(FIXTURES), "--topic", "fx-residual", "--seed", "3"]
    child = pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", dimensions=(40, 120), timeout=30)
    for _ in range(2):
        qid = read_question(child)
        if qid == "t-tf":
            child.sendline("t")
            child.expect("✓ Correct")
            continue
        child.sendline(UNSURE_ANSWER)
        child.expect("The grader is not sure of this grade")
        child.expect("gradient flows through the identity path")  # the first key point (weight 2)
        child.expect(r"Made it\? \(y/n\): ")
        child.sendline("maybe")  # not y or n: asked again
        child.expect(r"Made it\? \(y/n\): ")
        child.sendline("y")
        child.expect("eases vanishing gradients")
        child.expect(r"Made it\? \(y/n\): ")
        child.sendline("n")
        child.expect("Your own rating: 67%")
        child.expect("How well did you know it")  # the schedule's rating follows the learner's own
        child.sendline("")
    child.expect("Summary")
    child.expect(r"fx-residual\s*│\s*2\s*│\s*1\s*│\s*1.67 / 2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("decoding", ["", "utf-8:strict"], ids=["locale-default", "strict"])
def test_bytes_typed_that_are_not_utf8_are_read_not_fatal(decoding):
    """A terminal set to Latin-1 sends é as the byte 0xE9. Python decodes stdin strictly under most
    locales (the quiz died of UnicodeDecodeError) and with surrogate escapes under C and POSIX (the
    answer then could not be stored: UnicodeEncodeError). Now such a byte reads as U+FFFD."""
    from grader.practice.store import Store

    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40", PYTHONIOENCODING=decoding)
    child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "quiz", "--seed", "5", "--bank", str(FIXTURES),
                                           "--topic", "fx-residual"], env=env, timeout=30, dimensions=(40, 120))
    child.expect(rb"1/2 \xc2\xb7 t-short")
    child.expect(rb"\): ")
    child.send(b"the identity path \xe9 carries gradients\r")
    child.expect(b"Key points")
    child.expect(rb"Enter = \w+ \xc2\xb7 a again")
    child.sendline(b"h")
    child.expect(rb"2/2 \xc2\xb7 t-tf")
    child.expect(rb"\): ")
    child.sendline(b"t")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and b"internal error" not in child.before
    with Store.open() as store:
        assert [(r.question_id, r.answer) for r in store.answers()] == [
            ("t-short", "the identity path \ufffd carries gradients"), ("t-tf", True)]
