"""The trusted side against what a submission sends back (docs/DESIGN.md, "Trust model"): forbidden
ops recorded at the dispatcher, self-reports out of the submission's reach, the child's answer
validated against a schema, the judge bounded in time and in what it writes, and text from a
submission made harmless before a terminal or a human-read format shows it.

The hostile submissions (red-team reproducers 05-12 and one per route) live in tests/hostile/ and
are graded, with their benign twins, by tests/test_hostile.py, which calls `check_trusted_side` on
each result: the outcome a hostile file must reach beyond "not a pass" is listed here, in TRUSTED.
"""
from __future__ import annotations

import io
import json
import time

import pytest

from grader.grading import answer, forbidden, formats
from grader.results import CheckResult, ErrorInfo, PitfallResult, SubmissionResult, displayed, json_safe, visible

RECORDED = "recorded at the dispatcher"  # the forbidden-builtin evidence of a recorded call
# name -> (the pitfall it must be named with, or the error kind it must end in; a text its report holds)
TRUSTED = {
    # forbidden ops, recorded by the kernel override whatever the route (F4)
    "fused_norm_in_thread": ("forbidden-builtin", RECORDED),
    "fused_norm_exclude_python_keys": ("forbidden-builtin", RECORDED),
    "fused_norm_exclude_autograd_key": ("forbidden-builtin", "aten.native_layer_norm.default"),
    "fused_norm_inference_mode": ("forbidden-builtin", RECORDED),
    "fused_norm_torch_ops_aten": ("forbidden-builtin", "aten.native_layer_norm.default"),
    "fused_norm_vmap": ("forbidden-builtin", RECORDED),
    "fused_norm_jit_script": ("forbidden-builtin", RECORDED),
    "fused_norm_jit_trace": ("forbidden-builtin", RECORDED),
    # torch.compile: tests/redteam/layernorm/forbidden-builtin--torch-compile.py (its import needs a longer deadline)
    "rms_norm_caught_and_retried": ("forbidden-builtin", "aten.rms_norm.default"),
    # BatchNorm in training is every other fused norm over the transposed batch (issue 19)
    "fused_norm_batchnorm_layer_norm_transposed": ("forbidden-builtin", "aten.layer_norm.default"),
    "fused_norm_batchnorm_group_norm_in_thread": ("forbidden-builtin", RECORDED),
    "fused_norm_batchnorm_native_group_norm_excluded_keys": ("forbidden-builtin", "aten.native_group_norm.default"),
    # the rmsnorm task forbids every fused norm: RMS norm's own routes, and layer norm of [x, -x]
    "rmsnorm_fused_in_thread": ("forbidden-builtin", "aten.rms_norm.default"),
    "rmsnorm_fused_exclude_autograd_key": ("forbidden-builtin", "aten.rms_norm.default"),
    "rmsnorm_fused_module_computed_name": ("forbidden-builtin", "aten.rms_norm.default"),
    "rmsnorm_layer_norm_of_x_and_minus_x": ("forbidden-builtin", "aten.layer_norm.default"),
    # the attention task forbids scaled_dot_product_attention (the composite op), every attention
    # kernel of the installed torch, and what reaches them (nn.MultiheadAttention)
    "fused_attention_in_thread": ("builtin-attention", "aten.scaled_dot_product_attention.default"),
    "fused_attention_exclude_autograd_key": ("builtin-attention", "aten._scaled_dot_product_flash_attention"),
    "fused_attention_caught_and_retried": ("builtin-attention", "aten.scaled_dot_product_attention.default"),
    "multihead_attention_computed_name": ("builtin-attention", RECORDED),
    # self-reports out of reach: each route ends in the failure its forging was meant to hide (F5)
    "forge_structure_through_caller_globals": ("extra-layers", "eps"),
    "forge_input_through_caller_globals": ("modifies-input", "input"),
    "forge_structure_through_frames_in_forward": ("extra-layers", "eps"),
    "forge_structure_through_subclasses": ("extra-layers", "eps"),
    "forge_structure_through_sys_modules": ("extra-layers", "eps"),
    "forge_structure_through_gc": ("extra-layers", "eps"),
    "forge_structure_by_patching_json": ("extra-layers", "eps"),
    "forge_input_by_patching_tensor_methods": ("modifies-input", "input"),
    "hide_parameter_from_named_parameters": ("extra-layers", "unreported (shape [])"),
    "forge_structure_from_a_finalizer": ("crashed", "is not a string"),  # names made plain on the main thread
    # code of the submission's run on the main thread: a builtin it replaced, a thread it left
    # running, a signal handler's lookup (grader.grading.guard.Worker, grader.sandbox.namespaces)
    "forge_structure_from_a_replaced_builtin": ("extra-layers", "eps"),
    "forge_structure_from_a_running_thread": ("crashed", "left a thread of its own running"),
    "forge_structure_from_a_signal_handler": ("crashed", "killed by SIGTERM"),
    # ... or a module it planted in sys.modules for send() to import (grader.sandbox.child binds them)
    "forge_structure_from_a_planted_module": ("extra-layers", "eps"),
    "forge_structure_from_a_patched_tensorspec": ("extra-layers", "eps"),
    "forge_structure_from_a_patched_os_write": ("extra-layers", "eps"),
    "forge_structure_from_a_patched_flush": ("extra-layers", "eps"),
    # the terminal (F6): failing as they should; the table test below renders them
    "ansi_fake_pass_in_output": ("", "\\u001b[2J"),  # JSON: the exact characters, escaped
    "escapes_in_exception_message": ("wrong-output", "PWNED-title"),
    # forged answers (F7, F8): the submission's own malformed answer, reported within seconds
    "forged_answer_huge_structure": ("crashed", "meta is"),
    "forged_answer_bad_shape": ("crashed", "shape is not a list"),
    "forged_answer_many_holders": ("crashed", "meta is"),
    "forged_answer_at_the_limits": ("extra-layers", "[clipped]"),
    "forged_answer_buffers": ("unregistered-buffers", "buffer running_mean: dtype int64, expected float32"),
}
ERROR_KINDS = {"import-error", "crashed"}
REPORT_BYTES = 64_000  # what the table's source (the JSON report) may hold for a forged answer


def check_trusted_side(name: str, result: SubmissionResult) -> None:
    """The outcome `name` (a tests/hostile/ file) must reach; called by tests/test_hostile.py."""
    if name not in TRUSTED:
        return
    outcome, text = TRUSTED[name]
    report = formats.to_json(result)
    if outcome in ERROR_KINDS:
        assert result.error is not None and result.error.kind == outcome, result.error
    elif outcome:
        assert outcome in {p.id for p in result.pitfalls}, [(p.id, p.evidence) for p in result.pitfalls]
    assert text in report, report[:3000]
    assert len(report) < REPORT_BYTES


def test_every_expectation_has_its_hostile_file():
    from test_hostile import NAMES

    assert set(TRUSTED) <= set(NAMES)


# The routes to the runner's state spelled with computed names: the static scan sees none of them,
# so what stops each is the runtime barrier (the worker thread, the namespace restore, the scrubbed
# sys.modules, gc's refusals, the objects kept alive on the main thread, the graph cross-check).
UNFLAGGED = ["forge_structure_through_caller_globals", "forge_input_through_caller_globals",
             "forge_structure_through_frames_in_forward", "forge_structure_through_subclasses",
             "forge_structure_through_sys_modules", "forge_structure_through_gc", "forge_structure_by_patching_json",
             "forge_input_by_patching_tensor_methods", "hide_parameter_from_named_parameters",
             "forge_structure_from_a_finalizer", "forge_structure_from_a_replaced_builtin",
             "forge_structure_from_a_running_thread", "forge_structure_from_a_signal_handler",
             "forge_structure_from_a_planted_module", "forge_structure_from_a_patched_tensorspec",
             "forge_structure_from_a_patched_os_write", "forge_structure_from_a_patched_flush"]


@pytest.mark.parametrize("name", UNFLAGGED)
def test_the_runtime_barriers_are_tested_without_the_static_flags(name):
    from test_hostile import HOSTILE_DIR

    assert forbidden.tampering((HOSTILE_DIR / f"{name}.py").read_text()) == []


# ---- text a human reads: controls made visible, JSON exact ---------------------------------------
NASTY = "ok\x1b[2J\x1b]0;title\x07\x9b31m\u202eevil\u2066\u200b\ufeff\r\ttab\n中文"


def test_controls_and_bidi_are_made_visible_and_json_keeps_the_exact_text():
    shown = visible(NASTY)
    assert not any(c in shown for c in "\x1b\x07\x9b\u202e\u2066\u200b\ufeff\r")
    assert "\\x1b[2J" in shown and "\\u202eevil" in shown and "\ttab\n中文" in shown
    doc = json_safe(json.dumps({"m": NASTY}, ensure_ascii=False))
    assert json.loads(doc)["m"] == NASTY  # the same characters, escaped
    assert not any(c in doc for c in "\x1b\x07\x9b\u202e\u2066\u200b\ufeff") and "中文" in doc


def _nasty_result() -> SubmissionResult:
    check = CheckResult(name="example/forward", kind="forward", hidden=False, passed=False, message=NASTY,
                        example=NASTY)
    pitfall = PitfallResult(id="wrong-output", severity="error", title="t", explanation="e", fix="f", evidence=NASTY)
    return SubmissionResult(task="layernorm", file="a\x1b[8m.py", verdict="fail", score=0, max_score=1,
                            checks=[check], pitfalls=[pitfall], output=NASTY)


@pytest.mark.parametrize("terminal", [True, False])
def test_the_table_shows_no_escape_from_a_submission(terminal, monkeypatch):
    """On a terminal Rich writes its own colour escapes; the submission's never get through."""
    from rich.console import Console

    from grader.render import submit as render

    out = io.StringIO()
    if terminal:
        monkeypatch.setattr(render, "Console", lambda *a, **k: Console(file=out, force_terminal=True, width=120))
        render.result_table(_nasty_result())
    else:
        render.result_table(_nasty_result(), file=out)
    text = out.getvalue()
    for sequence in ("\x1b[2J", "\x1b]0;", "\x1b[8m", "\x9b", "\u202e", "\u2066", "\u200b", "\ufeff", "\r"):
        assert sequence not in text
    assert "\\x1b[2J" in text and "\\u202e" in text and ("\x1b[" in text) == terminal


@pytest.mark.parametrize("fmt", ["json", "gradescope", "exercism"])
def test_json_formats_escape_the_controls_and_keep_the_text(fmt):
    text = formats.render(_nasty_result(), fmt)
    assert not any(c in text for c in "\x1b\x9b\u202e\u2066\u200b\ufeff")
    assert any(NASTY in value for value in _strings(json.loads(text)))  # parsed back: the same characters


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ---- the child's answer: a strict schema, the submission's error when broken --------------------
GOOD = {"error": None, "classes": ["LayerNorm"],
        "structure": {"parameters": [{"name": "weight", "shape": [8], "dtype": "float32", "init": "ones"}],
                      "submodules": [], "mapping": {"weight": "weight"}},
        "probes": {"example": {"error": None, "grad_none": [], "version_bumped": False}}}


@pytest.mark.parametrize("path, value, why", [
    (("structure", "parameters", 0, "shape"), 5, "shape is not a list"),
    (("structure", "parameters", 0, "shape"), [True], "shape is not a list of sizes"),
    (("structure", "parameters", 0, "init"), "twos", "init is not one of"),
    (("structure", "parameters", 0, "name"), "x" * 300, "characters long"),
    (("structure", "submodules"), [{"name": "h", "type": "L"}] * 1001, "limit 1000"),
    (("probes", "example", "version_bumped"), "no", "version_bumped is not"),
    (("probes", "example", "grad_none"), "weight", "grad_none is not a list"),
    (("classes",), [7], "classes[] is not a string"),
    (("traced_ops",), [], "unknown field 'traced_ops'"),
])
def test_a_malformed_answer_is_refused_with_the_place_named(path, value, why):
    meta = json.loads(json.dumps(GOOD))
    target = meta
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(answer.BadAnswer, match=why.replace("[", r"\[").replace("]", r"\]")):
        answer.validate(meta, ["example"])


def test_a_valid_answer_comes_back_clean_and_a_report_for_an_unknown_probe_is_refused():
    assert answer.validate(GOOD, ["example"])["probes"]["example"]["unreported"] == []
    with pytest.raises(answer.BadAnswer, match="does not have"):
        answer.validate(GOOD, ["other"])
    long = json.loads(json.dumps(GOOD))
    long["probes"]["example"]["error"] = "e" * 100_000
    assert len(answer.validate(long, ["example"])["probes"]["example"]["error"]) < 5000


# ---- the judge: an internal error is dlprep's, with the traceback on request --------------------
def test_an_exception_in_the_judge_is_an_internal_error_with_exit_3(builtin_tasks, monkeypatch):
    from grader.grading import checks, judge
    from grader.grading.runner import child_main
    from grader.sandbox.outcome import ChildOutcome
    from safetensors.torch import save
    from test_runner import FUSED

    loaded = builtin_tasks["layernorm"]
    job = {"task": loaded.spec.model_dump(mode="json"), "task_dir": str(loaded.dir), "seed": 3, "device": "cpu",
           "source": FUSED.replace('getattr(F, "layer" + "_norm")(x, self.shape, self.weight, self.bias, self.eps)',
                                   "x * self.weight + self.bias"), "filename": "submission.py", "mode": "grade"}
    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=dict(tensors)))
    outcome = ChildOutcome(status="ok", meta=sent["meta"], tensors=save({k: v.contiguous() for k, v in sent["tensors"].items()}))

    def broken(j, check):
        raise KeyError("a bug of dlprep's own")

    monkeypatch.setitem(checks._MODULE_CHECKS, "structure", broken)
    result = SubmissionResult.from_dict(judge.judge_main(job, outcome))
    assert result.error.kind == "internal-error" and "KeyError" in result.error.message
    assert "Traceback" not in result.error.message and "DLPREP_DEBUG" in result.error.message
    debug = SubmissionResult.from_dict(judge.judge_main({**job, "debug": True}, outcome))
    assert "Traceback" in debug.error.message

    from grader.commands.grading import report_submission

    assert report_submission(result, fmt="json", out=None, lang="en") == 3


def test_a_slow_detector_is_cut_off_and_names_nothing():
    from grader.pitfalls import diagnosis

    def spin(ev):
        while True:
            pass
        yield  # pragma: no cover

    started = time.process_time()
    saved, diagnosis.DETECTOR_CPU_S = diagnosis.DETECTOR_CPU_S, 0.2
    try:
        assert diagnosis._guarded(spin, None) == []
    finally:
        diagnosis.DETECTOR_CPU_S = saved
    assert time.process_time() - started < 2


# ---- the static scan: what reaches the runner's state, what hides a call from the record -------
@pytest.mark.parametrize("source", [
    "import gc\n", "import sys\ng = sys._getframe(1).f_globals\n", "x = f.__globals__\n",
    "c = nn.Module.__subclasses__()\n", "import ctypes\n", "fn.__code__ = other\n", "y = 'f_back'\n",
    "import torch\nlib = torch.library.Library('aten', 'IMPL')\n", "import sys\nsys.settrace(None)\n",
])
def test_reaching_for_the_runners_state_is_flagged_on_every_task(source):
    assert [f.name for f in forbidden.tampering(source)][:1] == [forbidden.TAMPERING]


@pytest.mark.parametrize("source", [
    "import torch._refs\n", "from torch._decomp import decomposition_table\n",
    "import torch\nk = torch._C._dispatch_has_kernel_for_dispatch_key\n", "from torch import library\n",
])
def test_routes_around_a_kernel_override_are_flagged_where_anything_is_forbidden(source):
    assert forbidden.TAMPERING in {f.name for f in forbidden.scan(source, ["layer_norm"])}
    assert forbidden.scan(source, []) == []


def test_honest_code_is_not_flagged():
    source = ("import torch\nimport torch.nn as nn\nclass LayerNorm(nn.Module):\n"
              "    def forward(self, x):\n        gc = x.mean()\n        self.library = 1\n        return x - gc\n")
    assert forbidden.tampering(source) == [] and forbidden.scan(source, ["layer_norm"]) == []


def test_the_forbidden_op_list_comes_from_the_installed_torch():
    from grader.grading import oprecord

    ops = oprecord.forbidden_ops(["layer_norm", "rms_norm"])
    assert {"aten.layer_norm.default", "aten.native_layer_norm.default", "aten.rms_norm.default",
            "aten.native_layer_norm_backward.default"} <= set(ops)
    assert ops == sorted(ops) and len(ops) < oprecord.MAX_CODE
    assert oprecord.decode(bytes([ops.index("aten.rms_norm.default")]) * 3, ["layer_norm", "rms_norm"]) == ["aten.rms_norm.default"]
    assert oprecord.decode(b"\xfe", ["layer_norm"]) == ["an unknown op record (254)"]


def test_displayed_copies_and_leaves_the_original_exact():
    result = _nasty_result()
    shown = displayed(result)
    assert result.output == NASTY and "\x1b" not in shown.output and shown.checks[0].message != NASTY
    assert displayed(ErrorInfo("k", "\x1b")).message == "\\x1b"


def test_walks_stay_refused_while_the_answer_is_sent_without_a_prewarm():
    """A child without a prewarm (batch grading) takes its namespace snapshot on the job's clock:
    gc's walks and sys._current_frames must be refused before it, or restore_all() puts them back
    while the submission's own threads still run during send(). In a process of its own: the
    runner hardens the process it runs in."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = f'''
import gc, os, sys
from pathlib import Path
from grader.bank import catalog
from grader.grading import runner
from grader.grading.submit import job_task
loaded = catalog.load_paths([Path({str(root / "questions" / "tasks")!r})]).tasks["layernorm"]
seed = loaded.spec.default_seed
job = {{"task": job_task(loaded.spec, seed), "task_dir": str(loaded.dir), "filename": "s.py", "seed": seed,
       "device": "cpu", "mode": "grade",
       "source": Path({str(root / "grader" / "mutants" / "layernorm" / "unbiased_variance.py")!r}).read_text()}}
def send(meta, tensors, flush=True):
    for fn in (gc.get_objects, sys._current_frames):
        try:
            fn()
            print("open")
        except RuntimeError:
            print("refused")
send.__module__ = "grader.sandbox.child"
send.record_fd = os.pipe()[1]
runner.child_main(job, send)
'''
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert done.stdout.split() == ["refused", "refused"], done.stderr[-2000:]


def test_the_runtime_barriers_hold_in_a_batchs_children(tmp_path):
    """`dlprep grade` forks its children from a zygote that prepared the task and took the
    namespaces' snapshot once (grader.grading.runner.prepare): every route still ends where it does
    under `submit`, and a correct submission graded after them in the same batch still passes."""
    from test_hostile import HOSTILE_DIR

    from grader.grading import batch as batches
    from tests import batch_class

    layernorm = [n for n in UNFLAGGED if "class LayerNorm" in (HOSTILE_DIR / f"{n}.py").read_text()]
    assert len(layernorm) >= 6
    for name in layernorm:
        (tmp_path / f"{name}.py").write_text((HOSTILE_DIR / f"{name}.py").read_text())
    (tmp_path / "zz_correct.py").write_text(batch_class.source("correct", batch_class.CORRECT[0]))
    result = batches.grade_paths([tmp_path], "layernorm", jobs=1, use_cache=False)
    by_name = {s.name.removesuffix(".py"): s.result for s in result.submissions}
    for name in layernorm:
        check_trusted_side(name, by_name[name])
    assert by_name["zz_correct"].verdict == "pass"
