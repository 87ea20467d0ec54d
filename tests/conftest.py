"""Shared test setup: every test runs with its own empty user directories and no instructor banks
from the environment, so nothing a developer has at home leaks into (or out of) a test."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DLPREP_HOME", str(home / "dlprep"))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.delenv("DLPREP_BANKS", raising=False)
    monkeypatch.delenv("DLPREP_DEBUG", raising=False)
    return home


# ---- sandbox (issue 4): one warm zygote per test session, and the layers it ran with ----------
_SANDBOXES: list = []


@pytest.fixture(scope="session")
def sandbox():
    """The real sandbox (zygote + locked-down children), shared: starting one costs a torch import."""
    from grader.sandbox import Sandbox

    sb = Sandbox(device="cpu", preload=("tests.sandbox_entries",))
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
