"""`dlprep doctor`: which isolation layers a graded child gets on this machine, and why any is off.

The answer comes from a real zygote's start-up probe (the same one grading uses), not from guessing
at kernel features.
"""
from __future__ import annotations

import platform

from grader.sandbox.client import Sandbox
from grader.sandbox.landlock_rules import abi
from grader.sandbox.lockdown import isolating_on


def report(device: str = "cpu") -> dict:
    """{"device", "kernel", "landlock_abi", "layers": {layer: "on" | "off: why"}, "can_grade"}."""
    with Sandbox(device=device) as sandbox:
        layers = sandbox.layers()
    return {
        "device": device,
        "kernel": platform.release(),
        "landlock_abi": abi(),
        "layers": layers,
        "can_grade": bool(isolating_on(layers)),
    }


def lines(doc: dict) -> list[str]:
    """The plain-text form: one line per layer, then the conclusion."""
    width = max(map(len, doc["layers"]))
    out = [f"dlprep sandbox on {doc['device']} (kernel {doc['kernel']}, Landlock ABI {doc['landlock_abi']})"]
    out += [f"  {name:<{width}}  {state}" for name, state in doc["layers"].items()]
    if doc["can_grade"]:
        out.append("grading is isolated by: " + ", ".join(isolating_on(doc["layers"])))
    else:
        out.append("no isolating layer works here: dlprep submit refuses to grade unless --insecure")
    return out
