"""Find forbidden built-ins: statically in the source (AST, with line numbers) and among the aten ops
traced in the child. The static finding fails a submission; the traced ops are evidence that catches
what the AST cannot see (getattr with a computed name). Tracing is not a security boundary: the child
reports it, so it can only ever count against the submission.

A name counts only when it is reached from torch (`nn.LayerNorm`, `F.layer_norm`,
`from torch.nn import LayerNorm`, `getattr(F, "layer_norm")`), so the task's own class named
`LayerNorm` and `super(LayerNorm, self)` are fine. So is a self-test under
`if __name__ == "__main__":` comparing with torch's own module: that block never runs when graded
(the submission is imported as `submission`), unless the file rebinds `__name__`.

Because the trace is the child's own report, a submission can switch it off (patch the grader's
recorder, pop torch's dispatch mode) and hide a fused norm reached by a computed name. Two
tripwires make that fail instead of pass, where anything is forbidden: reaching for the grader's
modules or the dispatch-mode switches in the source, and a trace that came back empty although
forward produced outputs (every torch computation dispatches aten ops). Determined obfuscation can
still beat them; they make the easy ways fail.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    line: int
    name: str  # the forbidden name
    text: str  # how the source spells it, e.g. "F.layer_norm"


def scan(source: str, names: list[str]) -> list[Finding]:
    """Uses of the forbidden `names` reached from torch, in source order. A file that does not parse
    has no findings (it fails as a syntax error instead)."""
    return list(_scan(source, tuple(names)))


# The judge scans each submission twice (the forbidden-ops check, the forbidden-builtin detector);
# parsing and walking the tree several times is ~1 ms a scan. Findings are frozen: safe to share.
@functools.lru_cache(maxsize=8)
def _scan(source: str, names: tuple[str, ...]) -> tuple[Finding, ...]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    forbidden = set(names)
    aliases = _torch_aliases(tree)
    skipped = _main_block_nodes(tree)
    findings = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            findings += [Finding(node.lineno, a.name, f"from {node.module} import {a.name}")
                         for a in node.names if a.name in forbidden]
        elif isinstance(node, ast.Attribute) and node.attr in forbidden and _root(node) in aliases:
            findings.append(Finding(node.lineno, node.attr, ast.unparse(node)))
        elif isinstance(node, ast.Call) and _is_getattr_of_torch(node, aliases, forbidden):
            findings.append(Finding(node.lineno, node.args[1].value, ast.unparse(node)))
    if forbidden:
        findings += _tampering(tree)
    return tuple(sorted(set(findings), key=lambda f: (f.line, f.text)))


def trace_gap(ops: list, produced_output: bool) -> str | None:
    """Why the child's op trace cannot be believed, or None: no op at all recorded while forward
    returned tensors means the recorder was switched off."""
    if produced_output and not ops:
        return "the op trace came back empty although forward returned outputs (the trace was tampered with)"
    return None


# What only a submission hiding from the op trace reaches for: torch's switches for dispatch modes
# and the grader's recorder. (Importing grader itself is caught by module name.)
_TRACE_SWITCHES = {"_python_dispatch", "_pop_torch_dispatch_stack", "_push_on_torch_dispatch_stack",
                   "_unset_dispatch_mode", "_set_dispatch_mode", "_DisableTorchDispatch", "_disable_current_modes",
                   "_pop_mode_temporarily", "OpRecorder", "TorchDispatchMode"}
_GRADER_MODULE = re.compile(r"^grader(\.|$)")
TAMPERING = "grader internals"  # Finding.name of a tampering finding


def _tampering(tree: ast.Module) -> list[Finding]:
    """Reaching into the grader or torch's dispatch-mode machinery: `import grader.grading.runner`,
    `sys.modules["grader.grading.runner"]`, `torch._C._pop_torch_dispatch_mode()`. Docstrings and other
    bare string statements are prose, not access."""
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hit = any(_GRADER_MODULE.match(a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            hit = bool(_GRADER_MODULE.match(node.module or "")) or any(a.name in _TRACE_SWITCHES for a in node.names)
        elif isinstance(node, ast.Attribute):
            hit = node.attr in _TRACE_SWITCHES
        elif isinstance(node, ast.Name):
            hit = node.id in _TRACE_SWITCHES
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            hit = bool(_GRADER_MODULE.match(node.value)) or node.value in _TRACE_SWITCHES
        else:
            hit = False
        if hit:
            found.append(Finding(node.lineno, TAMPERING, ast.unparse(node)[:70]))
    return found


def traced_matches(ops: list[str], patterns: list[str]) -> list[str]:
    """The traced aten op names (e.g. "aten.native_layer_norm.default") matching any pattern."""
    compiled = [re.compile(p) for p in patterns]
    return sorted({op for op in ops if isinstance(op, str) and any(c.search(op) for c in compiled)})


def _torch_aliases(tree: ast.AST) -> set[str]:
    """Local names bound to torch or one of its submodules (torch, nn, F, ...)."""
    aliases = {"torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "torch":
                    aliases.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            aliases.update(a.asname or a.name for a in node.names)
    return aliases


def _main_block_nodes(tree: ast.Module) -> set[int]:
    """The nodes inside the bodies of top-level `if __name__ == "__main__":` blocks (not their
    else branches, which do run); none when the source assigns `__name__` anywhere."""
    if any(isinstance(n, ast.Name) and n.id == "__name__" and not isinstance(n.ctx, ast.Load) for n in ast.walk(tree)):
        return set()
    return {id(inner) for node in tree.body if isinstance(node, ast.If) and _is_main_test(node.test)
            for stmt in node.body for inner in ast.walk(stmt)}


def _is_main_test(test: ast.AST) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def _root(node: ast.AST) -> str | None:
    """The name at the root of an attribute chain: `torch` for torch.nn.functional.layer_norm."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_getattr_of_torch(node: ast.Call, aliases: set[str], forbidden: set[str]) -> bool:
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and _root(node.args[0]) in aliases
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in forbidden
    )
