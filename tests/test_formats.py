"""Reports: dlprep's JSON schema, Gradescope's results.json and exercism's version 3, each a function
of one SubmissionResult; strict JSON even when an error was NaN."""
from __future__ import annotations

import json
import os

from grader.grading import formats
from grader.results import CheckResult, ErrorInfo, Mismatch, PitfallResult, SubmissionResult


def result(**overrides) -> SubmissionResult:
    checks = [
        CheckResult("structure", "structure", False, True, "2 parameters as expected"),
        CheckResult("example/forward", "forward", False, False, "output: 2 / 8 elements off", 0.5, 0.25,
                    shape=[2, 4], mismatched=2, total=8, example="LayerNorm(4)(x), x (float32) = [[1.0, 2.0]]",
                    worst=[Mismatch([0, 1], 1.5, 1.0), Mismatch([1, 3], None, 2.0)]),
        CheckResult("rows-2d/backward", "backward", True, False, "gradient of input: 2% of the elements off",
                    float("inf"), float("nan"), points=2.0),
        CheckResult("rows-2d/forward", "forward", True, True, "", 1e-7, 2e-8),
    ]
    pitfalls = [PitfallResult("eps-outside-sqrt", "error", "eps added to the std", "Put eps inside.",
                              "torch.sqrt(var + eps)", "line 14: std + 1e-5")]
    base = dict(task="layernorm", file="ln.py", verdict="fail", score=2.0, max_score=5.0, checks=checks,
                pitfalls=pitfalls, duration_s=0.12, output="debug print\n")
    base.update(overrides)
    return SubmissionResult(**base)


def test_json_has_the_issue_schema_and_is_strict():
    doc = json.loads(formats.to_json(result()))  # json.loads accepts NaN: check the text too
    assert "NaN" not in formats.to_json(result()) and "Infinity" not in formats.to_json(result())
    assert {"task", "file", "verdict", "score", "max_score", "checks", "pitfalls", "error", "duration_s"} <= set(doc)
    for c in doc["checks"]:
        assert {"name", "kind", "hidden", "passed", "message", "max_abs_err", "max_rel_err"} <= set(c)
    assert doc["checks"][2]["max_abs_err"] is None and doc["checks"][2]["max_rel_err"] is None
    assert doc["pitfalls"][0] == {"id": "eps-outside-sqrt", "severity": "error", "title": "eps added to the std",
                                  "explanation": "Put eps inside.", "fix": "torch.sqrt(var + eps)",
                                  "evidence": "line 14: std + 1e-5"}
    assert doc["error"] is None


def test_json_shows_worst_elements_of_public_failures_only():
    checks = json.loads(formats.to_json(result()))["checks"]
    assert checks[1]["worst"] == [{"index": [0, 1], "got": 1.5, "expected": 1.0}, {"index": [1, 3], "got": None, "expected": 2.0}]
    assert checks[1]["mismatched"] == 2 and checks[1]["total"] == 8
    assert "worst" not in checks[2] and "worst" not in checks[0]


def test_gradescope_results():
    doc = json.loads(formats.to_gradescope(result()))
    assert doc["score"] == 2.0 and sum(t["max_score"] for t in doc["tests"]) == 5.0
    assert set(doc) <= set(formats.GRADESCOPE_KEYS)  # Gradescope has no top-level max_score
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["structure"] == {"name": "structure", "score": 1.0, "max_score": 1.0, "status": "passed",
                                  "output": "2 parameters as expected", "visibility": "visible"}
    assert tests["rows-2d/backward"]["visibility"] == "after_published"
    assert tests["rows-2d/backward"]["status"] == "failed" and tests["rows-2d/backward"]["score"] == 0.0
    assert tests["rows-2d/backward"]["max_score"] == 2.0
    assert "Mismatched elements: 2 / 8" in tests["example/forward"]["output"]
    assert "index (1, 3): got nan, expected 2" in tests["example/forward"]["output"]
    assert "eps-outside-sqrt" in doc["output"] and "debug print" in doc["output"]


def test_exercism_version_3():
    doc = json.loads(formats.to_exercism(result()))
    assert doc["version"] == 3 and doc["status"] == "fail" and "message" not in doc
    assert [t["status"] for t in doc["tests"]] == ["pass", "fail", "fail", "pass"]
    assert all({"name", "status", "test_code"} <= set(t) for t in doc["tests"])
    assert "eps-outside-sqrt" in doc["tests"][1]["message"]  # the first failed test carries the pitfalls
    assert all(len(t.get("output", "")) <= formats.EXERCISM_OUTPUT_MAX for t in doc["tests"])


def test_exercism_error_and_output_clipped():
    flood = "x" * 5000
    doc = json.loads(formats.to_exercism(result(verdict="error", checks=[CheckResult("structure", "structure", False, False)],
                                                  pitfalls=[], error=ErrorInfo("timeout", "no answer within 2 s"),
                                                  output=flood)))
    assert doc["status"] == "error" and doc["message"] == "timeout: no answer within 2 s"
    output = doc["tests"][0]["output"]
    assert len(output) == formats.EXERCISM_OUTPUT_MAX and output.endswith("[clipped]")


def test_pass_maps_to_pass_everywhere():
    passing = result(verdict="pass", checks=[CheckResult("structure", "structure", False, True)], pitfalls=[])
    assert json.loads(formats.to_exercism(passing))["status"] == "pass"
    assert json.loads(formats.to_gradescope(passing))["tests"][0]["status"] == "passed"
    assert json.loads(formats.render(passing, "json"))["verdict"] == "pass"


def test_the_table_follows_pytest_approx_for_public_failures():
    import io

    from grader.render.submit import result_table

    out = io.StringIO()
    result_table(result(output="x" * 3000), "en", file=out, verbose=True)
    text = out.getvalue()
    assert "✓ │ structure" in text and "✗ │ rows-2d/backward (hidden)" in text and "5.00e-01" in text
    shape, mismatched = text.index("Shape: [2, 4]"), text.index("Mismatched elements: 2 / 8")
    index = text.index("Index")
    assert shape < mismatched < index and "Obtained" in text and "Expected" in text
    assert "(1, 3)" in text and "nan" in text  # a NaN element is shown, not hidden
    assert "[error] eps-outside-sqrt" in text and "Fix: torch.sqrt(var + eps)" in text
    assert "[output clipped: 1000 more characters" in text
    assert text.splitlines()[1] == "FAIL  Score: 2 / 5"  # the verdict leads (tests/test_coding_loop.py)


def test_another_systems_report_shows_a_failed_public_example_with_its_input():
    text = formats.check_output(result().checks[1])
    assert "example: LayerNorm(4)(x), x (float32) = [[1.0, 2.0]]" in text
    assert "example:" not in formats.check_output(result().checks[2])  # hidden


def test_to_dict_is_asdict_and_round_trips():
    """The judge, the cache and every report go through to_dict, written out by hand for speed: it
    must stay asdict's document, key order included, and from_dict must read it back."""
    from dataclasses import asdict

    for r in (result(), result(error=ErrorInfo("crashed", "killed by SIGSEGV"), checks=[], pitfalls=[])):
        assert r.to_dict() == asdict(r)
        assert json.dumps(r.to_dict()) == json.dumps(asdict(r))
        assert SubmissionResult.from_dict(r.to_dict()) == r
    assert "checks" not in result().to_dict(checks=False)


def test_a_result_read_back_holds_only_encodable_text():
    """What the judge sends (or the cache holds) may carry a lone surrogate from the submission
    (raise ValueError(chr(0xD800))) or a file name's undecodable byte: from_dict writes them out as
    escapes, so every writer can encode the result; valid text, emoji and CJK included, is kept."""
    doc = result(file=os.fsdecode(b"ln\xff.py"), output="ok \U0001F600 中文 " + chr(0xDFFF)).to_dict()
    doc["checks"][0]["message"] = "ValueError: " + chr(0xD800)
    doc["pitfalls"][0]["evidence"] = "line 3: " + chr(0xDBFF) + chr(0xDC00)  # a pair never joined: two escapes
    back = SubmissionResult.from_dict(doc)
    assert back.file == "ln\\xff.py" and back.output == "ok \U0001F600 中文 \\udfff"
    assert back.checks[0].message == "ValueError: \\ud800" and back.pitfalls[0].evidence == "line 3: \\udbff\\udc00"
    json.dumps(back.to_dict(), ensure_ascii=False).encode("utf-8")  # would raise before
    plain = result().to_dict()  # nothing else changes (NaN != NaN: compared as JSON)
    assert json.dumps(SubmissionResult.from_dict(plain).to_dict()) == json.dumps(plain)
