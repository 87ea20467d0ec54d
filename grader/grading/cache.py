"""The results cache of `dlprep grade`: a submission's report kept in the user's cache directory
(grader.home), so regrading an unchanged class reads files and runs nothing (no zygote, no torch).

The key is a SHA-256 of everything that decides a report: the task spec, the bytes of its reference
and mutant files, the submission's bytes and file name (tracebacks show it), --lang, the device, the
seed, torch's version and dlprep's own grading code. Reports that depend on the machine's state
(timeouts, crashes, memory limits, dlprep's own faults) are never stored. An entry that cannot be
read back as the report it claims to be is ignored, and the fresh grade is written over it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from grader import home
from grader.bank.taskfiles import reference_path
from grader.results import SubmissionResult

# Bumped when an entry's layout changes: old entries then miss instead of misreading.
LAYOUT = 1
# Error kinds that say more about the machine at that moment than about the submission.
NEVER_CACHED = frozenset({"timeout", "crashed", "memory-limit", "internal-error"})
# dlprep's code that decides a report: these packages and modules, every .py file in them.
GRADING_CODE = ("grading", "pitfalls", "sandbox", "bank", "references", "mutants", "results.py", "errors.py")
_GRADER_DIR = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """One hash of dlprep's grading code (file paths and bytes), read once per process."""
    h = hashlib.sha256()
    for part in GRADING_CODE:
        root = _GRADER_DIR / part
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            h.update(str(path.relative_to(_GRADER_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def torch_version() -> str:
    """torch's version from its installed metadata: importing torch would cost a second."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "none"


def task_digest(loaded) -> str:
    """The task as graded: its spec and the bytes of its reference and mutant files
    (grader.bank.catalog.LoadedTask)."""
    spec = loaded.spec
    h = hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode())
    ref, _ = reference_path(spec.reference.rsplit(":", 1)[0], Path(loaded.dir))
    files = [ref] + [m.path(loaded.dir) for m in spec.mutants]
    # the classes of module-valued arguments (a sublayer the task builds): their code decides outputs
    files += [reference_path(r.rsplit(":", 1)[0], Path(loaded.dir))[0] for r in spec.module_refs()]
    for path in files:
        try:
            h.update(b"\0" + (path.read_bytes() if path is not None else b"<missing>"))
        except OSError:  # the judge will report it; the key only has to differ
            h.update(b"\0<unreadable>")
    return h.hexdigest()


def key(task: str, source: bytes, filename: str, *, lang: str, device: str, seed: int) -> str:
    """The entry's name: `task` is task_digest()'s."""
    parts = [f"layout={LAYOUT}", f"task={task}", f"file={filename}", f"lang={lang}", f"device={device}",
             f"seed={seed}", f"torch={torch_version()}", f"code={code_digest()}"]
    h = hashlib.sha256("\n".join(parts).encode() + b"\n\0")
    h.update(source)
    return h.hexdigest()


def cacheable(result: SubmissionResult) -> bool:
    return result.error is None or result.error.kind not in NEVER_CACHED


class ResultsCache:
    """get(key) -> SubmissionResult | None; put(key, result). Under grader.home.cache_dir()/results."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else home.cache_dir() / "results"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> SubmissionResult | None:
        try:
            doc = json.loads(self._path(key).read_text(encoding="utf-8"))
            if doc.get("key") != key or doc.get("layout") != LAYOUT:
                return None
            result = SubmissionResult.from_dict(doc["result"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None  # missing, or corrupt (nested too deep for json too): graded again and written over
        return result if cacheable(result) else None

    def put(self, key: str, result: SubmissionResult) -> None:
        """Store atomically (a crash mid-write leaves the old entry or none); a cache that cannot
        be written only costs the next run its speed."""
        if not cacheable(result):
            return
        path = self._path(key)
        # dumps, not dump: dump encodes in Python, chunk by chunk (~15 ms an entry, in the thread that
        # hands out the next job); dumps uses the C encoder.
        text = json.dumps({"layout": LAYOUT, "key": key, "result": result.to_dict()}, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except (OSError, ValueError):  # ValueError: text that cannot be encoded (results.encodable's job)
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
