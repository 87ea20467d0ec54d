"""Where dlprep keeps the learner's files: one layout for the progress store and the results cache.

DLPREP_HOME, when set, holds both (`DLPREP_HOME/data`, `DLPREP_HOME/cache`): tests and CI point it at
a temporary directory, and a learner can keep several profiles apart. Otherwise the platform's user
data and cache directories (platformdirs). Nothing is created here; callers create what they write.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DLPREP_HOME"
APP = "dlprep"


def data_dir() -> Path:
    """The learner's own records (the progress store)."""
    home = os.environ.get(ENV_VAR, "").strip()
    if home:
        return Path(home).expanduser() / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    """What can be rebuilt (graded results, segmentation caches)."""
    home = os.environ.get(ENV_VAR, "").strip()
    if home:
        return Path(home).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))
