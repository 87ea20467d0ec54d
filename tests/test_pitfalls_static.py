"""The static AST rules (grader/pitfalls/static.py) on source text alone: no torch, no child.

Each rule names the line and the code that makes the mistake; the look-alikes that are right
(correction=0, eps inside the sqrt, writes into the module's own tensors) stay silent.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.grading.forbidden import walk
from grader.pitfalls.static import DETACH_IDS, scan, segment

ROOT = Path(__file__).resolve().parent.parent


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


# -- reading the tree fast, and the same way in every process --------------------------------------
CORPUS = sorted((Path(__file__).parent / "redteam").rglob("*.py")) + sorted((Path(__file__).parent / "hostile").glob("*.py"))


def _variants(source: str) -> list[str]:
    """The source as written, with CRLF and CR line ends, and after a form feed and non-ASCII text
    (offsets count UTF-8 bytes; get_source_segment splits on \\r\\n, \\r and \\n only)."""
    return [source, "\x0c# é 中文\r\n" + source.replace("\n", "\r\n"), source.replace("\n", "\r")]


def test_the_corpus_is_there():
    assert len(CORPUS) > 100


def test_walk_and_segment_are_ast_walk_and_get_source_segment():
    """forbidden.walk and static.segment, the judge's faster twins, give exactly what the standard
    library's give, node for node, in the same order."""
    nodes = 0
    for path in CORPUS[::8]:  # get_source_segment takes ~0.3 ms a node: an eighth of the files
        for source in _variants(path.read_text(encoding="utf-8")):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            walked = walk(tree)
            assert [id(n) for n in walked] == [id(n) for n in ast.walk(tree)], path
            assert [segment(source, n) for n in walked] == [ast.get_source_segment(source, n) for n in walked], path
            nodes += len(walked)
    assert nodes > 5_000


TWO_DETACHES = norm_class("return (x - x.mean(-1, keepdim=True).detach()) * x.abs().detach()")


def test_findings_come_out_in_one_order_whatever_the_hash_seed():
    """Two findings on one line came out of a set in the order of their strings' hashes, which
    Python seeds afresh in each process: a batch's two judges could name different evidence for the
    same file. Now they are sorted by line, ids and code (and forbidden's by line, text and name)."""
    script = ("import sys, json; sys.path.insert(0, sys.argv[1]); from grader.pitfalls import static; "
              "from grader.grading import forbidden; src = sys.stdin.read(); "
              "print(json.dumps([[f.code for f in static.scan(src, 'LayerNorm')], "
              "[f.text for f in forbidden.tampering(src)]]))")
    source = TWO_DETACHES + "\nimport gc, ctypes; names = ['_getframe', 'f_back', 'gc', '__code__', 'settrace']\n"
    seen = {subprocess.run([sys.executable, "-c", script, str(ROOT)], input=source, capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(6)}
    assert len(seen) == 1
    codes, texts = json.loads(seen.pop())
    assert codes == sorted(codes) and len(codes) == 2 and texts == sorted(texts) and len(texts) >= 6
