"""Tensor comparison: errors relative to the expected tensor's scale, non-finite values always
wrong, the worst elements in pytest.approx's order, and tolerances that separate the known bugs."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.grading import compare as cmp
from grader.pitfalls import measure


def test_float32_rounding_of_the_truth_passes_tight():
    truth = torch.randn(4, 8, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = cmp.compare(truth.float(), truth, cmp.FLOAT32_TIGHT)
    assert result.passed and result.mismatched == 0 and result.worst == []
    assert 0 < result.max_rel_err < 1e-7 and result.total == truth.numel()


def test_error_is_relative_to_the_scale_not_per_element():
    """A gradient of scale 1e3 is exact to 1e-4 absolute: a fixed atol would fail it."""
    truth = torch.tensor([1000.0, 0.001], dtype=torch.float64)
    got = truth + torch.tensor([1e-4, 1e-4], dtype=torch.float64)
    result = cmp.compare(got, truth, cmp.FLOAT32_TIGHT)
    assert result.passed
    assert result.max_rel_err == pytest.approx(1e-7)


def test_unbiased_variance_scale_error_fails_tight():
    """Unbiased variance scales outputs by sqrt((n-1)/n): at n = 4096 that is 1.2e-4 of the scale."""
    truth = torch.randn(2, 4096, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    got = truth * math.sqrt(4095 / 4096)
    assert not cmp.compare(got.float(), truth, cmp.FLOAT32_TIGHT).passed
    assert cmp.compare(got.float(), truth, cmp.FLOAT32_OFFSET).passed  # why the offset probe does not separate it


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values_are_infinitely_wrong(bad):
    truth = torch.ones(3, dtype=torch.float64)
    got = torch.tensor([1.0, bad, 1.0])
    result = cmp.compare(got, truth, 1.0)  # even the loosest tolerance
    assert not result.passed and result.mismatched == 1 and math.isinf(result.max_abs_err)
    assert result.worst[0].index == [1] and result.worst[0].got is None and result.worst[0].expected == 1.0


def test_worst_elements_are_the_largest_errors_listed_in_index_order():
    truth = torch.zeros(3, 4, dtype=torch.float64)
    got = torch.zeros(3, 4)
    errors = {(0, 1): 1.0, (2, 3): 5.0, (1, 0): 3.0, (1, 1): 2.0, (0, 0): 4.0, (2, 0): 6.0, (2, 2): 0.5}
    for index, value in errors.items():
        got[index] = value
    result = cmp.compare(got, truth, 1e-5)
    assert result.mismatched == 7 and result.total == 12 and result.shape == [3, 4]
    assert len(result.worst) == cmp.WORST_SHOWN
    assert [m.index for m in result.worst] == [[0, 0], [1, 0], [1, 1], [2, 0], [2, 3]]
    assert [m.got for m in result.worst] == [4.0, 3.0, 2.0, 6.0, 5.0]


def test_shape_mismatch_is_a_failure_with_no_error_size():
    result = cmp.compare(torch.zeros(2, 3), torch.zeros(3, 2, dtype=torch.float64), 1.0)
    assert not result.passed and result.max_abs_err is None and "shape [2, 3]" in result.message


def test_an_all_zero_truth_is_compared_absolutely():
    truth = torch.zeros(4, dtype=torch.float64)
    assert cmp.compare(torch.full((4,), 1e-12), truth, cmp.FLOAT32_TIGHT).passed
    assert not cmp.compare(torch.full((4,), 1e-3), truth, cmp.FLOAT32_TIGHT).passed


def test_every_named_tolerance_family_covers_both_dtypes():
    for family in ("tight", "offset"):
        assert cmp.tolerance(family, "float64") < cmp.tolerance(family, "float32")
    assert cmp.tolerance("offset", "float32") == pytest.approx(1e-2)


def test_worst_elements_are_found_only_when_asked():
    """A hidden probe's check never shows its elements, so the judge does not look for them; the
    verdict and the counts stay the same."""
    truth = torch.linspace(-1, 1, 64, dtype=torch.float64)
    got = (truth + torch.where(torch.arange(64) % 5 == 0, 0.5, 0.0)).float()
    shown, hidden = cmp.compare(got, truth, cmp.FLOAT32_TIGHT), cmp.compare(got, truth, cmp.FLOAT32_TIGHT, worst=False)
    assert shown.worst and hidden.worst == []
    assert (shown.passed, shown.mismatched, shown.max_rel_err) == (hidden.passed, hidden.mismatched, hidden.max_rel_err)


_ELEMENTS = st.one_of(st.floats(-1e3, 1e3, width=32), st.sampled_from([0.0, 1e-30, 3e38, -3e38]),
                      st.sampled_from([math.nan, math.inf, -math.inf]))


@settings(max_examples=300, deadline=None)
@given(truth=st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=6), noise=st.lists(_ELEMENTS, min_size=6, max_size=6),
       scale=st.sampled_from([0.0, 1e-9, 1e-7, 1e-5, 1e-3, 1.0]), name=st.sampled_from(sorted({n for n, _ in cmp.TOLERANCES})),
       dtype=st.sampled_from(["float32", "float64"]))
def test_a_checks_comparison_decides_as_the_detectors_closeness_does(truth, noise, scale, name, dtype):
    """The judge hands each probe's forward/backward verdict from its checks to the pitfall
    detectors (grader.grading.checks._measured) instead of their measuring every tensor again with
    measure.close: the two must agree on every tensor, at the tolerance's edge, with NaN and inf."""
    want = torch.tensor(truth, dtype=torch.float64)
    got = (want + scale * torch.tensor(noise[:len(truth)], dtype=torch.float64)).to(getattr(torch, dtype))
    probe = SimpleNamespace(spec=SimpleNamespace(tolerance=name, input=SimpleNamespace(dtype=dtype)))
    rel = cmp.tolerance(name, dtype)
    c = cmp.compare(got, want, rel, worst=False)
    assert (c.max_rel_err is not None and c.max_rel_err <= rel) == measure.close(got, want, probe)
    assert c.passed == measure.close(got, want, probe)
