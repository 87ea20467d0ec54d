"""Which submissions a `dlprep grade PATH...` names, read without running anything.

A PATH is one submission file, or a directory whose children are submissions: a `.py` file, or a
folder holding the one `.py` file that defines the task's class (searched recursively; hidden
folders such as `.git`, `__pycache__` and symbolic links are never followed). Names come from the
file or folder; a name seen before gets " (2)", " (3)". A folder with no matching file, or several,
is that submission's `bad-file` error, never the batch's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.submit import MAX_SOURCE_BYTES, defined_classes, read_submission
from grader.results import encodable

# A student's folder is a few files; one holding a virtualenv or a dataset is searched this far.
MAX_FOLDER_ENTRIES = 5000
SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages"}


@dataclass
class Found:
    """One submission: its name in the reports, the file to grade (None when there is none to
    pick), and why it cannot be graded ("" when it can)."""

    name: str
    path: Path | None
    problem: str = ""
    source: str = ""


def discover(paths: list[Path], class_name: str) -> list[Found]:
    """Every submission under `paths`, in the order given (a directory's children sorted by name),
    each read (source or problem). A missing PATH is a usage error; so is finding nothing at all."""
    found: list[Found] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
        if path.is_dir():
            found += [_one(child, class_name) for child in sorted(path.iterdir(), key=lambda p: p.name)
                      if _is_submission(child)]
        else:
            found.append(_read(Found(encodable(path.name), path)))
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise UsageError(f"no submissions in {where} (a .py file, or a folder holding one, per student)")
    _distinct(found)
    return found


def folder_submission(folder: Path, class_name: str) -> Found:
    """One student's folder as one submission (Gradescope's /autograder/submission), by the same
    rules as a folder under `dlprep grade`: the one .py file defining the class, or why none is graded."""
    return _one(folder, class_name)


def _is_submission(child: Path) -> bool:
    if child.name.startswith(".") or child.name in SKIPPED_DIRS:
        return False
    if child.is_symlink():  # reported, not followed: it may point at anything on this machine
        return child.suffix == ".py" or child.is_dir()
    # A .py that is a pipe or a device is reported too (read_submission refuses it unopened).
    return child.is_dir() or child.suffix == ".py"


def _one(child: Path, class_name: str) -> Found:
    name = encodable(child.name)  # a name in a foreign encoding keeps its bytes as \xNN
    if child.is_symlink():
        return Found(name, None, f"{name} is a symbolic link; submit the file itself")
    if not child.is_dir():  # a file, or a pipe or device that _read reports unopened
        return _read(Found(name, child))
    matches, searched = _matching_files(child, class_name)
    if searched > MAX_FOLDER_ENTRIES:
        return Found(name, None, f"the folder {name} holds over {MAX_FOLDER_ENTRIES} entries; "
                                 f"submit the file that defines {class_name}")
    if len(matches) == 1:
        return _read(Found(name, matches[0]))
    if not matches:
        return Found(name, None, f"no .py file in the folder {name} defines class {class_name}")
    listed = ", ".join(encodable(str(m.relative_to(child))) for m in matches[:5]) + (", ..." if len(matches) > 5 else "")
    return Found(name, None, f"several .py files in the folder {name} define class "
                             f"{class_name} ({listed}); keep one")


def _matching_files(folder: Path, class_name: str) -> tuple[list[Path], int]:
    """The .py files under `folder` defining `class_name` at top level, and how many entries the
    walk saw (it stops past MAX_FOLDER_ENTRIES)."""
    matches, seen, stack = [], 0, [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(current.iterdir(), key=lambda p: p.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_FOLDER_ENTRIES:
                return matches, seen
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in SKIPPED_DIRS:
                    stack.append(entry)
            elif entry.suffix == ".py" and entry.is_file() and _defines(entry, class_name):
                matches.append(entry)
    return sorted(matches), seen


def _defines(path: Path, class_name: str) -> bool:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return False
    return class_name in defined_classes(data.decode("utf-8-sig", errors="replace"))


def _read(found: Found) -> Found:
    try:
        found.source, found.problem = read_submission(found.path)
    except (UsageError, OSError) as exc:  # vanished or unreadable since it was listed
        found.problem = str(exc)
    return found


def _distinct(found: list[Found]) -> None:
    seen: set[str] = set()
    for f in found:
        name, n = f.name, 1
        while name.casefold() in seen:  # casefold: the feedback files must differ on any disk
            n += 1
            name = f"{f.name} ({n})"
        seen.add(name.casefold())
        f.name = name
