"""Find forbidden built-ins: statically in the source (AST, with line numbers) and among the aten ops
traced in the child. The static finding fails a submission; the traced ops are evidence that catches
what the AST cannot see (getattr with a computed name). Tracing is not a security boundary: the child
reports it, so it can only ever count against the submission.

A name counts only when it is reached from torch (`nn.LayerNorm`, `F.layer_norm`,
`from torch.nn import LayerNorm`, `getattr(F, "layer_norm")`), so the task's own class named
`LayerNorm` and `super(LayerNorm, self)` are fine.
"""
from __future__ import annotations

import ast
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
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    forbidden = set(names)
    aliases = _torch_aliases(tree)
    findings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            findings += [Finding(node.lineno, a.name, f"from {node.module} import {a.name}")
                         for a in node.names if a.name in forbidden]
        elif isinstance(node, ast.Attribute) and node.attr in forbidden and _root(node) in aliases:
            findings.append(Finding(node.lineno, node.attr, ast.unparse(node)))
        elif isinstance(node, ast.Call) and _is_getattr_of_torch(node, aliases, forbidden):
            findings.append(Finding(node.lineno, node.args[1].value, ast.unparse(node)))
    return sorted(set(findings), key=lambda f: (f.line, f.text))


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
