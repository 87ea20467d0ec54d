"""The trusted side of a Gradescope bundle (`dlprep export gradescope`): `run_autograder` runs this
as `python -I -m grader.authoring.autograder` once per submission, in Gradescope's container.

It logs `dlprep doctor --json` (the layers a graded child gets in this container), picks the
submitted file by `dlprep grade`'s rules for a student's folder (the one .py defining the task's
class; links and hidden folders never followed), grades a private copy of it with `dlprep submit`
(the child runs in dlprep's sandbox; `--insecure` only where no isolating layer works and the
bundle allows it), and writes results.json itself, atomically, after that process has returned:
the child is reaped by then, and nothing it printed reaches the report except through dlprep's own
Gradescope format.
The root (/autograder) is DLPREP_AUTOGRADER_ROOT for tests.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.grading.discover import folder_submission
from grader.grading.formats import GRADESCOPE_KEYS
from grader.grading.submit import MAX_SOURCE_BYTES

ROOT_ENV = "DLPREP_AUTOGRADER_ROOT"
CONFIG = "dlprep_autograder.json"
# Gradescope's default limit per submission is 10 minutes: doctor and grading together stop well
# before it, so that a results.json saying so is still written.
GRADE_TIMEOUT_S = 420
DOCTOR_TIMEOUT_S = 120
NOTE_MAX = 2000  # of dlprep's own stderr quoted in an error result


def main() -> int:
    started = time.monotonic()
    root = Path(os.environ.get(ROOT_ENV, "/autograder"))
    try:
        return grade_submission(root, started)
    except Exception as exc:  # the log gets the traceback; the student a result saying it was not them
        import traceback

        traceback.print_exc()
        return _write(root / "results", _error_doc(
            f"The autograder failed ({type(exc).__name__}); this is not a verdict on your code: please "
            "tell course staff.", {}, started))


def grade_submission(root: Path, started: float) -> int:
    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    results = root / "results"
    _lock_away(root / "source", results)
    layers, can_grade = doctor()
    insecure = can_grade is False and not config.get("require_isolation", False)
    extra = {"task": config["task"], "dlprep": config.get("dlprep_version"), "layers": layers,
             "insecure": insecure}
    if can_grade is False and not insecure:
        return _write(results, _error_doc(
            "The autograder cannot isolate submitted code in this container, and this assignment "
            "requires isolation: it was not graded. This is not about your code: please tell course staff.",
            extra, started))
    found = folder_submission(root / "submission", config["class_name"])
    if found.path is None:
        return _write(results, _error_doc(f"Your submission was not graded: {found.problem}.", extra, started))
    chosen = found.path
    extra["file"] = chosen.relative_to(root / "submission").as_posix()
    doc, problem = grade(chosen, config, root / "source", insecure)
    if doc is None:
        return _write(results, _error_doc(problem, extra, started))
    notes = [f"Graded {extra['file']} against task {config['task']}."]
    if insecure:
        notes.append("NOTE: no isolating sandbox layer works in this container, so this submission ran "
                     "with dlprep --insecure (only the container separates it from the grader).")
    doc = {k: v for k, v in doc.items() if k in GRADESCOPE_KEYS}
    doc["output"] = "\n".join(notes) + "\n\n" + str(doc.get("output", ""))
    doc["extra_data"] = extra
    return _write(results, doc)


def _lock_away(*dirs: Path) -> None:
    """As root, make the bundle and the results unreadable to the unprivileged uid the sandbox
    grades as (where its uid layer is on): Landlock hides them too, where it works."""
    if os.geteuid() != 0:
        return
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)


def doctor() -> tuple[dict, bool | None]:
    """Run `dlprep doctor --json` into the log; (layers, can_grade), or ({}, None) if it gave no answer."""
    print("== dlprep doctor --json (the isolation layers a graded child gets here)", flush=True)
    try:
        run = subprocess.run(_dlprep("doctor", "--json"), capture_output=True, text=True,
                             timeout=DOCTOR_TIMEOUT_S, env=_env())
    except subprocess.TimeoutExpired:
        print("dlprep doctor did not answer in time", flush=True)
        return {}, None
    print(run.stdout + run.stderr, flush=True)
    try:
        report = json.loads(run.stdout)
        return dict(report["layers"]), bool(report["can_grade"])
    except (ValueError, KeyError, TypeError):
        return {}, None


def _head(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_SOURCE_BYTES + 1)  # bigger is dlprep's bad-file: it need not all be copied


def grade(path: Path, config: dict, source: Path, insecure: bool) -> tuple[dict | None, str]:
    """dlprep's Gradescope report of a private copy of `path`, or (None, why not)."""
    with tempfile.TemporaryDirectory(prefix="dlprep-grade-") as tmp:
        work = Path(tmp)
        copy = work / path.name
        copy.write_bytes(_head(path))  # a copy: the file graded is the file read, whatever happens to the upload
        out = work / "results.json"
        args = ["submit", str(copy), "--task", config["task"], "--format", "gradescope", "--out", str(out),
                "--no-record"]
        if config.get("bank"):
            args += ["--bank", str(source / config["bank"])]
        if insecure:
            args.append("--insecure")
        print("== dlprep " + " ".join(args[:1] + [path.name] + args[2:]), flush=True)
        code, stderr = _run(_dlprep(*args), work)
        print(f"exit {code}\n{stderr}", flush=True)
        if code in (0, 1) and out.is_file():
            try:
                doc = json.loads(out.read_text(encoding="utf-8"))
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                return doc, ""
        if code is None:
            return None, f"Grading did not finish within {GRADE_TIMEOUT_S} s."
        why = stderr.strip()[-NOTE_MAX:] or f"dlprep exited with code {code}"
        return None, f"The autograder could not grade this submission (not a verdict on your code):\n{why}"


def _run(cmd: list[str], cwd: Path) -> tuple[int | None, str]:
    """Run in its own session, so a timeout kills dlprep and everything it started."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(home=cwd / "home"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=GRADE_TIMEOUT_S)
        return proc.returncode, stderr
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        return None, stderr


def _dlprep(*args: str) -> list[str]:
    """dlprep of this interpreter (the venv setup.sh made), isolated from the working directory."""
    return [sys.executable, "-I", "-m", "cli", *args]


def _env(home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLPREP_")}
    if home is not None:
        env["DLPREP_HOME"] = str(home)  # no learner's store or results cache shared between runs
    return env


def _error_doc(message: str, extra: dict, started: float) -> dict:
    return {"score": 0.0, "output": message, "visibility": "visible", "tests": [],
            "execution_time": round(time.monotonic() - started, 3), "extra_data": {**extra, "error": message}}


def _write(results: Path, doc: dict) -> int:
    """results.json, atomically: a reader sees the old file or the whole new one, never a part, and
    anything planted there before is replaced."""
    results.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=results, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2, allow_nan=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, results / "results.json")
    print(f"== wrote {results / 'results.json'}: score {doc.get('score')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
