"""What a locked-down child really has, read from outside it (its /proc entries, by the zygote, once
the probe child has applied every layer): uids inside and outside, capabilities, namespaces,
seccomp, limits. `dlprep doctor` prints these, and says "isolated" only when `missing()` is empty.
"""
from __future__ import annotations

import os

NAMESPACES = ("user", "pid", "ipc", "uts", "net", "mnt", "cgroup", "time")
# Each must be the child's own for grading to count as isolated (cgroup and time are not made).
REQUIRED_NAMESPACES = ("user", "pid", "ipc", "uts", "net", "mnt")
CAP_SETS = {"CapInh": "inheritable", "CapPrm": "permitted", "CapEff": "effective", "CapBnd": "bounding",
            "CapAmb": "ambient"}
SECCOMP_MODES = {"0": "off", "1": "strict", "2": "filter"}


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)


def _inside_uid(pid: int, outside: int) -> int:
    """The uid the child has in its own user namespace (its map, as we read it, is
    `inside outside count`)."""
    try:
        with open(f"/proc/{pid}/uid_map") as f:
            for line in f:
                inside, lower, count = (int(v) for v in line.split())
                if lower <= outside < lower + count:
                    return inside + outside - lower
    except (OSError, ValueError):
        pass
    return outside


def _limits(pid: int) -> dict[str, str]:
    """/proc/PID/limits: name -> soft limit ("unlimited" or a number)."""
    found = {}
    with open(f"/proc/{pid}/limits") as f:
        for line in f.read().splitlines()[1:]:
            name, soft = line[:26].strip(), line[26:47].strip()
            found[name] = soft
    return found


def read(pid: int, cgroup: dict) -> dict:
    """The facts of process `pid`. cgroup: {"version", "pids_max", "memory_bytes"} or {"missing": why}."""
    status = _status(pid)
    outside = int(status["Uid"].split()[1])
    caps = {name: int(status[key], 16) for key, name in CAP_SETS.items()}
    shared = []
    for ns in NAMESPACES:
        try:
            if os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/self/ns/{ns}"):
                shared.append(ns)
        except OSError:
            continue  # a namespace kind this kernel lacks
    limits = _limits(pid)
    address_space = limits.get("Max address space", "unlimited")
    nproc = limits.get("Max processes", "unlimited")
    # RLIMIT_NPROC binds only where the child is not root outside, counted in its user namespace.
    nproc_binds = nproc != "unlimited" and outside != 0 and "user" not in shared
    return {
        "uid": {"inside": _inside_uid(pid, outside), "outside": outside},
        "capabilities": {name: f"{value:#x}" for name, value in caps.items()},
        "no_capabilities": not any(caps.values()),
        "pid_inside": int(status.get("NSpid", str(pid)).split()[-1]),
        "namespaces_own": [ns for ns in NAMESPACES if ns not in shared and os.path.exists(f"/proc/self/ns/{ns}")],
        "namespaces_shared": shared,
        "seccomp": SECCOMP_MODES.get(status.get("Seccomp", "0").strip(), "unknown"),
        "no_new_privs": status.get("NoNewPrivs", "0").strip() == "1",
        "threads_max": cgroup.get("pids_max") or (int(nproc) if nproc_binds else None),
        "threads_bound": "pids cgroup" if cgroup.get("pids_max") else "RLIMIT_NPROC" if nproc_binds else None,
        "memory_bytes": cgroup.get("memory_bytes"),
        "address_space_bytes": None if address_space == "unlimited" else int(address_space),
        "cgroup": cgroup,
    }


def missing(facts: dict, layers: dict[str, str]) -> list[str]:
    """What keeps grading here from being isolated, in words; empty when it is."""
    if not facts:
        return ["the child could not be inspected"]
    gaps = []
    if facts["uid"]["outside"] == 0 and "user" in facts["namespaces_shared"]:
        gaps.append("the child is root in the host's user namespace")
    if not facts["no_capabilities"]:
        gaps.append("the child keeps capabilities")
    shared = [ns for ns in REQUIRED_NAMESPACES if ns in facts["namespaces_shared"]]
    if shared:
        gaps.append("it shares the host's " + ", ".join(shared) + " namespace" + "s" * (len(shared) > 1))
    if facts["seccomp"] != "filter":
        gaps.append("no seccomp filter")
    if layers.get("landlock") != "on":
        gaps.append("no Landlock")
    if facts["threads_max"] is None:
        gaps.append("no thread bound (pids cgroup)")
    if facts["memory_bytes"] is None:
        gaps.append("no memory cgroup (RLIMIT_AS alone misses kernel memory and file pages)")
    return gaps
