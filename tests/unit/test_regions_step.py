"""The regions step on the bundled sources: what each source contributes, said per source; and
capacity at NUTS-0 (the level a country-only source can reach)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from s3text import steps
from s3text.config import load_config
from s3text.regions import REASONS
from s3text.store import Store
from tests.support import ROOT, small_config


@pytest.fixture(scope="module")
def summaries(tmp_path_factory: pytest.TempPathFactory) -> dict[int | str, dict[str, Any]]:
    """The regions step's summary on the default config's sources (ingest only, no model), at
    NUTS-2, then on the same store at NUTS-0, then without the register."""
    folder = tmp_path_factory.mktemp("regions-step")
    out: dict[int | str, dict[str, Any]] = {}
    for key, sets in ((2, ["regions.level=2"]), (0, ["regions.level=0"]),
                      ("no register", ["regions.organisation_register=null"])):
        cfg = load_config(ROOT / "configs" / "default.yaml", [
            f"store={folder / 's3text.duckdb'}", f"out_dir={folder / 'out'}", *sets]).resolve_paths(ROOT)
        if key == 2:
            steps.ingest(cfg, "r1")
        out[key] = steps.regions(cfg, f"r{key}")
    return out


def test_sources_without_actors_are_said_so(summaries: dict[int | str, dict[str, Any]]) -> None:
    s = summaries[2]
    assert s["level"] == 2
    assert s["sources"]["patentsview_nn"] == "0 of 896 documents have an actor placed at NUTS-2 (896: no actors)"
    assert s["sources"]["cordis_h2020_energy"] == "0 of 616 documents have an actor placed at NUTS-2 (616: no actors)"
    assert s["by_source"]["patentsview_nn"]["documents_unplaced"] == {REASONS["no_actors"]: 896}


def test_assignees_are_placed_through_the_register_and_the_rest_explained(
        summaries: dict[int | str, dict[str, Any]]) -> None:
    google = summaries[2]["by_source"]["google_patents_deep_learning"]
    assert google["documents"] == 650
    # Siemens Aktiengesellschaft (Munich), Siemens Healthcare GmbH (Erlangen), ... are in the register.
    assert google["documents_placed"] >= 5
    unplaced = google["documents_unplaced"]
    assert google["documents_placed"] + sum(unplaced.values()) == 650
    assert unplaced[REASONS["not_in_register"]] > unplaced.get(REASONS["outside_nuts"], 0) > 0
    assert summaries[2]["actors_by_method"]["register"] >= google["actors_placed"]
    fp7 = summaries[2]["by_source"]["cordis_fp7"]
    assert (fp7["documents"], fp7["documents_placed"]) == (286, 286)


def test_level_zero_counts_country_placements(summaries: dict[int | str, dict[str, Any]]) -> None:
    at2, at0 = summaries[2]["by_source"], summaries[0]["by_source"]
    assert summaries[0]["level"] == 0
    assert summaries[0]["sources"]["cordis_fp7"].startswith("286 of 286 documents have an actor placed at "
                                                            "country level (NUTS-0)")
    for name in at2:
        assert at0[name]["actors_placed"] >= at2[name]["actors_placed"]
        assert REASONS["too_coarse"] not in at0[name]["documents_unplaced"]
    # Placed again at NUTS-0 only those placed at country level or not at all, and with the same result.
    assert summaries[0]["actors_placed_new"] == 0
    assert summaries[0]["actors_by_method"] == summaries[2]["actors_by_method"]


def test_removing_the_register_takes_its_placements_back(summaries: dict[int | str, dict[str, Any]]) -> None:
    off = summaries["no register"]
    assert off["actors_by_method"]["register"] == 0 and off["actors_placed_again"] > 0
    assert off["actors_by_method"]["gazetteer"] == summaries[2]["actors_by_method"]["gazetteer"]
    assert off["sources"]["google_patents_deep_learning"] == (
        f"0 of 650 documents have an actor placed at NUTS-2 (650: {REASONS['no_place']})")


def test_capacity_runs_at_nuts0(tmp_path: Path, small_run_store: tuple[Path, str]) -> None:
    built, run_id = small_run_store
    shutil.copy(built, tmp_path / "s3text.duckdb")
    cfg = small_config(tmp_path, "regions.level=0")
    with Store(cfg.store) as store:
        at2 = store.query("SELECT DISTINCT region, topic_id FROM region_topics WHERE run_id = ? AND count > 0",
                          [run_id])
        placed = store.query("SELECT level FROM actor_regions WHERE nuts_code IS NOT NULL")
    summary = steps.capacity(cfg, run_id)
    with Store(cfg.store) as store:
        at0 = store.query("SELECT region, topic_id, count FROM region_topics WHERE run_id = ? AND count > 0",
                          [run_id])
    assert (summary["level"], summary["actor_placements_too_coarse"]) == (0, 0)
    assert set(at0["region"].str.len()) == {2} and summary["regions"] == at0["region"].nunique()
    # Every topic with a NUTS-2 region keeps a country, and country-level actors may add topics.
    assert set(at0["topic_id"]) >= set(at2["topic_id"])
    assert set(at0["region"]) >= set(at2["region"].str[:2])
    cfg2 = small_config(tmp_path, "regions.level=2")
    assert steps.capacity(cfg2, run_id)["actor_placements_too_coarse"] == int((placed["level"] < 2).sum())
