"""`dlprep export gradescope|github-classroom` (grader/authoring/exports.py, autograder.py, classroom.py).

The Gradescope bundle is unpacked into a fake /autograder tree and its own `run_autograder` runs
against it with this environment's dlprep (setup.sh is checked with `bash -n` and for its pins, not
run: it installs from the network). The instructor task from tests/redteam_banks/scale-task travels
in the bundle through --bank. The Classroom workflow is checked against GitHub's workflow schema
and its grading line is run as the job would run it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from grader.authoring import autograder
from grader.grading.formats import GRADESCOPE_KEYS

REPO = Path(__file__).resolve().parent.parent
TASK_DIR = REPO / "tests" / "redteam_banks" / "scale-task"
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}


def invoke(*args):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    result = invoke("export", "gradescope", "--task", "scale", "--out", out, "--bank", TASK_DIR)
    assert result.exit_code == 0, result.stderr
    return out


def _unpacked(bundle: Path, where: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(where)
        for info in zf.infolist():  # extractall drops the mode bits Gradescope's unzip keeps
            os.chmod(where / info.filename, (info.external_attr >> 16) & 0o777)
    return where


def run_autograder(bundle: Path, root: Path, files: dict[str, str | Path]) -> tuple[dict, str]:
    """A fake /autograder: source/ (the bundle), submission/ (files; a Path value becomes a link to
    it), results/; run the bundle's run_autograder there and return results.json and the log."""
    _unpacked(bundle, root / "source")
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            path.symlink_to(content)
        else:
            path.write_text(content, encoding="utf-8")
    env = {**os.environ, "DLPREP_AUTOGRADER_ROOT": str(root), "DLPREP_AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), run.stdout


def _project() -> dict:
    """The checkout's [project] table: what the bundle must carry (an editable install's metadata can lag)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _check_gradescope_shape(doc: dict) -> None:
    assert set(doc) <= set(GRADESCOPE_KEYS), set(doc) - set(GRADESCOPE_KEYS)
    assert all(set(t) <= TEST_KEYS for t in doc["tests"])


# ---- Gradescope: the bundle ------------------------------------------------------------------
def test_bundle_holds_scripts_dlprep_and_the_task_files(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        config = json.loads(zf.read(autograder.CONFIG))
    assert {"setup.sh", "run_autograder", "requirements.txt", "dlprep/pyproject.toml", "dlprep/cli.py",
            "dlprep/grader/authoring/autograder.py", "dlprep/questions/tasks/layernorm.yaml"} <= names
    assert {"tasks/task.yaml", "tasks/scale_ref.py", "tasks/scale_doubled.py"} <= names  # from --bank
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert config == {"task": "scale", "class_name": "Scale", "bank": "tasks",
                      "require_isolation": False,
                      "dlprep_version": _project()["version"]}


def test_setup_sh_parses_and_pins_what_is_installed_here(bundle, tmp_path):
    root = _unpacked(bundle, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(root / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    setup = (root / "setup.sh").read_text()
    torch = metadata.version("torch").split("+")[0]
    assert re.search(rf'--index-url https://download\.pytorch\.org/whl/cpu "torch=={re.escape(torch)}"', setup)
    assert '--no-deps -r "$here/requirements.txt"' in setup and '--no-build-isolation "$here/dlprep"' in setup
    pins = dict(line.split("==") for line in (root / "requirements.txt").read_text().splitlines())
    assert pins and all(metadata.version(name).split("+")[0] == version for name, version in pins.items())
    declared = _project()["dependencies"]
    direct = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in declared}
    assert direct - {"torch"} <= set(pins) and "torch" not in pins  # torch comes from the CPU index alone
    assert {"pydantic-core", "sympy", "setuptools"} <= set(pins)  # dependencies of dependencies too


def test_the_bundled_dlprep_folder_installs(bundle, tmp_path):
    root = _unpacked(bundle, tmp_path / "bundle")
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                              "--no-index", "--target", str(target), str(root / "dlprep")],
                             capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert install.returncode == 0, install.stderr
    assert (target / "grader" / "references" / "layernorm.py").is_file()
    assert (target / "grader" / "mutants" / "layernorm").is_dir()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import cli; "
            "assert cli.__file__.startswith(sys.argv[1]), cli.__file__; sys.argv[1:] = ['tasks', '--json']; cli.app()")
    listed = subprocess.run([sys.executable, "-I", "-c", code, str(target)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert {"layernorm", "residual-block"} <= {t["id"] for t in json.loads(listed.stdout)}


# ---- Gradescope: run_autograder against a fake /autograder -------------------------------------
def test_correct_submission_gets_full_score(bundle, tmp_path):
    doc, log = run_autograder(bundle, tmp_path, {"scale.py": (TASK_DIR / "scale_ref.py").read_text()})
    _check_gradescope_shape(doc)
    assert doc["tests"] and doc["score"] == sum(t["max_score"] for t in doc["tests"])
    assert doc["output"].startswith("Graded scale.py against task scale.")
    assert '"can_grade"' in log and '"layers"' in log  # dlprep doctor --json is in the log
    assert doc["extra_data"]["insecure"] is False
    assert doc["extra_data"]["layers"] == json.loads(log[log.index("{"):log.index("\n}\n") + 2])["layers"]


def test_wrong_submission_scores_less_and_decoys_are_not_graded(bundle, tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.json").write_text('{"score": 999}')  # planted before grading
    files = {"zz_mine.py": (TASK_DIR / "scale_doubled.py").read_text(),
             "notes/helper.py": "x = 1\n",
             # a link to the bundle's own reference, first by name: grading it would score full marks
             "a_link.py": tmp_path / "source" / "tasks" / "scale_ref.py"}
    doc, log = run_autograder(bundle, tmp_path, files)
    _check_gradescope_shape(doc)
    assert 0 <= doc["score"] < sum(t["max_score"] for t in doc["tests"])
    assert doc["output"].startswith("Graded zz_mine.py against task scale.")
    assert "a_link" not in doc["output"] and doc["extra_data"]["file"] == "zz_mine.py"
    assert "wrong-output" in doc["output"]  # dlprep's pitfall, through its own Gradescope format
    assert not list((tmp_path / "results").glob(".results-*"))  # the temporary file was renamed


def _in_process(tmp_path, monkeypatch, can_grade, require_isolation=False, files=None):
    """grade_submission without starting a sandbox for doctor: its verdict is given."""
    source = tmp_path / "source"
    source.mkdir()
    (source / autograder.CONFIG).write_text(json.dumps({"task": "scale", "class_name": "Scale", "bank": "tasks",
                                                        "require_isolation": require_isolation}))
    (tmp_path / "submission").mkdir()
    for name, text in (files or {}).items():
        (tmp_path / "submission" / name).write_text(text)
    monkeypatch.setattr(autograder, "doctor", lambda: ({"seccomp": "off: test"}, can_grade))
    graded = []
    monkeypatch.setattr(autograder, "grade", lambda path, config, src, insecure: (
        graded.append((path.name, insecure)) or ({"score": 1.0, "tests": [], "output": "pass: 1 / 1",
                                                  "max_score": 1.0}, "")))
    assert autograder.grade_submission(tmp_path, 0.0) == 0
    return json.loads((tmp_path / "results" / "results.json").read_text()), graded


def test_without_isolation_it_grades_insecure_and_says_so(tmp_path, monkeypatch):
    doc, graded = _in_process(tmp_path, monkeypatch, can_grade=False, files={"scale.py": "class Scale: pass\n"})
    assert graded == [("scale.py", True)]
    assert "dlprep --insecure" in doc["output"] and doc["extra_data"]["insecure"] is True
    assert "max_score" not in doc  # only Gradescope's keys, whatever dlprep's report held


def test_require_isolation_refuses_without_grading(tmp_path, monkeypatch):
    doc, graded = _in_process(tmp_path, monkeypatch, can_grade=False, require_isolation=True,
                              files={"scale.py": "class Scale: pass\n"})
    assert graded == [] and doc["score"] == 0 and "not graded" in doc["output"]
    _check_gradescope_shape(doc)


@pytest.mark.parametrize("files, why", [
    ({"scale.txt": "class Scale: pass"}, "no .py file in the folder submission defines class Scale"),
    ({"scale.py": "class Scale: pass\n", "old.py": "class Scale: pass\n"}, "several .py files"),
])
def test_no_single_file_to_grade_is_a_zero_with_a_reason(tmp_path, monkeypatch, files, why):
    doc, graded = _in_process(tmp_path, monkeypatch, can_grade=True, files=files)
    assert graded == [] and doc["score"] == 0 and why in doc["output"]


def test_export_refuses_to_overwrite_and_unknown_tasks(bundle, tmp_path):
    again = invoke("export", "gradescope", "--task", "scale", "--out", bundle, "--bank", TASK_DIR)
    assert again.exit_code == 2 and "--force" in again.stderr
    unknown = invoke("export", "gradescope", "--task", "layernrom", "--out", tmp_path / "a.zip")
    assert unknown.exit_code == 2 and "did you mean layernorm" in unknown.stderr


# ---- GitHub Classroom ------------------------------------------------------------------------
SOURCE = "git+https://github.com/example/dlprep@" + "0" * 40


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("classroom") / "template"
    result = invoke("export", "github-classroom", "--task", "layernorm", "--out", out, "--source", SOURCE)
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr  # a commit-pinned source, a built-in task
    return out


def test_classroom_template_files(template, builtin_tasks):
    workflow = (template / ".github" / "workflows" / "dlprep.yml").read_text()
    assert (template / "layernorm.py").read_text() == builtin_tasks["layernorm"].spec.starter
    assert f'DLPREP_SOURCE: "{SOURCE}"' in workflow and 'pip install --disable-pip-version-check "$DLPREP_SOURCE"' in workflow
    torch = metadata.version("torch").split("+")[0]
    assert f'--index-url https://download.pytorch.org/whl/cpu "torch=={torch}"' in workflow
    assert "dlprep doctor --json" in workflow
    grade_line = _grade_line(workflow)
    assert "--format markdown" in grade_line and grade_line.endswith('>> "$GITHUB_STEP_SUMMARY"')
    assert "||" not in grade_line  # a failed grade fails the job
    assert "formative" in (template / "README.md").read_text()


def test_classroom_workflow_matches_githubs_schema(template):
    checker = shutil.which("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]'): GitHub's workflow schema ships with it")
    run = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows",
                          str(template / ".github" / "workflows" / "dlprep.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _grade_line(workflow: str) -> str:
    return next(line.strip() for line in workflow.splitlines() if line.strip().startswith("dlprep submit"))


def test_classroom_grade_step_fails_the_job_and_fills_the_summary(template, tmp_path):
    """The Grade step's own line, under the bash options GitHub gives `shell: bash`, on the starter."""
    if shutil.which("dlprep") is None:
        pytest.skip("the workflow calls the dlprep command, and none is on PATH here")
    repo = shutil.copytree(template, tmp_path / "repo")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                          _grade_line((repo / ".github" / "workflows" / "dlprep.yml").read_text())],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr  # the starter raises NotImplementedError: a failed grade
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# layernorm.py: FAIL") and "| Check |" in text


def test_classroom_without_source_is_a_loud_placeholder(tmp_path):
    result = invoke("export", "github-classroom", "--task", "layernorm", "--out", tmp_path)
    assert result.exit_code == 0 and "placeholder" in result.stderr
    workflow = (tmp_path / ".github" / "workflows" / "dlprep.yml").read_text()
    assert "# !!! Set DLPREP_SOURCE" in workflow and 'DLPREP_SOURCE: "REPLACE-ME' in workflow
    again = invoke("export", "github-classroom", "--task", "layernorm", "--out", tmp_path)
    assert again.exit_code == 2 and "--force" in again.stderr


@pytest.mark.parametrize("source", ['git+https://x/y@1"; curl evil', "https://x/${{ secrets.T }}.whl", "a\nb",
                                    "--extra-index-url=https://x/simple"])
def test_classroom_source_that_could_break_out_is_refused(source, tmp_path):
    result = invoke("export", "github-classroom", "--task", "layernorm", "--out", tmp_path, "--source", source)
    assert result.exit_code == 2 and "--source" in result.stderr
    assert not (tmp_path / ".github").exists()


def test_classroom_instructor_task_travels_with_a_warning(tmp_path):
    result = invoke("export", "github-classroom", "--task", "scale", "--out", tmp_path, "--bank", TASK_DIR,
                    "--source", "https://example.org/dlprep-0.1.0-py3-none-any.whl")
    assert result.exit_code == 0 and "students can read them" in result.stderr
    assert (tmp_path / ".dlprep" / "tasks" / "scale_ref.py").is_file()
    assert "--bank .dlprep/tasks" in _grade_line((tmp_path / ".github" / "workflows" / "dlprep.yml").read_text())
