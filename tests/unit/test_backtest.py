"""The backtest on a small dated slice of real patents, and its measures on hand-made cases."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from s3text.backtest import backtest, precision_at_k
from s3text.config import BacktestConfig, EmergenceConfig, TopicsConfig
from s3text.embed import Embedder
from s3text.normalise import Normaliser
from s3text.refit import assign_nearest

pytestmark = pytest.mark.slow
TOPICS = TopicsConfig(min_topic_size=8, min_samples=3, umap_neighbors=10)
EMERGENCE = EmergenceConfig(min_recent_docs=2, min_growth=0.2)
CFG = BacktestConfig(horizon_years=2, k=3, random_trials=200)


def test_precision_at_k_by_hand() -> None:
    truth = pd.Series({1: 0.9, 2: 0.5, 3: 0.1, 4: -1.0})
    assert precision_at_k(pd.Series({1: 3.0, 2: 2.0, 3: 1.0, 4: 0.0}), truth, 2) == 1.0
    assert precision_at_k(pd.Series({1: 0.0, 2: 3.0, 3: 2.0, 4: 1.0}), truth, 2) == 0.5
    assert precision_at_k(pd.Series({1: 0.0, 2: 0.0, 3: 2.0, 4: 1.0}), truth, 2) == 0.0


def test_assign_nearest_respects_the_threshold() -> None:
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]])
    vectors = np.array([[0.9, 0.1], [0.1, 0.9], [0.6, 0.6]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert assign_nearest(vectors, pd.DataFrame(centroids), 0.8)[0].tolist() == [0, 1, -1]


@pytest.fixture(scope="module")
def patents(root: Path, embedder: Embedder) -> tuple[pd.DataFrame, np.ndarray]:
    with (root / "data/patents/patentsview_nn.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if "2006" <= r["patent_date"][:4] <= "2017"]
    texts = [f"{r['patent_title']}. {r['patent_abstract'][:300]}" for r in rows]
    lemmas = [n.lemmas for n in Normaliser(min_tokens=1).transform(texts)]
    docs = pd.DataFrame({"doc_id": [r["patent_number"] for r in rows],
                         "year": [int(r["patent_date"][:4]) for r in rows], "lemmas": lemmas})
    return docs, embedder.encode(texts)


def test_backtest_runs_end_to_end_on_real_patents(patents: tuple[pd.DataFrame, np.ndarray]) -> None:
    docs, vectors = patents
    result = backtest(docs, vectors, until=2014, topics_cfg=TOPICS, emergence_cfg=EMERGENCE, cfg=CFG)
    s = result.summary
    assert s["n_past"] == int((docs["year"] <= 2014).sum())
    assert s["n_future"] == int(docs["year"].between(2015, 2016).sum())
    assert s["topics"] == len(result.topics) >= 3
    for value in (*s["precision_at_k"].values(), s["flags_that_grew"]["base_rate"]):
        assert 0.0 <= value <= 1.0
    assert s["precision_at_k"]["random_expected"] == pytest.approx(3 / s["topics"])
    assert abs(s["precision_at_k"]["random_mean"] - s["precision_at_k"]["random_expected"]) < 0.1
    assert result.topics["future_assigned"].sum() <= s["n_future"]


def test_flags_do_not_depend_on_the_future(patents: tuple[pd.DataFrame, np.ndarray]) -> None:
    docs, vectors = patents
    rng = np.random.default_rng(0)
    later = (docs["year"] > 2014).to_numpy()
    scrambled = vectors.copy()
    scrambled[later] = rng.permutation(scrambled[later])  # rewrite what happened after 2014
    a = backtest(docs, vectors, until=2014, topics_cfg=TOPICS, emergence_cfg=EMERGENCE, cfg=CFG)
    b = backtest(docs, scrambled, until=2014, topics_cfg=TOPICS, emergence_cfg=EMERGENCE, cfg=CFG)
    cols = ["label", "score", "emerging", "naive"]
    pd.testing.assert_frame_equal(a.topics[cols], b.topics[cols])
    assert not a.topics["future_assigned"].equals(b.topics["future_assigned"]), "the outcome does see the future"
