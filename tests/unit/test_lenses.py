"""Emergence lenses: Kleinberg bursts, Nesta quadrant, community, diffusion. Known answers by construction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from s3text.lenses import (
    LensesConfig,
    burst_costs,
    burst_states,
    burst_summary,
    bursts,
    community,
    diffusion,
    quadrant,
)

YEARS = list(range(2011, 2023))  # 12 periods
CFG = LensesConfig()


def frame(rows: dict[int, list[int]], years: list[int] = YEARS) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=years).rename_axis("topic_id")


def burst_case() -> tuple[np.ndarray, np.ndarray]:
    """5 of 100 documents a year, 20 of 100 in periods 6-8 (1-based), i.e. 2016-2018."""
    r = np.array([5] * 5 + [20] * 3 + [5] * 4)
    return r, np.full(12, 100)


# --------------------------------------------------------------------------- bursts


def test_cost_of_a_tiny_case_by_hand() -> None:
    # r = (1, 3), d = (10, 10): p0 = 4 / 20 = 0.2, p1 = 2 * 0.2 = 0.4.
    costs = burst_costs([1, 3], [10, 10], s=2.0)
    expected = [
        [-math.log(10 * 0.2 * 0.8**9), -math.log(10 * 0.4 * 0.6**9)],
        [-math.log(120 * 0.2**3 * 0.8**7), -math.log(120 * 0.4**3 * 0.6**7)],
    ]
    np.testing.assert_allclose(costs, expected, rtol=1e-12)
    # A period without documents costs 0 in both states; p1 is capped below 1.
    np.testing.assert_allclose(burst_costs([0, 3], [0, 4], s=2.0)[0], [0.0, 0.0])
    capped = burst_costs([3], [4], s=2.0)  # p0 = 0.75, p1 = min(1.5, 0.99999)
    assert capped[0, 1] == pytest.approx(-math.log(4 * 0.99999**3 * (1 - 0.99999)))


def test_known_burst_detected_exactly_in_periods_6_to_8() -> None:
    r, d = burst_case()
    assert burst_states(r, d, s=2, gamma=1).tolist() == [0] * 5 + [1] * 3 + [0] * 4


def test_flat_series_has_no_burst() -> None:
    assert burst_states(np.full(12, 10), np.full(12, 100)).tolist() == [0] * 12
    found = bursts(frame({1: [10] * 12}), pd.Series(100, index=YEARS), CFG)
    assert found.empty


def test_higher_gamma_suppresses_a_short_weak_burst() -> None:
    r, d = np.array([5] * 6 + [12] + [5] * 5), np.full(12, 100)
    p0 = (11 * 5 + 12) / 1200
    p1 = 2 * p0
    gain = 12 * math.log(p1 / p0) + 88 * math.log((1 - p1) / (1 - p0))  # cost0 - cost1 of the peak
    # By construction the peak pays for entering at gamma = 1 but not at gamma = 2.
    assert math.log(12) < gain < 2 * math.log(12)
    assert burst_states(r, d, gamma=1.0).tolist() == [0] * 6 + [1] + [0] * 5
    assert burst_states(r, d, gamma=2.0).tolist() == [0] * 12
    # The path starts in state 0: the same peak in the first period pays for entering too.
    first = np.array([12] + [5] * 11)
    assert burst_states(first, d, gamma=1.0).tolist() == [1] + [0] * 11
    assert burst_states(first, d, gamma=2.0).tolist() == [0] * 12
    # ... and the burst weight is that gain (Kleinberg's weight: sum of cost0 - cost1 over the burst).
    found = bursts(frame({7: r.tolist()}), pd.Series(d, index=YEARS), CFG)
    assert found.index.tolist() == [7]
    assert (found["start"].iloc[0], found["end"].iloc[0]) == (2017, 2017)
    assert found["weight"].iloc[0] == pytest.approx(gain)


def test_bursts_and_summary_per_topic() -> None:
    r, d = burst_case()
    counts = frame({3: r.tolist(), 1: [10] * 12})
    totals = pd.Series(d, index=YEARS)
    found = bursts(counts, totals, CFG)
    assert found.index.tolist() == [3]
    assert found[["start", "end"]].to_numpy().tolist() == [[2016, 2018]]
    p0 = (9 * 5 + 3 * 20) / 1200
    p1 = 2 * p0
    per_period = 20 * math.log(p1 / p0) + 80 * math.log((1 - p1) / (1 - p0))
    assert found["weight"].iloc[0] == pytest.approx(3 * per_period)

    summary = burst_summary(counts, totals, CFG)
    assert summary.index.tolist() == [1, 3]
    assert summary["in_burst_at_end"].tolist() == [False, False]
    assert summary["last_burst_start"].isna().tolist() == [True, False]
    assert summary.loc[3, "last_burst_start"] == 2016
    assert summary["burst_weight"].tolist() == [0.0, pytest.approx(3 * per_period)]
    assert summary["n_bursts"].tolist() == [0, 1]
    assert np.isfinite(summary["burst_weight"]).all()

    at_2017 = burst_summary(counts, totals, CFG, end_year=2017)
    assert bool(at_2017.loc[3, "in_burst_at_end"]) is True
    assert at_2017["end_year"].tolist() == [2017, 2017]


def test_burst_after_end_year_is_not_seen() -> None:
    r = [5] * 9 + [20] * 3  # burst in 2020-2022
    counts, totals = frame({1: r}), pd.Series(100, index=YEARS)
    assert bursts(counts, totals, CFG)[["start", "end"]].to_numpy().tolist() == [[2020, 2022]]
    cut = burst_summary(counts, totals, CFG, end_year=2019)
    assert cut["n_bursts"].tolist() == [0]
    assert cut["in_burst_at_end"].tolist() == [False]
    # The future does not leak into p0 either: same answer as on data cut at 2019.
    early = [y for y in YEARS if y <= 2019]
    pd.testing.assert_frame_equal(cut, burst_summary(counts[early], totals[early], CFG))


def test_burst_input_checks_and_config() -> None:
    with pytest.raises(ValueError, match="r_t <= d_t"):
        burst_states([3], [2])
    with pytest.raises(ValueError, match="more documents"):
        bursts(frame({1: [200] * 12}), pd.Series(100, index=YEARS), CFG)
    with pytest.raises(ValidationError):
        LensesConfig(burst_gamma=1.0, unknown=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CFG.burst_s = 3.0  # frozen


# --------------------------------------------------------------------------- Nesta quadrant

Q_YEARS = list(range(2015, 2021))  # window 2018-2020, totals 100 so a count is a share in %


def quadrant_counts() -> pd.DataFrame:
    return frame(
        {
            1: [1, 1, 1, 1, 2, 3],  # magnitude 2, MA 1 -> 2: +100 %      Emerging
            2: [10, 10, 10, 10, 15, 20],  # magnitude 15, MA 10 -> 15: +50 %  Hot
            3: [30, 30, 30, 30, 25, 20],  # magnitude 25, MA 30 -> 25: -16.7 % Stabilising
            4: [6, 6, 6, 6, 4, 2],  # magnitude 4, MA 6 -> 4: -33.3 %       Dormant
            5: [8, 8, 8, 8, 8, 9],  # magnitude 25/3 = median, MA 8 -> 25/3: +4.17 %, ambiguous
        },
        Q_YEARS,
    )


def test_quadrant_one_topic_per_quadrant_plus_an_ambiguous_one() -> None:
    totals = pd.Series(100, index=Q_YEARS)
    q = quadrant(quadrant_counts(), totals, start=2018, end=2020, cfg=CFG)
    assert q.index.tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(q["magnitude"], [2, 15, 25, 4, 25 / 3])
    np.testing.assert_allclose(q["growth_pct"], [100, 50, -100 / 6, -100 / 3, 100 / 24])
    assert q["quadrant"].tolist() == ["Emerging", "Hot", "Stabilising", "Dormant", "Hot"]
    assert q["ambiguous"].tolist() == [False, False, False, False, True]
    # Topic 5 is ambiguous on growth (4.17 < 5) and on magnitude (it is the median).
    q5 = quadrant(quadrant_counts(), totals, start=2018, end=2020, cfg=LensesConfig(ambiguity_tolerance=0.04))
    assert q5["ambiguous"].tolist() == [False, False, False, False, True]
    q0 = quadrant(quadrant_counts(), totals, start=2018, end=2020, cfg=LensesConfig(ambiguity_tolerance=0.0))
    assert not q0["ambiguous"].any()
    # A larger tolerance catches topic 3 too (|-16.7| < 20).
    q2 = quadrant(quadrant_counts(), totals, start=2018, end=2020, cfg=LensesConfig(ambiguity_tolerance=0.2))
    assert q2["ambiguous"].tolist() == [False, False, True, False, True]


def test_quadrant_zero_guard_shares_and_end_year() -> None:
    counts = frame({1: [0, 0, 0, 0, 0, 3], 2: [0] * 6, 3: [2, 2, 2, 2, 2, 2]}, Q_YEARS)
    totals = pd.Series([100, 100, 100, 100, 100, 50], index=Q_YEARS)
    q = quadrant(counts, totals, start=2018, end=2020, cfg=CFG)
    # Topic 1 from 0 (shares 0, 0, 6 %): growth is the cap; topic 2 never seen: 0; topic 3: shares 2, 2, 4 %.
    assert q["growth_pct"].tolist() == [1000.0, 0.0, pytest.approx((8 / 3 - 2) / 2 * 100)]
    np.testing.assert_allclose(q["magnitude"], [2.0, 0.0, 8 / 3])
    # Median magnitude 2 is topic 1's own: magnitude >= median is high (Nesta), so Hot, and ambiguous.
    assert q["quadrant"].tolist() == ["Hot", "Dormant", "Hot"]
    assert q["ambiguous"].tolist() == [True, True, False]  # topic 2: growth 0 is within +-10
    # end before the last year: 2020 is ignored; topic 3 is flat (2 %) through 2019.
    q19 = quadrant(counts, totals, start=2017, end=2019, cfg=CFG)
    assert q19["growth_pct"].tolist() == [0.0, 0.0, 0.0]
    # The moving average starts at the first year of the data (min_periods = 1).
    q_first = quadrant(counts, totals, start=2015, end=2020, cfg=CFG)
    assert q_first.loc[3, "growth_pct"] == pytest.approx((8 / 3 - 2) / 2 * 100)
    with pytest.raises(ValueError, match="start <= end"):
        quadrant(counts, totals, start=2020, end=2018, cfg=CFG)


# --------------------------------------------------------------------------- community


def entity_table() -> pd.DataFrame:
    rows = [
        # doc, topic, year, actor, region; end 2020, recent 2018-2020, base 2015-2017
        ("a", 1, 2016, "X", "R1"),
        ("b", 1, 2019, "X", "R1"),
        ("b", 1, 2019, "Y", "R2"),
        ("c", 1, 2020, "Z", "R2"),
        ("d", 1, 2021, "W", "R3"),  # after the end year
        ("e", 1, 2014, "V", "R4"),  # before the base window
        ("f", 2, 2018, "X", "R1"),
        ("g", 2, 2020, "X", "R1"),
        ("h", 2, 2020, None, None),  # unresolved actor: not counted
        ("i", -1, 2019, "Q", "R9"),  # outlier document
        ("j", 3, 2022, "X", "R1"),  # topic seen only after the end year
    ]
    return pd.DataFrame(rows, columns=["doc_id", "topic_id", "year", "actor_id", "region"])


def test_community_counts_on_a_constructed_table() -> None:
    out = community(entity_table(), end_year=2020, recent_years=3, base_years=3, cfg=CFG)
    assert out.index.tolist() == [1, 2, 3]
    assert out["actors_recent"].tolist() == [3, 1, 0]
    assert out["actors_base"].tolist() == [1, 0, 0]
    assert out["regions_recent"].tolist() == [2, 1, 0]
    assert out["regions_base"].tolist() == [1, 0, 0]
    np.testing.assert_allclose(out["actor_growth"], [math.log2(3.5 / 1.5), math.log2(1.5 / 0.5), 0.0])
    np.testing.assert_allclose(out["region_growth"], [math.log2(2.5 / 1.5), math.log2(1.5 / 0.5), 0.0])
    assert out["multiple_communities"].tolist() == [True, False, False]
    strict = community(entity_table(), end_year=2020, recent_years=3, base_years=3, cfg=LensesConfig(min_actors=4))
    assert not strict["multiple_communities"].any()
    # Deterministic whatever the row order.
    shuffled = entity_table().sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(community(shuffled, end_year=2020, recent_years=3, base_years=3, cfg=CFG), out)


def test_community_windows_follow_the_end_year() -> None:
    # With E = 2022 the recent window is 2020-2022 and the base 2017-2019.
    out = community(entity_table(), end_year=2022, recent_years=3, base_years=3, cfg=CFG)
    assert out["actors_recent"].tolist() == [2, 1, 1]  # topic 1: Z, W; topic 2: X; topic 3: X
    assert out["actors_base"].tolist() == [2, 1, 0]  # topic 1: X, Y (2019); topic 2: X (2018)


# --------------------------------------------------------------------------- diffusion


def kind_table(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"d{i}", t, y, k) for i, (t, y, k) in enumerate(rows)],
        columns=["doc_id", "topic_id", "year", "source_kind"],
    )


def test_diffusion_order_kinds_and_lags() -> None:
    table = kind_table(
        [
            (1, 2010, "project"), (1, 2012, "project"), (1, 2013, "patent"), (1, 2016, "website"),
            (2, 2016, "project"), (2, 2013, "patent"), (2, 2010, "website"),
            (3, 2010, "project"),
            (4, 2010, "project"), (4, 2013, "patent"), (4, 2021, "website"),  # website after end
        ]
    )  # fmt: skip
    out = diffusion(table, end_year=2020)
    assert out.index.tolist() == [1, 2, 3, 4]
    assert out.loc[1, ["first_project", "first_patent", "first_website"]].tolist() == [2010, 2013, 2016]
    assert out.loc[1, ["lag_patent_project", "lag_website_patent", "lag_website_project"]].tolist() == [3, 3, 6]
    assert out.loc[2, ["lag_patent_project", "lag_website_patent", "lag_website_project"]].tolist() == [-3, -3, -6]
    assert out["n_kinds"].tolist() == [3, 3, 1, 2]
    assert out["out_of_order"].tolist() == [0, 3, 0, 0]
    # 3/3 in order; 3/3 with every pair reversed: 1 - 0.5; 1/3; 2/3 in order.
    np.testing.assert_allclose(out["diffusion"], [1.0, 0.5, 1 / 3, 2 / 3])
    assert out.loc[1, "diffusion"] > out.loc[2, "diffusion"]
    assert out.loc[1, "diffusion"] > out.loc[3, "diffusion"]
    assert out["first_website"].isna().tolist() == [False, False, True, True]
    assert out["lag_website_patent"].isna().tolist() == [False, False, True, True]
    assert str(out["first_project"].dtype) == "Int64"
    assert out["diffusion"].between(0, 1).all()


def test_diffusion_ignores_documents_after_end_year() -> None:
    table = kind_table([(1, 2010, "project"), (1, 2013, "patent"), (1, 2016, "website")])
    out = diffusion(table, end_year=2014)
    assert out.loc[1, "n_kinds"] == 2
    assert pd.isna(out.loc[1, "first_website"])
    assert out.loc[1, "diffusion"] == pytest.approx(2 / 3)
    early = diffusion(table, end_year=2009)
    assert early.loc[1, "n_kinds"] == 0
    assert early.loc[1, "diffusion"] == 0.0
    # A partial order: project 2010 <= website 2012 but patent 2014 > website: 1 of 3 pairs broken.
    partial = diffusion(kind_table([(1, 2010, "project"), (1, 2014, "patent"), (1, 2012, "website")]), end_year=2020)
    assert partial.loc[1, "diffusion"] == pytest.approx(1 - 0.5 / 3)
    with pytest.raises(ValueError, match="unknown source_kind"):
        diffusion(kind_table([(1, 2010, "tweet")]), end_year=2020)
