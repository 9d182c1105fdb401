from pathlib import Path

import pytest

from s3text.config import PipelineConfig, load_config
from s3text.errors import ConfigError


def test_default_config_loads_and_resolves_paths(root: Path) -> None:
    cfg = load_config(root / "configs/default.yaml").resolve_paths(root)
    assert cfg.store == root / "out/s3text.duckdb"
    assert all(s.path.exists() for s in cfg.sources), "every bundled source file must exist"
    assert cfg.regions.gazetteer.exists()
    assert cfg.regions.nuts_correspondence is not None and cfg.regions.nuts_correspondence.exists()
    assert cfg.crawl.seeds is not None and cfg.crawl.seeds.is_absolute() and cfg.crawl.seeds.exists()


def test_unknown_key_is_an_error(tmp_path: Path, root: Path) -> None:
    text = (root / "configs/default.yaml").read_text() + "\ntopics_typo: 3\n"
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="topics_typo"):
        load_config(path)


def test_unknown_nested_key_and_bad_value_are_named(root: Path) -> None:
    with pytest.raises(ConfigError, match=r"topics\.min_topic_sise"):
        load_config(root / "configs/default.yaml", ["topics.min_topic_sise=3"])
    with pytest.raises(ConfigError, match=r"topics\.min_topic_size"):
        load_config(root / "configs/default.yaml", ["topics.min_topic_size=1"])


def test_dotted_overrides_are_typed_and_change_the_hash(root: Path) -> None:
    base = load_config(root / "configs/default.yaml")
    changed = load_config(root / "configs/default.yaml", ["topics.seed=7", "emergence.end_year=2015"])
    assert changed.topics.seed == 7 and changed.emergence.end_year == 2015
    assert base.config_hash() != changed.config_hash()
    assert base.config_hash() == load_config(root / "configs/default.yaml").config_hash()


def test_candidate_weights_must_sum_to_one(root: Path) -> None:
    with pytest.raises(ConfigError, match="sum to 1"):
        load_config(root / "configs/default.yaml", ["candidates.weight_mass=0.5"])


def test_malformed_override_is_rejected(root: Path) -> None:
    with pytest.raises(ConfigError, match=r"key\.sub=value"):
        load_config(root / "configs/default.yaml", ["topics.seed"])


def test_config_is_frozen(root: Path) -> None:
    cfg: PipelineConfig = load_config(root / "configs/default.yaml")
    with pytest.raises(Exception, match="frozen"):
        cfg.topics.seed = 3  # type: ignore[misc]
