"""The static AST rules (grader/pitfalls/static.py) on source text alone: no torch, no child.

Each rule names the line and the code that makes the mistake; the look-alikes that are right
(correction=0, eps inside the sqrt, writes into the module's own tensors) stay silent.
"""
from __future__ import annotations

import textwrap

import pytest

from grader.pitfalls.static import DETACH_IDS, scan


def norm_class(forward: str, init: str = "") -> str:
    """A LayerNorm class whose forward body is `forward` (and extra __init__ lines)."""
    return textwrap.dedent('''\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class LayerNorm(nn.Module):
            def __init__(self, n, eps=1e-5):
                super().__init__()
                self.eps = eps
        {init}
            def forward(self, x):
        {forward}
        ''').format(init=textwrap.indent(textwrap.dedent(init), " " * 8),
                    forward=textwrap.indent(textwrap.dedent(forward), " " * 8))


def found(source: str, class_name: str = "LayerNorm") -> list[tuple[tuple[str, ...], str]]:
    return [(f.ids, f.code) for f in scan(source, class_name)]


@pytest.mark.parametrize("line, pitfall, code", [
    ("s = x.std(-1, keepdim=True)", "unbiased-variance", "x.std(-1, keepdim=True)"),
    ("v = torch.var(x, dim=-1)", "unbiased-variance", "torch.var(x, dim=-1)"),
    ("v, m = torch.var_mean(x, -1, correction=1)", "unbiased-variance", "torch.var_mean(x, -1, correction=1)"),
    ("y = x / (std + self.eps)", "eps-outside-sqrt", "std + self.eps"),
    ("y = x / (v.sqrt() + 1e-5)", "eps-outside-sqrt", "v.sqrt() + 1e-5"),
    ("y = x / (v ** 0.5 + eps)", "eps-outside-sqrt", "v ** 0.5 + eps"),
    ("m = x.mean(dim=1, keepdim=True)", "wrong-normalized-dims", "x.mean(dim=1, keepdim=True)"),
    ("m = x.mean(1)", "wrong-normalized-dims", "x.mean(1)"),
    ("y = F.relu(x)", "extra-activation", "F.relu(x)"),
    ("y = x.clamp(min=0)", "extra-activation", "x.clamp(min=0)"),
    ("x += 1", "modifies-input", "x += 1"),
    ("x[0] = 0", "modifies-input", "x[0] = 0"),
    ("x.sub_(x.mean(-1, keepdim=True))", "modifies-input", "x.sub_(x.mean(-1, keepdim=True))"),
])
def test_rule_names_the_mistake_and_its_code(line, pitfall, code):
    assert ((pitfall,), code) in found(norm_class(line))


@pytest.mark.parametrize("line", [
    "v = x.var(-1, keepdim=True, unbiased=False)",
    "v = x.var(-1, keepdim=True, correction=0)",
    "v = torch.var(x, -1, False, True)",
    "y = x / torch.sqrt(var + self.eps)",
    "y = x + 1e-5",  # adding a small constant to something that is not a std
    "m = x.mean(dim=-1, keepdim=True)",
    "m = x.mean(dim=(-2, -1))",
    "out = x * 2\nout += 1",  # a write into its own tensor, not the input
    "y = torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)",
])
def test_right_code_is_silent(line):
    assert found(norm_class(line)) == []


def test_the_article_layernorm_is_read_line_by_line(article_layernorm):
    by_id = {}
    for f in scan(article_layernorm, "LayerNorm"):
        by_id.setdefault(f.ids[0], []).append(f.evidence)
    assert by_id["extra-layers"] == ["line 7: nn.Linear(channels, channels)", "line 8: nn.Linear(channels, channels)"]
    assert by_id["extra-activation"][0] == "line 9: nn.ReLU()"
    assert by_id["unbiased-variance"] == ["line 13: x.std(dim=1, keepdim=True)"]
    assert by_id["eps-outside-sqrt"] == ["line 14: std + 1e-5"]
    assert "line 12: x.mean(dim=1, keepdim=True)" in by_id["wrong-normalized-dims"]


def test_layers_and_activations_count_only_inside_a_normalization_module(article_residual):
    """nn.Linear and nn.ReLU are the residual block's business: no finding there."""
    assert scan(article_residual, "ResidualBlock") == []


@pytest.mark.parametrize("line", [
    "m = x.mean(-1, keepdim=True).detach()",
    "m = x.data.mean(-1, keepdim=True)",
    "with torch.no_grad():\n    m = x.mean(-1, keepdim=True)",
    "with torch.inference_mode():\n    m = x.mean(-1, keepdim=True)",
])
def test_detaching_in_forward_may_show_any_detach_pitfall(line):
    assert [ids for ids, _ in found(norm_class(line))] == [DETACH_IDS]


def test_a_write_through_data_is_a_write_not_a_detach():
    assert found(norm_class("x.data.copy_(x.data * 2)")) == [(("modifies-input",), "x.data.copy_(x.data * 2)")]


def test_inplace_true_anywhere_in_the_class():
    source = norm_class("return self.act(x)", init="self.act = nn.ReLU(inplace=True)")
    assert (("modifies-input",), "nn.ReLU(inplace=True)") in found(source)


def test_only_the_tasks_class_is_read_when_present():
    source = norm_class("return x") + "\nclass Helper:\n    def f(self, x):\n        return x.std()\n"
    assert found(source) == []
    assert found(source, "Missing")  # no such class: every class is read


def test_unparsable_source_has_no_findings():
    assert scan("def broken(:\n", "LayerNorm") == []


def test_findings_carry_line_numbers_and_clip_long_code():
    long_call = "v = x.var(-1, keepdim=True, " + ", ".join(f"k{i}=0" for i in range(20)) + ")"
    (finding,) = scan(norm_class(long_call), "LayerNorm")
    assert finding.line == 11 and finding.evidence.startswith("line 11: x.var(")
    assert finding.code.endswith("...") and len(finding.code) <= 70


@pytest.fixture(scope="module")
def article_layernorm() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "golden" / "article-layernorm" / "submission.py").read_text()


@pytest.fixture(scope="module")
def article_residual() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "golden" / "article-residual-block" / "submission.py").read_text()
