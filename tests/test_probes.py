"""Probe data is a pure function of (seed, probe, role, shape, dtype), and each input kind has the
property its probe relies on."""
from __future__ import annotations

import pytest
import torch

from grader.grading import probes
from grader.bank.taskspec import Probe


def probe(kind="randn", shape=(4, 8), dtype="float32", name="p", **extra):
    spec = {"shape": list(shape), "dtype": dtype, "kind": kind}
    return Probe.model_validate({"name": name, "input": spec, **extra})


def test_inputs_are_deterministic_and_keyed_by_seed_and_probe():
    a = probes.make_input(7, probe())
    assert torch.equal(a, probes.make_input(7, probe()))
    assert not torch.equal(a, probes.make_input(8, probe()))
    assert not torch.equal(a, probes.make_input(7, probe(name="q")))
    assert a.dtype == torch.float32 and a.shape == (4, 8) and not a.requires_grad


def test_float32_input_is_the_float64_draw_rounded():
    """The truth sees exactly the numbers the submission saw."""
    x32, x64 = probes.make_input(1, probe()), probes.make_input(1, probe(dtype="float64"))
    assert torch.equal(x32, x64.float())


def test_small_variance_rows_have_variance_below_eps():
    x = probes.make_input(3, probe("small-variance", (64, 512))).double()
    assert x.var(-1).max() < 1e-5  # the default eps: where it sits decides the output


def test_offset_rows_break_one_pass_variance_in_float32():
    x = probes.make_input(3, probe("offset", (8, 512)))
    one_pass = (x * x).mean(-1) - x.mean(-1) ** 2
    two_pass = x.double().var(-1, unbiased=False)
    assert x.mean() == pytest.approx(probes.OFFSET, rel=1e-3)
    assert (one_pass.double() - two_pass).abs().max() > 0.5


def test_constant_int_rows_have_an_exact_mean():
    x = probes.make_input(5, probe("constant-int", (6, 16)))
    assert torch.equal(x - x.mean(-1, keepdim=True), torch.zeros_like(x))
    assert torch.equal(x, x.round()) and len(x[:, 0].unique()) > 1


def test_positive_inputs_are_strictly_positive():
    assert probes.make_input(5, probe("positive", (6, 16))).min() >= probes.POSITIVE_LOW


def test_explicit_values():
    p = Probe.model_validate({"name": "ex", "input": {"values": [[1, 2], [3, 4.5]], "dtype": "float64"}})
    assert probes.make_input(0, p).tolist() == [[1.0, 2.0], [3.0, 4.5]]


def test_parameters_are_non_trivial_and_deterministic():
    weight = probes.param_values(1, "p", "weight", (512,), torch.float32)
    bias = probes.param_values(1, "p", "bias", (512,), torch.float32)
    linear = probes.param_values(1, "p", "fc1.weight", (16, 64), torch.float32)
    assert (weight - 1).abs().min() > 0 and weight.std() > 0.3  # weight != 1
    assert bias.abs().min() > 0 and bias.std() > 0.3  # bias != 0
    assert linear.abs().max() <= 1 / 8 and linear.std() > 0.03  # U(+-1/sqrt(fan_in))
    assert torch.equal(weight, probes.param_values(1, "p", "weight", (512,), torch.float32))
    assert not torch.equal(weight, probes.param_values(1, "q", "weight", (512,), torch.float32))


def test_zero_mode_zeros_only_matching_parameters():
    p = probe(params="zero:^fc[12]\\.")
    shapes = {"fc1.weight": (4, 4), "fc1.bias": (4,), "fc2.weight": (4, 4), "head.bias": (4,)}
    values = probes.probe_params(0, p, shapes, torch.float64)
    assert all(not values[n].any() for n in ("fc1.weight", "fc1.bias", "fc2.weight"))
    assert values["head.bias"].abs().min() > 0


def test_upstream_gradient_is_random_not_ones():
    g = probes.upstream_grad(0, "p", (4, 8), torch.float32)
    assert g.shape == (4, 8) and g.std() > 0.5
    assert torch.equal(g, probes.upstream_grad(0, "p", (4, 8), torch.float32))


# -- how a drawn probe presents its input (issue 9) ----------------------------------------------------
@pytest.mark.parametrize("layout, contiguous", [("contiguous", True), ("transposed", False), ("sliced", False),
                                                ("expanded", False)])
def test_present_keeps_the_values_changes_the_strides_and_stays_differentiable(layout, contiguous):
    spec = probe(shape=(3, 4, 5), layout=layout)
    leaf = probes.make_input(2, spec).requires_grad_(True)
    x = probes.present(leaf, layout)
    assert torch.equal(x.detach(), leaf.detach()) and x.is_contiguous() == contiguous and x.grad_fn is not None
    upstream = torch.randn(x.shape, dtype=x.dtype)
    probes.backward(x, upstream)
    # dL/dleaf: the upstream itself, or for an expanded input all of it gathered in row 0
    want = upstream if layout != "expanded" else torch.cat([upstream.sum(0, keepdim=True), torch.zeros_like(upstream[1:])])
    assert torch.allclose(leaf.grad, want)


def test_a_transposed_input_refuses_view_as_a_transposed_activation_does():
    x = probes.present(probes.make_input(0, probe(shape=(2, 3, 8), layout="transposed")), "transposed")
    with pytest.raises(RuntimeError):
        x.view(-1, 8)
    assert x.reshape(-1, 8).shape == (6, 8)


def test_an_expanded_input_has_equal_rows_and_stride_zero():
    x = probes.present(probes.make_input(0, probe(shape=(3, 5), layout="expanded")), "expanded")
    assert x.stride(0) == 0 and torch.equal(x[0], x[2])


def test_a_repeated_call_sees_another_input_first():
    spec = probe(calls=2)
    assert not torch.equal(probes.make_input(0, spec, "first"), probes.make_input(0, spec))


@pytest.mark.parametrize("extra, message", [
    ({"layout": "transposed", "input": {"shape": [5]}}, "two or more dims"),
    ({"layout": "expanded", "input": {"shape": [1, 5]}}, "batch dim of 2 or more"),
    ({"grad": "no_grad", "checks": ["forward", "backward"]}, "checks must be \\[forward\\]"),
])
def test_a_probe_that_cannot_run_as_declared_is_refused(extra, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        Probe.model_validate({"name": "p", "input": {"shape": [4, 5]}, **extra})


def test_no_grad_means_a_forward_check_only():
    assert Probe.model_validate({"name": "p", "input": {"shape": [4, 5]}, "grad": "no_grad"}).checks == ["forward"]
