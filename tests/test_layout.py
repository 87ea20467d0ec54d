"""The package layout holds: every import in grader/ and cli.py (inside functions too) follows the
dependency table in grader/dependencies.yaml, the module graph has no cycle, and each package's
docstring states the same rules. The table is the one source; DESIGN.md's layout lists every module."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = yaml.safe_load((ROOT / "grader" / "dependencies.yaml").read_text(encoding="utf-8"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    files = [ROOT / "cli.py", *sorted((ROOT / "grader").rglob("*.py"))]
    return {_module_name(f): f for f in files if "__pycache__" not in f.parts}


MODULES = _sources()


def _resolve(name: str) -> str | None:
    """The dlprep module an imported name refers to (a module, else the package holding it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Every dlprep module `module` imports, at the top or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import name`: the submodule pkg.name where there is one, else pkg itself
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target and target != module and (target.startswith("grader") or target == "cli"):
                out.add(target)
    return out


def _unit(name: str, keys) -> str | None:
    """The most specific table key that contains `name`."""
    hits = [k for k in keys if name == k or name.startswith(k + ".")]
    return max(hits, key=len) if hits else None


def _allowed(source: str, target: str) -> bool:
    unit, target_unit = _unit(source, TABLE), _unit(target, TABLE)
    if unit is None:
        return False
    if unit == target_unit or target.startswith(unit + "."):  # within its own package
        return True
    return any(target == a or target.startswith(a + ".") for a in TABLE[unit])


def test_every_module_is_governed_by_the_table():
    assert sorted(m for m in MODULES if m != "grader" and _unit(m, TABLE) is None) == []


def test_every_import_is_allowed_by_the_table():
    bad = sorted(f"{m} -> {t}" for m in MODULES if m != "grader" for t in imports_of(m) if not _allowed(m, t))
    assert bad == []


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_module_graph_has_no_cycle():
    graph = {m: imports_of(m) for m in MODULES}
    assert " -> ".join(_cycle(graph)) == ""


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


PACKAGES = sorted(k for k in TABLE if k.startswith("grader.") and MODULES.get(k, Path()).name == "__init__.py")


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_docstring_states_its_rules(package):
    """The first lines say what the package is for; a `May import:` line lists the table's entry."""
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))) or ""
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in doc.splitlines() if ":" in line}
    assert doc.split("\n", 1)[0].strip(), f"{package}: no opening line"
    stated = {x.strip() for x in lines.get("May import", "").replace("nothing of dlprep", "").split(",") if x.strip()}
    assert stated == set(TABLE[package])
    assert "Must not be imported by" in lines


def test_design_md_lists_every_module():
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    layout = design.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [str(p.relative_to(ROOT)) for m, p in MODULES.items()
               if p.name != "__init__.py" and not m.startswith(("grader.references.", "grader.mutants."))
               and str(p.relative_to(ROOT)) not in layout and p.name not in layout]
    assert missing == []
