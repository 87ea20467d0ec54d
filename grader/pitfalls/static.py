"""Static AST rules: spot the line that makes a known mistake.

These rules only *add* a pitfall (with its line) to a submission that fails on other evidence;
they never fail one alone (diagnose() enforces that; forbidden built-ins live in grader/grading/forbidden.py).
They read the source as text, so they run in the judge without touching submission code. Pure
Python: no torch here.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

from grader.grading.forbidden import parsed_nodes, walk

_STAT_CALLS = {"std", "var", "std_mean", "var_mean"}
_REDUCTIONS = _STAT_CALLS | {"mean", "sum", "amax", "amin", "logsumexp"}
_LAYERS = {"Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "Embedding"}
_ACTIVATIONS = {"relu", "relu6", "gelu", "silu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus"}
_ACTIVATION_MODULES = {"ReLU", "ReLU6", "GELU", "SiLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "Softplus"}
_DETACHING_CONTEXTS = {"no_grad", "inference_mode"}
# `.detach()` on the way out of torch (t.detach().numpy(), .tolist(), .item()) converts a value; it
# is not a detach inside the computation.
_LEAVES_TORCH = {"numpy", "tolist", "item"}
_MAX_EPS = 1e-2  # a literal this small added to a std is an eps, not a shift
_SNIPPET = 70  # characters of code quoted in evidence

# A detach in forward shows a different pitfall per task: the first id the task declares wins.
# (A detached share of the skip scales its gradient: the line joins scaled-skip when that is shown.)
DETACH_IDS = ("detached-statistics", "detached-skip", "scaled-skip", "wrong-gradient")


@dataclass(frozen=True)
class Finding:
    ids: tuple[str, ...]  # pitfall ids this line may show, most specific first
    line: int
    code: str

    @property
    def evidence(self) -> str:
        return f"line {self.line}: {self.code}"


def scan(source: str, class_name: str | None = None) -> list[Finding]:
    """Every finding in the task's class (all classes when it is not found), in line order."""
    classes = parsed_nodes(source, ast.ClassDef)  # parsed once with the forbidden-ops check; [] if unparsable
    chosen = [c for c in classes if c.name == class_name] or classes
    findings = [f for cls in chosen for f in _scan_class(cls, source)]
    # A total order: a set's follows string hashes, seeded afresh in each process, so two findings
    # on one line (`a.detach() + b.detach()`) came out in either order, and so did the evidence.
    return sorted(set(findings), key=lambda f: (f.line, f.ids, f.code))


def _scan_class(cls: ast.ClassDef, source: str) -> list[Finding]:
    is_norm = "norm" in cls.name.lower()
    found = []
    for node in walk(cls):
        if type(node) is not ast.Call and type(node) is not ast.BinOp:  # what every rule here tests
            continue
        found += _variance_rules(node, source)
        if is_norm:
            found += _norm_module_rules(node, source)
        if _keyword_is(node, "inplace", True):
            found.append(_finding(("modifies-input",), node, source))
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "forward":
            found += _forward_rules(fn, source)
    return found


def _variance_rules(node: ast.AST, source: str) -> list[Finding]:
    found = []
    if isinstance(node, ast.Call) and _call_name(node) in _STAT_CALLS and _is_unbiased(node):
        found.append(_finding(("unbiased-variance",), node, source))
    if isinstance(node, ast.Call) and _call_name(node) in _REDUCTIONS and _reduces_leading_dim(node):
        found.append(_finding(("wrong-normalized-dims",), node, source))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        pair = (node.left, node.right)
        if any(_is_std(a) and _is_eps(b) for a, b in (pair, pair[::-1])):
            found.append(_finding(("eps-outside-sqrt",), node, source))
    return found


def _norm_module_rules(node: ast.AST, source: str) -> list[Finding]:
    """A normalization module holds only its affine parameters and applies no activation."""
    if not isinstance(node, ast.Call):
        return []
    name = _call_name(node)
    if name in _LAYERS:
        return [_finding(("extra-layers",), node, source)]
    if name in _ACTIVATION_MODULES or name in _ACTIVATIONS or _clamps_at_zero(node):
        return [_finding(("extra-activation",), node, source)]
    return []


def _forward_rules(fn: ast.FunctionDef, source: str) -> list[Finding]:
    args = {a.arg for a in fn.args.args[1:] + fn.args.kwonlyargs}
    nodes = walk(fn)  # walked once: a failing submission's scan is on the judge's clock
    writes = [n for n in nodes if _writes_into(n, args)]
    # `.data` inside a write into the input (x.data.copy_(out.data)) is the vehicle of the write,
    # reported as modifies-input, not a detach.
    in_writes = {id(inner) for w in writes for inner in walk(w)}
    converting = {id(inner) for node in nodes
                  if isinstance(node, ast.Attribute) and node.attr in _LEAVES_TORCH for inner in walk(node.value)}
    converting |= _state_updates(nodes)
    found = [_finding(("modifies-input",), w, source) for w in writes]
    for node in nodes:
        if id(node) in in_writes or id(node) in converting:
            continue
        if isinstance(node, ast.Call) and _call_name(node) == "detach":
            found.append(_finding(DETACH_IDS, node, source))
        elif isinstance(node, ast.Attribute) and node.attr == "data":
            found.append(_finding(DETACH_IDS, node, source))
        elif isinstance(node, ast.withitem) and _call_name(node.context_expr) in _DETACHING_CONTEXTS:
            found.append(_finding(DETACH_IDS, node.context_expr, source))
    return found


def _state_updates(nodes: list[ast.AST]) -> set[int]:
    """What only updates the module's own state (BatchNorm's running statistics): a `with
    torch.no_grad():` whose every statement writes an attribute of self, and such a write outside
    one (`self.running_mean = ... mean.detach()`). Their detach keeps the update out of the graph;
    it detaches nothing the output is computed from."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.With) and all(_writes_self(stmt) for stmt in node.body):
            found |= {id(inner) for item in node.items for inner in walk(item)}
            found |= {id(inner) for stmt in node.body for inner in walk(stmt)}
        elif _writes_self(node):
            found |= {id(inner) for inner in walk(node)}
    return found


def _writes_self(stmt: ast.AST) -> bool:
    """`self.a = ...`, `self.a += ...` or `self.a.mul_(...)...` (an in-place call on an attribute of self)."""
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Attribute) and _root_name(t) == "self" for t in stmt.targets)
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.target, ast.Attribute) and _root_name(stmt.target) == "self"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
        method, node = stmt.value.func.attr, stmt.value.func.value
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):  # a chain: .mul_(m).add_(...)
            node = node.func.value
        return method.endswith("_") and not method.startswith("_") and isinstance(node, ast.Attribute) \
            and _root_name(node) == "self"
    return False


def _writes_into(node: ast.AST, args: set[str]) -> bool:
    """`x += ...`, `x[i] = ...` or `x.add_(...)` where x is an argument of forward."""
    if isinstance(node, ast.AugAssign):
        return _root_name(node.target) in args
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Subscript) and _root_name(t) in args for t in node.targets)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = node.func.attr
        in_place = method.endswith("_") and not method.startswith("_")
        return in_place and _root_name(node.func.value) in args
    return False


def _is_unbiased(call: ast.Call) -> bool:
    """torch's std/var divide by n-1 unless told unbiased=False or correction=0."""
    for kw in call.keywords:
        if kw.arg == "unbiased":
            return not _is_const(kw.value, False)
        if kw.arg == "correction":
            return not _is_const(kw.value, 0)
    return not any(_is_const(a, False) for a in call.args)


def _reduces_leading_dim(call: ast.Call) -> bool:
    """A reduction over dim 1 (the article's channels) or dim 0 (the batch): a layer norm reduces
    over trailing dims, which an int dim only names from the end (-1)."""
    dims = [kw.value for kw in call.keywords if kw.arg == "dim"]
    if not dims and isinstance(call.func, ast.Attribute) and call.args:
        dims = [call.args[0]]  # x.mean(1)
    for dim in dims:
        values = dim.elts if isinstance(dim, (ast.Tuple, ast.List)) else [dim]
        if any(_is_const(v, 1) or _is_const(v, 0) for v in values):
            return True
    return False


def _is_std(node: ast.AST) -> bool:
    """An expression that is a standard deviation: a std call, a sqrt, a **0.5, or a name like std."""
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in ("std", "sqrt"):
            return True
        return name == "pow" and any(_is_const(a, 0.5) for a in node.args)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _is_const(node.right, 0.5)
    ident = _identifier(node).lower()
    if ident.endswith("2") or "sq" in ident or "var" in ident:
        return False  # sigma2, sigma_sq, std_var: a variance, where eps belongs
    return "std" in ident or "sigma" in ident or ident == "sd"


def _is_eps(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return 0 < node.value <= _MAX_EPS
    return "eps" in _identifier(node).lower()


def _clamps_at_zero(call: ast.Call) -> bool:
    """x.clamp(min=0) / torch.clamp(x, min=0) is a ReLU by another name."""
    if _call_name(call) not in ("clamp", "clamp_min", "clip"):
        return False
    return any(kw.arg == "min" and _is_const(kw.value, 0) for kw in call.keywords)


def _keyword_is(node: ast.AST, name: str, value: object) -> bool:
    return isinstance(node, ast.Call) and any(
        kw.arg == name and _is_const(kw.value, value) for kw in node.keywords
    )


def _call_name(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        return ""
    return _identifier(node.func)


def _identifier(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _root_name(node: ast.AST) -> str:
    """The variable at the root of x, x[i], x.data, x[i].y."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _is_const(node: ast.AST, value: object) -> bool:
    # bool is an int in Python: keep True/1 and False/0 apart.
    return (
        isinstance(node, ast.Constant)
        and type(node.value) is type(value)
        and node.value == value
    )


def _finding(ids: tuple[str, ...], node: ast.AST, source: str) -> Finding:
    code = " ".join((segment(source, node) or "").split())
    if len(code) > _SNIPPET:
        code = code[: _SNIPPET - 3] + "..."
    return Finding(ids, node.lineno, code)


# A line and its end, as ast.get_source_segment splits a source: on \r\n, \r and \n only (not on
# the form feeds and other separators str.splitlines knows), the last line with or without an end.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@functools.lru_cache(maxsize=8)
def _lines(source: str) -> tuple[str, ...]:
    return tuple(_LINE.findall(source))


def segment(source: str, node: ast.AST) -> str | None:
    """ast.get_source_segment(source, node), the source split into lines once rather than at each
    call (a Python loop over every character: ~0.2 ms a LayerNorm, a few calls a failing scan)."""
    try:
        first, col = node.lineno - 1, node.col_offset
        last, end_col = node.end_lineno, node.end_col_offset
    except AttributeError:
        return None
    if last is None or end_col is None:
        return None
    lines, last = _lines(source), last - 1
    if last == first:  # offsets count UTF-8 bytes
        return lines[first].encode()[col:end_col].decode()
    return "".join([lines[first].encode()[col:].decode(), *lines[first + 1:last], lines[last].encode()[:end_col].decode()])
