"""Shared test setup: every test runs with its own empty user directories and no instructor banks
from the environment, so nothing a developer has at home leaks into (or out of) a test."""
from __future__ import annotations

import pytest


def _real_store_state():
    """The learner's real progress store (as this user's environment names it) and its mtime."""
    from grader.practice.store import default_path

    path = default_path()
    return path, (path.stat().st_mtime_ns if path.exists() else None)


_REAL_STORE = _real_store_state()


def pytest_sessionfinish(session, exitstatus):
    """No test may write the learner's own store: the autouse fixture below points every test at
    its own DLPREP_HOME; this catches one that escapes it."""
    if _real_store_state() != _REAL_STORE:
        session.config.get_terminal_writer().line(f"a test wrote the learner's store {_REAL_STORE[0]}", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DLPREP_HOME", str(home / "dlprep"))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.delenv("DLPREP_BANKS", raising=False)
    monkeypatch.delenv("DLPREP_DEBUG", raising=False)
    monkeypatch.setenv("DLPREP_FSRS_FUZZ", "0")  # exact due dates
    return home


# ---- sandbox (issue 4): one warm zygote per test session, and the layers it ran with ----------
_SANDBOXES: list = []


@pytest.fixture(scope="session")
def sandbox():
    """The real sandbox (zygote + locked-down children), shared: starting one costs a torch import.
    It preloads what a function task's gradcheck imports (as `bank validate` does), once, instead
    of ~0.45 s in every child that grades one."""
    from grader.sandbox import Sandbox
    from grader.grading.submit import FUNCTION_TASK_PRELOAD

    sb = Sandbox(device="cpu", preload=("tests.sandbox_entries", *FUNCTION_TASK_PRELOAD))
    _SANDBOXES.append(sb)
    yield sb
    sb.close()


def pytest_terminal_summary(terminalreporter):
    if _SANDBOXES and _SANDBOXES[0]._hello:
        terminalreporter.write_sep("-", "sandbox layers this run graded with")
        for name, state in _SANDBOXES[0]._hello["layers"].items():
            terminalreporter.write_line(f"{name:<15} {state}")


# ---- grading (issue 3): the shipped task specs, loaded once -------------------------------------
@pytest.fixture(scope="session")
def builtin_tasks():
    """grader.bank.catalog.LoadedTask by id, for the shipped tasks only (no question bank involved)."""
    from pathlib import Path

    from grader.bank import catalog as banks

    return banks.load_paths([Path(__file__).resolve().parent.parent / "questions" / "tasks"]).tasks
