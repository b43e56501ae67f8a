"""``pinn.report.field_errors`` against hand computations on small tensors."""

import math

import pytest
import torch

from pinn.report import field_errors


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_rel_l2_and_max_abs_match_the_hand_computation():
    errors = field_errors({"u": t(1.0, 2.0, 3.0)}, {"u": t(1.0, 2.0, 4.0)})
    # ‖diff‖ = 1, ‖ref‖ = √21: the norm ratio itself, not its square (1/21).
    assert errors["u"]["rel_l2"] == pytest.approx(1.0 / math.sqrt(21.0), rel=1e-12)
    assert errors["u"]["max_abs"] == pytest.approx(1.0, rel=1e-12)


def test_rel_l2_is_a_ratio_of_norms_not_of_squared_norms():
    # ‖diff‖ = 3, ‖ref‖ = 5 (ref = (3, 4)): rel_l2 = 0.6 (squared would be 0.36).
    errors = field_errors({"v": t(6.0, 4.0)}, {"v": t(3.0, 4.0)})
    assert errors["v"]["rel_l2"] == pytest.approx(0.6, rel=1e-12)
    assert errors["v"]["max_abs"] == pytest.approx(3.0, rel=1e-12)


def test_up_to_constant_removes_a_constant_offset_only_for_the_named_fields():
    ref = t(1.0, 2.0, 4.0)
    prediction = {"p": ref + 5.0, "u": ref + 5.0}
    errors = field_errors(prediction, {"p": ref, "u": ref}, up_to_constant=("p",))
    assert errors["p"]["rel_l2"] == pytest.approx(0.0, abs=1e-12)
    assert errors["p"]["max_abs"] == pytest.approx(0.0, abs=1e-12)
    # Not in up_to_constant: ‖5·1‖ = 5√3 over ‖ref‖ = √21.
    assert errors["u"]["rel_l2"] == pytest.approx(5.0 * math.sqrt(3.0) / math.sqrt(21.0), rel=1e-12)
    assert errors["u"]["max_abs"] == pytest.approx(5.0, rel=1e-12)


def test_up_to_constant_keeps_the_non_constant_part_of_the_difference():
    ref = t(1.0, 2.0, 4.0)
    # diff = 5 + (0, 0, 3): mean 6, centered (-1, -1, 2), norm √6.
    errors = field_errors({"p": t(6.0, 7.0, 12.0)}, {"p": ref}, up_to_constant=("p",))
    assert errors["p"]["rel_l2"] == pytest.approx(math.sqrt(6.0) / math.sqrt(21.0), rel=1e-12)
    assert errors["p"]["max_abs"] == pytest.approx(2.0, rel=1e-12)
