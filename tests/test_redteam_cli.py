"""A learner's odd inputs to the quiz, bank, task and submit commands: answers in every form people
type, bad options, paths that cannot be used. Each is read, or refused with a clear message and the
right exit code; never a traceback."""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest
from rich.cells import cell_len
from rich.text import Text
from typer.testing import CliRunner

import cli
from grader.bank import catalog as banks
from grader.practice import quiz
from grader.practice.answers import grade
from grader.render.wrap import wrap

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "banks"
runner = CliRunner()


def answers(tmp_path: Path, text: str) -> tuple[int, dict, str]:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli.app, ["quiz", "--answers", str(path), "--json", "--bank", str(FIXTURES)])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


# t-single: B of A-C; t-multi: AB of A-D; t-tf: true; t-num: 1024 ± 0
@pytest.mark.parametrize(
    ("line", "given"),
    [
        ("t-single: Ｂ", "B"),  # full-width, from a Chinese input method
        ("t-single: b.", "B"),
        ("t-single: (B)", "B"),
        ("t-single: [b]", "B"),
        ("t-multi: ＡＢ", "AB"),
        ("t-multi: 'b, a'", "AB"),
        ("t-multi: A、B", "AB"),
        ("t-multi: A/B", "AB"),
        ("t-multi: AAB", "AB"),  # a letter twice counts once
        ("t-multi: [a, B]", "AB"),
        ("t-tf: 1", True),
        ("t-tf: 对", True),
        ("t-tf: ✓", True),
        ("t-tf: 'TRUE.'", True),
        ("t-num: '1,024'", 1024.0),
        ("t-num: １０２４", 1024.0),
        ("t-num: 1_024", 1024.0),
        ("t-num: '1.024e3'", 1024.0),
    ],
)
def test_answer_forms_people_type_are_read(tmp_path, line, given):
    code, report, _ = answers(tmp_path, line + "\n")
    assert report["problems"] == []
    assert report["results"][0]["given"] == given
    assert code == 0  # each is the correct answer


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("t-single: option B", "expected letters A-C, got 'option B'"),
        ("t-multi: A and B", "expected letters A-D, got 'A and B'"),
        ("t-single: Z", "'Z' is not a choice (A-C)"),
        ("t-single: 2", "expected letters A-C, got 2"),
        ("t-num: 1024 params", "expected a number, got '1024 params'"),
        ("t-num: '1,02'", "expected a number, got '1,02'"),  # a decimal comma is not read as 102
        ("t-tf: 2", "expected true or false, got 2"),
        ("t-short: [identity]", "expected a non-empty text answer"),
        ("t-short: " + "identity " * 700, "the answer has 6299 characters; at most 5000"),
    ],
)
def test_unreadable_answers_are_problem_lines_with_their_line(tmp_path, line, message):
    qid = line.split(":")[0]
    other = "t-num: 1024" if qid != "t-num" else "t-tf: true"  # a readable answer on line 1
    code, report, stderr = answers(tmp_path, other + "\n" + line + "\n")
    expected = f"{tmp_path / 'answers.yaml'}:2: id={qid}: cannot read the answer: {message}"
    assert report["problems"] == [expected] and expected in stderr
    assert [r["id"] for r in report["results"]] == [other.split(":")[0]]
    assert code == 1


@pytest.mark.parametrize(
    "text", ["", "# nothing yet\n", "- t-single: B\n", "just text\n", "t-single: B\nt-single: C\n"],
    ids=["empty", "comments", "a list", "a scalar", "duplicate id"],
)
def test_unusable_answers_files_exit_2(tmp_path, text):
    code, report, stderr = answers(tmp_path, text)
    assert code == 2 and report == {}
    assert stderr.startswith("dlprep: ")


def test_negated_answers_grade_in_linear_time():
    """Each match looks back a bounded distance for a negation: a pasted wall of negated key
    words once took 80 s to grade."""
    question = banks.load_catalog().questions["res-explain-short"].question
    grade(question, "捷径")  # loads the Chinese segmenter once (its start-up is not grading time)
    start = time.monotonic()
    assert grade(question, "not a skip connection, " * 210).score == 0
    assert grade(question, "没有跳跃连接，" * 700).score == 0
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quiz", "--lang", "fr"], "Invalid value for '--lang': must be en or zh, not 'fr'"),
        (["bank", "list", "--lang", "fr"], "Invalid value for '--lang'"),
        (["quiz", "--count", "0"], "--count must be at least 1"),
        (["quiz", "--count", "-2"], "--count must be at least 1"),
        (["quiz", "--difficulty", "extreme"], "--difficulty must be one of easy, medium, hard, not 'extreme'"),
        (["quiz", "--topic", "layer-norm"], "unknown topic layer-norm (topics: layernorm, residual, training, transformer)"),
        (["bank", "show", "layernorm-eps"], "unknown question id: layernorm-eps (did you mean ln-eps-placement, ln-eps-ratio, ln-code-fp16-eps?)"),
        (["bank", "show", "ln-eps-placment"], "did you mean ln-eps-placement"),
        (["task", "start", "layer-norm"], "unknown task: layer-norm (did you mean layernorm, layernorm-backward?)"),
    ],
)
def test_bad_options_exit_2_with_a_message(args, message):
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", "").split())
    assert "Traceback" not in result.output


def test_count_beyond_the_bank_asks_every_question_once():
    questions = banks.load_catalog([FIXTURES]).questions.values()
    session = quiz.start_session([entry.question for entry in questions], topics=["fx-norm"], count=50, seed=3)
    assert sorted(q.id for q in session.questions) == ["t-multi", "t-num", "t-single"]


def test_the_same_seed_gives_the_same_quiz():
    questions = [entry.question for entry in banks.load_catalog().questions.values()]
    order = [[q.id for q in quiz.start_session(questions, count=10, seed=seed).questions] for seed in (5, 5, 6)]
    assert order[0] == order[1] != order[2]


def test_bank_list_json_rows_have_a_stable_schema():
    result = runner.invoke(cli.app, ["bank", "list", "--json", "--topic", "residual"])
    rows = json.loads(result.stdout)
    assert rows and all(set(row) == {"id", "type", "topic", "difficulty", "tags", "prompt", "file", "line"} for row in rows)
    assert all(set(row["prompt"]) == {"en", "zh"} and isinstance(row["line"], int) for row in rows)


def test_task_start_never_overwrites_and_reports_unwritable_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli.app, ["task", "start", "layernorm"]).exit_code == 0
    again = runner.invoke(cli.app, ["task", "start", "layernorm"])
    assert again.exit_code == 2 and "already exists; dlprep never overwrites it" in again.stderr
    (tmp_path / "work").mkdir()
    into_dir = runner.invoke(cli.app, ["task", "start", "layernorm", "work"])
    assert into_dir.exit_code == 0 and (tmp_path / "work" / "layernorm.py").is_file()
    missing = runner.invoke(cli.app, ["task", "start", "layernorm", "nodir/x.py"])
    assert missing.exit_code == 2 and "cannot write nodir/x.py: No such file or directory" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "{dir}"], "is a directory; submit one .py file"),
        (["submit", "{dir}/missing.py"], "no such file"),
        (["submit", "{file}", "--format", "xml"], "unknown format 'xml'"),
        (["submit", "{file}", "--out", "{dir}/nodir/report.json"], "cannot write the report to"),
        (["submit", "{file}", "--out", "{dir}"], "it is a directory"),
    ],
)
def test_submit_refuses_unusable_paths_before_grading(tmp_path, args, message):
    (tmp_path / "ln.py").write_text("class LayerNorm: pass\n", encoding="utf-8")
    argv = [a.format(dir=tmp_path, file=tmp_path / "ln.py") for a in args]
    result = runner.invoke(cli.app, argv)
    assert result.exit_code == 2 and message in result.stderr
    assert "internal error" not in result.stderr


# ---- the interactive quiz in Chinese ------------------------------------------------------------


def test_chinese_wraps_between_characters_not_only_at_spaces():
    """Rich alone pushed a whole run of Chinese to the next line after a Latin word."""
    text = Text("LayerNorm 是规范化层：它控制激活值的尺度，使深层网络能稳定优化。")
    lines = [line.plain for line in wrap(text, 30)]
    assert lines[0].startswith("LayerNorm 是规范化层") and all(cell_len(line) <= 30 for line in lines)
    assert not any(line.startswith(("，", "。", "：")) for line in lines)  # no line opens with closing punctuation
    bullet = [line.plain for line in wrap(Text("  • 对每个样本在它自己的特征上做规范化：减去均值、除以标准差。"), 24, hang=4)]
    assert len(bullet) > 1 and all(line.startswith("    ") for line in bullet[1:])


def test_zh_quiz_in_a_terminal_reads_full_width_letters():
    env = dict(os.environ, TERM="xterm-256color")
    command = [str(ROOT / "cli.py"), "quiz", "--bank", str(FIXTURES), "--topic", "fx-norm", "--lang", "zh",
               "--seed", "1", "--shuffle"]
    child = pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", dimensions=(40, 60), timeout=20)
    for _ in range(3):
        child.expect(r"· (t-[a-z]+) ·")
        qid = child.match.group(1)
        child.expect(r"[)）]: ")
        screen = child.before
        if qid == "t-single":  # shuffled: type the full-width form of the letter shown for the answer
            letter = screen.split(". \x1b[0m最后一个（特征）维度")[0][-1]
            child.sendline(chr(ord(letter) - ord("A") + ord("Ａ")))
        elif qid == "t-multi":
            child.sendline("ＺＺ")
            child.expect("无法识别：'Z' 不是选项")
            child.expect(r"[)）]: ")
            child.sendintr()
            break
        else:
            child.sendline("1024")
        child.expect("✓ 正确")
    child.expect("测验提前结束。")
    child.expect(pexpect.EOF)
    assert "Traceback" not in child.before
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("columns", ["80", "120"])
def test_bank_list_never_cuts_ids_or_headers(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    result = runner.invoke(cli.app, ["bank", "list"])
    lines = result.stdout.splitlines()
    assert all(cell_len(line) <= int(columns) for line in lines)
    assert "Difficulty" in lines[1] and "ln-article-code-bugs " in result.stdout
    assert ("Question" in lines[1]) == (columns == "120")  # no room for a useful prompt at 80


def test_a_typographic_minus_is_a_minus(tmp_path):
    code, report, _ = answers(tmp_path, "t-num: −1024\n")
    assert report["results"][0]["given"] == -1024.0 and code == 1


@pytest.mark.parametrize(("given", "score"), [("3 GB", 1.0), ("3gb", 1.0), ("3", 1.0), ("3 MB", None)])
def test_numeric_answers_may_carry_the_questions_own_unit(given, score):
    from grader.practice.answers import AnswerFormError
    from grader.bank.schema import NumericQuestion

    question = NumericQuestion.model_validate({
        "id": "mem", "topic": "t", "difficulty": "easy", "type": "numeric", "prompt": {"en": "GB?"},
        "explanation": {"en": "."}, "answer": 3, "abs_tol": 0, "unit": "GB"})
    if score is None:
        with pytest.raises(AnswerFormError, match="expected a number"):
            grade(question, given)
    else:
        assert grade(question, given).score == score


def test_code_blocks_are_highlighted_and_prose_is_not():
    from rich.console import Console

    from grader.render.quiz import question_panel

    question = banks.load_catalog([FIXTURES]).questions["t-single"].question
    console = Console(force_terminal=True, color_system="256", width=80, highlight=False)
    with console.capture() as captured:
        console.print(question_panel(question, "zh", [0, 1, 2], "t-single"))
    screen = captured.get()
    code_line = next(line for line in screen.splitlines() if "keepdim" in line)
    prose_line = next(line for line in screen.splitlines() if "归一化" in line)
    def colours(line: str) -> list[str]:  # escape codes other than the panel's border and resets
        return [c for c in re.findall(r"\x1b\[[0-9;]*m", line) if c not in ("\x1b[36m", "\x1b[0m")]

    assert len(colours(code_line)) >= 3  # literals in their own colour
    assert colours(prose_line) == []
