"""`dlprep doctor`: which isolation layers a graded child gets on this machine, why any is off, and
what the child really has, read from its /proc entries (uids, capabilities, namespaces, seccomp,
Landlock, thread and memory bounds).

The answer comes from a real zygote's start-up probe (the same one grading uses), not from guessing
at kernel features. "isolated" is said only when every part holds (grader.sandbox.facts.missing);
otherwise the report names what is missing, and grading still runs while any isolating layer works.
"""
from __future__ import annotations

import platform

from grader.sandbox import facts as child_facts
from grader.sandbox.client import Sandbox
from grader.sandbox.landlock_rules import abi
from grader.sandbox.lockdown import isolating_on

# Where user namespaces are refused (Docker's default seccomp profile refuses unshare and clone with
# namespace flags to a container without CAP_SYS_ADMIN; some kernels set user.max_user_namespaces=0).
NO_USERNS_HINT = ("user namespaces are refused here (Docker's default seccomp profile does this): the child "
                  "then has no PID, IPC, UTS, network or mount namespace of its own and stays in the "
                  "container's; Landlock, seccomp and the dropped capabilities still apply. Run the "
                  "container with a profile that allows unshare, or grade outside it")


def report(device: str = "cpu") -> dict:
    """{"device", "kernel", "landlock_abi", "layers": {layer: "on" | "off: why"}, "child": facts,
    "missing": [what keeps it from being isolated], "isolated", "can_grade"}."""
    with Sandbox(device=device) as sandbox:
        layers = sandbox.layers()
        seen = sandbox.facts()
    gaps = child_facts.missing(seen, layers)
    return {
        "device": device,
        "kernel": platform.release(),
        "landlock_abi": abi(),
        "layers": layers,
        "child": seen,
        "missing": gaps,
        "isolated": not gaps,
        "can_grade": bool(isolating_on(layers)),
    }


def _bytes(n: int | None) -> str:
    return "unbounded" if n is None else f"{n / (1 << 30):.1f} GiB"


def child_lines(seen: dict, layers: dict[str, str]) -> list[str]:
    """The child's facts in words, one line each."""
    if not seen or "error" in seen:
        return [f"  the child could not be inspected{': ' + seen['error'] if seen else ''}"]
    uid = seen["uid"]
    caps = "none in any set" if seen["no_capabilities"] else ", ".join(f"{k} {v}" for k, v in seen["capabilities"].items())
    cgroup = seen.get("cgroup") or {}
    memory = f"{_bytes(seen['memory_bytes'])} (memory cgroup)" if seen["memory_bytes"] else \
        f"no memory cgroup ({cgroup.get('missing', 'none')})"
    if seen.get("threads_bound") == "pids cgroup":
        threads = f"at most {seen['threads_max']} (pids cgroup v{cgroup.get('version')})"
    elif seen["threads_max"]:
        threads = f"at most {seen['threads_max']} (RLIMIT_NPROC, counted in its user namespace; no pids cgroup)"
    else:
        threads = f"unbounded by the kernel (no pids cgroup: {cgroup.get('missing', 'none')})"
    rows = [
        ("uid", f"{uid['inside']} inside its user namespace, {uid['outside']} outside"
                + (" (root: " + layers.get("uid", "off")[5:] + ")" if uid["outside"] == 0 and layers.get("uid") != "on" else "")),
        ("capabilities", caps + ("; securebits locked" if layers.get("capabilities") == "on" else "")),
        ("namespaces", "its own: " + (", ".join(seen["namespaces_own"]) or "none")
                       + "; the host's: " + (", ".join(seen["namespaces_shared"]) or "none")),
        ("pid", f"{seen['pid_inside']} in its PID namespace"),
        ("seccomp", f"{seen['seccomp']}" + (", no_new_privs" if seen["no_new_privs"] else "")),
        ("landlock", layers.get("landlock", "off") + (", scoped" if layers.get("landlock-scope") == "on" else "")),
        ("threads", threads),
        ("memory", memory + f", address space {_bytes(seen['address_space_bytes'])} (RLIMIT_AS)"),
    ]
    return [f"  {name:<13} {text}" for name, text in rows]


def lines(doc: dict) -> list[str]:
    """The plain-text form: one line per layer, what the child has, then the conclusion."""
    width = max(map(len, doc["layers"]))
    out = [f"dlprep sandbox on {doc['device']} (kernel {doc['kernel']}, Landlock ABI {doc['landlock_abi']})"]
    out += [f"  {name:<{width}}  {state}" for name, state in doc["layers"].items()]
    out.append("the graded child has:")
    out += child_lines(doc.get("child") or {}, doc["layers"])
    if doc["layers"].get("userns", "on") != "on":
        out.append("note: " + NO_USERNS_HINT)
    if doc.get("isolated"):
        out.append("grading is isolated: " + ", ".join(isolating_on(doc["layers"])))
    elif doc["can_grade"]:
        out.append("grading is only partly isolated, missing: " + "; ".join(doc["missing"]))
    else:
        out.append("no isolating layer works here: dlprep submit refuses to grade unless --insecure")
    return out
