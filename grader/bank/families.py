"""Probe families: hidden probes drawn from declared parameter spaces instead of a hand-picked list.

A task's `probe_space` names the families (each a sub-space: normalized rank, size class, dtype,
layout, batching, grad mode, train/eval, repeated calls, eps, input kind, parameters, and for
attention the number of heads and the sequence length). `draw` turns
them into ordinary probes with the task's seed: every family is in every draw (stratified), and
families whose spaces intersect are merged into one richer probe (a 3-D tuple probe that is also
transposed and of a prime size), so a draw has fewer probes than families. Pure Python and seeded
with random.Random: the CLI, `task show` and `bank validate` draw without torch, and the child and
the judge receive the drawn probes in the job.
"""
from __future__ import annotations

import itertools
import random

# Size classes for the last normalized dim. Small: the ordinary rows. Prime: no blocking or
# vectorised remainder lines up. Large: above 256 and not a power of two, where chunked or blocked
# statistics show. Pow2: the sizes a kernel is tuned for.
SIZE_POOLS = {
    "small": (5, 8, 12, 16),
    "prime": (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37),
    "large": (257, 263, 300, 331, 384, 509, 521, 600, 769, 1031),
    "pow2": (4, 8, 16, 32, 64, 128, 512),
}
# Other normalized dims of a rank-2 or -3 shape, and batch dims: small, so a richer probe stays cheap.
LEADING = (2, 3, 4, 5)
LEADING_LARGE = (2, 3)  # beside a last dim above 64: the probe stays under ~40k elements
BATCH = (2, 3, 4)
# The batch of a channels space (BatchNorm1d's (N, C)): from 3, since a batch of two normalizes every
# feature to -1 and +1 whatever the input, and its input gradient is then ~eps / var: rounding only.
CHANNEL_BATCH = (3, 4, 5, 6)

AXES = ("rank", "sizes", "batch", "dtype", "layout", "grad", "mode", "calls", "eps", "kind", "params", "steps",
        "heads", "seq", "dropout")
# An axis a family leaves open takes this value, unless a family merged into the same probe sets it.
DEFAULTS = {"rank": 1, "sizes": "small", "batch": "batched", "dtype": "float32", "layout": "contiguous",
            "grad": "requires", "mode": "train", "calls": 1, "eps": "default", "kind": "randn", "params": "random",
            "steps": "",  # steps: "train train eval" (a call sequence), "" for one call
            "heads": None, "seq": None,  # heads: n_heads of a heads space; seq: T of a deep batch (None: drawn)
            "dropout": 0.0}  # dropout: p, as probe_space.build's "$dropout" (0: no stochastic probe)
# A heads space (attention, built as (d_model, n_heads) on (B, T, d_model)) draws deep batches and
# two heads where a family leaves them open: one head would hide a scale by sqrt(d_model) and any
# mix-up of the heads.
HEADS_DEFAULTS = {"batch": "deep", "heads": 2}
MAX_NAME = 80
# A drawn probe's check fails with this when the reference's float64 result has NaN or inf there;
# `bank validate` runs every family's corners to refuse such a family before anyone is graded.
NONFINITE_TRUTH = "the reference's float64 result is not finite on this probe"


def family_axes(family) -> dict[str, list]:
    """The axes a family constrains, as lists of allowed values."""
    return {axis: list(getattr(family, axis)) for axis in AXES if getattr(family, axis) is not None}


def problems(combo: dict, space) -> list[str]:
    """Why a point of the space cannot be a probe (empty when it can)."""
    found = []
    if combo["rank"] > 1 and space.features != "int-or-tuple":
        found.append(f"rank {combo['rank']} needs features: int-or-tuple")
    if combo["rank"] > space.max_rank:
        found.append(f"rank {combo['rank']} is above max_rank {space.max_rank}")
    if combo["layout"] == "transposed" and combo["batch"] == "unbatched" and combo["rank"] == 1:
        found.append("a transposed input needs two dims")
    if combo["layout"] == "expanded" and combo["batch"] not in ("batched", "deep"):
        found.append("an expanded input needs a batch dim")
    if combo["steps"] and (combo["mode"] != "train" or combo["calls"] > 1):
        found.append("steps set the mode of every call: leave mode and calls open")
    if space.features == "channels" and combo["batch"] in ("unbatched", "single"):
        found.append("batch statistics need a batch of two or more")
    if space.features == "heads" and combo["batch"] != "deep":
        found.append("an attention input is (B, T, d_model): batch deep only")
    if combo["heads"] is not None and space.features != "heads":
        found.append("heads needs features: heads")
    if combo["seq"] is not None and combo["batch"] != "deep":
        found.append("seq (the length T of (B, T, ...)) needs batch: deep")
    found += _dropout_problems(combo, space)
    if combo["eps"] != "default" and space.eps is None:
        found.append("an eps other than the default needs probe_space.eps")
    if space.eps is not None and combo["eps"] != "default":
        values = space.eps.above if combo["eps"].endswith("above") else space.eps.below
        if not values:
            found.append(f"eps {combo['eps']} needs eps.{combo['eps'].split('-')[1]} values")
    return found


def _dropout_problems(combo: dict, space) -> list[str]:
    """A drawn dropout p goes where the space's build says "$dropout"; in train mode (p > 0) the
    mask is read from the gradient at the dropped output (grader.grading.dropout): it needs one
    call with a gradient."""
    if not combo["dropout"]:
        return []
    if space.build is None or "$dropout" not in repr(space.build.model_dump()):
        return ["dropout needs probe_space.build with a \"$dropout\" argument"]
    if combo["mode"] == "train" and (combo["grad"] == "no_grad" or combo["steps"]):
        return ["dropout in train mode is checked through the gradient at the dropped output: "
                "not under torch.no_grad() nor in a call sequence"]
    return []


def defaults(space) -> dict:
    """The values of the axes a family leaves open, in this space."""
    return {**DEFAULTS, **HEADS_DEFAULTS} if space.features == "heads" else DEFAULTS


def combos(constraint: dict[str, list], space) -> list[dict]:
    """Every valid point of a constraint (open axes at their defaults), in a fixed order."""
    axes = list(constraint)
    points = []
    for values in itertools.product(*(constraint[a] for a in axes)):
        combo = {**defaults(space), **dict(zip(axes, values))}
        if not problems(combo, space):
            points.append(combo)
    return points


def _intersect(a: dict[str, list], b: dict[str, list]) -> dict[str, list] | None:
    out = dict(a)
    for axis, values in b.items():
        if axis in out:
            both = [v for v in out[axis] if v in values]
            if not both:
                return None
            out[axis] = both
        else:
            out[axis] = list(values)
    return out


def groups(space, seed: int, task_id: str) -> list[tuple[list, dict]]:
    """Families merged into probes: (families, their joint constraint) in draw order."""
    rng = random.Random(f"{task_id}\x1f{seed}\x1fmerge")
    order = list(space.families)
    rng.shuffle(order)
    merged: list[tuple[list, dict]] = []
    for family in order:
        axes = family_axes(family)
        for i, (members, constraint) in enumerate(merged):
            if not family.merge or not all(m.merge for m in members) or len(members) >= space.per_probe:
                continue
            joint = _intersect(constraint, axes)
            if joint is not None and combos(joint, space):
                merged[i] = ([*members, family], joint)
                break
        else:
            merged.append(([family], axes))
    return merged


def draw(space, seed: int, task_id: str) -> list[dict]:
    """The hidden probes of one draw, as Probe dicts (grader.bank.taskspec.Probe)."""
    probes, names = [], set()
    for members, constraint in groups(space, seed, task_id):
        rng = random.Random(f"{task_id}\x1f{seed}\x1f" + "+".join(m.name for m in members))
        combo = rng.choice(combos(constraint, space))
        name = _unique(".".join(m.name for m in members)[:MAX_NAME - 4], names)
        probes.append(realise(combo, space, rng, name, [m.name for m in members]))
    return probes


def _unique(name: str, taken: set) -> str:
    base, n = name, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def realise(combo: dict, space, rng: random.Random, name: str, families: list[str]) -> dict:
    """A point of the space made concrete: shapes, construction, input and checks."""
    size = combo["sizes"]
    last = size if isinstance(size, int) else rng.choice(SIZE_POOLS[size])
    if combo.get("heads") is not None:  # sizes is the head size there: d_model = n_heads * d_head
        last *= combo["heads"]
    large = last > 64
    leading = LEADING_LARGE if large else LEADING
    normalized = [rng.choice(leading) for _ in range(combo["rank"] - 1)] + [last]
    batch = {"batched": [rng.choice(BATCH) for _ in range(1 if large else rng.choice((1, 2)))],
             "deep": [rng.choice(LEADING_LARGE if large else BATCH) for _ in range(2)],
             "single": [1], "unbatched": []}[combo["batch"]]
    if combo.get("seq") is not None:  # (B, T, ...) with the family's T
        batch[-1] = combo["seq"]
    if space.features == "channels":  # BatchNorm1d(C): (N, C), or (N, C, L) for a deep batch
        batch = [rng.choice(CHANNEL_BATCH)]
        normalized = [last] + ([rng.choice(leading)] if combo["batch"] == "deep" else [])
    if combo["rank"] == 1 and space.features == "int-or-tuple":
        first = last if rng.random() < 0.5 else [last]  # LayerNorm(n) or LayerNorm((n,)): both allowed
    else:
        first = last if combo["rank"] == 1 else normalized
    args, kwargs = [first], {}
    if combo["eps"] != "default":
        how, side = combo["eps"].split("-")
        value = rng.choice(space.eps.above if side == "above" else space.eps.below)
        if how == "positional":
            args.append(value)  # LayerNorm(n, 1e-3): eps is the second argument
        else:
            kwargs[space.eps.keyword] = value
    if combo.get("heads") is not None:
        args.append(combo["heads"])  # CausalSelfAttention(d_model, n_heads)
    if space.build is not None:  # the task's own construction, with the drawn values put in
        built = _filled(space.build.model_dump(mode="json"), {"$features": first, "$dropout": combo["dropout"]})
        args, kwargs = built["args"], built["kwargs"]
    checks = ["forward"] if combo["grad"] == "no_grad" else ["forward", "backward"]
    return {
        "name": name, "hidden": True, "families": families,
        "build": {"args": args, "kwargs": kwargs},
        "input": {"shape": batch + normalized, "dtype": combo["dtype"], "kind": combo["kind"]},
        "params": combo["params"], "tolerance": _TOLERANCE.get(combo["kind"], "tight"),
        "checks": checks + (["state"] if space.state else []),
        "layout": combo["layout"], "grad": combo["grad"], "mode": combo["mode"], "calls": combo["calls"],
        "steps": combo["steps"].split(),
    }


def _filled(value, values: dict):
    """A build template with its "$name" placeholders replaced, at any depth (module arguments)."""
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, values) for v in value]
    return values.get(value, value) if isinstance(value, str) else value


# An input kind whose rows need a tolerance family of their own (grader.grading.compare says why).
_TOLERANCE = {"offset": "offset", "constant-int": "constant"}


def corners(space, family) -> list[dict]:
    """Every valid point of one family with each size class at both ends of its pool: what
    `bank validate` runs the float64 reference on, so no draw can meet a non-finite reference."""
    out = []
    for i, combo in enumerate(combos(family_axes(family), space)):
        size = combo["sizes"]
        ends = (size,) if isinstance(size, int) else (SIZE_POOLS[size][0], SIZE_POOLS[size][-1])
        for j, last in enumerate(ends):
            for eps_pick in (0, -1):
                rng = _Fixed(eps_pick)
                probe = realise({**combo, "sizes": last}, space, rng, f"{family.name}.corner-{i}-{j}{eps_pick}",
                                [family.name])
                out.append(probe)
                if combo["eps"] == "default":
                    break
    return out


class _Fixed(random.Random):
    """A 'random' source that always picks the same end: corners are deterministic."""

    def __init__(self, end: int):
        super().__init__(0)
        self.end = end

    def choice(self, seq):
        return seq[self.end]
