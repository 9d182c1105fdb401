"""Actor steps: place every actor in a NUTS region, and group actor records into organisations.

Both read actors from the store and write derived tables; the pure work is in
:mod:`s3text.regions` and :mod:`s3text.organisations`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from s3text.config import PipelineConfig
from s3text.gazetteer import Gazetteer
from s3text.nuts_versions import NutsConverter
from s3text.organisations import OrganisationResolver, load_overrides
from s3text.records import Actor
from s3text.regions import NutsTable, RegionResolver, resolution_report
from s3text.register import OrganisationRegister
from s3text.store import Store
from s3text.units import RegionUnits, source_coverage

# Actors placed this coarsely or not at all are placed again each run, as a register or gazetteer
# added or mended since may find their city; so are those the register placed, so that a changed or
# removed register (regions.organisation_register) takes effect.
_RETRY = ("unresolved", "country", "register")


def regions(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Give each actor not yet placed (or placed at country level, by the register, or not at all) a
    NUTS region: source code brought to ``regions.nuts_version``, gazetteer, organisation register, or
    country. Report how finely all actors are placed, and per source how many documents have an actor
    at ``regions.level`` and why the others have none."""
    rc = cfg.regions
    with Store(cfg.store) as store:
        todo = store.query(
            "SELECT a.*, r.actor_id IS NULL AS new FROM actors a LEFT JOIN actor_regions r USING (actor_id) "
            "WHERE r.actor_id IS NULL OR r.method IN (SELECT unnest(?))", [list(_RETRY)]
        )
        if not todo.empty:
            todo = todo.astype(object).where(todo.notna(), None)  # pandas NaN is not a missing city
            converter = NutsConverter.load(rc.nuts_correspondence) if rc.nuts_correspondence is not None else None
            register = (OrganisationRegister.load(rc.organisation_register)
                        if rc.organisation_register is not None else None)
            resolver = RegionResolver(NutsTable.load(rc.nuts_table, rc.nuts_version), Gazetteer.load(rc.gazetteer),
                                      converter, rc.nuts_version, register)
            actors = [
                Actor(name=r.name, country=r.country, city=r.city, postcode=r.postcode, nuts_code=r.source_nuts,
                      nuts_version=r.source_nuts_version)
                for r in todo.itertuples(index=False)
            ]
            matches = resolver.resolve_many(actors)
            frame = pd.DataFrame({
                "actor_id": todo["actor_id"],
                "nuts_code": [m.nuts_code for m in matches],
                "nuts_version": [m.nuts_version for m in matches],
                "level": [m.level for m in matches],
                "method": [m.method for m in matches],
                "label": [m.label for m in matches],
                "source_code": [m.source_code for m in matches],
                "source_version": [m.source_version for m in matches],
                "note": [m.note for m in matches],
                "reason": [m.reason for m in matches],
            })
            store.put_frame("actor_regions", frame, update_on=["actor_id"])
        placed = store.query(
            "SELECT level, method, nuts_code, nuts_version, source_code, source_version FROM actor_regions")
        links = store.query(
            "SELECT d.source, d.doc_id, l.actor_id, r.nuts_code, r.level, r.reason FROM documents d "
            "LEFT JOIN document_actors l USING (doc_id) LEFT JOIN actor_regions r USING (actor_id)")
    report = resolution_report(placed.astype(object).where(placed.notna(), None).itertuples(index=False))
    units = RegionUnits(level=rc.level, groupings=rc.groupings)
    by_source = source_coverage(links.astype(object).where(links.notna(), None), units)
    return {"actors_placed_new": int(todo["new"].sum()) if len(todo) else 0,
            "actors_placed_again": int((~todo["new"].astype(bool)).sum()) if len(todo) else 0,
            "actors_by_method": report["by_method"],
            "actors_unresolved": report["by_level"].get("unresolved", 0), "resolution": report,
            "level": rc.level, "by_source": by_source,
            # the per-source lines in plain words (run.json, the CLI summary)
            "sources": {name: s["summary"] for name, s in by_source.items()}}


def organisations(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Group all actor records into organisations: analysts' merge overrides, then identifiers (PIC,
    VAT, assignee id), then normalised names; a split override vetoes any link between its pair.

    Recomputed from every actor each run, so a removed override or a corrected rule takes effect
    everywhere; ``actor_orgs`` keeps the rule and evidence of each placement for inspection.
    """
    o = cfg.organisations
    overrides = load_overrides(o.overrides) if o.overrides is not None else []
    with Store(cfg.store) as store:
        actors = store.query("SELECT actor_id, name, country, id_scheme, native_id, vat FROM actors ORDER BY actor_id")
        resolver = OrganisationResolver(names_across_countries=o.names_across_countries, overrides=overrides)
        resolver.fit(actors)
        store.replace_tables({"organisations": resolver.organisations_, "actor_orgs": resolver.assignments_})
    by_rule = resolver.assignments_["rule"].value_counts().sort_index()
    return {"actors": len(actors), "organisations": len(resolver.organisations_),
            "by_rule": {str(k): int(v) for k, v in by_rule.items()},
            # links an override or an ambiguity refused: the analyst's cue to look (s3text orgs)
            "refused_links": len(resolver.refused_)}
