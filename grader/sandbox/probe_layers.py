"""Which lockdown layers work here: tried once per zygote in a throwaway child.

The probe child is forked as a graded child is (into its PID namespace, in a cgroup of its own),
applies every layer, records "on" or "off: why" for each, and checks that the main ones bite (a
socket is refused, a dlprep file is unreadable, another pid's limits are out of reach). Then, while
it waits, the zygote reads its /proc entries from outside (grader.sandbox.facts): a layer the facts
contradict (capabilities left, the host's namespace) is reported off too.
"""
from __future__ import annotations

import errno
import os
import resource
import signal
import socket
import sys
import sysconfig
import time
from pathlib import Path

from grader.sandbox import cgroups, facts, lockdown, namespaces, wire

PROBE_DEADLINE_S = 20.0
PROBE_CPU_S = 10.0


def interpreter_paths() -> list[str]:
    """Files an unprivileged uid would have to read to run this interpreter and torch."""
    import torch

    paths = [os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"], str(Path(torch.__file__).parent)]
    return [p for p in paths if os.path.exists(p)]


def probe(plan: lockdown.Plan, secret_file: str) -> tuple[dict[str, str], dict]:
    """(layer -> "on" | "off: why", the facts of the probe child). secret_file: a dlprep file
    Landlock must hide. Sets plan.pid_mode to "off" where no PID namespace could be made."""
    if os.geteuid() != 0:
        plan.layers["uid"] = f"off: dlprep runs as uid {os.geteuid()}, which cannot switch to another uid"
    elif blocker := lockdown.uid_blocker(interpreter_paths()):
        plan.layers["uid"] = f"off: {blocker}"
    _probe_cgroup(plan)
    if "uid" not in plan.layers:
        # Where no tmpfs can be mounted over scratch (a kernel without CONFIG_TMPFS refuses its
        # options), the probe child works in scratch itself, as the slot uid: as each slot's job
        # directory is, it must be that uid's.
        os.chown(plan.scratch, plan.slot_uid, plan.slot_uid)
    r, w = os.pipe()
    hold_r, hold_w = os.pipe()  # the probe child waits on it, to be inspected
    plan.slot_pid = os.getpid()
    pid = namespaces.fork(plan.pid_mode)
    if pid == 0:
        os.close(r)
        os.close(hold_w)
        try:
            found = lockdown.apply(plan, PROBE_CPU_S, strict=False)
            found.update(_bites(found, secret_file))
            found.update(_scratch_usable(found, plan.scratch))
            wire.write_json(w, found)
            os.read(hold_r, 1)
        finally:
            os._exit(0)
    os.close(w)
    os.close(hold_r)
    seen: dict = {}
    try:
        layers = wire.read_json(r, time.monotonic() + PROBE_DEADLINE_S)
        try:
            seen = facts.read(pid, {"missing": plan.cgroup_missing})
        except OSError as exc:
            seen = {"error": f"the probe child could not be inspected ({exc})"}
        if plan.cgroup_paths and layers.get("cgroup") == "on":
            seen["cgroup"] = seen["memory_bytes"] = None
            try:
                seen["cgroup"] = cgroups.describe(plan.cgroup, plan.cgroup_paths, pid)
                seen["memory_bytes"] = seen["cgroup"]["memory_bytes"]
                if seen["cgroup"]["pids_max"]:
                    seen["threads_max"], seen["threads_bound"] = seen["cgroup"]["pids_max"], "pids cgroup"
            except OSError as exc:
                layers["cgroup"] = f"off: joined, but {exc}"
    except (wire.WireError, ValueError) as exc:
        layers = {name: f"off: the probe child failed ({exc})" for name in lockdown.LAYERS}
    finally:
        os.close(r)
        os.close(hold_w)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        namespaces.stop_reaping()
        cgroups.remove(plan.cgroup_paths)
        plan.cgroup_paths = []
    if "error" not in seen and seen:
        layers.update(_contradicted(layers, seen))
    if layers.get("pidns") != "on":
        plan.pid_mode = "off"
    cuda_off = layers.get("cuda-memory", "on") != "on"
    if plan.device == "cuda" and cuda_off and layers.get("pidns") == "on" and "pidns" not in plan.layers:
        # CUDA could not start in the PID namespace: grade on the GPU without it (doctor shows
        # why) rather than not at all; Landlock's signal scoping and seccomp still fence the child.
        why = layers["cuda-memory"].removeprefix("off: ")
        plan.layers["pidns"] = f"off: CUDA's driver does not start inside a PID namespace here ({why[:160]})"
        plan.pid_mode = "off"
        return probe(plan, secret_file)
    return layers, seen


def _probe_cgroup(plan: lockdown.Plan) -> None:
    """Make the probe child's cgroup (plan.cgroup_paths), as the zygote does for each child."""
    plan.cgroup_paths = []
    if plan.cgroup is not None:
        try:
            plan.cgroup_paths = cgroups.create(plan.cgroup, f"dlprep-{cgroups.owner_tag()}-probe", plan.memory_limit)
        except OSError as exc:
            plan.cgroup_missing = f"a cgroup could not be made ({exc})"


def _contradicted(layers: dict[str, str], seen: dict) -> dict[str, str]:
    """Layers reported on whose effect the child's /proc entries do not show."""
    off = {}
    if layers.get("capabilities") == "on" and not seen["no_capabilities"]:
        off["capabilities"] = f"off: applied, but the child holds {seen['capabilities']}"
    if layers.get("pidns") == "on" and seen["pid_inside"] != 1:
        off["pidns"] = f"off: the child is pid {seen['pid_inside']} in its namespace, not 1"
    for layer, kinds in (("userns", ("user",)), ("pidns", ("pid",)), ("namespaces", ("net", "mnt", "ipc", "uts"))):
        shared = [k for k in kinds if k in seen["namespaces_shared"]]
        if layers.get(layer) == "on" and shared:
            off[layer] = f"off: applied, but the child shares the host's {', '.join(shared)} namespace"
    if layers.get("seccomp") == "on" and seen["seccomp"] != "filter":
        off["seccomp"] = f"off: loaded, but /proc says seccomp {seen['seccomp']}"
    if "namespaces" in off and layers.get("scratch-tmpfs") == "on":  # it mounts in that namespace
        off["scratch-tmpfs"] = "off: needs the private mount namespace, which is off"
    return off


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
        other = 2 if os.getpid() == 1 else namespaces.host_ppid()
        try:
            resource.prlimit(other, resource.RLIMIT_NOFILE)  # a read: harmless if it gets through
            failed["seccomp"] = f"off: loaded, but prlimit64 on pid {other} was still allowed"
        except OSError as exc:
            if exc.errno != errno.EPERM:
                failed["seccomp"] = f"off: loaded, but prlimit64 on pid {other} got {errno.errorcode.get(exc.errno)}"
    if found.get("landlock") == "on":
        try:
            with open(secret_file, "rb"):
                failed["landlock"] = f"off: applied, but {secret_file} was still readable"
                if found.get("landlock-scope") == "on":  # a child skips it without the landlock layer
                    failed["landlock-scope"] = "off: needs the landlock layer, which is off"
        except PermissionError:
            pass
    return failed
