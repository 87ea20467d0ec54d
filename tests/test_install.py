"""A non-editable install works on its own: `pip install .` of the tracked files into a fresh
virtual environment, then a graded quiz, a submit and `bank validate` from that environment. The
suite's `pythonpath = ["."]` cannot see a module or data file missing from the wheel; this can.
torch and the other dependencies are reused from this interpreter's site-packages through a plain
path entry (not a site dir, so the checkout's editable-install hook is not loaded there)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORRECT = REPO / "tests" / "pitfall_cases" / "layernorm" / "correct--two-pass.py"


def _tracked_copy(dest: Path) -> Path:
    """The files git tracks (and new ones not ignored), as a clean clone would have them."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout to list its tracked files")
    tmp = tmp_path_factory.mktemp("install")
    src = _tracked_copy(tmp / "src")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_host_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(src)],
                   check=True, cwd=tmp, capture_output=True)
    shutil.rmtree(src)  # nothing may come from the copy: only from the wheel installed into the venv
    return venv


def _dlprep(venv: Path, *args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLPREP_"))}
    return subprocess.run([str(venv / "bin" / "dlprep"), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_the_installed_package_is_the_wheel(installed, tmp_path):
    out = subprocess.run([str(installed / "bin" / "python"), "-c", "import grader, questions; print(grader.__file__, questions.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert all(Path(p).is_relative_to(installed) for p in out.split())


def test_quiz_answers_from_the_wheel(installed, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("ln-normalized-dims: B\n", encoding="utf-8")
    result = _dlprep(installed, "quiz", "--answers", str(answers), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["correct"] is True


def test_submit_from_the_wheel(installed, tmp_path):
    result = _dlprep(installed, "submit", str(CORRECT), "--task", "layernorm", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "pass"


def test_bank_validate_from_the_wheel(installed, tmp_path):
    result = _dlprep(installed, "bank", "validate", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mutants caught and named" in result.stderr and ": valid" in result.stderr


def test_bank_new_scaffolds_from_the_wheel(installed, tmp_path):
    """The templates are package data (one folder, questions' and tasks' alike): a wheel without them
    would write nothing."""
    task = _dlprep(installed, "bank", "new", "task", "my-scale", cwd=tmp_path)
    assert task.returncode == 0, task.stderr
    assert {p.name for p in (tmp_path / "my-scale").rglob("*.*")} == {
        "my-scale.yaml", "reference.py", "bias_before_scale.py", "bias_scaled.py"}
