"""Knowledge complexity: hand-worked matrices (arithmetic written out) and parity with ecomplexity 0.5.3."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from s3text.capacity import capacity_table, location_quotient, proximity, relatedness_density, specialisation
from s3text.complexity import QUADRANTS, eci_pci, kci, morc, mort, risk_reward, tci
from s3text.config import CapacityConfig

TOL = 1e-12

# Nested 3 x 3 presence matrix: r1 holds p1..p3, r2 holds p1, p2, r3 holds p1 only.
# Diversity k_c = (3, 2, 1), ubiquity k_p = (3, 2, 1).
NESTED = pd.DataFrame([[1, 1, 1], [1, 1, 0], [1, 0, 0]], index=["r1", "r2", "r3"], columns=["p1", "p2", "p3"])


def test_method_of_reflections_by_hand() -> None:
    # Step 0: diversity / ubiquity.
    assert morc(NESTED, 0).tolist() == [3, 2, 1] and mort(NESTED, 0).tolist() == [3, 2, 1]
    # Step 1: mean ubiquity of a region's topics: r1 (3+2+1)/3 = 2, r2 (3+2)/2 = 2.5, r3 3/1 = 3;
    # topics, mean diversity of their regions: p1 (3+2+1)/3 = 2, p2 (3+2)/2 = 2.5, p3 3/1 = 3.
    assert morc(NESTED, 1).tolist() == [2, 2.5, 3] and mort(NESTED, 1).tolist() == [2, 2.5, 3]
    # Step 2 (from step-1 topic values 2, 2.5, 3): r1 (2+2.5+3)/3 = 2.5, r2 (2+2.5)/2 = 2.25, r3 2.
    assert morc(NESTED, 2).tolist() == [2.5, 2.25, 2] and mort(NESTED, 2).tolist() == [2.5, 2.25, 2]
    # Step 3: raw r1 (2.5+2.25+2)/3 = 2.25, r2 (2.5+2.25)/2 = 2.375, r3 2.5, rescaled to 0..100.
    assert morc(NESTED, 3).tolist() == [0, 50, 100]
    # Step 4: raw from topic step 3 (0, 50, 100): r1 150/3 = 50, r2 50/2 = 25, r3 0 -> 100, 50, 0.
    assert morc(NESTED, 4).tolist() == [100, 50, 0]
    # Even steps keep the order of step 4; EconGeo defaults: morc 20 steps, mort 19.
    assert morc(NESTED).tolist() == [100, 50, 0] and mort(NESTED).tolist() == [0, 50, 100]
    with pytest.raises(ValueError):
        morc(NESTED, -1)


def _cc_by_hand() -> np.ndarray:
    # CC_cc' = sum_p M_cp M_c'p / (k_c k_p), in 36ths:
    # r1: (1/3 + 1/2 + 1)/3 = 22/36, (1/3 + 1/2)/3 = 10/36, (1/3)/3 = 4/36
    # r2: (1/3 + 1/2)/2 = 15/36, 15/36, (1/3)/2 = 6/36;   r3: 1/3 each = 12/36.
    return np.array([[22, 10, 4], [15, 15, 6], [12, 12, 12]]) / 36


def test_kci_by_hand() -> None:
    cc = _cc_by_hand()
    np.testing.assert_allclose(cc.sum(axis=1), 1.0)  # row-stochastic
    # trace = 49/36 and det = det(M)^2 / (3! * 3!) = 1/36; with lambda_1 = 1 the other two solve
    # l^2 - (13/36) l + 1/36 = 0: l = 1/4 and 1/9. (CC - I/4) v = 0 with rows [13, 10, 4], [15, 6, 6],
    # [12, 12, 3] / 36: c = -4(a + b) and -3a - 6b = 0 -> v = (-2, 1, 4), v / sum(v) = (-2/3, 1/3, 4/3).
    vals = np.sort(np.linalg.eigvals(cc).real)[::-1]
    np.testing.assert_allclose(vals, [1, 1 / 4, 1 / 9], atol=TOL)
    np.testing.assert_allclose(cc @ [-2, 1, 4], np.array([-2, 1, 4]) / 4, atol=TOL)
    # morc(20) = (100, 50, 0) correlates negatively with (-2/3, 1/3, 4/3): EconGeo flips the sign.
    got = kci(NESTED, digits=None)
    np.testing.assert_allclose(got.to_numpy(), [2 / 3, -1 / 3, -4 / 3], atol=1e-9)
    assert got.index.tolist() == ["r1", "r2", "r3"]
    # EconGeo rounds CC to 4 decimals first (22/36 -> 0.6111, 10/36 -> 0.2778, ...).
    rounded = np.round(cc, 4)
    vals, vecs = np.linalg.eig(rounded)
    v = vecs[:, np.argsort(-np.abs(vals))[1]].real
    want = -v / v.sum()  # same flip as above
    np.testing.assert_allclose(kci(NESTED).to_numpy(), want, atol=1e-12)
    assert np.abs(kci(NESTED).to_numpy() - [2 / 3, -1 / 3, -4 / 3]).max() < 1e-3


def test_tci_by_hand() -> None:
    # NESTED is symmetric with k_c = k_p, so TT = CC and the eigenvector is again (-2, 1, 4) / 3.
    # Spearman(( -2/3, 1/3, 4/3), ubiquity (3, 2, 1)) = -1 < 0: EconGeo keeps the sign; p3, held
    # only by the most diverse region, is the most complex topic.
    np.testing.assert_allclose(tci(NESTED, digits=None).to_numpy(), [-2 / 3, 1 / 3, 4 / 3], atol=1e-9)
    # A non-square matrix guards against a transposition slip: TT built by hand, solved with numpy.
    m = pd.DataFrame([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]], index=list("abc"), columns=list("wxyz"))
    kc, kp = np.array([3, 2, 2]), np.array([3, 2, 1, 1])
    b = m.to_numpy(dtype=float)
    tt = (b.T / kp[:, None]) @ (b / kc[:, None])
    assert abs(tt[0, 0] - (1 / 3 + 1 / 2 + 1 / 2) / 3) < TOL  # p=w: sum over its regions of 1/k_c, / k_w
    vals, vecs = np.linalg.eig(np.round(tt, 4))
    v = vecs[:, np.argsort(-np.abs(vals))[1]].real
    v = v / v.sum()
    if pd.Series(v).rank().corr(pd.Series(kp).rank()) > 0:
        v = -v
    np.testing.assert_allclose(tci(m).to_numpy(), v, atol=1e-12)
    assert tci(m).index.tolist() == list("wxyz")


def test_eci_pci_by_hand() -> None:
    # M_pp = M_cc here, second eigenvalue 1/4 with k_p-vector t(-2, 1, 4); k_c-vector = (M / k_c) k_p
    # = t((-2+1+4)/3, (-2+1)/2, -2) = t(1, -1/2, -2), positively correlated with diversity for t > 0.
    # mean(kc) = -t/2, deviations t(1.5, 0, -1.5), population std t*sqrt(1.5).
    eci, pci = eci_pci(NESTED)
    s = math.sqrt(1.5)
    np.testing.assert_allclose(eci.to_numpy(), [1.5 / s, 0, -1.5 / s], atol=1e-12)
    np.testing.assert_allclose(pci.to_numpy(), [-1.5 / s, 1.5 / s, 4.5 / s], atol=1e-12)  # (kp + t/2) / std
    # ecomplexity's stated property: ECI of a region = mean PCI of its topics.
    np.testing.assert_allclose(eci.to_numpy(), NESTED.to_numpy() @ pci.to_numpy() / [3, 2, 1], atol=1e-12)


def test_empty_rows_and_columns_are_nan_and_the_rest_unchanged() -> None:
    padded = NESTED.copy()
    padded["p4"] = 0
    padded.loc["r4"] = 0
    eci, pci = eci_pci(padded)
    assert math.isnan(eci["r4"]) and math.isnan(pci["p4"])
    pd.testing.assert_series_equal(eci.drop("r4"), eci_pci(NESTED)[0])
    pd.testing.assert_series_equal(pci.drop("p4"), eci_pci(NESTED)[1])
    for f in (kci, morc):
        assert math.isnan(f(padded)["r4"])
        np.testing.assert_allclose(f(padded).drop("r4").to_numpy(), f(NESTED).to_numpy(), atol=1e-12)
    for g in (tci, mort):
        assert math.isnan(g(padded)["p4"])
        np.testing.assert_allclose(g(padded).drop("p4").to_numpy(), g(NESTED).to_numpy(), atol=1e-12)
    # Too small for a second eigenvalue: NaN, no crash.
    single = pd.DataFrame([[1, 1]], index=["r"], columns=["a", "b"])
    assert eci_pci(single)[0].isna().all() and kci(single).isna().all() and tci(single).isna().all()


def test_risk_reward_quadrants() -> None:
    density = pd.DataFrame(
        {
            "region": ["A", "A", "B", "B", "C", "C"],
            "topic_id": [1, 2, 1, 3, 2, 4],
            "density": [0.9, 0.1, 0.2, 0.8, 0.5, np.nan],  # the NaN row (e.g. a masked density_ext) is dropped
        }
    )
    complexity = pd.Series({1: 2.0, 2: -1.0, 3: 0.5})  # topic 4 has no complexity either
    got = risk_reward(density, complexity)
    # Density median over 5 rows (0.1, 0.2, 0.5, 0.8, 0.9) = 0.5; complexity median over topics 1, 2, 3 = 0.5.
    assert got.attrs == {"density_median": 0.5, "complexity_median": 0.5}
    assert list(got.columns) == ["region", "topic_id", "density", "complexity", "quadrant"]
    assert got["quadrant"].tolist() == [
        "low risk, high reward",  # 0.9 >= 0.5, 2.0 >= 0.5
        "high risk, low reward",  # 0.1 < 0.5, -1.0 < 0.5
        "high risk, high reward",  # B-1: 0.2 < 0.5, 2.0
        "low risk, high reward",  # B-3: 0.8, 0.5 at the median -> high
        "low risk, low reward",  # C-2: 0.5 at the median -> low risk, -1.0
    ]
    assert set(got["quadrant"]) <= set(QUADRANTS)
    with pytest.raises(ValueError):
        risk_reward(density.drop(columns="density"), complexity)


def test_risk_reward_on_capacity_table_density_ext() -> None:
    counts = pd.DataFrame([[4, 0, 1], [1, 3, 0], [0, 2, 2]], index=["R1", "R2", "R3"], columns=[10, 11, 12])
    incidence = pd.DataFrame([[1, 1, 0], [0, 1, 1], [1, 0, 1]], columns=[10, 11, 12])
    table = capacity_table(counts, CapacityConfig(min_count=1, relatedness="cosine"), incidence)
    got = risk_reward(table, pd.Series({10: 1.0, 11: 0.0, 12: -1.0}), density_col="density_ext")
    assert len(got) == int((table["specialised"] == 0).sum())  # only the not-yet-specialised cells


# ---- parity with ecomplexity 0.5.3 -------------------------------------------------------------

COLS = {"time": "time", "loc": "loc", "prod": "prod", "val": "val"}


def _random_counts(seed: int, shape: tuple[int, int] = (9, 7)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 12, size=shape)
    x[:, 0] += 1  # no empty region
    x[0, :] += 1  # no empty topic
    return pd.DataFrame(x, index=[f"R{i}" for i in range(shape[0])], columns=[f"T{j}" for j in range(shape[1])])


def _long(mat: pd.DataFrame) -> pd.DataFrame:
    long = mat.stack().rename("val").reset_index()
    long.columns = ["loc", "prod", "val"]
    long.insert(0, "time", 2020)
    return long


def _ecomplexity(mat: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    from ecomplexity import ecomplexity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ecomplexity(_long(mat), COLS, verbose=False, check_logsupermodularity=False, **kwargs)


def _wide(out: pd.DataFrame, col: str, like: pd.DataFrame) -> pd.DataFrame:
    return out.pivot(index="loc", columns="prod", values=col).reindex(index=like.index, columns=like.columns)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_eci_pci_parity_with_ecomplexity(seed: int) -> None:
    counts = _random_counts(seed)
    out = _ecomplexity(counts)
    spec = specialisation(counts, location_quotient(counts), threshold=1.0, min_count=1)
    eci, pci = eci_pci(spec)
    want_eci = _wide(out, "eci", counts).iloc[:, 0].to_numpy(dtype=np.float64)
    want_pci = _wide(out, "pci", counts).iloc[0].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(eci.to_numpy(), want_eci, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pci.to_numpy(), want_pci, rtol=0, atol=1e-9)
    assert eci.std(ddof=0) == pytest.approx(1.0) and abs(eci.mean()) < 1e-12  # ecomplexity's z-score


def test_eci_pci_parity_with_a_manual_presence_matrix() -> None:
    # A count floor (min_count 4) that ecomplexity's own RCA test cannot express, given as manual M_cp.
    counts = _random_counts(7)
    spec = specialisation(counts, location_quotient(counts), threshold=1.0, min_count=4)
    out = _ecomplexity(spec, presence_test="manual")
    eci, pci = eci_pci(spec)
    keep_r, keep_t = spec.sum(axis=1) > 0, spec.sum(axis=0) > 0
    assert keep_r.all() and keep_t.all()  # a fully populated case for ecomplexity
    np.testing.assert_allclose(eci.to_numpy(), _wide(out, "eci", spec).iloc[:, 0].to_numpy(float), atol=1e-9)
    np.testing.assert_allclose(pci.to_numpy(), _wide(out, "pci", spec).iloc[0].to_numpy(float), atol=1e-9)


def test_parity_with_an_empty_topic_and_how_we_differ() -> None:
    counts = _random_counts(2)
    counts["T_empty"] = 0
    out = _ecomplexity(counts)
    spec = specialisation(counts, location_quotient(counts), threshold=1.0, min_count=1)
    eci, pci = eci_pci(spec)
    # ecomplexity drops the empty topic before computing and reports NaN for it; so do we, and the
    # other values are unchanged.
    want_pci = _wide(out, "pci", counts).iloc[0]
    assert math.isnan(want_pci["T_empty"]) and math.isnan(pci["T_empty"])
    np.testing.assert_allclose(pci.drop("T_empty").to_numpy(), want_pci.drop("T_empty").to_numpy(float), atol=1e-9)
    np.testing.assert_allclose(eci.to_numpy(), _wide(out, "eci", counts).iloc[:, 0].to_numpy(float), atol=1e-9)
    # Where we differ: the capacity side keeps the empty topic with RCA 0 and density 0 (ecomplexity:
    # NaN), following the module rule that a division by zero is 0.
    density = relatedness_density(spec, proximity(spec))
    assert _wide(out, "density", counts)["T_empty"].isna().all()
    assert (density["T_empty"] == 0).all() and (location_quotient(counts)["T_empty"] == 0).all()
