"""Checks of a task file that its schema cannot express: the files it names (its reference and
mutants) exist, parse and define the class it needs, its pitfall ids are known to dlprep or its own,
and each pitfall of its own has the two independent mutants that can prove it.

`bank validate` runs these before proving a task, so an instructor sees `FILE:LINE: id=ID: message`
at the line that names the file, instead of a failure deep inside the sandbox. Sources are parsed
(ast), never imported: no torch, and nothing of the instructor's runs while validating its shape.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util
from pathlib import Path

from grader.bank import yamlsrc
from grader.errors import UNPARSABLE
from grader.pitfalls.registry import PITFALLS  # torch-free


def task_problems(spec, file: Path, source: yamlsrc.Source) -> list[str]:
    """Problem lines for the files and pitfall ids a (schema-valid) task spec names, each at the
    line that names the file or id."""
    found = [*_reference_troubles(spec, file.parent), *_module_arg_troubles(spec, file.parent),
             *_mutant_troubles(spec, file.parent), *_id_troubles(spec),
             *_own_pitfall_troubles(spec, file.parent)]
    return [yamlsrc.problem(file, source.line_for(("task", *loc)), message, spec.id) for loc, message in found]


def _reference_troubles(spec, task_dir: Path):
    target, name = spec.reference.rsplit(":", 1)
    path, missing = reference_path(target, task_dir)
    trouble = missing or _defines(path, name)
    if trouble:
        yield ("reference",), f"reference: {trouble}"


def _module_arg_troubles(spec, task_dir: Path):
    """Each class a module argument names (a sublayer the task builds) exists where it says."""
    for ref in spec.module_refs():
        target, name = ref.rsplit(":", 1)
        path, missing = reference_path(target, task_dir)
        if trouble := missing or _defines(path, name):
            yield ("build",), f"build: module argument {ref}: {trouble}"


def module_sources(spec, task_dir: Path) -> dict[str, str]:
    """The source of each class a module argument names, for the job: the locked-down child reads no
    file, so it compiles these (grader.grading.modargs)."""
    sources = {}
    for ref in spec.module_refs():
        path, missing = reference_path(ref.rsplit(":", 1)[0], task_dir)
        if path is not None:
            sources[ref] = path.read_text(encoding="utf-8")
    return sources


def _mutant_troubles(spec, task_dir: Path):
    for index, mutant in enumerate(spec.mutants):
        path = mutant.path(task_dir)
        if not path.is_file():
            trouble = f"no file {mutant.file} beside the task file or among dlprep's built-in mutants"
        else:
            trouble = _defines(path, spec.class_name)
        if trouble:
            yield ("mutants", index, "file"), f"mutants[{index}].file: {trouble}"


def _id_troubles(spec):
    own = {p.id for p in spec.own_pitfalls}
    for index, pitfall in enumerate(spec.pitfalls):
        if pitfall not in PITFALLS and pitfall not in own:
            yield ("pitfalls", index), f"pitfalls[{index}]: {_unknown_pitfall(pitfall, own)}"
    for index, mutant in enumerate(spec.mutants):
        # A mutant is proved by a detector naming it: its id must be a pitfall the task declares.
        if mutant.id not in PITFALLS and mutant.id not in own:
            yield ("mutants", index, "id"), f"mutants[{index}].id: {_unknown_pitfall(mutant.id, own)}"
        elif spec.pitfalls and mutant.id not in spec.pitfalls and mutant.id not in own:
            yield ("mutants", index, "id"), f"mutants[{index}].id: '{mutant.id}' is not among the task's pitfalls"


def _unknown_pitfall(pitfall: str, own: set[str] = frozenset()) -> str:
    known = [*PITFALLS, *sorted(own)]
    close = difflib.get_close_matches(pitfall, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(known))}"
    return f"unknown pitfall id '{pitfall}' ({hint}); a mistake of your own goes under `own_pitfalls:`"


# An instructor's own pitfall has no detector: it is named only by matching its mutants, and proved
# when the task's other mutants of it name each one (leave-one-out). Two variants at least, then.
MIN_VARIANTS = 2


def unprovable_own_pitfalls(spec) -> list[tuple[int, str]]:
    """(index in own_pitfalls, why) for each own pitfall with too few mutants to be proved."""
    found = []
    for index, pitfall in enumerate(spec.own_pitfalls):
        files = [m.file for m in spec.mutants if m.id == pitfall.id]
        if len(files) < MIN_VARIANTS:
            have = f"only one mutant ({files[0]})" if files else "no mutant"
            found.append((index, f"own pitfall '{pitfall.id}' has {have}, so it cannot be proved: it is "
                                 f"named only by matching its mutants, and each is proved by another one "
                                 f"naming it (leave-one-out); add a second, independently written mutant "
                                 f"file of the same mistake with id {pitfall.id}"))
    return found


def _own_pitfall_troubles(spec, task_dir: Path):
    ids = [p.id for p in spec.own_pitfalls]
    for index, pitfall in enumerate(ids):
        if pitfall in ids[:index]:
            yield ("own_pitfalls", index, "id"), (f"own_pitfalls[{index}].id: '{pitfall}' is declared twice "
                                                  f"(also own_pitfalls[{ids.index(pitfall)}])")
    for index, why in unprovable_own_pitfalls(spec):
        yield ("own_pitfalls", index, "id"), f"own_pitfalls[{index}]: {why}"
    own = {p.id for p in spec.own_pitfalls}
    seen: dict[tuple[str, str], int] = {}
    for index, mutant in enumerate(spec.mutants):
        code = _code(mutant.path(task_dir)) if mutant.id in own else None
        if code is None:
            continue
        if (mutant.id, code) in seen:  # the same code twice would prove only that it equals itself
            first = spec.mutants[seen[(mutant.id, code)]].file
            yield ("mutants", index, "file"), (
                f"mutants[{index}].file: {mutant.file} has the same code as {first} (comments and layout "
                "aside): leave-one-out needs a second variant written independently")
        seen.setdefault((mutant.id, code), index)


def _code(path: Path) -> str | None:
    """A file's code with comments and formatting aside (its AST), None if unreadable."""
    try:
        return ast.dump(ast.parse(path.read_bytes()))
    except (OSError, *UNPARSABLE):
        return None


def reference_path(target: str, task_dir: Path) -> tuple[Path | None, str | None]:
    """The reference's source file (`file.py` beside the task, or a module's), or why there is none."""
    if target.endswith(".py"):
        path = task_dir / target
        return (path, None) if path.is_file() else (None, f"no file {target} beside the task file")
    try:
        found = importlib.util.find_spec(target)
    except (ImportError, ValueError):  # a parent package that does not exist
        found = None
    if found is None or not found.origin or not found.origin.endswith(".py"):
        return None, f"no Python module {target}"
    return Path(found.origin), None


def _defines(path: Path, name: str) -> str | None:
    """None when the file parses and may bind `name` (a class, an assignment or an import anywhere,
    or a star import: a reference guarded by `if` or `try` still counts), else what is wrong."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        return f"{path.name} has a syntax error on line {exc.lineno}: {exc.msg}"
    except (OSError, ValueError) as exc:  # unreadable, or a NUL byte
        return f"cannot read {path.name}: {exc}"
    except (RecursionError, MemoryError) as exc:  # nesting past the parser's limits (errors.UNPARSABLE)
        return f"Python cannot parse {path.name}: it is nested too deeply ({type(exc).__name__})"
    if any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body):
        return None  # the usual case, found without walking the whole tree (~2 ms a file)
    names = _bound_names(tree)
    if name not in names and "*" not in names:
        return f"{path.name} does not define {name}"
    return None


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names
