"""Find forbidden built-ins: statically in the source (AST, with line numbers) and among the aten ops
the child called (recorded at torch's dispatcher: grader.grading.oprecord). The static finding fails
a submission; the record catches what the AST cannot see (getattr with a computed name, threads,
torch.ops.aten), and a recorded call only ever counts against the submission.

A name counts only when it is reached from torch (`nn.LayerNorm`, `F.layer_norm`,
`from torch.nn import LayerNorm`, `getattr(F, "layer_norm")`), so the task's own class named
`LayerNorm` and `super(LayerNorm, self)` are fine. So is a self-test under
`if __name__ == "__main__":` comparing with torch's own module: that block never runs when graded
(the submission is imported as `submission`), unless the file rebinds `__name__`.

What escapes a kernel override is flagged as tampering where anything is forbidden: Python
re-implementations of the ops (torch._refs, torch._decomp, torch._prims), re-registering kernels
(torch.library, torch._C._dispatch_*), the grader's own modules and torch's dispatch-mode switches.
`tampering` flags, on every task, what reaches for the runner's state in the child (gc's object
walks, frames, closures and code objects, __subclasses__, ctypes, tracing hooks, the version
counter's setter): such a submission's self-reports (structure, initial values, the input after
forward) cannot be believed, and the checks resting on them fail. Names are matched as written:
one computed at run time (getattr(x, "f_" + "back")) is not seen; docs/DESIGN.md lists what remains.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

from grader.errors import UNPARSABLE


@dataclass(frozen=True)
class Finding:
    line: int
    name: str  # the forbidden name
    text: str  # how the source spells it, e.g. "F.layer_norm"


def scan(source: str, names: list[str]) -> list[Finding]:
    """Uses of the forbidden `names` reached from torch, in source order. A file that does not parse
    has no findings (it fails as a syntax error instead)."""
    return list(_scan(source, tuple(names)))


@dataclass(frozen=True, eq=False)  # hashed by identity: the caches below key on it
class _Parsed:
    """A source parsed and walked once: every scan of it reads these (read-only)."""

    tree: ast.Module
    nodes: tuple[ast.AST, ...]  # ast.walk's order
    aliases: frozenset[str]  # the local names bound to torch or one of its submodules
    kinds: dict[type, list]  # the nodes of each type, in ast.walk's order
    prose: frozenset[int]  # docstrings and other bare string statements (ids of their constants)

    def of(self, kind: type) -> list:
        """The nodes of one type: a scan whose findings are sorted afterwards reads only the types
        it tests, not every node (a LayerNorm's tree has ~200, a third of them Load contexts)."""
        return self.kinds.get(kind, [])


# The judge reads each submission several times (the forbidden-ops check, the forbidden-builtin
# detector, the tampering doubt on each self-report): parsing and walking its tree is ~1 ms each
# time, so a source is parsed and walked once. Nothing mutates a tree; findings are frozen.
@functools.lru_cache(maxsize=8)
def _parse(source: str) -> _Parsed | None:
    try:
        tree = ast.parse(source)
    except UNPARSABLE:
        return None
    nodes = walk(tree)
    kinds: dict[type, list] = {}
    for node in nodes:
        kinds.setdefault(type(node), []).append(node)
    prose = frozenset(id(n.value) for n in kinds.get(ast.Expr, ()) if isinstance(n.value, ast.Constant))
    imports = kinds.get(ast.Import, []) + kinds.get(ast.ImportFrom, [])
    return _Parsed(tree, tuple(nodes), frozenset(_torch_aliases(imports)), kinds, prose)


def walk(node: ast.AST) -> list[ast.AST]:
    """ast.walk(node) as a list, in its order (breadth first, each node's children in field order),
    at under half its cost: a batch's judge walks a new submission's tree, and parts of it, every
    job (~90 µs against ~200 for a LayerNorm's ~190 nodes)."""
    found = [node]
    for item in found:  # the list grows while it is read
        for field in item._fields:
            value = getattr(item, field, None)
            if isinstance(value, ast.AST):
                found.append(value)
            elif isinstance(value, list):
                found.extend([v for v in value if isinstance(v, ast.AST)])
    return found


def parsed_nodes(source: str, kind: type) -> list:
    """The nodes of one type in the source's tree, in ast.walk's order (shared: never change them);
    [] when it does not parse."""
    parsed = _parse(source)
    return [] if parsed is None else parsed.of(kind)


@functools.lru_cache(maxsize=8)
def _scan(source: str, names: tuple[str, ...]) -> tuple[Finding, ...]:
    parsed = _parse(source)
    if parsed is None:
        return ()
    forbidden = set(names)
    aliases = parsed.aliases
    skipped = _main_block_nodes(parsed)
    findings = []
    for node in parsed.of(ast.ImportFrom):
        if id(node) not in skipped and (node.module or "").split(".")[0] == "torch":
            findings += [Finding(node.lineno, a.name, f"from {node.module} import {a.name}")
                         for a in node.names if a.name in forbidden and id(a) not in skipped]
    for node in parsed.of(ast.Attribute):
        if id(node) not in skipped and node.attr in forbidden and _root(node) in aliases:
            findings.append(Finding(node.lineno, node.attr, _spelled(node)))
    for node in parsed.of(ast.Call):
        if id(node) not in skipped and _is_getattr_of_torch(node, aliases, forbidden):
            findings.append(Finding(node.lineno, node.args[1].value, _spelled(node)))
    if forbidden:
        findings += _tampering(parsed)
    return tuple(sorted(set(findings), key=_order))


# What only a submission hiding a call from the op record reaches for: torch's switches for
# dispatch modes, Python re-implementations of aten ops (which no kernel override sees), kernel
# registration. (Importing grader itself is caught by module name; torch._C._dispatch_* by prefix.)
_TRACE_SWITCHES = {"_python_dispatch", "_pop_torch_dispatch_stack", "_push_on_torch_dispatch_stack",
                   "_unset_dispatch_mode", "_set_dispatch_mode", "_DisableTorchDispatch", "_disable_current_modes",
                   "_pop_mode_temporarily", "OpRecorder", "TorchDispatchMode", "_refs", "_decomp", "_prims",
                   "library", "_dispatch_library", "_ExcludeDispatchKeyGuard", "_IncludeDispatchKeyGuard"}
# What reaches the runner's state in the child: gc's walks over every object, frames (and the
# tracing hooks that receive them), functions' insides, every subclass of a class, raw memory, the
# input's version counter. No layer or block needs any of them.
_STATE_REACH = {"gc", "get_objects", "get_referrers", "get_referents", "_getframe", "currentframe",
                "getouterframes", "getinnerframes", "_current_frames", "_current_exceptions", "f_back",
                "f_globals", "f_locals", "f_builtins", "f_trace", "tb_frame", "gi_frame", "cr_frame", "ag_frame",
                "settrace", "setprofile", "gettrace", "getprofile", "__globals__", "__closure__", "cell_contents",
                "__code__", "__subclasses__", "__builtins__", "ctypes", "_ctypes", "_unsafe_set_version_counter",
                "_dispatch_library", "library"}
_GRADER_MODULE = re.compile(r"^grader(\.|$)")
TAMPERING = "grader internals"  # Finding.name of a tampering finding


def tampering(source: str) -> list[Finding]:
    """Uses of what reaches for the runner's state in the child (_STATE_REACH), in source order;
    flagged on every task, forbidden ops or not. Empty for a file that does not parse."""
    return list(_state_reach(source))


@functools.lru_cache(maxsize=8)
def _state_reach(source: str) -> tuple[Finding, ...]:
    parsed = _parse(source)
    if parsed is None:
        return ()
    return tuple(sorted(set(_tampering(parsed, _STATE_REACH, torch_only={"library"})), key=_order))


def _tampering(parsed: _Parsed, names: set[str] = _TRACE_SWITCHES, torch_only: set[str] = frozenset({"library"})) -> list[Finding]:
    """Reaching into the grader or torch's machinery: `import grader.grading.runner`,
    `sys.modules["grader.grading.runner"]`, `torch._C._pop_torch_dispatch_mode()`, a name in
    `names` as an attribute, a name, an import or a string; those in `torch_only` only where they
    hang off torch (`torch.library`, not `self.library`), and any `_dispatch_*` attribute of torch.
    Docstrings and other bare string statements are prose, not access."""
    prose, aliases = parsed.prose, parsed.aliases
    plain = names - torch_only
    hits = [node for node in parsed.of(ast.Import)
            if any(_GRADER_MODULE.match(a.name) or _module_hit(a.name, names) for a in node.names)]
    for node in parsed.of(ast.ImportFrom):
        module = node.module or ""
        if (_GRADER_MODULE.match(module) or _module_hit(module, names) or any(a.name in plain for a in node.names)
                or (module.split(".")[0] == "torch" and any(a.name in names for a in node.names))):
            hits.append(node)
    hits += [node for node in parsed.of(ast.Attribute) if node.attr in plain or (
        (node.attr in torch_only or node.attr.startswith("_dispatch_")) and _root(node) in aliases)]
    # A variable named gc is not the module.
    hits += [node for node in parsed.of(ast.Name) if node.id in plain and node.id != "gc"]
    hits += [node for node in parsed.of(ast.Constant) if isinstance(node.value, str) and id(node) not in prose and (
        _GRADER_MODULE.match(node.value) or node.value in plain or _module_hit(node.value, names)
        or node.value.startswith("_dispatch_"))]
    return [Finding(node.lineno, TAMPERING, _spelled(node, 70)) for node in hits]


def _module_hit(module: str, names: set[str]) -> bool:
    """`gc`, `ctypes.util`, `torch._refs.nn`, `torch.library`: a module path through a flagged name."""
    parts = module.split(".")
    return parts[0] in names or (parts[0] == "torch" and any(p in names for p in parts[1:]))


# What runs autograd (reverse or forward mode) or turns grad mode back on, reached from torch: a
# function task's forward and backward are written by hand (grader.grading.functiontask measures
# the engine's runs at run time, which no computed name escapes).
AUTOGRAD_NAMES = ("grad", "backward", "enable_grad", "set_grad_enabled", "_set_grad_enabled", "func", "vjp",
                  "jvp", "vhp", "hvp", "jacrev", "jacfwd", "jacobian", "hessian", "forward_ad", "make_dual",
                  "unpack_dual", "dual_level", "_execution_engine", "run_backward", "checkpoint")


def autograd_uses(source: str) -> list[Finding]:
    """Where a function task's source runs autograd itself: AUTOGRAD_NAMES reached from torch, a
    `.backward(...)` call on anything, functorch; not inside an `if __name__ == "__main__":`
    self-test (which never runs when graded). Empty for a file that does not parse."""
    return list(_autograd_uses(source))


@functools.lru_cache(maxsize=8)
def _autograd_uses(source: str) -> tuple[Finding, ...]:
    parsed = _parse(source)
    if parsed is None:
        return ()
    found = [f for f in _scan(source, AUTOGRAD_NAMES) if f.name != TAMPERING]
    skipped = _main_block_nodes(parsed)
    for node in parsed.nodes:
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "backward":
            found.append(Finding(node.lineno, "backward", _spelled(node.func, 70)))
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "functorch" for a in node.names):
            found.append(Finding(node.lineno, "functorch", _spelled(node, 70)))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "functorch":
            found.append(Finding(node.lineno, "functorch", _spelled(node, 70)))
    # One finding per spelling: `torch.func.vjp` is also found as `torch.func` on its line.
    texts = {(f.line, f.text) for f in found}
    unique = {(f.line, f.text): f for f in found
              if not any(line == f.line and other != f.text and other.startswith(f.text + ".") for line, other in texts)}
    return tuple(sorted(unique.values(), key=lambda f: (f.line, f.text)))


def traced_matches(ops: list[str], patterns: list[str]) -> list[str]:
    """The traced aten op names (e.g. "aten.native_layer_norm.default") matching any pattern."""
    compiled = [re.compile(p) for p in patterns]
    return sorted({op for op in ops if isinstance(op, str) and any(c.search(op) for c in compiled)})


def _torch_aliases(nodes) -> set[str]:
    """Local names bound to torch or one of its submodules (torch, nn, F, ...), among a tree's nodes."""
    aliases = {"torch"}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "torch":
                    aliases.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            aliases.update(a.asname or a.name for a in node.names)
    return aliases


@functools.lru_cache(maxsize=8)
def _main_block_nodes(parsed: _Parsed) -> frozenset[int]:
    """What only a top-level `if __name__ == "__main__":` block reaches (either comparison order):
    its body (not its else branch, which runs), and the top-level functions and imported names
    used nowhere else, transitively (a self-test function called from the guard, the
    `from torch.nn import LayerNorm` it alone uses). None when the source assigns `__name__`.
    Forward's real calls are the op record's to judge, whatever this exempts."""
    tree = parsed.tree
    if any(n.id == "__name__" and not isinstance(n.ctx, ast.Load) for n in parsed.of(ast.Name)):
        return frozenset()
    exempt = {id(inner) for node in tree.body if isinstance(node, ast.If) and _is_main_test(node.test)
              for stmt in node.body for inner in walk(stmt)}
    if not exempt:
        return frozenset()
    uses: dict[str, list[ast.Name]] = {}
    for node in parsed.of(ast.Name):
        if isinstance(node.ctx, ast.Load):
            uses.setdefault(node.id, []).append(node)
    bindings = _top_level_bindings(tree)
    changed = True
    while changed:
        changed = False
        for name, (owner, nodes) in bindings.items():
            if id(nodes[0]) in exempt:
                continue
            own = {id(n) for n in walk(owner)} if not isinstance(owner, (ast.Import, ast.ImportFrom)) else set()
            found = [u for u in uses.get(name, []) if id(u) not in own]
            if found and all(id(u) in exempt for u in found):
                exempt |= {id(n) for node in nodes for n in walk(node)}
                changed = True
    return frozenset(exempt)


def _top_level_bindings(tree: ast.Module) -> dict[str, tuple[ast.AST, list[ast.AST]]]:
    """Top-level name -> (the statement binding it, the nodes to exempt with it): a function whole,
    one alias of an import (the statement too when it binds nothing else). Never a class: the graded
    class is used from outside the file, whatever its own main block does with it."""
    found: dict[str, tuple[ast.AST, list[ast.AST]]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[stmt.name] = (stmt, [stmt])
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for a in stmt.names:
                bound = a.asname or a.name.split(".")[0]
                found[bound] = (stmt, [a, stmt] if len(stmt.names) == 1 else [a])
    return found


def _is_main_test(test: ast.AST) -> bool:
    """`__name__ == "__main__"` or `"__main__" == __name__`."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = (test.left, test.comparators[0])
    return any(isinstance(a, ast.Name) and a.id == "__name__" and isinstance(b, ast.Constant) and b.value == "__main__"
               for a, b in (sides, sides[::-1]))


def _order(finding: Finding) -> tuple:
    """Source order, then the text and name: a total order, so findings made in a set (whose order
    follows string hashes, seeded afresh in each process) come out the same in every judge."""
    return finding.line, finding.text, finding.name


def _spelled(node: ast.AST, limit: int | None = None) -> str:
    """The node as source text (ast.unparse), cut to `limit` characters. unparse recurses once per
    level: an expression nested a few hundred levels deep (which ast.parse accepts) is named, not
    spelled, rather than failing the judgement."""
    try:
        return ast.unparse(node)[:limit]
    except RecursionError:
        return f"<{type(node).__name__.lower()} nested too deeply to show>"[:limit]


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
