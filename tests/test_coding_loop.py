"""The coding practice loop (issue 17): a report that leads with the verdict and the named mistakes,
check messages in the learner's language, hints one step at a time, the solution only after an
attempt, and `submit --watch` on file events (in-process with the shared sandbox, and through a
real pseudo-terminal)."""
from __future__ import annotations

import ast
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from cli import app
from grader.grading import watch as watching
from grader.grading import wording
from grader.practice.hints import HintState
from grader.practice.store import Store
from grader.render.submit import result_table
from grader.results import CheckResult, ErrorInfo, PitfallResult, SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
GOOD_BLOCK = (GOLDEN / "article-residual-block" / "submission.py").read_text(encoding="utf-8")
NO_SKIP_BLOCK = GOOD_BLOCK.replace("out += residual", "out = out")
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


# ---- the report's order ------------------------------------------------------------------------
def _result(**overrides) -> SubmissionResult:
    checks = [CheckResult("structure", "structure", False, True, "4 parameters as expected"),
              CheckResult("example/forward", "forward", False, False, "output: 6 / 8 elements off", 2.9, 1.0,
                          example="ResidualBlock(4)(x), x (float32) = [[1.0]]"),
              CheckResult("wide/forward", "forward", True, True, "", 1e-7, 1e-8),
              CheckResult("wide/backward", "backward", True, False, "gradient of input: 100% of the elements off",
                          2.4, 0.98)]
    pitfalls = [PitfallResult("missing-skip", "error", "No skip connection", "The input is never added back.",
                              "return F.relu(branch + x)", "probe example: off by 1")]
    base = dict(task="residual-block", file="block.py", verdict="fail", score=2.0, max_score=4.0, checks=checks,
                pitfalls=pitfalls)
    return SubmissionResult(**{**base, **overrides})


def _table(result, lang="en", **options) -> list[str]:
    out = io.StringIO()
    result_table(result, lang, file=out, **options)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_the_report_leads_with_verdict_and_fix_then_failing_checks_and_ends_with_the_hint():
    lines = _table(_result(), hint=HintState("residual-block", used=0, total=3))
    text = "\n".join(lines)
    assert lines[1] == "FAIL  Score: 2 / 4"
    order = [text.index(s) for s in ("FAIL  Score", "[error] missing-skip", "Fix: return F.relu(branch + x)",
                                     "Failing checks (2 of 4)", "✗ example/forward", "✗ wide/backward (hidden")]
    assert order == sorted(order)
    assert "structure" not in text and "wide/forward" not in text  # passing rows: a count, unless --verbose
    assert "2 other checks passed (--verbose lists them)." in text
    assert lines[-1] == "Stuck? Hint 1 of 3: dlprep task hint residual-block"


def test_verbose_lists_every_check_and_a_pass_has_no_hint_line():
    text = "\n".join(_table(_result(), verbose=True))
    assert "✓ │ structure" in text and "✓ │ wide/forward (hidden)" in text and "other checks passed" not in text
    passing = _result(verdict="pass", score=4.0, pitfalls=[], checks=[c for c in _result().checks if c.passed])
    lines = _table(passing, hint=HintState("residual-block", used=0, total=3))
    assert lines[1] == "PASS  Score: 4 / 4" and lines[-1] == "All 2 checks passed." and "hint" not in "\n".join(lines)


def test_the_hint_line_points_at_the_solution_once_every_hint_was_seen_and_skips_syntax_errors():
    lines = _table(_result(), "zh", hint=HintState("residual-block", used=3, total=3))
    assert lines[1].startswith("未通过") and lines[-1] == "3 条提示都已看过；参考答案：dlprep task solution residual-block"
    broken = _result(verdict="error", checks=[], pitfalls=[], error=ErrorInfo("syntax-error", "line 3: invalid syntax"))
    lines = _table(broken, hint=HintState("residual-block", used=0, total=3))
    assert lines[1:3] == ["ERROR  Score: 2 / 4", "syntax-error: line 3: invalid syntax"] and "hint" not in lines[-1]


def test_watch_names_the_checks_that_flipped_since_the_last_report():
    before = _result()
    after = _result(checks=[CheckResult(c.name, c.kind, c.hidden, c.name != "wide/forward") for c in before.checks])
    assert watching.flips(None, after) == ([], [])
    fixed, broken = watching.flips(before, after)
    assert fixed == ["example/forward", "wide/backward"] and broken == ["wide/forward"]
    text = "\n".join(_table(after, flips=(fixed, broken)))
    assert "Now passing: example/forward, wide/backward" in text and "Now failing: wide/forward" in text
    assert text.index("Now passing") < text.index("Pitfalls")


# ---- check messages follow --lang --------------------------------------------------------------
def _templates() -> set[str]:
    """The English templates checks.py hands to the wording table (first string argument of _t and
    wording.say)."""
    tree = ast.parse((ROOT / "grader" / "grading" / "checks.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("_t", "say"):
            literal = next((a for a in node.args[1:2] if isinstance(a, ast.Constant)), None)
            found |= {literal.value} if literal is not None else set()
    return found


def test_every_check_message_template_has_a_chinese_wording():
    templates = _templates()
    assert len(templates) >= 20 and "missing parameters: {names}" in templates
    assert sorted(t for t in templates if t not in wording.ZH) == []
    assert wording.say("zh", "{label}: {count} elements off", label="输出", count="6 / 8") == "输出：6 / 8 个元素不符"
    assert wording.say("en", "{label}: {count} elements off", label="output", count="6 / 8") == "output: 6 / 8 elements off"
    assert wording.why("zh", "dtype float16, expected float32") == "的 dtype 是 float16，应为 float32"


def test_a_graded_report_speaks_chinese_with_lang_zh_and_english_by_default(sandbox, builtin_tasks):
    from grader.grading.submit import grade_source

    task = builtin_tasks["residual-block"]
    english = grade_source(NO_SKIP_BLOCK, "block.py", task, sandbox)
    chinese = grade_source(NO_SKIP_BLOCK, "block.py", task, sandbox, lang="zh")
    failed = {c.name: c.message for c in english.checks if not c.passed}
    assert failed["example/forward"] == "output: 6 / 8 elements off"
    zh = {c.name: c.message for c in chinese.checks if not c.passed}
    assert zh.keys() == failed.keys() and zh["example/forward"] == "输出：6 / 8 个元素不符"
    assert all("elements off" not in m for m in zh.values())


# ---- hints -------------------------------------------------------------------------------------
def test_hints_escalate_one_level_per_ask_are_recorded_and_stop_at_the_last():
    levels = []
    for _ in range(5):
        result = invoke("task", "hint", "layernorm", "--json")
        assert result.exit_code == 0, result.stderr
        levels.append(json.loads(result.stdout)["level"])
    assert levels == [1, 2, 3, 4, 4]
    with Store.open() as store:
        assert [(kind, level) for *_, kind, level in store.hints("layernorm")] == [("hint", n) for n in levels]
        assert store.hints("residual-block") == []
    zh = invoke("task", "hint", "residual-block", "--lang", "zh")
    assert zh.exit_code == 0 and "提示 1/3" in zh.stdout and "跳跃连接" in zh.stdout


def test_a_hint_loads_no_torch():
    """`task hint` and `task solution` are bank-side commands: as fast to start as the quiz."""
    import subprocess

    code = ("import sys, cli\ntry:\n    cli.app(['task', 'hint', 'layernorm'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'numpy', 'grader.sandbox', 'watchfiles') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Hint 1 of 4" in done.stdout and done.stdout.splitlines()[-1] == "[]", done.stdout + done.stderr


def test_every_builtin_task_has_two_to_four_hints_in_both_languages(builtin_tasks):
    for loaded in builtin_tasks.values():
        assert 2 <= len(loaded.spec.hints) <= 4, loaded.spec.id
        assert all(h.en.strip() and h.zh.strip() for h in loaded.spec.hints), loaded.spec.id


@pytest.mark.parametrize("count, problem", [(1, "give 2 to 4 hints"), (5, "at most 4 items")])
def test_a_task_with_one_hint_or_five_is_refused(count, problem):
    from pydantic import ValidationError

    from grader.bank.taskspec import TaskFile
    from grader.bank.yamlsrc import read

    data = read(ROOT / "questions" / "tasks" / "layernorm.yaml").data
    data["task"]["hints"] = [{"en": f"step {i}", "zh": f"第 {i} 步"} for i in range(count)]
    with pytest.raises(ValidationError, match=problem):
        TaskFile.model_validate(data)


def _instructor_task(tmp_path: Path, hints: str) -> Path:
    """An instructor's copy of the residual-block task with its own reference beside the YAML."""
    text = (ROOT / "questions" / "tasks" / "residual-block.yaml").read_text(encoding="utf-8")
    head, _, rest = text.partition("\n  hints:\n")
    rest = rest[rest.index("\n  probes:\n"):]
    text = (head + "\n" + hints + rest).replace("id: residual-block", "id: my-block").replace(
        '"grader.references.residual_block:ResidualBlock"', '"ref_block.py:ResidualBlock"')
    (tmp_path / "my-block.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "ref_block.py").write_text("# my reference\n" + (ROOT / "grader/references/residual_block.py")
                                           .read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_missing_hints_are_an_error_in_a_builtin_task_and_a_warning_in_an_instructors(tmp_path):
    from grader.authoring import content
    from grader.bank.catalog import load_paths

    bank = _instructor_task(tmp_path, "")
    loaded = load_paths([bank]).tasks["my-block"]
    [finding] = content.hint_findings(loaded, builtin=False)
    assert not finding.error and "warning: no hints" in finding.line and "my-block.yaml:" in finding.line
    assert content.hint_findings(loaded, builtin=True)[0].error
    one_language = '  hints:\n    - en: "First add x back."\n    - en: "Then relu(branch + x), 2 layers."\n      zh: "再 relu(branch + x)，3 层。"\n'
    loaded = load_paths([_instructor_task(tmp_path, one_language)]).tasks["my-block"]
    findings = content.hint_findings(loaded, builtin=False)
    assert [(f.error, "hints[0] has no zh text" in f.line) for f in findings if "no zh" in f.line] == [(False, True)]
    assert any(f.error and "different numbers" in f.line for f in findings)  # 2 vs 3: wrong everywhere


def test_an_instructors_task_gives_its_own_hints_and_its_own_reference(tmp_path):
    bank = _instructor_task(tmp_path, '  hints:\n    - {en: "Add x back.", zh: "把 x 加回去。"}\n'
                                      '    - {en: "relu(branch + x).", zh: "relu(branch + x)。"}\n')
    hint = invoke("task", "hint", "my-block", "--bank", bank)
    assert hint.exit_code == 0 and "Add x back." in hint.stdout
    forced = invoke("task", "solution", "my-block", "--bank", bank, "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["source"].startswith("# my reference")


# ---- the solution opens after an attempt -------------------------------------------------------
def test_the_solution_is_locked_until_a_graded_attempt_or_force_and_every_showing_is_recorded():
    locked = invoke("task", "solution", "layernorm")
    assert locked.exit_code == 1 and "after your first graded attempt" in locked.stderr and "--force" in locked.stderr
    assert "class LayerNorm" not in locked.stdout
    with Store.open() as store:
        assert store.hints("layernorm") == []  # a refusal is not a showing
    forced = invoke("task", "solution", "layernorm", "--force", "--json")
    doc = json.loads(forced.stdout)
    assert forced.exit_code == 0 and doc["forced"] and "class LayerNorm(nn.Module)" in doc["source"]
    with Store.open() as store:
        store.record_submission(task="residual-block", verdict="fail", score=3, max_score=16, pitfalls=[],
                                file_hash="a", file="block.py")
        assert [kind for *_, kind, _ in store.hints("layernorm")] == ["solution"]
    shown = invoke("task", "solution", "residual-block")
    assert shown.exit_code == 0 and "def forward" in shown.stdout and "--force" not in shown.stdout
    assert invoke("task", "solution", "layer-norm").exit_code == 2  # an unknown id is a usage error


# ---- --watch, in-process with the shared sandbox -----------------------------------------------
def test_a_grade_whose_file_changed_meanwhile_is_dropped_so_a_half_save_never_shows(tmp_path, sandbox, monkeypatch):
    """The first half of a save lands, its grade starts, the rest lands while it runs: only the
    finished file is reported."""
    path = tmp_path / "block.py"
    path.write_text(GOOD_BLOCK[: len(GOOD_BLOCK) // 2], encoding="utf-8")  # mid-save: not Python yet
    graded, reported = [], []
    grade = watching._grade

    def grade_then_finish_the_save(p, data, *rest):
        graded.append(data)
        result = grade(p, data, *rest)
        if len(graded) == 1:
            path.write_text(GOOD_BLOCK, encoding="utf-8")
        return result

    def report(result, since):
        reported.append(result)
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "_grade", grade_then_finish_the_save)
    watching.watch(path, report, sandbox=sandbox)
    assert len(graded) == 2 and [r.verdict for r in reported] == ["pass"]


def test_a_burst_of_saves_is_graded_as_its_last_save_left_the_file(tmp_path, sandbox):
    path = tmp_path / "block.py"
    path.write_text(NO_SKIP_BLOCK, encoding="utf-8")
    reported = []
    versions = [NO_SKIP_BLOCK.replace("out = out", f"out = out * {k}.0") for k in (2, 3, 4)] + [GOOD_BLOCK]

    def burst():
        for text in versions:  # four saves within a few milliseconds, each an atomic rename
            tmp = tmp_path / ".block.py.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            time.sleep(0.002)

    def report(result, since):
        reported.append((result.verdict, since))
        if len(reported) == 1:
            threading.Thread(target=burst).start()
            return 1
        raise KeyboardInterrupt

    assert watching.watch(path, report, sandbox=sandbox) == 1
    assert [verdict for verdict, _ in reported] == ["fail", "pass"] and reported[1][1].verdict == "fail"


def test_watching_a_missing_file_is_a_usage_error_not_a_silent_wait(tmp_path):
    result = invoke("submit", tmp_path / "nope.py", "--watch")
    assert result.exit_code == 2 and "no such file" in result.stderr and "dlprep: watching" not in result.stderr


# ---- --watch through a real pseudo-terminal ----------------------------------------------------
def test_watch_on_a_terminal_regrades_an_editors_save_and_names_what_flipped(tmp_path):
    path = tmp_path / "block.py"
    path.write_text(NO_SKIP_BLOCK, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}  # colour codes would split the lines matched
    child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "submit", str(path), "--watch", "--lang", "en"],
                          cwd=str(ROOT), env=env, encoding="utf-8", dimensions=(60, 120), timeout=180)
    try:
        child.expect("watching")
        child.expect(r"FAIL  Score: \d+ / \d+")
        child.expect("missing-skip")
        child.expect("Stuck\\? Hint 1 of 3: dlprep task hint residual-block")
        tmp = tmp_path / ".block.py.swp"  # an editor's atomic save: a new file renamed over the old
        tmp.write_text(GOOD_BLOCK, encoding="utf-8")
        os.replace(tmp, path)
        child.expect(r"PASS  Score: (\d+) / \1", timeout=120)
        child.expect("Now passing: example/forward")
        child.expect(r"All \d+ checks passed")
        child.sendintr()  # Ctrl-C ends watching with the last grade's exit code
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close()
    assert child.exitstatus == 0
    with Store.open() as store:
        assert [s.verdict for s in store.submissions(task="residual-block")] == ["fail", "pass"]


def test_submit_leads_with_the_verdict_and_ends_with_a_hint_and_takes_verbose():
    plain = invoke("submit", GOLDEN / "article-layernorm" / "submission.py", "--no-record")
    assert plain.exit_code == 1
    lines = plain.stdout.splitlines()
    assert lines[1].startswith("FAIL  Score:") and lines[-1] == "Stuck? Hint 1 of 4: dlprep task hint layernorm"
    assert "✓" not in plain.stdout and "other checks passed (--verbose lists them)" in plain.stdout
    verbose = invoke("submit", GOLDEN / "bad-file" / "submission.py", "--task", "layernorm", "--verbose")
    assert verbose.exit_code == 1 and "bad-file" in verbose.stdout  # no sandbox needed for a bad file


def test_chinese_check_messages_space_latin_names_only():
    from grader.grading.wording import say

    assert say("zh", "gradient of {name}", name="weight") == "weight 的梯度"
    assert say("zh", "gradient of {name}", name="输入") == "输入的梯度"
    assert say("zh", "line {line}: {text}", line=3, text="# 你 好") == "第 3 行：# 你 好"  # a value is never rewritten
    assert say("en", "gradient of {name}", name="input") == "gradient of input"
