"""What crosses the process boundary: the job sent to the zygote and what an untrusted child left.

The CLI builds a job (plain JSON), the sandbox runs the child and hands the judge a ChildOutcome.
Every field of a ChildOutcome except `status` and `detail` comes from untrusted code: it is data to
validate, never a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "timeout", "memory-limit", "crashed", "output-limit"]


@dataclass
class ChildOutcome:
    status: Status  # set by the supervisor from how the child ended, never by the child
    detail: str = ""  # e.g. "killed by SIGSEGV", "exited with code 0 before answering"
    meta: dict | None = None  # the child's JSON header, untrusted
    tensors: bytes | None = None  # safetensors bytes, untrusted; parse with safetensors, never pickle
    stdout: str = ""  # capped, shown only
    stderr: str = ""  # capped, shown only
    duration_s: float = 0.0
    # Bytes trusted code in the child wrote on the record pipe as things happened (one per call of a
    # forbidden op): the child can add to them, never take one back. Capped like stdout.
    records: bytes = b""
    layers: dict[str, str] = field(default_factory=dict)  # isolation layer -> "on" | "off: why"
