"""Loads the judge's file under an innocent module name: the zygote must still refuse to hold it
(tests/test_sandbox_layers.py preloads this module into a sandbox)."""
import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "grader" / "grading" / "judge.py"
_spec = importlib.util.spec_from_file_location("innocent_helper", _path)
_module = importlib.util.module_from_spec(_spec)
sys.modules["innocent_helper"] = _module
_spec.loader.exec_module(_module)
