"""Why a topic or a run has no candidate: each link of the chain that can break gives its own reason."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from s3text.diagnosis import DOCUMENT_COLUMNS, HELD_COLUMNS, REASONS, Reason, Thresholds, run_reason, topic_reasons

T = Thresholds(level=2, min_density=0.2, min_actors=2, min_support_documents=3, min_support_organisations=2,
               min_topic_documents=1, region_set="alpine_space")
CELL_COLUMNS = ["region", "topic_id", "count", "specialised", "density"]


def docs(*rows: tuple[str, int, str, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=DOCUMENT_COLUMNS)


def cells(*rows: tuple[str, int, int, bool, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def held(*rows: tuple[str, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=HELD_COLUMNS)


def reason(documents: pd.DataFrame, capacity: pd.DataFrame | None = None, below: pd.DataFrame | None = None,
           allowed: set[str] | None = None) -> Reason:
    out = topic_reasons(emerging=[7], with_candidates=[], documents=documents,
                        capacity=capacity if capacity is not None else cells(),
                        below_minimum=below if below is not None else held(), thresholds=T, allowed_regions=allowed)
    return out[7]


def test_no_organisation_names_the_sources() -> None:
    r = reason(docs(("a", 7, "h2020", 0, 0, 0), ("b", 7, "h2020", 0, 0, 0), ("c", 7, "gp", 0, 0, 0)))
    assert r.code == "no_organisations"
    assert "none of its 3 documents names an organisation" in r.text and "h2020 2" in r.text


def test_unplaced_coarse_and_region_set() -> None:
    assert reason(docs(("a", 7, "pv", 2, 0, 0))).code == "unplaced"
    coarse = reason(docs(("a", 7, "erc", 1, 1, 0), ("b", 7, "erc", 1, 1, 0)))
    assert coarse.code == "coarse_places"
    assert "only country-level places (2 documents)" in coarse.text and "regions.level: 0" in coarse.text
    outside = reason(docs(("a", 7, "fp7", 1, 1, 1)), cells(("FR10", 7, 1, False, 0.5)), allowed={"ITC4"})
    assert outside.code == "outside_region_set" and "'alpine_space'" in outside.text


def test_a_topic_placed_through_one_document_is_thin() -> None:
    documents = docs(("a", 7, "fp7", 3, 3, 3), *((f"h{i}", 7, "h2020", 0, 0, 0) for i in range(61)))
    out = topic_reasons(emerging=[7], with_candidates=[], documents=documents, capacity=cells(("FR10", 7, 1, True, 1)),
                        below_minimum=held(), thresholds=replace(T, min_topic_documents=5))
    assert out[7].code == "thin_topic"
    assert out[7].text.startswith("only 1 document of its 62 has an organisation placed at NUTS-2 (minimum 5)")


def test_held_back_evidence_names_the_closest_region() -> None:
    r = reason(docs(("a", 7, "fp7", 1, 1, 1)), cells(("FR10", 7, 1, False, 0.5), ("ITC4", 7, 2, False, 0.4)),
               held(("FR10", 7, 1, 1), ("ITC4", 7, 2, 1)))
    assert r.code == "below_evidence_minimum"
    assert "(3 documents from 2 organisations)" in r.text and "closest: ITC4 with 2 documents from 1 organisation" \
        in r.text


def test_no_capacity_gives_the_highest_density() -> None:
    r = reason(docs(("a", 7, "fp7", 1, 1, 1)), cells(("FR10", 7, 1, False, 0.05), ("ITC4", 7, 1, False, 0.12)))
    assert r.code == "no_capacity" and "highest: 0.12 in ITC4" in r.text


def test_capacity_without_mass_is_too_few_actors() -> None:
    assert reason(docs(("a", 7, "fp7", 1, 1, 1)), cells(("FR10", 7, 2, True, 0.5))).code == "too_few_actors"


def test_topics_with_candidates_or_not_emerging_get_no_reason() -> None:
    documents = docs(("a", 1, "fp7", 0, 0, 0), ("b", 2, "fp7", 0, 0, 0), ("c", 3, "fp7", 0, 0, 0))
    out = topic_reasons(emerging=[1, 2], with_candidates=[2], documents=documents, capacity=cells(),
                        below_minimum=held(), thresholds=T)
    assert set(out) == {1}


@pytest.mark.parametrize(("scored", "emerging", "expected"), [
    (0, 0, "no topic was scored"), (12, 0, "none of the 12 topics passes the emergence test")])
def test_run_reason_without_emerging_topics(scored: int, emerging: int, expected: str) -> None:
    assert expected in (run_reason(topics_scored=scored, emerging=emerging, candidates=0, reasons={}) or "")


def test_run_reason_counts_topics_per_reason() -> None:
    reasons = {1: Reason("coarse_places", "x"), 2: Reason("coarse_places", "y"), 3: Reason("unplaced", "z")}
    text = run_reason(topics_scored=10, emerging=3, candidates=0, reasons=reasons)
    assert text == ("none of the 3 emerging topics has a candidate (1 topic: no organisation could be placed in a "
                    "region; 2 topics: only country-level places)")
    assert run_reason(topics_scored=10, emerging=3, candidates=4, reasons=reasons) is None
    assert set(REASONS) >= {r.code for r in reasons.values()}
