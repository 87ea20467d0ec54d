"""The forbidden built-ins scan: names reached from torch, with their lines; the task's own class
name and unrelated attributes are not findings."""
from __future__ import annotations

import pytest

from grader.grading.forbidden import autograd_uses, scan, tampering, traced_matches
from grader.grading.submit import defined_classes

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


# Past the parser's limits: ast.parse raises RecursionError for the first, MemoryError for the
# second (Python 3.11), neither a SyntaxError.
TOO_DEEP = ["x = " + "1+" * 100_000 + "1\n", "x = " + "-" * 100_000 + "1\n"]


@pytest.mark.parametrize("deep", TOO_DEEP, ids=["binop", "unary"])
def test_a_source_nested_past_the_parsers_limits_has_no_findings_and_its_classes_are_read(deep):
    source = "import torch\nclass LayerNorm(torch.nn.Module):\n    pass\n" + deep
    assert scan(source, NAMES) == [] and tampering(source) == [] and autograd_uses(source) == []
    assert defined_classes(source) == {"LayerNorm"}  # read line by line, as for a syntax error


def test_a_finding_too_deeply_nested_to_spell_is_still_a_finding():
    """ast.parse takes an expression a few thousand levels deep; ast.unparse recurses per level."""
    deep = "(a" + " + a" * 1500 + ")"
    source = f"import torch\n\ndef f(a):\n    return {deep}.f_back, torch.relu({deep}).layer_norm\n"
    too_deep = "<attribute nested too deeply to show>"
    assert [(f.line, f.text) for f in tampering(source)] == [(4, too_deep)]
    assert [(f.line, f.name, f.text) for f in scan(source, NAMES)] == [(4, "layer_norm", too_deep)]


def test_traced_ops_match_by_regex():
    ops = ["aten.add.Tensor", "aten.native_layer_norm.default", "aten.mean.dim"]
    assert traced_matches(ops, ["layer_norm", "batch_norm"]) == ["aten.native_layer_norm.default"]
    assert traced_matches(ops, []) == []


# -- the main guard (issue 9): what only `if __name__ == "__main__":` reaches is exempt ------------------
SELF_TEST = '''import torch
import torch.nn as nn
{imports}

class LayerNorm(nn.Module):
    def forward(self, x):
        return x{forward}


def compare(n):
    ref = {ref}(n)
    return torch.allclose(LayerNorm()(torch.ones(n)), ref(torch.ones(n)))


def self_test():
    assert compare(4)


if {guard}:
    self_test()
'''


def _self_test(imports="", forward="", ref="nn.LayerNorm", guard='__name__ == "__main__"'):
    return SELF_TEST.format(imports=imports, forward=forward, ref=ref, guard=guard)


@pytest.mark.parametrize("source", [
    _self_test(),  # a function called only from the guard, and a function only it calls
    _self_test(guard='"__main__" == __name__'),  # either comparison order
    _self_test(imports="from torch.nn import LayerNorm as TorchLN", ref="TorchLN"),  # an import only they use
    _self_test(imports="from torch.nn import Linear, LayerNorm as TorchLN", ref="TorchLN"),  # one name of several
])
def test_what_only_the_main_guard_reaches_is_exempt(source):
    assert scan(source, NAMES) == []


@pytest.mark.parametrize("source, line", [
    (_self_test(forward=" + compare(4)"), 11),  # forward calls the helper too: not only the guard's
    (_self_test(imports="from torch.nn import LayerNorm as TorchLN", ref="TorchLN",
                forward=" + TorchLN(1)(x)"), 3),  # the import is used by forward as well
    (_self_test(guard='__name__ != "__main__"'), 11),  # not the guard
    (_self_test() + "__name__ = '__main__'\n", 11),  # a file that rebinds __name__ runs its guard
    (_self_test().replace("def compare", "def unused():\n    pass\n\n\ndef compare").replace(
        "assert compare(4)", "assert compare(4)\n\n\ncompare(2)"), 15),  # called at import
])
def test_what_else_reaches_stays_a_finding(source, line):
    assert line in [f.line for f in scan(source, NAMES)]


def test_the_graded_class_is_never_exempt_though_only_the_guard_builds_it():
    source = ("import torch.nn.functional as F\nimport torch.nn as nn\n\n\nclass LayerNorm(nn.Module):\n"
              "    def forward(self, x):\n        return F.layer_norm(x, x.shape[-1:])\n\n\n"
              "if __name__ == '__main__':\n    LayerNorm()\n")
    assert [(f.line, f.text) for f in scan(source, NAMES)] == [(7, "F.layer_norm")]
