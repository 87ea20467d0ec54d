"""Dropout checked by properties that hold for any mask (issue 19), in the judge.

A task declares where its dropout sits (grader.bank.taskspec.DropoutSite): on the output of a
module argument, the sublayer the task built. A probe in train mode with p > 0 is stochastic: which
elements drop depends on how the submission draws from the generator, so its mask is never
compared with ours. The child records the gradient reaching the site's output in the probe's own
forward (grader.grading.modargs.Recorder, tensor `<probe>/branch_grad`): an element dropout zeroed
gets exactly 0 there, a kept one upstream / (1 - p), which is not 0. That is the submission's own
mask, and the judge checks it:
- its keep count must be plausible for Binomial(n, 1 - p): a two-sided tail below MASK_TAIL fails
  (a block that drops everything, or nothing, or keeps with probability p);
- the truth is then recomputed as the reference in eval mode with the site's output multiplied by
  mask / (1 - p) (a forward hook on the reference's site), and outputs and every gradient are
  compared with it as on any probe. So each dropped branch element must be 0 and each kept one
  scaled by 1 / (1 - p), with the skip path untouched, whatever the mask.
p = 0 in train mode and eval mode are ordinary probes, equal to the reference. A record that lies
can only fail the submission: whatever mask it claims, passing needs the outputs and gradients of
the reference run with that mask, which is what a correct block computes.
"""
from __future__ import annotations

import math

import torch

from grader.grading import wording
from grader.grading.probes import DTYPES

# A correct dropout's keep count falls this far into a tail of Binomial(n, 1 - p) once in 10^9 probes.
MASK_TAIL = 1e-9
BRANCH_GRAD = "branch_grad"  # the child's tensor key, per probe


def p_of(spec, probe) -> float:
    return spec.dropout.p(spec.build_for(probe)) if spec.dropout is not None else 0.0


class MaskShape(ValueError):
    """The recorded gradient is not of the shape of the site's output in the reference."""


def apply_mask(ref: torch.nn.Module, spec, probe, mask: torch.Tensor | None) -> None:
    """The reference as a stochastic probe's truth: eval mode (its own dropout off), and with a mask
    the site's output times mask / (1 - p): train mode with exactly that mask. A mask of another
    shape than that output raises MaskShape (the child's record is checked where it is used)."""
    ref.eval()
    if mask is None:
        return
    scale = 1.0 / (1.0 - p_of(spec, probe))

    def masked(_module, _inputs, out):
        if tuple(out.shape) != tuple(mask.shape):
            raise MaskShape(f"{tuple(mask.shape)} against {tuple(out.shape)}")
        return out * mask.to(out.dtype) * scale

    ref.get_submodule(spec.dropout.site).register_forward_hook(masked)


def settle(j) -> None:
    """On a grader.grading.judge.Judgement: the submission's mask on every probe of a dropout task
    with p > 0 that ran backward (`j.masks`, for the detectors: an eval probe's shows dropout left
    on), and each stochastic probe's truth, computed here alone and for each submission (a batch's
    shared truth holds another's mask): with the mask, or in eval mode with why the mask was refused
    (`j.mask_problems`: the probe's checks fail with it)."""
    j.masks, j.mask_problems = {}, {}
    spec = j.spec
    if spec.dropout is None:
        return
    lang = str(j.job.get("lang") or "en")
    for probe in spec.probes:
        if "backward" not in probe.checks or p_of(spec, probe) == 0:
            continue
        mask, problem = read_mask(j, probe, lang)
        if mask is not None:
            j.masks[probe.name] = mask
        if not spec.stochastic(probe):
            continue
        if not problem:
            try:  # first, as it checks the mask's shape: the keep count's cost is then bounded
                truth = j._expected(probe, mask=mask)
                problem = keep_problem(mask, p_of(spec, probe), lang)
            except MaskShape:
                del j.masks[probe.name]
                problem = _malformed(spec, lang)
        if problem:
            j.mask_problems[probe.name] = problem
            truth = j._expected(probe)
        j.truth[probe.name] = truth


def _malformed(spec, lang: str) -> str:
    return wording.say(lang, "the gradient recorded at the output of {site} is not a tensor of its output's shape "
                       "and dtype", site=spec.dropout.site)


def read_mask(j, probe, lang: str = "en") -> tuple[torch.Tensor | None, str]:
    """The mask (float64, 1 kept, 0 dropped) the child's record shows, or None and why."""
    site = j.spec.dropout.site
    grad = j.tensors.get(f"{probe.name}/{BRANCH_GRAD}")
    if grad is None and j.probe_meta(probe.name)["error"]:
        return None, wording.say(lang, "dropout's mask is read from the gradient at the output of {site}, and "
                                 "this probe's forward or backward failed", site=site)
    if grad is None:
        return None, wording.say(lang, "no gradient reached the output of {site}, so dropout's mask cannot be "
                                 "read: call the {site} given to the constructor once in forward and keep "
                                 "its output in the graph", site=site)
    # Its shape is checked where it is used: against the site's output in the reference run with it
    # (apply_mask), by the detectors against their own recomputation.
    if type(grad) is not torch.Tensor or grad.dtype != DTYPES[probe.input.dtype] or not grad.numel():
        return None, _malformed(j.spec, lang)
    return (grad != 0).to(torch.float64), ""


def keep_problem(mask: torch.Tensor, p: float, lang: str = "en") -> str:
    """Why the mask's keep count is implausible for Binomial(n, 1 - p), or "". Shares, not counts:
    a hidden probe's message must not give its size away."""
    n, kept = mask.numel(), int(mask.sum().item())
    if n == 0 or keep_tail(kept, n, 1.0 - p) >= MASK_TAIL:
        return ""
    return wording.say(lang, "dropout kept {share}% of the elements of the branch; with p = {p} about {want}% "
                       "are kept, and a share this far off has a probability below 1e-9 (an element whose "
                       "gradient at the branch's output is exactly 0 counts as dropped)",
                       share=f"{100 * kept / n:.0f}", p=f"{p:g}", want=f"{100 * (1 - p):.0f}")


def keep_tail(kept: int, n: int, q: float) -> float:
    """The smaller tail of Binomial(n, q) at `kept`: P(K <= kept) or P(K >= kept), exactly."""
    if q >= 1.0:
        return 1.0 if kept == n else 0.0
    k = torch.arange(n + 1, dtype=torch.float64)
    log_pmf = (math.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
               + k * math.log(q) + (n - k) * math.log1p(-q))
    lower = torch.logsumexp(log_pmf[:kept + 1], 0).item()
    upper = torch.logsumexp(log_pmf[kept:], 0).item()
    return math.exp(min(lower, upper))
