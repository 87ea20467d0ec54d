"""`dlprep export github-classroom`: a student template repository for one task: a GitHub Actions
workflow that installs a pinned dlprep, logs `dlprep doctor --json` and writes `dlprep submit
--format markdown` into the run's summary (failing the job on a failed grade), the starter file and
a README. Students control their own workflow, so this grading is formative.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader.authoring import exports
from grader.errors import UsageError

SOURCE_PLACEHOLDER = "REPLACE-ME: git+https://github.com/ORG/dlprep@COMMIT-SHA"
# `${{` in a workflow value is an expression GitHub evaluates; quotes and newlines would break out,
# and a leading dash would be a pip option.
SOURCE_OK = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9+.:/@_\-=#%~&?,]*$")

WORKFLOW = """# Made by `dlprep export github-classroom --task {task}` (dlprep {version}).
# Grades {file} on every push and writes dlprep's report to the run's summary page; the job fails
# when the grade does. Students control this file in their own repository, so this grade is
# formative feedback, not a mark to record.
name: dlprep

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-24.04
    timeout-minutes: 20
    env:
{source_comment}      DLPREP_SOURCE: {source}
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "{python}"
      - name: Install dlprep
        shell: bash
        run: |
          if [[ "$DLPREP_SOURCE" == REPLACE-ME* ]]; then
            echo "::error file=.github/workflows/dlprep.yml::set DLPREP_SOURCE to a pinned dlprep source"
            exit 1
          fi
          python -m pip install --disable-pip-version-check --index-url {torch_index} "torch=={torch}"
          python -m pip install --disable-pip-version-check "$DLPREP_SOURCE"
      - name: Sandbox layers (dlprep doctor)
        shell: bash
        run: dlprep doctor --json || true
      - name: Grade
        shell: bash
        run: |
          dlprep submit {file_arg} --task {task}{bank} --format markdown --no-record >> "$GITHUB_STEP_SUMMARY"
"""

LOUD = """      # !!! Set DLPREP_SOURCE before students use this template: dlprep is on no package index.
      # !!! Pin it: git+https://github.com/ORG/dlprep@<commit sha>, or the URL of a wheel you built.
      # !!! Until then every run fails at "Install dlprep".
"""

STUDENT_README = """# {title}

{prompt}

Write `{class_name}` in `{file}`: `{signature}`.

## Feedback on every push

Each push runs dlprep (`.github/workflows/dlprep.yml`): open the **Actions** tab, choose the latest
run, and read the report on its summary page: every check with its error, and the mistake it found
with a fix. The run fails (red ✗) while a check fails.

To grade on your own machine first: install the same dlprep (`pip install "{source}"`) and run
`dlprep submit {file}`.

This grade is formative feedback, not your mark: the workflow runs in your own repository, where
it can be changed. Your course's grade comes from your instructor.
"""


def check_source(source: str | None) -> str | None:
    """A pinned install source as pip takes it, refused if it could break out of the workflow."""
    if source is None:
        return None
    if not SOURCE_OK.match(source) or "${{" in source:
        raise UsageError(f"--source {source!r}: give a pip URL such as git+https://github.com/ORG/dlprep@<sha> "
                         "or https://.../dlprep-0.1.0-py3-none-any.whl (no spaces, quotes or ${{ }})")
    return source


def _source_warnings(source: str | None) -> list[str]:
    if source is None:
        return ["no --source: the workflow has a placeholder for dlprep's source and fails until you set "
                "DLPREP_SOURCE in .github/workflows/dlprep.yml"]
    if source.startswith("git+") and not re.search(r"@[0-9a-f]{40}(#|$)", source):
        return [f"--source {source} is not pinned to a commit sha: a branch or tag can move under the class"]
    return []


def export_github_classroom(task_id: str, out: Path, bank_paths: list[Path] | None = None, *,
                            source: str | None = None, force: bool = False) -> exports.Export:
    """Write a student template repository for one task into the folder `out`."""
    source = check_source(source)
    loaded = exports.find(task_id, bank_paths)
    spec = loaded.spec
    version, _ = exports.dlprep_meta()
    torch = exports.pinned_requirements()["torch"]
    extra = exports.task_files(loaded)
    file = f"{spec.id}.py"
    warnings = _source_warnings(source)
    if extra:
        warnings.append(f"task {spec.id} is yours, not dlprep's: its files (the reference too) go into "
                        ".dlprep/tasks/ where students can read them; for hidden answers, build the task into "
                        "the dlprep you name with --source instead")
    workflow = WORKFLOW.format(
        task=spec.id, version=version, file=file, file_arg=json.dumps(file), python=exports.python_minor(),
        torch_index=exports.TORCH_CPU_INDEX, torch=torch, source=json.dumps(source or SOURCE_PLACEHOLDER),
        source_comment="" if source else LOUD, bank=" --bank .dlprep/tasks" if extra else "")
    readme = STUDENT_README.format(title=spec.title.get(), prompt=spec.prompt.get().strip(), class_name=spec.class_name,
                                   file=file, signature=spec.signature, source=source or "<the source your "
                                   "instructor names in .github/workflows/dlprep.yml>")
    files = {".github/workflows/dlprep.yml": workflow.encode(), file: spec.starter.encode(),
             "README.md": readme.encode()}
    files.update({f".dlprep/tasks/{rel.as_posix()}": (loaded.dir / rel).read_bytes() for rel in extra})
    exports.check_target(out, force, folder=True, names=list(files))
    for name, data in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        exports.write_atomic(target, data)
    return exports.Export(out, list(files), warnings)
