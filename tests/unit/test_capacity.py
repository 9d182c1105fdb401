"""Capacity metrics: hand-worked matrices (arithmetic written out) and parity with ecomplexity 0.5.3."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from s3text.capacity import (
    RelatednessMethod,
    capacity_table,
    co_occurrence,
    continuous_density,
    continuous_proximity,
    embedding_relatedness,
    location_quotient,
    proximity,
    region_topic_counts,
    relatedness,
    relatedness_density,
    relatedness_density_ext,
    relatedness_density_int,
    specialisation,
)
from s3text.config import CapacityConfig

TOL = 1e-12
ALL_METHODS: tuple[RelatednessMethod, ...] = ("association", "cosine", "jaccard", "prob")


def frame(rows: Sequence[Sequence[float]], index: list[str], columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(np.array(rows, dtype=np.float64), index=index, columns=columns)


def assert_close(got: pd.DataFrame, want: list[list[float]], tol: float = TOL) -> None:
    assert np.isfinite(got.to_numpy(dtype=np.float64)).all()
    np.testing.assert_allclose(got.to_numpy(dtype=np.float64), np.array(want), rtol=0, atol=tol)


# Regions r1, r2 and an empty r3; topic "d" has no documents anywhere.
COUNTS = frame([[2, 1, 1, 0], [0, 3, 1, 0], [0, 0, 0, 0]], ["r1", "r2", "r3"], ["a", "b", "c", "d"])


def test_location_quotient_by_hand() -> None:
    # Row sums 4, 4, 0; column sums 2, 4, 2, 0; total 8.
    want = [
        [(2 / 4) / (2 / 8), (1 / 4) / (4 / 8), (1 / 4) / (2 / 8), 0.0],  # 2, 0.5, 1 (exactly), 0
        [0.0, (3 / 4) / (4 / 8), (1 / 4) / (2 / 8), 0.0],  # 0, 1.5, 1
        [0.0, 0.0, 0.0, 0.0],  # empty region: 0, not NaN
    ]
    lq = location_quotient(COUNTS)
    assert_close(lq, want)
    assert list(lq.index) == ["r1", "r2", "r3"] and list(lq.columns) == ["a", "b", "c", "d"]


def test_specialisation_keeps_exact_one_and_applies_count_floor() -> None:
    lq = location_quotient(COUNTS)
    assert lq.loc["r1", "c"] == 1.0  # the EconGeo edge case is really exercised
    spec = specialisation(COUNTS, lq, threshold=1.0, min_count=1)
    assert spec.to_numpy().tolist() == [[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    floored = specialisation(COUNTS, lq, threshold=1.0, min_count=2)
    assert floored.to_numpy().tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    with pytest.raises(ValueError):
        specialisation(COUNTS, lq.iloc[:2], threshold=1.0, min_count=1)


# Entities e1..e4 x topics A..D; e2 holds 3 documents in A (binarised to 1); D never occurs.
INCIDENCE = frame(
    [[1, 1, 0, 0], [3, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]], ["e1", "e2", "e3", "e4"], ["A", "B", "C", "D"]
)
# c_AB = |{e1, e2}| = 2, c_AC = |{e2}| = 1, c_BC = |{e2, e3}| = 2.
COOC = [[0, 2, 1, 0], [2, 0, 2, 0], [1, 2, 0, 0], [0, 0, 0, 0]]
S = {"A": 2 + 1, "B": 2 + 2, "C": 1 + 2, "D": 0}
T = 2 * (2 + 1 + 2)  # 10: every pair counted twice in the symmetric matrix


def test_co_occurrence_by_hand() -> None:
    cooc = co_occurrence(INCIDENCE)
    assert cooc.to_numpy().tolist() == COOC
    assert list(cooc.index) == list(cooc.columns) == ["A", "B", "C", "D"]


def _sym(ab: float, ac: float, bc: float) -> list[list[float]]:
    return [[0, ab, ac, 0], [ab, 0, bc, 0], [ac, bc, 0, 0], [0, 0, 0, 0]]


def test_relatedness_four_methods_by_hand() -> None:
    cooc = co_occurrence(INCIDENCE)
    a, b, c = S["A"], S["B"], S["C"]
    assoc = _sym(2 * T / (a * b), 1 * T / (a * c), 2 * T / (b * c))  # 5/3, 10/9, 5/3
    cosine = _sym(2 / math.sqrt(a * b), 1 / math.sqrt(a * c), 2 / math.sqrt(b * c))
    jaccard = _sym(2 / (a + b - 2), 1 / (a + c - 1), 2 / (b + c - 2))  # 2/5, 1/5, 2/5

    def prob(cij: float, si: float, sj: float) -> float:
        return cij / (((si / T) * (sj / (T - si)) + (sj / T) * (si / (T - sj))) * (T / 2))

    # e.g. AC: 1 / ((3/10 * 3/7 + 3/10 * 3/7) * 5) = 7/9
    probm = _sym(prob(2, a, b), prob(1, a, c), prob(2, b, c))
    assert abs(probm[0][2] - 7 / 9) < TOL
    for method, want in zip(ALL_METHODS, (assoc, cosine, jaccard, probm), strict=True):
        assert_close(relatedness(cooc, method), want)
    # EconGeo ignores the diagonal: a co_occurrence(diagonal=TRUE) input gives the same result.
    with_diag = cooc + np.diag([5, 6, 7, 8])
    for method in ALL_METHODS:
        pd.testing.assert_frame_equal(relatedness(with_diag, method), relatedness(cooc, method))
    with pytest.raises(ValueError):
        relatedness(cooc, "pearson")  # type: ignore[arg-type]


def test_relatedness_of_empty_cooccurrence_is_zero() -> None:
    empty = frame([[0, 0], [0, 0]], ["x", "y"], ["x", "y"])
    for method in ALL_METHODS:
        assert_close(relatedness(empty, method), [[0, 0], [0, 0]])


def test_relatedness_density_by_hand() -> None:
    phi = relatedness(co_occurrence(INCIDENCE), "association")
    m = frame([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], ["r1", "r2", "r3"], ["A", "B", "C", "D"])
    # phi rows: A = [0, 5/3, 10/9, 0] (sum 25/9); B = [5/3, 0, 5/3, 0] (10/3); C = [10/9, 5/3, 0, 0] (25/9);
    # D = 0 (sum 0 -> density 0).
    want = [
        [0.0, (5 / 3) / (10 / 3), (10 / 9) / (25 / 9), 0.0],  # r1 holds A: 0, 0.5, 0.4, 0
        # r2 holds A, B: 0.6, 0.5, 1
        [(5 / 3) / (25 / 9), (5 / 3) / (10 / 3), (10 / 9 + 5 / 3) / (25 / 9), 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ]
    assert_close(relatedness_density(m, phi), want)
    # phi given in another order is realigned on the labels.
    shuffled = phi.loc[["D", "C", "A", "B"], ["D", "C", "A", "B"]]
    assert_close(relatedness_density(m, shuffled), want)


def test_proximity_by_hand() -> None:
    rows = [[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    m = frame(rows, ["r1", "r2", "r3", "r4"], list("ABCD"))
    # Ubiquity u = 3, 2, 2, 0; joint: AB = 2 (r1, r3), AC = 2 (r2, r3), BC = 1 (r3).
    ab, ac, bc = min(2 / 3, 2 / 2), min(2 / 3, 2 / 2), min(1 / 2, 1 / 2)
    want: list[list[float]] = [[1, ab, ac, 0], [ab, 1, bc, 0], [ac, bc, 1, 0], [0, 0, 0, 0]]
    assert_close(proximity(m), want)


def test_region_topic_counts_counts_each_document_once() -> None:
    doc_regions = pd.DataFrame(
        {"doc_id": ["d1", "d1", "d1", "d2", "d3", "d4"], "region": ["R1", "R1", "R2", "R1", "R2", "R3"]}
    )
    doc_topics = pd.DataFrame({"doc_id": ["d1", "d2", "d3", "d4", "d5"], "topic_id": [0, 0, 1, -1, 1]})
    table = region_topic_counts(doc_regions, doc_topics)
    # d1 reaches R1 through two actors -> once; d4 is an outlier; d5 has no region.
    assert table.index.tolist() == ["R1", "R2", "R3"]
    assert table.columns.tolist() == [0, 1]
    assert table.to_numpy().tolist() == [[2, 0], [1, 1], [0, 0]]


def test_capacity_table_composes_the_parts() -> None:
    counts = pd.DataFrame(
        [[4, 0, 1], [1, 3, 0], [0, 2, 2], [0, 0, 1]], index=["R1", "R2", "R3", "R4"], columns=[10, 11, 12]
    )
    incidence = pd.DataFrame([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], columns=[10, 11, 12])
    cfg = CapacityConfig(min_count=2, relatedness="cosine")
    table = capacity_table(counts, cfg, incidence)
    assert list(table.columns) == ["region", "topic_id", "count", "rca", "rca_shrunk", "rca_lower", "specialised",
                                   "density", "density_ext"]
    assert len(table) == 12
    cell = table.set_index(["region", "topic_id"])
    # Column sums 5, 5, 4; total 14. R2 holds 3 of its 4 documents in topic 11.
    assert cell.loc[("R2", 11), "count"] == 3
    assert abs(cell.loc[("R2", 11), "rca"] - (3 / 4) / (5 / 14)) < TOL
    assert cell.loc[("R2", 11), "specialised"] == 1
    # R4: LQ = (1/1)/(4/14) = 3.5, but a single document is below min_count 2.
    assert abs(cell.loc[("R4", 12), "rca"] - 3.5) < TOL and cell.loc[("R4", 12), "specialised"] == 0
    # Specialised: R1 in 10 ((4/5)/(5/14)), R2 in 11, R3 in 11 ((2/4)/(5/14)) and 12 ((2/4)/(4/14)).
    assert cell["specialised"].to_numpy().tolist() == [1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0]
    # Co-occurrence c(10,11) = c(10,12) = c(11,12) = 2, s = 4 each: cosine 2/sqrt(4*4) = 0.5 off the diagonal.
    # R1 (holds 10), topic 11: 0.5 / (0.5 + 0.5); R3 (11, 12), topic 10: (0.5 + 0.5) / 1; R1, topic 10: 0.
    assert abs(cell.loc[("R1", 11), "density"] - 0.5) < TOL
    assert abs(cell.loc[("R3", 10), "density"] - 1.0) < TOL
    assert abs(cell.loc[("R1", 10), "density"]) < TOL
    assert (cell.loc["R4", "density"] == 0).all()
    assert np.isfinite(table[["rca", "density"]].to_numpy(dtype=np.float64)).all()
    # density_ext: null exactly where specialised, equal to density elsewhere.
    assert (table["density_ext"].isna() == (table["specialised"] == 1)).all()
    free = table["specialised"] == 0
    assert (table.loc[free, "density_ext"] == table.loc[free, "density"]).all()


# ---- parity with ecomplexity 0.5.3 -------------------------------------------------------------

COLS = {"time": "time", "loc": "loc", "prod": "prod", "val": "val"}


def _random_counts(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 12, size=(7, 6))
    x[:, 0] += 1  # no empty region (ecomplexity drops those before computing)
    x[0, :] += 1  # no empty topic
    return pd.DataFrame(x, index=[f"R{i}" for i in range(7)], columns=[f"T{j}" for j in range(6)])


def _long(mat: pd.DataFrame) -> pd.DataFrame:
    long = mat.stack().rename("val").reset_index()
    long.columns = ["loc", "prod", "val"]
    long.insert(0, "time", 2020)
    return long


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parity_with_ecomplexity(seed: int) -> None:
    from ecomplexity import ecomplexity
    from ecomplexity import proximity as ecx_proximity

    counts = _random_counts(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ecomplexity(_long(counts), COLS, verbose=False, check_logsupermodularity=False)
        prox = ecx_proximity(_long(counts), COLS)

    def wide(col: str) -> pd.DataFrame:
        return out.pivot(index="loc", columns="prod", values=col).loc[counts.index, counts.columns]

    lq = location_quotient(counts)
    spec = specialisation(counts, lq, threshold=1.0, min_count=1)
    phi = proximity(spec)
    ecx_phi = prox.pivot(index="prod_1", columns="prod_2", values="proximity")
    ecx_phi = ecx_phi.loc[counts.columns, counts.columns]

    np.testing.assert_allclose(lq.to_numpy(), wide("rca").to_numpy(dtype=np.float64), rtol=0, atol=1e-9)
    assert (spec.to_numpy() == wide("mcp").to_numpy()).all()
    assert 0 < spec.to_numpy().sum() < spec.size  # a non-trivial M: the comparison means something
    np.testing.assert_allclose(phi.to_numpy(), ecx_phi.to_numpy(dtype=np.float64), rtol=0, atol=1e-9)
    density = relatedness_density(spec, phi).to_numpy()
    np.testing.assert_allclose(density, wide("density").to_numpy(dtype=np.float64), rtol=0, atol=1e-9)


# ---- smoothing, masked densities, embedding and continuous relatedness -------------------------


def test_smoothing_zero_is_the_plain_lq_and_lq_is_scale_invariant() -> None:
    plain = location_quotient(COUNTS)
    pd.testing.assert_frame_equal(location_quotient(COUNTS, smoothing=0.0), plain)
    np.testing.assert_allclose(location_quotient(COUNTS * 7).to_numpy(), plain.to_numpy(), rtol=0, atol=TOL)
    with pytest.raises(ValueError):
        location_quotient(COUNTS, smoothing=-1.0)


def test_smoothing_by_hand() -> None:
    # alpha = 1 on the non-empty block (regions r1, r2 x topics a, b, c); r3 and d stay 0.
    # r1: 3, 2, 2 (sum 7); r2: 1, 4, 2 (sum 7); columns 4, 6, 4; total 14.
    want = [
        [(3 / 7) / (4 / 14), (2 / 7) / (6 / 14), (2 / 7) / (4 / 14), 0.0],  # 1.5, 2/3, 1
        [(1 / 7) / (4 / 14), (4 / 7) / (6 / 14), (2 / 7) / (4 / 14), 0.0],  # 0.5, 4/3, 1
        [0.0, 0.0, 0.0, 0.0],
    ]
    assert_close(location_quotient(COUNTS, smoothing=1.0), want)
    # A large pseudo-count pulls every active cell toward 1 (the unsmoothed r1-a is 2).
    big = location_quotient(COUNTS, smoothing=1e6).to_numpy()[:2, :3]
    np.testing.assert_allclose(big, 1.0, atol=1e-5)


def test_capacity_table_smoothing_keyword() -> None:
    counts = pd.DataFrame([[4, 0, 1], [1, 3, 0], [0, 2, 2]], index=["R1", "R2", "R3"], columns=[10, 11, 12])
    incidence = pd.DataFrame([[1, 1, 0], [0, 1, 1], [1, 0, 1]], columns=[10, 11, 12])
    cfg = CapacityConfig(min_count=1)
    plain = capacity_table(counts, cfg, incidence)
    pd.testing.assert_frame_equal(capacity_table(counts, cfg, incidence, smoothing=0.0), plain)
    smoothed = capacity_table(counts, cfg, incidence, smoothing=1.0)
    want = location_quotient(counts, smoothing=1.0).to_numpy().ravel()
    np.testing.assert_allclose(smoothed["rca"].to_numpy(), want, rtol=0, atol=TOL)
    assert (smoothed["count"] == plain["count"]).all()  # the count floor reads the raw counts


def test_masked_densities_by_hand() -> None:
    phi = relatedness(co_occurrence(INCIDENCE), "association")
    m = frame([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], ["r1", "r2", "r3"], ["A", "B", "C", "D"])
    nan = math.nan
    # Full densities from test_relatedness_density_by_hand: r1 = 0, 0.5, 0.4, 0; r2 = 0.6, 0.5, 1, 0; r3 = 0.
    ext = relatedness_density_ext(m, phi)
    want_ext = [[nan, 0.5, 0.4, 0.0], [nan, nan, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    np.testing.assert_allclose(ext.to_numpy(), want_ext, rtol=0, atol=TOL)  # NaN positions must match too
    want_int = [[0.0, nan, nan, nan], [0.6, 0.5, nan, nan], [nan, nan, nan, nan]]
    np.testing.assert_allclose(relatedness_density_int(m, phi).to_numpy(), want_int, rtol=0, atol=TOL)
    assert list(ext.index) == ["r1", "r2", "r3"] and list(ext.columns) == ["A", "B", "C", "D"]


def test_embedding_relatedness() -> None:
    centroids = frame([[1, 0], [0, 2], [3, 3], [-1, 0], [0, 0]], ["A", "B", "C", "D", "E"], ["d0", "d1"])
    phi = embedding_relatedness(centroids)
    c = 1 / math.sqrt(2)  # cos 45 degrees
    # A-D is cos 180 = -1, clipped to 0; the zero centroid E relates to nothing; diagonal 0.
    want = [
        [0, 0, c, 0, 0],
        [0, 0, c, 0, 0],
        [c, c, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    assert_close(phi, want)
    assert (phi.to_numpy() == phi.to_numpy().T).all() and (np.diag(phi.to_numpy()) == 0).all()
    rng = np.random.default_rng(0)
    big = embedding_relatedness(pd.DataFrame(rng.normal(size=(30, 8))))
    assert (big.to_numpy() == big.to_numpy().T).all() and (np.diag(big.to_numpy()) == 0).all()
    assert big.to_numpy().min() >= 0 and big.to_numpy().max() <= 1


def test_continuous_proximity_by_hand() -> None:
    # Topics a and b are perfectly anti-correlated over r1..r3 (corr -1 -> phi 0); c has constant RCA
    # (no correlation: 0); the all-zero region r4 is left out (it would otherwise change the correlation).
    rca = frame([[2, 0, 1], [1, 1, 1], [0, 2, 1], [0, 0, 0]], ["r1", "r2", "r3", "r4"], ["a", "b", "c"])
    assert_close(continuous_proximity(rca), [[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    # Density: row r1 = (2, 0, 1) weighted by phi rows a = (1, 0, 0), b = (0, 1, 0), c = 0 (sum 0 -> 0).
    assert_close(continuous_density(rca), [[2, 0, 0], [1, 1, 0], [0, 2, 0], [0, 0, 0]])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_continuous_parity_with_ecomplexity(seed: int) -> None:
    from ecomplexity import ecomplexity
    from ecomplexity import proximity as ecx_proximity

    counts = _random_counts(seed)
    counts.loc["R_empty"] = 0  # ecomplexity drops empty locations before the correlation; so do we
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ecomplexity(_long(counts), COLS, continuous=True, verbose=False, check_logsupermodularity=False)
        prox = ecx_proximity(_long(counts), COLS, continuous=True)
    lq = location_quotient(counts)
    ecx_phi = prox.pivot(index="prod_1", columns="prod_2", values="proximity").loc[counts.columns, counts.columns]
    phi = continuous_proximity(lq)
    np.testing.assert_allclose(phi.to_numpy(), ecx_phi.to_numpy(dtype=np.float64), rtol=0, atol=1e-9)
    assert (np.abs(np.diag(phi.to_numpy()) - 1) < 1e-12).all()  # diagonal kept, as in ecomplexity
    want = out.pivot(index="loc", columns="prod", values="density").reindex(index=counts.index, columns=counts.columns)
    got = continuous_density(lq)
    np.testing.assert_allclose(got.drop("R_empty").to_numpy(), want.drop("R_empty").to_numpy(float), atol=1e-9)
    assert want.loc["R_empty"].isna().all() and (got.loc["R_empty"] == 0).all()  # ecomplexity: NaN; ours 0


def test_capacity_table_needs_incidence_or_phi() -> None:
    counts = pd.DataFrame([[2, 1], [0, 3]], index=pd.Index(["A", "B"], name="region"),
                          columns=pd.Index([0, 1], name="topic_id"))
    with pytest.raises(ValueError, match="incidence matrix or a relatedness matrix"):
        capacity_table(counts, CapacityConfig(min_count=1))
    phi = pd.DataFrame([[0.0, 0.5], [0.5, 0.0]], index=[0, 1], columns=[0, 1])
    table = capacity_table(counts, CapacityConfig(min_count=1), phi=phi)
    # B is specialised in topic 1 only (LQ 3/3 / (4/6) = 1.5), so its density to topic 0 is φ01 / (φ01) = 1.
    assert table.set_index(["region", "topic_id"]).loc[("B", 0), "density"] == pytest.approx(1.0)
