"""A/B tests' pure parts: the seeded assignment, the split and window, and the z-test."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest

from panel.abtest import (
    HOLDOUT,
    REST,
    AbFigures,
    AbTestError,
    Measure,
    Split,
    VariantFigures,
    assign,
    draw,
    parse_split,
    parse_window,
    two_proportion_p,
)


def test_assignment_is_reproducible_and_depends_on_the_seed() -> None:
    split = Split((10, 10), 5)
    first = [assign("seed-1", chat_id, split) for chat_id in range(1000)]
    assert first == [assign("seed-1", chat_id, split) for chat_id in range(1000)]
    assert first != [assign("seed-2", chat_id, split) for chat_id in range(1000)]


def test_assignment_follows_the_shares() -> None:
    split = Split((10, 20), 5)
    groups = Counter(assign("shares", chat_id, split) for chat_id in range(100_000))
    # Within 1 point of each share over 100,000 draws (the standard error is ~0.1 point).
    assert abs(groups["A"] / 1000 - 10) < 1
    assert abs(groups["B"] / 1000 - 20) < 1
    assert abs(groups[HOLDOUT] / 1000 - 5) < 1
    assert abs(groups[REST] / 1000 - 65) < 1
    assert set(groups) == {"A", "B", HOLDOUT, REST}


def test_a_point_falls_in_its_group_by_the_cumulative_shares() -> None:
    split = Split((10, 10, 10), 10)
    for chat_id in range(2000):
        point = draw("edges", chat_id) * 100
        expected = "A" if point < 10 else "B" if point < 20 else "C" if point < 30 else HOLDOUT
        assert assign("edges", chat_id, split) == (expected if point < 40 else REST)
        assert 0 <= point < 100


def test_a_full_split_leaves_no_rest() -> None:
    split = Split((50, 50), 0)
    assert {assign("full", chat_id, split) for chat_id in range(2000)} == {"A", "B"}


def test_split_parsing_and_its_refusals() -> None:
    assert parse_split("10 10 5", 2) == Split((10, 10), 5)
    assert parse_split("10,10,5%", 2) == Split((10, 10), 5)
    assert parse_split("20 20 20 0", 3).rest == 40
    with pytest.raises(AbTestError, match="1 to 50%"):
        parse_split("60 10 5", 2)
    with pytest.raises(AbTestError, match="1 to 50%"):
        parse_split("0 10 5", 2)
    with pytest.raises(AbTestError, match="at most 100%"):
        parse_split("50 40 20", 2)
    with pytest.raises(AbTestError, match="holdout is 51%"):
        parse_split("10 10 51", 2)
    with pytest.raises(AbTestError, match="2 variants need 3 numbers"):
        parse_split("10 10", 2)
    with pytest.raises(AbTestError, match="no split"):
        parse_split("ten ten five", 2)


def test_window_parsing() -> None:
    assert parse_window("2h") == timedelta(hours=2)
    assert parse_window("90 min") == timedelta(minutes=90)
    assert parse_window("1d") == timedelta(days=1)
    with pytest.raises(AbTestError, match="1 minute to 7 days"):
        parse_window("8d")
    with pytest.raises(AbTestError, match="no test window"):
        parse_window("soon")


def test_two_proportion_z_test_matches_the_textbook() -> None:
    # 200/1000 against 150/1000: pooled 0.175, z = 0.05 / sqrt(0.175 * 0.825 * 0.002) = 2.9430.
    p_value = two_proportion_p(200, 1000, 150, 1000)
    assert p_value is not None
    z = 0.05 / math.sqrt(0.175 * 0.825 * 0.002)
    assert p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert p_value == pytest.approx(0.00325, abs=1e-4)
    # Symmetric, and equal proportions are no difference at all.
    assert two_proportion_p(150, 1000, 200, 1000) == pytest.approx(p_value)
    assert two_proportion_p(10, 100, 10, 100) == pytest.approx(1.0)
    # A small difference on small samples is far from sure.
    small = two_proportion_p(6, 40, 4, 40)
    assert small is not None and small > 0.05


def test_two_proportion_z_test_without_anything_to_compare() -> None:
    assert two_proportion_p(0, 0, 3, 10) is None
    assert two_proportion_p(0, 50, 0, 50) is None
    assert two_proportion_p(50, 50, 50, 50) is None
    assert two_proportion_p(50, 50, 0, 50) == pytest.approx(0.0, abs=1e-12)


def _figures(measure: Measure, *variants: VariantFigures) -> AbFigures:
    empty = VariantFigures(HOLDOUT, 0, 0, 0, 0)
    return AbFigures(measure, variants, empty, VariantFigures(REST, 0, 0, 0, 0), None, None, None)


def test_the_winner_by_each_measure_and_a_tie_to_the_earlier_letter() -> None:
    a = VariantFigures("A", 100, 100, 20, 10)  # 20% clicked, 10% blocked
    b = VariantFigures("B", 100, 100, 15, 1)  # 15% clicked, 1% blocked
    assert _figures(Measure.CLICKS, a, b).leader() == "A"
    assert _figures(Measure.CLICKS_MINUS_BLOCKS, a, b).leader() == "B"
    same = VariantFigures("B", 100, 100, 20, 10)
    assert _figures(Measure.CLICKS, a, same).leader() == "A"
    # The note compares a variant with the best of the others.
    c = VariantFigures("C", 100, 100, 5, 0)
    figures = _figures(Measure.CLICKS, a, b, c)
    assert figures.p_value("C") == two_proportion_p(5, 100, 20, 100)
    assert figures.p_value("A") == two_proportion_p(20, 100, 15, 100)
