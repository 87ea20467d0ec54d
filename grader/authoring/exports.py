"""`dlprep export gradescope|github-classroom`: hand one task's grading to a platform that runs
one container (Gradescope) or one workflow (GitHub Classroom) per submission, rather than grow a
scheduler of our own. This module holds what both need (the task's files, the pins, writing) and
the Gradescope bundle; grader/authoring/classroom.py the GitHub Classroom template.

The Gradescope bundle carries dlprep itself (its package files and a generated pyproject.toml, as
dlprep is on no package index), every dependency pinned to the version installed here, the task's
files from --bank, `setup.sh` and `run_autograder` (which runs grader/authoring/autograder.py, the
trusted side in the container).
"""
from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.authoring import autograder
from grader.bank import catalog as banks
from grader.bank import tasks as task_lookup
from grader.bank.taskfiles import reference_path
from grader.errors import DlprepError, UsageError

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Where setup.sh puts the venv: outside /autograder, so the bundle can be locked away from the child.
VENV = "/opt/dlprep/venv"
# A CUDA torch build's own dependencies: the CPU wheel installed in the container needs none.
CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|pytorch-triton.*)$")
# Needed to install the bundled dlprep folder itself (--no-build-isolation: no download at build).
BUILD_TOOLS = ("setuptools", "wheel")
SKIPPED = {"__pycache__", ".DS_Store"}


@dataclass
class Export:
    path: Path
    files: list[str]
    warnings: list[str] = field(default_factory=list)


# ---- what gets pinned ------------------------------------------------------------------------
def pinned_requirements() -> dict[str, str]:
    """name -> version installed here, for dlprep's runtime dependencies and theirs (markers read
    for this interpreter), plus the build tools; torch's version without its local label (+cpu)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    def wanted(lines) -> list[str]:
        reqs = [Requirement(line) for line in lines or []]
        return [r.name for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]

    pins: dict[str, str] = {}
    todo = wanted(dlprep_meta()[1])
    while todo:
        name = canonicalize_name(todo.pop())
        if name in pins or CUDA_ONLY.match(name):
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise DlprepError(f"{name} is required by dlprep's dependencies but not installed here") from None
        pins[name] = dist.version.split("+")[0]
        todo += wanted(dist.requires)
    for tool in BUILD_TOOLS:
        try:
            pins.setdefault(tool, metadata.version(tool).split("+")[0])
        except metadata.PackageNotFoundError:
            pass  # wheel: not needed by setuptools >= 70.1
    return dict(sorted(pins.items()))


def python_minor() -> str:
    """The Python the pins were read with (3.11): the one to install them into."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def dlprep_meta() -> tuple[str, list[str]]:
    """dlprep's version and runtime requirements: from the checkout's pyproject.toml where the files
    shipped come from a checkout (an editable install's metadata can be older than it), else from
    the installed metadata."""
    from importlib import metadata

    pyproject = _package_root() / "pyproject.toml"
    try:
        import tomllib
    except ImportError:  # Python 3.10: the installed metadata only
        tomllib = None
    if tomllib is not None and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "dlprep":
            return project["version"], list(project.get("dependencies", []))
    try:
        dist = metadata.distribution("dlprep")
    except metadata.PackageNotFoundError:
        raise DlprepError("dlprep is not installed (pip install .): the pins are read from the installed "
                          "packages' metadata") from None
    return dist.version, [r for r in dist.requires or [] if "extra ==" not in r]


# ---- the task's own files ----------------------------------------------------------------------
def find(task_id: str, bank_paths: list[Path] | None):
    return task_lookup.find_task(banks.load_catalog(bank_paths).tasks, task_id)


def task_files(loaded) -> list[Path]:
    """An instructor task's files, relative to its YAML's folder: the YAML, a reference beside it,
    the mutants beside it. Empty for a built-in task (dlprep carries those)."""
    root = loaded.dir.resolve()
    if loaded.file.resolve().is_relative_to(banks.builtin_dir().resolve()):
        return []
    spec = loaded.spec
    wanted = [loaded.file]
    target = spec.reference.rsplit(":", 1)[0]
    path, missing = reference_path(target, loaded.dir)
    if missing:
        raise UsageError(f"task {spec.id}: {missing}")
    if target.endswith(".py"):
        wanted.append(path)
    elif not path.resolve().is_relative_to(_package_root()):
        raise UsageError(f"task {spec.id}: its reference module {target} is neither dlprep's nor beside the task "
                         "file; name it as `file.py:Class` beside the YAML so that the export can carry it")
    wanted += [m.path(loaded.dir) for m in spec.mutants if m.path(loaded.dir).resolve().is_relative_to(root)]
    for ref in spec.module_refs():  # a sublayer class beside the YAML travels with it (module arguments)
        target = ref.rsplit(":", 1)[0]
        if target.endswith(".py") and (found := reference_path(target, loaded.dir)[0]) is not None:
            wanted.append(found)
    out = []
    for p in wanted:
        if not p.resolve().is_relative_to(root):
            raise UsageError(f"task {spec.id}: {p} is outside the task file's folder {root}")
        out.append(p.resolve().relative_to(root))
    return sorted(set(out))


def _package_root() -> Path:
    """The folder holding grader/, questions/ and cli.py (site-packages, or the checkout)."""
    return Path(__file__).resolve().parents[2]


def _package_files() -> dict[str, bytes]:
    """dlprep's own files as a wheel of it would hold them, by path relative to the package root."""
    root = _package_root()
    files = {"cli.py": (root / "cli.py").read_bytes()}
    for package in ("grader", "questions"):
        for path in sorted((root / package).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not any(part in SKIPPED or part.startswith(".") for part in rel.parts) \
                    and path.suffix in (".py", ".yaml", ".yml"):
                files[rel.as_posix()] = path.read_bytes()
    return files


def _pyproject(version: str, requires: list[str]) -> str:
    """Enough for `pip install --no-deps` of the bundled folder: the same packages and data as dlprep's own."""
    deps = ",\n".join(f"    {json.dumps(r)}" for r in requires)
    return f"""# Generated by `dlprep export`: dlprep {version}, from the files installed where it was exported.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dlprep"
version = {json.dumps(version)}
requires-python = ">=3.10"
dependencies = [
{deps}
]

[project.scripts]
dlprep = "cli:app"

[tool.setuptools]
py-modules = ["cli"]

[tool.setuptools.packages.find]
include = ["grader*", "questions*"]

[tool.setuptools.package-data]
questions = ["*.yaml", "**/*.yaml", "**/*.py"]
grader = ["**/*.py", "*.yaml"]
"""


# ---- Gradescope ------------------------------------------------------------------------------
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. Made by
# `dlprep export gradescope --task {task}` (dlprep {version}): every package is pinned to the version
# installed where the bundle was made (Python {python}), torch is the CPU wheel (no CUDA here).
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
venv={venv}  # outside /autograder: grading locks /autograder/source away from the graded child
want=python{python}

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends libseccomp2 ca-certificates  # the seccomp layer's library
if ! command -v "$want" >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends "$want" "$want-venv" || true
fi
if command -v "$want" >/dev/null 2>&1; then
  python="$want"
  apt-get install -y -q --no-install-recommends "$want-venv" || true
else
  python=python3
  echo "dlprep setup: $want is not on this image; using $(python3 -V 2>&1), where the pins may not install" >&2
  apt-get install -y -q --no-install-recommends python3-venv
fi
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check)
"${{pip[@]}}" --no-deps --index-url {torch_index} "torch=={torch}"
"${{pip[@]}}" --no-deps -r "$here/requirements.txt"
"${{pip[@]}}" --no-deps --no-build-isolation "$here/dlprep"
"$venv/bin/python" -m pip check
# The isolation layers this image gives a graded child, in the build log.
"$venv/bin/dlprep" doctor --json || true
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in a fresh container. Made by
# `dlprep export gradescope --task {task}`: the grading is dlprep's grader/authoring/autograder.py
# (it logs `dlprep doctor --json`, grades the submitted .py, writes results/results.json).
# DLPREP_AUTOGRADER_ROOT (default /autograder) and DLPREP_AUTOGRADER_PYTHON (default the venv
# setup.sh made) let it run elsewhere, as dlprep's own tests do.
set -u
root="${{DLPREP_AUTOGRADER_ROOT:-/autograder}}"
python="${{DLPREP_AUTOGRADER_PYTHON:-{venv}/bin/python}}"
cd "$root" || exit 1
export DLPREP_AUTOGRADER_ROOT="$root"
exec "$python" -I -m grader.authoring.autograder
"""


def export_gradescope(task_id: str, out: Path, bank_paths: list[Path] | None = None, *,
                      require_isolation: bool = False, force: bool = False) -> Export:
    """Write autograder.zip for one task; returns what it holds."""
    check_target(out, force, folder=False)
    loaded = find(task_id, bank_paths)
    spec = loaded.spec
    version, requires = dlprep_meta()
    pins = pinned_requirements()
    torch = pins.pop("torch")
    python = python_minor()
    extra = task_files(loaded)
    config = {"task": spec.id, "class_name": spec.class_name, "bank": "tasks" if extra else None,
              "require_isolation": require_isolation, "dlprep_version": version}
    entries: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP_SH.format(task=spec.id, version=version, python=python, venv=VENV,
                                     torch_index=TORCH_CPU_INDEX, torch=torch).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.format(task=spec.id, venv=VENV).encode(), 0o755),
        "requirements.txt": ("".join(f"{n}=={v}\n" for n, v in pins.items()).encode(), 0o644),
        autograder.CONFIG: ((json.dumps(config, indent=2) + "\n").encode(), 0o644),
        "dlprep/pyproject.toml": (_pyproject(version, requires).encode(), 0o644),
    }
    entries.update({f"dlprep/{rel}": (data, 0o644) for rel, data in _package_files().items()})
    entries.update({f"tasks/{rel.as_posix()}": ((loaded.dir / rel).read_bytes(), 0o644) for rel in extra})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # same task, same bytes
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    write_atomic(out, buffer.getvalue())
    return Export(out, list(entries))


# ---- writing ---------------------------------------------------------------------------------
def check_target(out: Path, force: bool, *, folder: bool, names: list[str] = ()) -> None:
    """Refuse to overwrite anything unless --force, and refuse a target that cannot be written,
    before any work."""
    if folder:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is a file; give a folder")
        clashes = [n for n in names if (out / n).exists()]
        if clashes and not force:
            raise UsageError(f"{out} already has {', '.join(clashes)}; pass --force to overwrite")
        return
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give the zip file's path")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: no directory {out.parent}")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists; pass --force to overwrite")


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
