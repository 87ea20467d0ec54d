"""The submit flow through the real sandbox: correct LayerNorms in several styles pass, wrong ones
fail with the check that shows it, and a file is refused or its task inferred before any grading."""
from __future__ import annotations

import os
import re
import textwrap

import pytest

from grader.errors import UsageError
from grader.grading.submit import defined_classes, grade_file, grade_source, read_submission

HEADER = "import torch\nimport torch.nn as nn\n\n\n"

VAR_BIASED = """
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.dims = tuple(range(-len(shape), 0))
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        mean = x.mean(self.dims, keepdim=True)
        var = x.var(self.dims, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
"""

TWO_PASS_BY_HAND = """
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = [normalized_shape]
        self.shape = list(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(*self.shape))
        self.bias = nn.Parameter(torch.zeros(*self.shape))

    def forward(self, x):
        flat = x.reshape(*x.shape[: x.dim() - len(self.shape)], -1)  # (..., n)
        n = flat.shape[-1]
        mean = flat.sum(-1, keepdim=True) / n
        centred = flat - mean
        var = (centred * centred).sum(-1, keepdim=True) / n
        y = centred * torch.rsqrt(var + self.eps)
        return y.reshape(x.shape) * self.weight + self.bias
"""

AUTOGRAD_FUNCTION = """
class _Normalize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, eps):
        mean = x.mean(-1, keepdim=True)
        xc = x - mean
        rstd = torch.rsqrt((xc * xc).mean(-1, keepdim=True) + eps)
        y = xc * rstd
        ctx.save_for_backward(y, rstd)
        return y

    @staticmethod
    def backward(ctx, g):
        y, rstd = ctx.saved_tensors
        n = y.shape[-1]
        gx = rstd / n * (n * g - g.sum(-1, keepdim=True) - y * (g * y).sum(-1, keepdim=True))
        return gx, None


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        lead = x.shape[: x.dim() - len(self.shape)]
        y = _Normalize.apply(x.reshape(*lead, -1), self.eps).reshape(x.shape)
        return y * self.weight + self.bias
"""

GAMMA_BETA = VAR_BIASED.replace("self.weight", "self.gamma").replace("self.bias", "self.beta")

FLOAT64_INSIDE = """
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.dims = tuple(range(-len(shape), 0))
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        x64 = x.double()
        mean = x64.mean(self.dims, keepdim=True)
        var = ((x64 - mean) ** 2).mean(self.dims, keepdim=True)
        y = ((x64 - mean) / torch.sqrt(var + self.eps)).to(x.dtype)
        return y * self.weight + self.bias
"""

UNBIASED = VAR_BIASED.replace("unbiased=False", "unbiased=True")
EPS_OUTSIDE = VAR_BIASED.replace("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)")
ONE_PASS = VAR_BIASED.replace(
    "var = x.var(self.dims, unbiased=False, keepdim=True)",
    "var = (x * x).mean(self.dims, keepdim=True) - mean * mean",
)
IN_PLACE = VAR_BIASED.replace(
    "mean = x.mean(self.dims, keepdim=True)", "mean = x.mean(self.dims, keepdim=True)\n        x -= 0.0 * mean; x.mul_(1.0001)"
)
FUSED = """
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)
"""
HIDDEN_FUSED = FUSED.replace("F.layer_norm(", 'getattr(F, "layer_" + "norm")(')


def grade(source, sandbox, task):
    return grade_source(HEADER + textwrap.dedent(source), "submission.py", task, sandbox, deadline_s=20)


def failed(result) -> set[str]:
    return {c.name for c in result.checks if not c.passed}


def covering(result, family: str, kind: str) -> set[str]:
    """The `kind` checks of the drawn probes covering `family` (their names join the families)."""
    return {c.name for c in result.checks if c.kind == kind and family in c.name.rsplit("/", 1)[0].split(".")}


@pytest.mark.parametrize(
    "source", [VAR_BIASED, TWO_PASS_BY_HAND, AUTOGRAD_FUNCTION, GAMMA_BETA, FLOAT64_INSIDE],
    ids=["var-unbiased-false", "two-pass-by-hand", "autograd-function", "gamma-beta", "float64-inside"],
)
def test_correct_layernorms_pass(source, sandbox, builtin_tasks):
    result = grade(source, sandbox, builtin_tasks["layernorm"])
    assert failed(result) == set()
    assert result.verdict == "pass"
    assert result.score == result.max_score > 20


def test_gamma_beta_names_are_matched_by_their_initial_values(sandbox, builtin_tasks):
    result = grade(GAMMA_BETA, sandbox, builtin_tasks["layernorm"])
    assert result.verdict == "pass"
    assert {c.name for c in result.checks} >= {"structure", "init"}


@pytest.mark.parametrize(
    "source, must_fail",
    [
        (UNBIASED, [("tuple-2d", "forward"), ("prime-n", "forward")]),
        (EPS_OUTSIDE, [("small-variance", "forward"), ("small-variance", "backward"), ("constant-rows", "backward")]),
        (ONE_PASS, [("offset", "forward")]),
        (IN_PLACE, ["input-unchanged"]),
        (FUSED, ["forbidden-ops"]),
        (HIDDEN_FUSED, ["forbidden-ops"]),
    ],
    ids=["unbiased", "eps-outside-sqrt", "one-pass-variance", "in-place", "fused", "fused-via-getattr"],
)
def test_wrong_layernorms_fail_where_the_bug_shows(source, must_fail, sandbox, builtin_tasks):
    """Every check of the families that show the bug fails (a whole-module check by its name)."""
    result = grade(source, sandbox, builtin_tasks["layernorm"])
    assert result.verdict == "fail"
    wanted = set().union(*({w} if isinstance(w, str) else covering(result, *w) for w in must_fail))
    assert wanted and wanted <= failed(result)


def test_one_pass_variance_passes_the_tight_probes(sandbox, builtin_tasks):
    """Only the offset probe separates it: its tolerance is loose but NaN is still caught."""
    result = grade(ONE_PASS, sandbox, builtin_tasks["layernorm"])
    assert "rows-2d/forward" not in failed(result)


def test_forbidden_builtin_names_the_line(sandbox, builtin_tasks):
    result = grade(FUSED, sandbox, builtin_tasks["layernorm"])
    check = next(c for c in result.checks if c.name == "forbidden-ops")
    line = (HEADER + FUSED).splitlines().index("        return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)") + 1
    assert f"line {line}: F.layer_norm" in check.message
    assert "called: aten.layer_norm.default" in check.message  # recorded by the dispatcher, at the call


def test_hidden_checks_reveal_no_inputs_public_ones_show_worst_elements(sandbox, builtin_tasks):
    result = grade(UNBIASED, sandbox, builtin_tasks["layernorm"])
    public = next(c for c in result.checks if c.name == "example/forward")
    hidden = next(c for c in result.checks if c.hidden and c.kind == "forward" and "tuple-2d" in c.name)
    assert not public.hidden and public.shape == [2, 4] and public.mismatched and public.total == 8
    assert public.worst and all(m.got is not None and m.expected is not None for m in public.worst)
    assert hidden.hidden and hidden.worst == [] and hidden.shape is None
    assert hidden.max_abs_err > 1e-5  # the error size is reported, the values are not
    assert "% of the elements off" in hidden.message and "/ 128" not in hidden.message  # nor the size
    assert re.fullmatch(r"output: [1-8] / 8 elements off", public.message)


def test_the_articles_layernorm_fails_and_its_residual_block_passes(sandbox, builtin_tasks):
    from pathlib import Path

    golden = Path(__file__).parent / "golden"
    ln = grade_file(golden / "article-layernorm/submission.py", "layernorm", sandbox=sandbox)
    rb = grade_file(golden / "article-residual-block/submission.py", "residual-block", sandbox=sandbox)
    assert ln.verdict == "fail" and "structure" in failed(ln)
    assert rb.verdict == "pass" and rb.score == rb.max_score


def test_a_residual_block_with_a_detached_skip_fails_backward(sandbox, builtin_tasks):
    source = """
    class ResidualBlock(nn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.fc1 = nn.Linear(in_channels, in_channels)
            self.fc2 = nn.Linear(in_channels, in_channels)

        def forward(self, x):
            return torch.relu(self.fc2(torch.relu(self.fc1(x))) + x.detach())
    """
    result = grade(source, sandbox, builtin_tasks["residual-block"])
    assert result.verdict == "fail"
    assert not any(c.kind == "forward" and not c.passed for c in result.checks)
    assert any(c.hidden and c.kind == "backward" and not c.passed for c in result.checks)


def test_a_probe_whose_construction_fails_fails_alone(sandbox, builtin_tasks):
    source = VAR_BIASED.replace("def __init__(self, normalized_shape, eps=1e-5):", "def __init__(self, normalized_shape):").replace(
        "self.eps = eps", "self.eps = 1e-5"
    )
    result = grade(source, sandbox, builtin_tasks["layernorm"])
    eps_probes = {c.name for c in result.checks if c.kind in ("forward", "backward")
                  and any(f.startswith("eps-") for f in c.name.rsplit("/", 1)[0].split("."))}
    assert eps_probes and failed(result) == eps_probes  # built with an eps: those alone fail
    message = next(c.message for c in result.checks if c.name in eps_probes and c.kind == "forward")
    assert "TypeError" in message and re.search(r"LayerNorm\(.*(eps=|, )[0-9.e-]+\)", message)


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        grade_file(tmp_path / "nope.py", "layernorm")


@pytest.mark.parametrize(
    "content, why", [(b"\xff\xfe bad", "not UTF-8"), (b"#" * 1_000_001, "at most 1000000 bytes")]
)
def test_bad_file_is_refused_before_any_sandbox_work(tmp_path, content, why):
    path = tmp_path / "sub.py"
    path.write_bytes(content)
    result = grade_file(path, "layernorm", sandbox=object())  # a sandbox that cannot run anything
    assert result.verdict == "error" and result.error.kind == "bad-file" and why in result.error.message
    assert read_submission(path)[1]


def test_a_pipe_or_device_is_a_bad_file_and_nothing_to_watch(tmp_path):
    """Never opened: a FIFO's open waits for a writer, /dev/zero never ends. It was reported as
    "no such file" (and --watch of one would have waited for ever)."""
    from grader.grading.watch import watch

    fifo = tmp_path / "sub.py"
    os.mkfifo(fifo)
    device = tmp_path / "zero.py"
    device.symlink_to("/dev/zero")
    for path in (fifo, device):
        why = f"{path.name} is not a regular file (a pipe, socket or device); submit the .py file itself"
        assert read_submission(path) == ("", why)
        result = grade_file(path, "layernorm", sandbox=object())  # a sandbox that cannot run anything
        assert (result.verdict, result.error.kind, result.error.message) == ("error", "bad-file", why)
        with pytest.raises(UsageError, match="not a regular file"):
            watch(path, lambda result, since: 0, task_id="layernorm", sandbox=object())


def test_a_byte_order_mark_is_not_part_of_the_source(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfclass LayerNorm: pass\n")
    assert read_submission(path) == ("class LayerNorm: pass\n", "")


def test_the_task_is_inferred_from_the_class_defined():
    assert defined_classes(HEADER + VAR_BIASED) == {"LayerNorm"}
    assert defined_classes("class ResidualBlock(nn.Module):\n    def f(self:\n") == {"ResidualBlock"}


def test_inference_and_unknown_tasks(tmp_path, builtin_tasks, monkeypatch):
    from grader.grading import submit

    monkeypatch.setattr("grader.bank.catalog.load_catalog", lambda paths=None: type("C", (), {"tasks": builtin_tasks}))
    assert submit.find_task("class ResidualBlock: pass", None, None).spec.id == "residual-block"
    with pytest.raises(UsageError, match="no task matches"):
        submit.find_task("class Foo: pass", None, None)
    with pytest.raises(UsageError, match="unknown task"):
        submit.find_task("", "layer-norm", None)


def test_an_instructors_task_with_its_reference_beside_the_yaml(tmp_path, sandbox):
    from pathlib import Path

    from grader.bank import catalog as banks

    root = Path(__file__).resolve().parent.parent
    text = (root / "questions/tasks/residual-block.yaml").read_text(encoding="utf-8")
    text = text.replace("id: residual-block", "id: my-block").replace(
        '"grader.references.residual_block:ResidualBlock"', '"ref_block.py:ResidualBlock"')
    (tmp_path / "my-block.yaml").write_text(text, encoding="utf-8")
    reference = (root / "grader/references/residual_block.py").read_text(encoding="utf-8")
    (tmp_path / "ref_block.py").write_text(reference.replace("F.relu(branch + x)", "F.relu(branch) + x"), encoding="utf-8")
    task = banks.load_paths([tmp_path]).tasks["my-block"]
    article = (root / "tests/golden/article-residual-block/submission.py").read_text()
    result = grade_source(article, "submission.py", task, sandbox, deadline_s=20)
    assert result.task == "my-block" and result.verdict == "fail"  # this instructor's block adds x after the ReLU
    assert any(c.hidden and c.kind == "forward" and not c.passed for c in result.checks)


def test_reports_are_deterministic_even_for_a_submissions_own_random_init(sandbox, builtin_tasks):
    from pathlib import Path

    source = (Path(__file__).parent / "golden/article-layernorm/submission.py").read_text()
    first, second = (grade_source(source, "a.py", builtin_tasks["layernorm"], sandbox, deadline_s=20) for _ in range(2))
    assert [(c.name, c.max_abs_err) for c in first.checks] == [(c.name, c.max_abs_err) for c in second.checks]


@pytest.mark.parametrize("deep, raised", [("1+" * 100_000 + "1", "RecursionError"), ("-" * 100_000 + "1", "MemoryError")],
                         ids=["binop", "unary"])
def test_a_source_nested_past_pythons_limits_is_a_syntax_error(deep, raised, sandbox, builtin_tasks):
    result = grade_source(HEADER + VAR_BIASED + f"\nX = {deep}\n", "deep.py", builtin_tasks["layernorm"], sandbox)
    assert (result.error.kind, result.error.message) == (
        "syntax-error", f"Python cannot compile this source: it is nested too deeply ({raised})")


def test_tampering_nested_too_deeply_to_spell_is_judged_not_an_internal_error(sandbox, builtin_tasks):
    """ast.parse takes an expression ~2000 levels deep; ast.unparse, which spells a finding, recurses
    per level. Such a reach for a frame ended the judgement as dlprep's internal error."""
    source = HEADER + VAR_BIASED + "\n\ndef peek(a):\n    return (a" + " + a" * 2000 + ").f_back\n"
    result = grade_source(source, "deep.py", builtin_tasks["layernorm"], sandbox)
    assert result.error is None and result.verdict == "fail"
    assert any("<attribute nested too deeply to show> reaches into the grader's own state" in c.message
               for c in result.checks if not c.passed)


def test_many_helper_classes_are_graded_and_a_lookalike_name_is_spelled_out(sandbox, builtin_tasks):
    """5000 helper classes beside the LayerNorm were reported as a malformed answer (the judge takes
    200 class names); a class named with a Cyrillic о reads, in the message, just like the name it
    misses, so it is spelled out."""
    many = HEADER + VAR_BIASED + "\n" + "\n".join(f"class Helper{i}: pass" for i in range(5000)) + "\n"
    assert grade_source(many, "many.py", builtin_tasks["layernorm"], sandbox).verdict == "pass"
    lookalike = (HEADER + VAR_BIASED).replace("class LayerNorm", "class LayerN\u043erm")
    result = grade_source(lookalike, "cyrillic.py", builtin_tasks["layernorm"], sandbox)
    assert result.error.kind == "missing-class"
    assert result.error.message == ("class LayerNorm is not defined (classes found: LayerN\u043erm "
                                    "(written 'LayerN\\u043erm'))")
