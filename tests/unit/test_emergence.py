"""Emergence scoring: synthetic series with known answers, leakage, edge cases, Porter EScore."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from s3text.config import EmergenceConfig
from s3text.emergence import (
    porter_escore,
    resolve_end_year,
    score_emergence,
    year_counts,
    year_totals,
)
from s3text.errors import ModelError

YEARS = list(range(2015, 2025))  # end_year 2024; recent 2022-2024, base 2019-2021 with the defaults
NEW, FLAT, DECLINING, MIDDLE, EMPTY = 1, 2, 3, 4, 5


def series(rows: dict[int, list[int]], years: list[int] = YEARS) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=years).rename_axis("topic_id")


def synthetic() -> tuple[pd.DataFrame, pd.Series]:
    counts = series(
        {
            NEW: [0, 0, 0, 0, 0, 0, 0, 5, 8, 12],
            FLAT: [10] * 10,
            DECLINING: [20] * 7 + [5, 5, 5],
            MIDDLE: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],  # first seen 2019, three years before the window
            EMPTY: [0] * 10,
        }
    )
    totals = pd.Series([100] * 10, index=YEARS)
    return counts, totals


def test_year_counts_and_totals_fill_gaps_and_handle_outliers() -> None:
    docs = pd.DataFrame({"topic_id": [0, 0, 1, -1, -1, 1], "year": [2018, 2020, 2020, 2021, 2016, 2018]})
    counts = year_counts(docs)
    assert counts.index.tolist() == [0, 1]
    assert counts.columns.tolist() == [2016, 2017, 2018, 2019, 2020, 2021]  # outlier-only years kept
    assert counts.to_numpy().tolist() == [[0, 0, 1, 0, 1, 0], [0, 0, 1, 0, 1, 0]]
    totals = year_totals(docs["year"])
    assert totals.index.tolist() == counts.columns.tolist()
    assert totals.tolist() == [1, 0, 2, 0, 2, 1]


def test_resolve_end_year() -> None:
    totals = pd.Series([30, 25, 5], index=[2020, 2021, 2022])
    assert resolve_end_year(totals, EmergenceConfig(min_year_docs=20)) == 2021  # 2022 is too thin
    assert resolve_end_year(totals, EmergenceConfig(min_year_docs=5)) == 2022
    assert resolve_end_year(totals, EmergenceConfig(end_year=2019)) == 2019
    with pytest.raises(ModelError, match=r"S3E030.*min_year_docs=31"):
        resolve_end_year(totals, EmergenceConfig(min_year_docs=31))


def test_synthetic_topics() -> None:
    counts, totals = synthetic()
    out = score_emergence(counts, totals, EmergenceConfig())
    assert out.columns.tolist() == [
        "first_year",
        "last_year",
        "total",
        "base_count",
        "recent_count",
        "base_share",
        "recent_share",
        "growth",
        "growth_raw",
        "growth_shrunk",
        "growth_lower",
        "growth_prior",
        "novelty",
        "persistence",
        "score",
        "emerging",
        "end_year",
    ]
    assert out.index.name == "topic_id" and out.index.tolist() == [NEW, FLAT, DECLINING, MIDDLE, EMPTY]
    assert (out["end_year"] == 2024).all()
    new = out.loc[NEW]
    # Recent 2022-24: 25 of 300 documents; base 2019-21: 0 of 300.
    assert new["recent_count"] == 25 and new["base_count"] == 0 and new["first_year"] == 2022
    assert abs(new["growth_raw"] - math.log2(((25 + 0.5) / 301) / ((0 + 0.5) / 301))) < 1e-12  # log2(51)
    # Shrunk (the default growth): windows of 300 documents each, so m = 1/2 and the prior adds
    # kappa/2 documents to each; kappa is estimated once for the corpus (tests/unit/test_shrunk_growth.py).
    kappa = float(new["growth_prior"])
    assert (out["growth_prior"] == kappa).all() and 0 < kappa < 10
    shrunk = math.log2((25 + kappa / 2) / (0 + kappa / 2))
    assert abs(new["growth_shrunk"] - shrunk) < 1e-12 and new["growth"] == new["growth_shrunk"]
    assert 0 < new["growth_shrunk"] < new["growth_raw"] and new["growth_lower"] < new["growth_shrunk"]
    assert new["novelty"] == 1.0 and new["persistence"] == 1.0 and bool(new["emerging"])
    assert abs(new["score"] - (0.6 * shrunk + 0.2 * 1 + 0.2 * 1)) < 1e-12
    as_raw = score_emergence(counts, totals, EmergenceConfig(growth_estimate="raw"))
    assert abs(as_raw.loc[NEW, "score"] - (0.6 * math.log2(51) + 0.2 * 1 + 0.2 * 1)) < 1e-12
    as_lower = score_emergence(counts, totals, EmergenceConfig(growth_estimate="lower"))
    assert (as_lower["growth"] == out["growth_lower"]).all()
    flat = out.loc[FLAT]
    assert abs(flat["growth"]) < 1e-12 and not flat["emerging"]
    assert flat["novelty"] == 0.0 and flat["first_year"] == 2015  # 2015 <= 2022 - 6
    declining = out.loc[DECLINING]
    assert declining["growth"] < 0 and not declining["emerging"]
    assert abs(declining["growth_raw"] - math.log2(15.5 / 60.5)) < 1e-12
    assert abs(declining["growth"] - math.log2((15 + kappa / 2) / (60 + kappa / 2))) < 1e-12
    # First seen 2019, 3 of novelty_years=6 before the window start 2022: novelty 1 - 3/6.
    assert abs(out.loc[MIDDLE, "novelty"] - 0.5) < 1e-12
    assert not out.loc[MIDDLE, "emerging"]  # 3 recent documents < min_recent_docs 5
    empty = out.loc[EMPTY]
    assert empty["first_year"] == -1 and empty["novelty"] == 0 and empty["persistence"] == 0
    assert out.dtypes["emerging"] == np.dtype(bool)


def test_thresholds_gate_emerging() -> None:
    counts, totals = synthetic()
    assert not score_emergence(counts, totals, EmergenceConfig(min_recent_docs=26)).loc[NEW, "emerging"]
    assert not score_emergence(counts, totals, EmergenceConfig(min_growth=6.0)).loc[NEW, "emerging"]
    gapped = counts.copy()
    gapped.loc[NEW, 2023] = 0  # present in 2 of 3 recent years
    gapped_totals = totals - counts.loc[NEW] + gapped.loc[NEW]
    out = score_emergence(gapped, gapped_totals, EmergenceConfig(min_persistence=0.9))
    assert abs(out.loc[NEW, "persistence"] - 2 / 3) < 1e-12 and not out.loc[NEW, "emerging"]
    assert score_emergence(gapped, gapped_totals, EmergenceConfig(min_persistence=0.6)).loc[NEW, "emerging"]


def test_more_recent_documents_never_lower_growth() -> None:
    # A fixed end year: with an implicit one, documents added to a thin last year can move the window.
    # A fixed prior weight too: an estimated one is refitted on the new counts (docs/METHODS.md 1.3).
    cfg = EmergenceConfig(end_year=2024, growth_prior_documents=3.0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        counts = pd.DataFrame(rng.integers(0, 6, size=(3, 10)), columns=YEARS).rename_axis("topic_id")
        totals = counts.sum(axis=0) + pd.Series(rng.integers(0, 40, size=10), index=YEARS)
        before = score_emergence(counts, totals, cfg)[["growth_raw", "growth_shrunk"]]
        year, topic, extra = int(rng.integers(2022, 2025)), int(rng.integers(0, 3)), int(rng.integers(1, 20))
        counts.loc[topic, year] += extra
        totals[year] += extra  # the added documents are documents of the corpus too
        after = score_emergence(counts, totals, cfg)[["growth_raw", "growth_shrunk"]]
        assert (after.loc[topic] > before.loc[topic]).all()


def test_years_after_end_year_change_nothing() -> None:
    counts, totals = synthetic()
    base = score_emergence(counts, totals, EmergenceConfig())
    later = counts.copy()
    later[2025], later[2026] = [0, 50, 0, 40, 0], [9, 0, 3, 0, 0]
    later_totals = pd.concat([totals, pd.Series([150, 12], index=[2025, 2026])])
    pd.testing.assert_frame_equal(score_emergence(later, later_totals, EmergenceConfig(end_year=2024)), base)
    # Implicit end year: 2026 holds 12 < min_year_docs=20, so 2025 is the end and 2026 is ignored.
    implicit = score_emergence(later, later_totals, EmergenceConfig())
    assert (implicit["end_year"] == 2025).all()
    dropped = score_emergence(later.drop(columns=2026), later_totals.drop(2026), EmergenceConfig())
    pd.testing.assert_frame_equal(implicit, dropped)
    assert implicit.loc[FLAT, "recent_count"] == 10 + 10 + 50  # 2023-2025


def _finite(out: pd.DataFrame) -> bool:
    return bool(np.isfinite(out.drop(columns="emerging", errors="ignore").to_numpy(dtype=np.float64)).all())


def test_degenerate_inputs_give_finite_outputs() -> None:
    one_year = series({0: [7], 1: [0]}, years=[2024])
    out = score_emergence(one_year, pd.Series([10], index=[2024]), EmergenceConfig(min_year_docs=5))
    assert _finite(out) and out.loc[0, "base_count"] == 0 and out.loc[0, "novelty"] == 1.0
    assert abs(out.loc[0, "growth_raw"] - math.log2((7.5 / 11) / (0.5 / 1))) < 1e-12
    assert (out["growth"] == 0).all()  # no base documents at all: no ratio to shrink toward
    empty_years = series({0: [0, 0, 0], 1: [0, 0, 0]}, years=[2022, 2023, 2024])
    zero_totals = pd.Series([0, 0, 0], index=[2022, 2023, 2024])
    out = score_emergence(empty_years, zero_totals, EmergenceConfig(end_year=2024))
    assert _finite(out) and (out["growth"] == 0).all() and not out["emerging"].any()
    no_topics = score_emergence(
        series({}, [2024]), pd.Series([3], index=[2024]), EmergenceConfig(end_year=2024)
    )
    assert len(no_topics) == 0
    assert _finite(porter_escore(one_year, pd.Series([10], index=[2024])))
    with pytest.raises(ValueError):
        score_emergence(one_year, pd.Series([5], index=[2024]), EmergenceConfig(end_year=2024))  # 7 > 5


def test_porter_escore_by_hand() -> None:
    # Active periods 2018-2024: totals are squares so sqrt(N) = 5..11; the base periods 2015-17 are
    # given junk values that must not matter.
    totals = pd.Series([1, 1, 1, 25, 36, 49, 64, 81, 100, 121], index=YEARS)
    counts = series({7: [1, 1, 1, 1, 2, 3, 4, 6, 8, 10]})
    active_trend = (6 + 8 + 10) / (9 + 10 + 11) - (1 + 2 + 3) / (5 + 6 + 7)
    recent_trend = 10 * ((8 + 10) / (10 + 11) - (4 + 6) / (8 + 9))
    slope = 10 * (10 / 11 - 4 / 8) / 3
    out = porter_escore(counts, totals)
    assert abs(out.loc[7, "active_trend"] - active_trend) < 1e-12
    assert abs(out.loc[7, "recent_trend"] - recent_trend) < 1e-12
    assert abs(out.loc[7, "slope"] - slope) < 1e-12
    assert abs(out.loc[7, "escore"] - (2 * active_trend + recent_trend + slope)) < 1e-12
    # A later year is ignored when end_year is given.
    later = counts.assign(**{"2025": 99}).rename(columns={"2025": 2025})
    later_out = porter_escore(later, pd.concat([totals, pd.Series([144], index=[2025])]), end_year=2024)
    assert abs(later_out.loc[7, "escore"] - out.loc[7, "escore"]) < 1e-12


def test_porter_filters_worked_by_hand() -> None:
    from s3text.emergence import porter_filters

    years = list(range(2010, 2020))  # base 2010-2012, active 2013-2019
    totals = pd.Series([100] * 10, index=years)
    counts = pd.DataFrame(
        [
            [0, 0, 1, 2, 3, 4, 5, 6, 8, 10],  # rising from nothing: passes every filter
            [20, 20, 20, 20, 20, 20, 20, 20, 20, 20],  # base share 0.2 > 0.15: not novel, and flat
            [0, 0, 0, 0, 0, 0, 0, 0, 3, 3],  # 6 records in 2 periods: too few, not persistent
        ],
        index=pd.Index([0, 1, 2], name="topic_id"), columns=years,
    )
    out = porter_filters(counts, totals, EmergenceConfig(), end_year=2019)
    # Topic 0: base share 1/300 < 0.15; 8 periods with documents; 39 records; active rate 38/7 per
    # year > 2 x base rate 1/3; EScore well above 1.77.
    assert out.loc[0].tolist() == [True, True, True, True, True]
    assert out.loc[1, ["porter_novel", "porter_growth", "porter_emerging"]].tolist() == [False, False, False]
    assert out.loc[2, ["porter_persistent", "porter_records", "porter_emerging"]].tolist() == [False, False, False]
