"""The tasks and submit commands through Typer's CliRunner: output on stdout, exit codes, files
written only where asked and never over an existing one."""
from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from cli import app

GOLDEN = Path(__file__).parent / "golden"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_tasks_json_lists_both_tasks():
    result = invoke("tasks", "--json")
    assert result.exit_code == 0
    listed = {t["id"]: t["class_name"] for t in json.loads(result.stdout)}
    assert {"layernorm": "LayerNorm", "residual-block": "ResidualBlock",  # and the tasks added since
            "causal-self-attention": "CausalSelfAttention"}.items() <= listed.items()


def test_every_builtin_task_has_a_topic_and_difficulty_listed_in_both_languages():
    listed = json.loads(invoke("tasks", "--json").stdout)
    assert {t["id"]: (t["topic"], t["difficulty"]) for t in listed if t["id"] in ("layernorm", "residual-block")} == {
        "layernorm": ("layernorm", "medium"), "residual-block": ("residual", "easy")}
    assert all(t["topic"] and t["difficulty"] in ("easy", "medium", "hard") for t in listed), listed
    table = invoke("tasks", "--lang", "zh").stdout
    assert "难度" in table and "中等" in table and "简单" in table


def test_task_page_highlights_the_starter_and_fenced_code_in_the_prompt():
    import io

    from rich.console import Console

    from grader.bank.catalog import load_catalog
    from grader.render.submit import task_page

    spec = load_catalog().tasks["layernorm"].spec
    prompt = {"en": "Write it.\n```python\nclass Fenced(nn.Module):\n    pass\n```\nDone."}
    spec = spec.model_copy(update={"prompt": spec.prompt.model_copy(update=prompt)})
    out = io.StringIO()
    task_page(spec, [], console=Console(file=out, force_terminal=True, color_system="256", width=100))
    shown = out.getvalue()
    # `class` coloured as a keyword twice: in the prompt's fenced block and in the starter
    assert len(re.findall(r"\x1b\[[0-9;]*mclass\x1b", shown)) == 2 and "```" not in shown
    assert "layernorm · medium" in shown.replace("\x1b[2m", "").replace("\x1b[0m", "")


def test_task_show_json_has_prompt_signature_examples_but_no_hidden_inputs():
    result = invoke("task", "show", "layernorm", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["prompt"]["en"] and doc["prompt"]["zh"] and doc["signature"].startswith("LayerNorm(")
    assert doc["examples"] == [{"name": "example", "build": "LayerNorm(4)", "dtype": "float32",
                                "input": [[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.5]]}]
    assert doc["hidden_checks"] > 10
    # what the hidden tests cover is stated (issue 9); what they feed in is not
    assert "contiguous or not" in doc["hidden_tests"]["covers"] and "tuple-3d" in doc["hidden_tests"]["families"]
    from grader.bank.catalog import load_catalog

    drawn = [p for p in load_catalog().tasks["layernorm"].spec.drawn().probes if p.hidden]
    shown = json.dumps(doc, separators=(",", ":"))
    assert not any(json.dumps(p.input.shape, separators=(",", ":")) in shown for p in drawn)


def test_task_show_in_chinese_and_unknown_task():
    assert "残差块" in invoke("task", "show", "residual-block", "--lang", "zh").stdout
    unknown = invoke("task", "show", "layer-norm")
    assert unknown.exit_code == 2 and "did you mean layernorm" in unknown.stderr


def test_task_start_writes_the_starter_and_never_overwrites(tmp_path):
    target = tmp_path / "mine.py"
    assert invoke("task", "start", "layernorm", target).exit_code == 0
    assert "class LayerNorm(nn.Module)" in target.read_text()
    target.write_text("# my work\n")
    again = invoke("task", "start", "layernorm", target)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert target.read_text() == "# my work\n"
    assert invoke("task", "start", "residual-block", tmp_path).exit_code == 0  # a directory: ID.py in it
    assert (tmp_path / "residual-block.py").is_file()


def test_submit_json_pass_exits_0_with_inferred_task():
    result = invoke("submit", GOLDEN / "article-residual-block" / "submission.py", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["task"] == "residual-block" and doc["verdict"] == "pass" and doc["error"] is None


def test_submit_fail_exits_1_and_writes_gradescope_to_out(tmp_path):
    out = tmp_path / "results.json"
    result = invoke("submit", GOLDEN / "article-layernorm" / "submission.py", "--format", "gradescope", "--out", out)
    assert result.exit_code == 1 and result.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["score"] < sum(t["max_score"] for t in doc["tests"]) and "max_score" not in doc
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "after_published"}


def test_submit_usage_errors_exit_2(tmp_path):
    missing = invoke("submit", tmp_path / "nope.py")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    fmt = invoke("submit", GOLDEN / "article-layernorm" / "submission.py", "--format", "xml")
    assert fmt.exit_code == 2 and "unknown format" in fmt.stderr


def test_submit_bad_file_is_an_error_verdict_exit_1():
    result = invoke("submit", GOLDEN / "bad-file" / "submission.py", "--task", "layernorm", "--format", "exercism")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "error" and doc["message"].startswith("bad-file: ")


def test_watch_regrades_after_a_save(tmp_path, sandbox):
    from grader.grading import watch

    path = tmp_path / "block.py"
    path.write_text((GOLDEN / "article-residual-block" / "submission.py").read_text().replace("out += residual", "out = out"))
    verdicts, warnings, previous = [], [], []
    good = (GOLDEN / "article-residual-block" / "submission.py").read_text()

    def report(result, since):
        verdicts.append(result.verdict)
        previous.append(since.verdict if since else None)
        if len(verdicts) == 1:
            path.write_text("class Unfinished: pass\n")  # the next save matches no task yet
            return 1
        raise KeyboardInterrupt  # the learner presses Ctrl-C

    def warn(message):
        warnings.append(message)
        path.write_text(good)  # ... and the one after is finished

    assert watch.watch(path, report, sandbox=sandbox, warn=warn) == 1
    assert len(warnings) == 1 and "no task matches" in warnings[0]
    assert verdicts == ["fail", "pass"] and previous == [None, "fail"]


def test_tasks_never_cut_a_task_id_short_on_a_narrow_terminal():
    """The id is what the learner types next (`task start ID`): an 80-column table wraps the
    other columns instead."""
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["tasks"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "causal-self-attention" in result.output and "layernorm-backward" in result.output
