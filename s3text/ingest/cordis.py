"""CORDIS readers: flattened project CSV (+ participants), the INRAE JSON, the official export.

All three share one rule set: a project needs an id, a valid startDate and some text; participants
join on the project id, and every participant that cannot be joined is quarantined, not dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from s3text.errors import InputError
from s3text.ingest._common import (
    Core,
    CsvTable,
    Quarantine,
    check_core,
    extras,
    norm_space,
    opt,
    read_csv,
    read_text,
    structural_problem,
)
from s3text.records import Actor, Document, IngestResult

log = logging.getLogger(__name__)

_PROJECT_REQUIRED = ("id", "title", "objective", "startDate")
# fmt: off
_EXTRA_KEYS = ("acronym", "programme", "frameworkProgramme", "fundingScheme", "legalBasis", "topics",
               "status", "endDate", "keywords")
# fmt: on


@dataclass(frozen=True, slots=True)
class _OrgColumns:
    """Where a participant table keeps each Actor field; the flattened and official layouts differ."""

    project: str = "projectID"
    native_id: str = "pic"
    postcode: str | None = None
    nuts_code: str | None = None


_FLAT_ORGS = _OrgColumns()
_OFFICIAL_ORGS = _OrgColumns(native_id="organisationID", postcode="postCode", nuts_code="nutsCode")


def _actor(values: Mapping[str, str], cols: _OrgColumns) -> Actor:
    return Actor(
        name=norm_space(values["name"]),
        country=opt(values.get("country")),
        city=opt(values.get("city")),
        postcode=opt(values.get(cols.postcode)) if cols.postcode else None,
        nuts_code=opt(values.get(cols.nuts_code)) if cols.nuts_code else None,
        kind=opt(values.get("activityType")),
        role=opt(values.get("role")) or "participant",
        native_id=opt(values.get(cols.native_id)),
    )


def _document(
    core: Core, values: Mapping[str, str], *, source: str, file: str, row: int, extra: dict[str, str]
) -> Document:
    return Document(
        source=source,
        source_kind="project",
        native_id=core.native_id,
        title=core.title,
        text=core.text,
        date=core.date,
        provenance_file=file,
        provenance_row=row,
        url=opt(values.get("cordisUrl")),
        extra=extras(values, _EXTRA_KEYS) | extra,
    )


def _read_projects(
    table: CsvTable, path: Path, *, source: str, require_abstract: bool, result: IngestResult
) -> tuple[dict[str, Document], set[str]]:
    """Projects by id, plus the ids of projects that were quarantined (their participants follow)."""
    q = Quarantine(source, str(path))
    docs: dict[str, Document] = {}
    rejected: set[str] = set()
    seen: set[str] = set()
    for rec in table.records:
        values = rec.get(table.header)
        checked = structural_problem(rec, table.header) or check_core(
            values,
            id_col="id",
            title_col="title",
            text_col="objective",
            date_cols=("startDate",),
            seen=seen,
            require_abstract=require_abstract,
        )
        if isinstance(checked, Core):
            # The unnamed first column of the H2020 energy file is the row index in CORDIS's project.csv.
            extra = {"source_index": values[""].strip()} if values.get("", "").strip() else {}
            docs[checked.native_id] = _document(
                checked, values, source=source, file=str(path), row=rec.line, extra=extra
            )
            continue
        col, code, message = checked
        q.add(rec.line, col, code, message, rec.raw)
        if code != "duplicate_id" and values.get("id", "").strip():
            rejected.add(values["id"].strip())
    result.quarantine.extend(q.records)
    return docs, rejected - set(docs)


def _attach_participants(
    table: CsvTable,
    path: Path,
    cols: _OrgColumns,
    docs: dict[str, Document],
    rejected: set[str],
    *,
    source: str,
    result: IngestResult,
) -> None:
    q = Quarantine(source, str(path))
    actors: dict[str, list[Actor]] = {pid: [] for pid in docs}
    seen: set[tuple[str, str]] = set()
    for rec in table.records:
        values = rec.get(table.header)
        pid = values.get(cols.project, "").strip()
        problem = structural_problem(rec, table.header)
        if problem is None:
            if not pid:
                problem = cols.project, "missing_id", f"{cols.project} is empty"
            elif pid in rejected:
                problem = cols.project, "project_quarantined", f"project {pid} was quarantined"
            elif pid not in docs:
                problem = cols.project, "unknown_project", f"no project with id {pid} in the project file"
            elif not norm_space(values.get("name", "")):
                problem = "name", "missing_name", "participant has no name"
        if problem is not None:
            q.add(rec.line, *problem, rec.raw)
            continue
        actor = _actor(values, cols)
        # One organisation listed twice in a project (e.g. as coordinator and as participant) would
        # count twice towards a region's critical mass; the first listing is kept.
        key = (pid, actor.actor_id)
        if key in seen:
            q.add(
                rec.line,
                cols.native_id,
                "duplicate_participant",
                f"{actor.name!r} already listed for project {pid}",
                rec.raw,
            )
            continue
        seen.add(key)
        actors[pid].append(actor)
    for pid, found in actors.items():
        if found:
            docs[pid] = replace(docs[pid], actors=tuple(found))
    result.quarantine.extend(q.records)


def _read_tables(
    project_csv: Path,
    org_csv: Path | None,
    cols: _OrgColumns,
    *,
    delimiter: str,
    org_required: Sequence[str],
    source: str,
    require_abstract: bool,
) -> IngestResult:
    result = IngestResult()
    table = read_csv(project_csv, required=_PROJECT_REQUIRED, delimiter=delimiter)
    docs, rejected = _read_projects(
        table, project_csv, source=source, require_abstract=require_abstract, result=result
    )
    if org_csv is not None:
        orgs = read_csv(org_csv, required=org_required, delimiter=delimiter)
        _attach_participants(orgs, org_csv, cols, docs, rejected, source=source, result=result)
    result.documents.extend(docs.values())
    log.info("%s: %d documents, %d quarantined", project_csv, len(result.documents), len(result.quarantine))
    return result


def read_cordis_csv(
    path: Path | str, participants: Path | str | None = None, *, source: str, require_abstract: bool = True
) -> IngestResult:
    """Flattened CORDIS project CSV (comma-separated), optionally joined with a participants CSV.

    Reads both the INRAE FP7 flattening and the H2020 energy file (unnamed index column, no
    participants). ``Document.provenance_row`` is the physical line where the record starts.
    """
    return _read_tables(
        Path(path),
        Path(participants) if participants is not None else None,
        _FLAT_ORGS,
        delimiter=",",
        org_required=("projectID", "name"),
        source=source,
        require_abstract=require_abstract,
    )


def read_cordis_official(
    project_csv: Path | str, organization_csv: Path | str, *, source: str, require_abstract: bool = True
) -> IngestResult:
    """The official CORDIS export: ``;``-separated project.csv + organization.csv, fields quoted ``"``.

    Only the columns a document needs are required, because the export's layout differs between
    framework programmes and releases (HORIZON adds ``nature``, older releases lack ``contentUpdateDate``).
    """
    return _read_tables(
        Path(project_csv),
        Path(organization_csv),
        _OFFICIAL_ORGS,
        delimiter=";",
        org_required=("projectID", "organisationID", "name"),
        source=source,
        require_abstract=require_abstract,
    )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_as_text(v) for v in value)
    return str(value)


def read_cordis_json(path: Path | str, *, source: str, require_abstract: bool = True) -> IngestResult:
    """The INRAE CORDIS JSON: ``{"projects": [{..., "partners": [...]}, ...]}``.

    ``provenance_row`` and quarantine ``row`` are the 1-based index of the project in ``projects``;
    a partner problem names the field as ``partners[i].name`` with ``i`` 0-based, as in a JSON path.
    """
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), row=exc.lineno) from exc
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, list):
        raise InputError("top level has no 'projects' list", file=str(path), field="projects")
    result, q = IngestResult(), Quarantine(source, str(path))
    seen: set[str] = set()
    for index, project in enumerate(projects, start=1):
        raw = json.dumps(project, ensure_ascii=False)
        if not isinstance(project, dict):
            q.add(index, "*", "bad_record", "project is not a JSON object", raw)
            continue
        values = {k: _as_text(v) for k, v in project.items() if k != "partners"}
        checked = check_core(
            values,
            id_col="id",
            title_col="title",
            text_col="objective",
            date_cols=("startDate",),
            seen=seen,
            require_abstract=require_abstract,
        )
        if not isinstance(checked, Core):
            q.add(index, *checked, raw)
            continue
        actors: list[Actor] = []
        keys: set[str] = set()
        for i, partner in enumerate(project.get("partners") or []):  # 0-based, as in a JSON path
            p = {k: _as_text(v) for k, v in partner.items()} if isinstance(partner, dict) else {}
            actor = _actor(p, _FLAT_ORGS) if norm_space(p.get("name", "")) else None
            if actor is None or actor.actor_id in keys:
                problem = (
                    (f"partners[{i}].name", "missing_name", "partner has no name")
                    if actor is None
                    else (f"partners[{i}].pic", "duplicate_participant", f"{actor.name!r} already listed")
                )
                q.add(index, *problem, json.dumps(partner, ensure_ascii=False))
                continue
            keys.add(actor.actor_id)
            actors.append(actor)
        doc = _document(checked, values, source=source, file=str(path), row=index, extra={})
        result.documents.append(replace(doc, actors=tuple(actors)))
    result.quarantine.extend(q.records)
    return result
