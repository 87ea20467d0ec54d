"""The forbidden built-ins scan: names reached from torch, with their lines; the task's own class
name and unrelated attributes are not findings."""
from __future__ import annotations

import pytest

from grader.grading.forbidden import scan, traced_matches

NAMES = ["layer_norm", "LayerNorm", "group_norm", "rms_norm", "RMSNorm", "native_layer_norm"]


@pytest.mark.parametrize(
    "line, text",
    [
        ("y = F.layer_norm(x, s)", "F.layer_norm"),
        ("y = torch.nn.functional.group_norm(x, 1)", "torch.nn.functional.group_norm"),
        ("self.norm = nn.LayerNorm(n)", "nn.LayerNorm"),
        ("y = torch.ops.aten.native_layer_norm(x, s, None, None, 1e-5)", "torch.ops.aten.native_layer_norm"),
        ("y = getattr(F, 'rms_norm')(x, s)", "getattr(F, 'rms_norm')"),
        ("class Norm(nn.RMSNorm): pass", "nn.RMSNorm"),
    ],
)
def test_forbidden_uses_are_found_with_their_line(line, text):
    source = f"import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n{line}\n"
    assert [(f.line, f.text) for f in scan(source, NAMES)] == [(4, text)]


def test_an_import_from_torch_is_a_finding():
    source = "from torch.nn import LayerNorm as LN\nfrom torch.nn.functional import layer_norm\n"
    assert [(f.line, f.name) for f in scan(source, NAMES)] == [(1, "LayerNorm"), (2, "layer_norm")]


def test_own_class_and_other_objects_are_fine():
    source = (
        "import torch.nn as nn\n"
        "class LayerNorm(nn.Module):\n"
        "    def __init__(self):\n"
        "        super(LayerNorm, self).__init__()\n"
        "        self.layer_norm = 1\n"
        "    def forward(self, x):\n"
        "        return self.layer_norm * x  # layer_norm in a comment\n"
    )
    assert scan(source, NAMES) == []


def test_unparsable_source_has_no_findings():
    assert scan("def f(:\n", NAMES) == []


def test_traced_ops_match_by_regex():
    ops = ["aten.add.Tensor", "aten.native_layer_norm.default", "aten.mean.dim"]
    assert traced_matches(ops, ["layer_norm", "batch_norm"]) == ["aten.native_layer_norm.default"]
    assert traced_matches(ops, []) == []
