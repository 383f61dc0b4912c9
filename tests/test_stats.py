"""Wilson intervals, Woolf odds ratios, p-values and Holm's adjustment against values worked
out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.survey.statistics import Z95, holm, odds_ratio, score_test_p, wilson_interval


def test_z95_is_the_two_sided_95_percent_point():
    # Phi(1.959964) = 0.975: check with the error function.
    assert 0.5 * (1 + math.erf(Z95 / math.sqrt(2))) == pytest.approx(0.975, abs=1e-12)


def test_wilson_half_of_a_hundred():
    # p = 0.5, n = 100, z^2 = 3.841459
    # denominator = 1 + 3.841459/100 = 1.03841459
    # centre = (0.5 + 3.841459/200) / 1.03841459 = 0.51920729 / 1.03841459 = 0.5
    # half = (1.959964 / 1.03841459) * sqrt(0.25/100 + 3.841459/40000)
    #      = 1.88745 * sqrt(0.0025 + 0.00009604) = 1.88745 * 0.0509510 = 0.096168
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.403832, abs=1e-6)
    assert high == pytest.approx(0.596168, abs=1e-6)


def test_wilson_none_of_ten():
    # p = 0, n = 10: denominator = 1.3841459; centre = (3.841459/20) / 1.3841459 = 0.138767
    # half = (1.959964 / 1.3841459) * sqrt(3.841459/400) = 1.416011 * 0.0979983 = 0.138767
    # (with p = 0 the half-width equals the centre), so high = 2 * 0.1387664 = 0.277533
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.277533, abs=1e-6)


def test_wilson_all_of_ten_mirrors_none_of_ten():
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.277533, abs=1e-6)


def test_wilson_forty_of_two_hundred():
    # p = 0.2, n = 200: denominator = 1.01920729
    # centre = (0.2 + 0.00960365) / 1.01920729 = 0.205657
    # half = (1.959964 / 1.01920729) * sqrt(0.16/200 + 3.841459/160000)
    #      = 1.923028 * sqrt(0.0008 + 0.00002401) = 1.923028 * 0.0287054 = 0.055201
    low, high = wilson_interval(40, 200)
    assert low == pytest.approx(0.150456, abs=1e-5)
    assert high == pytest.approx(0.260858, abs=1e-5)


def test_wilson_no_respondents_has_no_interval():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize("count,total", [(-1, 5), (6, 5), (1, -1)])
def test_wilson_rejects_impossible_counts(count, total):
    with pytest.raises(ValueError):
        wilson_interval(count, total)


def test_odds_ratio_four():
    # a=20 b=10 c=10 d=20: OR = (20*20)/(10*10) = 4
    # se(log OR) = sqrt(1/20 + 1/10 + 1/10 + 1/20) = sqrt(0.3) = 0.547723
    # log 4 = 1.386294; 1.959964 * 0.547723 = 1.073516
    # low = exp(0.312778) = 1.367218; high = exp(2.459811) = 11.7026
    r = odds_ratio(20, 10, 10, 20)
    assert r.ratio == pytest.approx(4.0)
    assert r.low == pytest.approx(1.367218, abs=1e-5)
    assert r.high == pytest.approx(11.7026, abs=1e-3)
    assert r.corrected is False


def test_odds_ratio_of_one_is_symmetric():
    # a=b=c=d=50: OR = 1; se = sqrt(4/50) = 0.282843; 1.959964*0.282843 = 0.554362
    r = odds_ratio(50, 50, 50, 50)
    assert r.ratio == pytest.approx(1.0)
    assert r.low == pytest.approx(math.exp(-0.554362), abs=1e-6)
    assert r.high == pytest.approx(math.exp(0.554362), abs=1e-6)


def test_odds_ratio_haldane_correction_when_a_cell_is_zero():
    # a=0 b=10 c=5 d=5 -> add 0.5: 0.5, 10.5, 5.5, 5.5
    # OR = (0.5*5.5)/(10.5*5.5) = 0.047619
    # se = sqrt(1/0.5 + 1/10.5 + 2/5.5) = sqrt(2 + 0.095238 + 0.363636) = 1.568080
    # log OR = -3.044522; 1.959964*1.568080 = 3.073380
    # low = exp(-6.117902) = 0.0022036; high = exp(0.028858) = 1.029278
    r = odds_ratio(0, 10, 5, 5)
    assert r.corrected is True
    assert r.ratio == pytest.approx(0.047619, abs=1e-6)
    assert r.low == pytest.approx(0.0022036, abs=1e-6)
    assert r.high == pytest.approx(1.029278, abs=1e-5)


def test_swapping_the_groups_inverts_the_ratio_and_interval():
    r = odds_ratio(30, 12, 18, 25)
    s = odds_ratio(18, 25, 30, 12)
    assert s.ratio == pytest.approx(1 / r.ratio)
    assert s.low == pytest.approx(1 / r.high)
    assert s.high == pytest.approx(1 / r.low)


@pytest.mark.parametrize("cells", [(0, 0, 5, 5), (5, 5, 0, 0), (0, 5, 0, 5), (5, 0, 5, 0)])
def test_odds_ratio_needs_both_groups_and_both_outcomes(cells):
    assert odds_ratio(*cells) is None


def test_odds_ratio_rejects_negative_counts():
    with pytest.raises(ValueError):
        odds_ratio(-1, 2, 3, 4)


# --------------------------------------------------------------------------- p-values, Holm


def test_score_test_by_hand():
    # 40 of 100 against 50%: z = (0.4 - 0.5) / sqrt(0.25 / 100) = -2; p = 2 * Phi(-2) = 0.0455
    assert score_test_p(40, 100, 0.5) == pytest.approx(0.0455003, abs=1e-6)
    assert score_test_p(5, 10, 0.0) == 0.0 and score_test_p(0, 10, 0.0) == 1.0


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.01, 0.99),
)
def test_the_score_test_is_the_one_wilson_inverts(drawn, expected):
    # A single verdict by p-value agrees with "the whole 95% interval on one side".
    count, total = drawn
    low, high = wilson_interval(count, total)
    p = score_test_p(count, total, expected)
    if min(abs(low - expected), abs(high - expected)) > 1e-9:
        assert (p < 0.05) == (not low <= expected <= high)


def test_wald_p_value_of_an_odds_ratio_by_hand():
    # OR 4 with se sqrt(0.3): z = 1.386294 / 0.547723 = 2.531; p = 0.01137
    assert odds_ratio(20, 10, 10, 20).p == pytest.approx(0.011374, abs=1e-5)
    assert odds_ratio(50, 50, 50, 50).p == pytest.approx(1.0)


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1: 0.03, 0.06, 0.04 -> kept rising: 0.06
    assert holm([0.01, 0.04, 0.03]) == (0.03, 0.06, 0.06)
    assert holm([]) == ()
    assert holm([0.2]) == (0.2,)
    assert holm([0.5, 0.6]) == (1.0, 1.0)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_is_the_step_down_rule(pvalues):
    adjusted = holm(pvalues)
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: (pvalues[i], i))
    for rank, i in enumerate(order):
        # the definition: the largest (m - j) * p_(j) over the ranks up to this one
        expected = max(min(1.0, (m - j) * pvalues[order[j]]) for j in range(rank + 1))
        assert adjusted[i] == pytest.approx(expected, abs=1e-11)
        assert adjusted[i] >= pvalues[i] - 1e-12
