"""Evaluation steps over the store: the emergence backtest."""

from __future__ import annotations

from collections.abc import Sequence

from s3text.backtest import BacktestResult, backtest
from s3text.config import PipelineConfig
from s3text.embed import Embedder
from s3text.normalise import STATUS_OK, stop_words
from s3text.store import Store


def run_backtest(cfg: PipelineConfig, untils: Sequence[int], sources: Sequence[str] | None = None
                 ) -> list[BacktestResult]:
    """Backtest each `until` year on the usable documents (optionally of some sources only).

    Needs the documents normalised and embedded (``s3text run`` or the prepare steps).
    """
    where = f"n.status = '{STATUS_OK}'" + (" AND d.source IN (SELECT unnest(?))" if sources else "")
    with Store(cfg.store) as store:
        docs = store.query(
            f"SELECT d.doc_id, d.year, d.content_hash, n.lemmas FROM documents d JOIN normalised n USING (doc_id) "
            f"WHERE {where} ORDER BY d.doc_id", [list(sources)] if sources else None)
        vectors = store.get_embeddings(Embedder.from_config(cfg.embed).model_id, docs["content_hash"].tolist())
    stops = stop_words(cfg.normalise.supported_languages)
    return [backtest(docs, vectors, until=u, topics_cfg=cfg.topics, emergence_cfg=cfg.emergence, cfg=cfg.backtest,
                     stop_words=stops) for u in untils]
