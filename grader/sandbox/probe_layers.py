"""Which lockdown layers work here: tried once per zygote in a throwaway child.

The probe applies every layer as a graded child would, records "on" or "off: why" for each, and then
checks that the main ones bite (a socket is refused, a dlprep file is unreadable): a layer that loads
but does not bite is reported off.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import sysconfig
import time
from pathlib import Path

from grader.sandbox import lockdown, wire

PROBE_DEADLINE_S = 20.0
PROBE_CPU_S = 10.0


def interpreter_paths() -> list[str]:
    """Files an unprivileged uid would have to read to run this interpreter and torch."""
    import torch

    paths = [os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"], str(Path(torch.__file__).parent)]
    return [p for p in paths if os.path.exists(p)]


def probe(plan: lockdown.Plan, secret_file: str) -> dict[str, str]:
    """layer -> "on" | "off: why". secret_file: a dlprep file Landlock must hide."""
    blocker = lockdown.uid_blocker(interpreter_paths())
    if blocker:
        plan.layers["uid"] = f"off: {blocker}"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            found = lockdown.apply(plan, PROBE_CPU_S, strict=False)
            found.update(_bites(found, secret_file))
            found.update(_scratch_usable(found, plan.scratch))
            wire.write_json(w, found)
        finally:
            os._exit(0)
    os.close(w)
    try:
        return wire.read_json(r, time.monotonic() + PROBE_DEADLINE_S)
    except (wire.WireError, ValueError) as exc:
        return {name: f"off: the probe child failed ({exc})" for name in lockdown.LAYERS}
    finally:
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def _scratch_usable(found: dict[str, str], scratch: str) -> dict[str, str]:
    """A child must be able to work in scratch; under the uid layer that takes ownership."""
    try:
        os.chdir(scratch)
        with open("probe", "w") as f:
            f.write("ok")
    except OSError as exc:
        if found.get("uid") == "on":
            return {"uid": f"off: the slot uid cannot write in scratch ({exc})"}
        raise
    return {}


def _bites(found: dict[str, str], secret_file: str) -> dict[str, str]:
    """Layers that were applied but let through what they exist to stop."""
    failed = {}
    if found.get("seccomp") == "on":
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
            failed["seccomp"] = "off: loaded, but socket() was still allowed"
        except PermissionError:
            pass
    if found.get("landlock") == "on":
        try:
            with open(secret_file, "rb"):
                failed["landlock"] = f"off: applied, but {secret_file} was still readable"
                if found.get("landlock-scope") == "on":  # a child skips it without the landlock layer
                    failed["landlock-scope"] = "off: needs the landlock layer, which is off"
        except PermissionError:
            pass
    return failed
