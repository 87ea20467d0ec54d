"""The child's answer (its meta), validated against a strict schema before the judge reads a field.

Everything in it was written by a process that ran the submission, so it is hostile input: types,
counts, string lengths and nesting are checked here, once, and what fails is the submission's error
(`BadAnswer`, reported as a malformed answer), never an exception deeper in the judge. Messages are
clipped to report-sized limits. Counts are far above what an honest module has (the tasks have
2-4 parameters) and far below what would slow a linear pass down.

    {"error": null | {"kind": str, "message": str},
     "classes": [str],
     "structure": {} | {"parameters": [{"name": str, "shape": [int], "dtype": str, "init": ones|zeros|other}],
                        "submodules": [{"name": str, "type": str}],
                        "mapping": {own name: reference name},
                        "buffers": [{"name": str, "shape": [int], "dtype": str, "init": ones|zeros|other,
                                     "registered": bool}]  (optional: the task's declared buffers)},
     "probes": {probe name: {"error": str | null, "grad_none": [str], "version_bumped": bool,
                             "unreported": [[int]]  (optional: shapes of tensors outside the
                             reported parameters that took a gradient),
                             "autograd_runs": int, "grad_fn": str | null  (optional, function tasks:
                             the engine's runs inside the Function, the type of apply's output's
                             node when it is autograd's own)}},
     "gradcheck": {"passed": bool, "message": str}  (optional: a function task's gradcheck)}
"""
from __future__ import annotations

MAX_PARAMETERS = 1000
MAX_SUBMODULES = 1000
MAX_CLASSES = 200
MAX_NAME = 256  # a parameter, submodule, class or type name
MAX_KIND = 40
MAX_MESSAGE = 4000  # clipped, not refused: the child's own clip is 2000
MAX_DIMS = 16
MAX_DIM = 1 << 40
MAX_UNREPORTED = 64
MAX_ENGINE_RUNS = 1 << 30  # a count the child's main thread measured; bounded like any number it sends
MAX_BUFFERS = 64  # the child reports the task's declared buffers only (BatchNorm: 2)
INITS = ("ones", "zeros", "other")


class BadAnswer(ValueError):
    """The answer does not follow the schema: the submission's error (it wrote it)."""


def validate(meta, probe_names: list[str]) -> dict:
    """A clean copy of the child's meta (plain dicts, lists, str, int, bool), or BadAnswer."""
    top = _dict(meta, "the answer", {"error", "classes", "structure", "probes", "gradcheck"}, required=set())
    clean = {
        "error": _error(top.get("error")),
        "classes": [_name(c, "classes[]") for c in _list(top.get("classes", []), "classes", MAX_CLASSES)],
        "structure": _structure(top.get("structure", {})),
        "probes": _probes(top.get("probes", {}), set(probe_names)),
    }
    if "gradcheck" in top:
        found = _dict(top["gradcheck"], "gradcheck", {"passed", "message"}, required={"passed"})
        if type(found["passed"]) is not bool:
            raise BadAnswer("gradcheck.passed is not true or false")
        clean["gradcheck"] = {"passed": found["passed"], "message": _clip(found.get("message", ""), "gradcheck.message")}
    return clean


def _error(value):
    if value is None:
        return None
    error = _dict(value, "error", {"kind", "message"}, required={"kind"})
    return {"kind": _text(error["kind"], "error.kind", MAX_KIND), "message": _clip(error.get("message", ""), "error.message")}


def _structure(value) -> dict:
    raw = _dict(value, "structure", {"parameters", "submodules", "mapping", "buffers"}, required=set())
    if not raw:
        return {}
    params = []
    for i, p in enumerate(_list(raw.get("parameters", []), "structure.parameters", MAX_PARAMETERS)):
        where = f"structure.parameters[{i}]"
        p = _dict(p, where, {"name", "shape", "dtype", "init"}, required={"name", "shape", "init"})
        init = p["init"]
        if init not in INITS:
            raise BadAnswer(f"{where}.init is not one of {', '.join(INITS)}")
        params.append({"name": _name(p["name"], f"{where}.name"), "shape": _shape(p["shape"], f"{where}.shape"),
                       "dtype": _text(p.get("dtype", ""), f"{where}.dtype", MAX_KIND), "init": init})
    holders = []
    for i, m in enumerate(_list(raw.get("submodules", []), "structure.submodules", MAX_SUBMODULES)):
        where = f"structure.submodules[{i}]"
        m = _dict(m, where, {"name", "type"}, required={"name", "type"})
        holders.append({"name": _name(m["name"], f"{where}.name"), "type": _name(m["type"], f"{where}.type")})
    mapping = _dict(raw.get("mapping", {}), "structure.mapping", None, required=set())
    if len(mapping) > MAX_PARAMETERS:
        raise BadAnswer(f"structure.mapping has {len(mapping)} entries (limit {MAX_PARAMETERS})")
    clean_mapping = {_name(k, "structure.mapping key"): _name(v, "structure.mapping value") for k, v in mapping.items()}
    clean = {"parameters": params, "submodules": holders, "mapping": clean_mapping}
    if "buffers" in raw:
        clean["buffers"] = _buffers(raw["buffers"])
    return clean


def _buffers(value) -> list[dict]:
    """The declared buffers the child found; names are checked against the task's by the judge."""
    found = []
    for i, b in enumerate(_list(value, "structure.buffers", MAX_BUFFERS)):
        where = f"structure.buffers[{i}]"
        b = _dict(b, where, {"name", "shape", "dtype", "init", "registered"}, required={"name", "shape", "init", "registered"})
        if b["init"] not in INITS:
            raise BadAnswer(f"{where}.init is not one of {', '.join(INITS)}")
        if type(b["registered"]) is not bool:
            raise BadAnswer(f"{where}.registered is not true or false")
        found.append({"name": _name(b["name"], f"{where}.name"), "shape": _shape(b["shape"], f"{where}.shape"),
                      "dtype": _text(b.get("dtype", ""), f"{where}.dtype", MAX_KIND), "init": b["init"],
                      "registered": b["registered"]})
    return found


def _probes(value, known: set[str]) -> dict:
    raw = _dict(value, "probes", None, required=set())
    clean = {}
    for name, report in raw.items():
        if name not in known:
            raise BadAnswer(f"probes has a report for {_quote(name)}, which the task does not have")
        where = f"probes[{name}]"
        report = _dict(report, where, {"error", "grad_none", "version_bumped", "unreported", "autograd_runs", "grad_fn"},
                       required=set())
        runs, node = report.get("autograd_runs", 0), report.get("grad_fn")
        if type(runs) is not int or not 0 <= runs <= MAX_ENGINE_RUNS:
            raise BadAnswer(f"{where}.autograd_runs is not a count")
        error = report.get("error")
        bumped = report.get("version_bumped", False)
        if type(bumped) is not bool:
            raise BadAnswer(f"{where}.version_bumped is not true or false")
        clean[name] = {
            "error": None if error is None else _clip(error, f"{where}.error"),
            "grad_none": [_name(g, f"{where}.grad_none[]")
                          for g in _list(report.get("grad_none", []), f"{where}.grad_none", MAX_PARAMETERS)],
            "version_bumped": bumped,
            "unreported": [_shape(s, f"{where}.unreported[]")
                           for s in _list(report.get("unreported", []), f"{where}.unreported", MAX_UNREPORTED)],
            "autograd_runs": runs,
            "grad_fn": None if node is None else _name(node, f"{where}.grad_fn"),
        }
    return clean


def _dict(value, where: str, keys: set[str] | None, required: set[str]) -> dict:
    if type(value) is not dict:
        raise BadAnswer(f"{where} is not an object")
    if keys is not None:
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise BadAnswer(f"{where} has an unknown field {_quote(unknown[0])}")
    missing = sorted(required - set(value))
    if missing:
        raise BadAnswer(f"{where} has no field {missing[0]!r}")
    return value


def _list(value, where: str, limit: int) -> list:
    if type(value) is not list:
        raise BadAnswer(f"{where} is not a list")
    if len(value) > limit:
        raise BadAnswer(f"{where} has {len(value)} entries (limit {limit})")
    return value


def _text(value, where: str, limit: int) -> str:
    if type(value) is not str:
        raise BadAnswer(f"{where} is not a string")
    if len(value) > limit:
        raise BadAnswer(f"{where} is {len(value)} characters long (limit {limit})")
    return value


def _name(value, where: str) -> str:
    return _text(value, where, MAX_NAME)


def _clip(value, where: str) -> str:
    if type(value) is not str:
        raise BadAnswer(f"{where} is not a string")
    return value if len(value) <= MAX_MESSAGE else value[:MAX_MESSAGE] + " [clipped]"


def _shape(value, where: str) -> list[int]:
    dims = _list(value, where, MAX_DIMS)
    if any(type(d) is not int or not 0 <= d < MAX_DIM for d in dims):
        raise BadAnswer(f"{where} is not a list of sizes")
    return list(dims)


def _quote(value) -> str:
    """A key named in a message: short, whatever the child put there."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
