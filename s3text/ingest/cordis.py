"""CORDIS readers: flattened project CSV (+ participants), the INRAE JSON, the official export.

All share one rule set: a project needs an id, a valid startDate and some text; participants join on
the project id, and every participant that cannot be joined is quarantined, not dropped. The ``iter_``
functions stream (see :mod:`s3text.ingest.cordis_official` for how the join stays bounded in memory);
the ``read_`` functions collect a stream, for tests and small files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from s3text.errors import InputError
from s3text.ingest._common import Core, Quarantine, norm_space
from s3text.ingest.cordis_official import (
    FLAT,
    build_actor,
    build_document,
    check_project,
    iter_cordis_official,
    iter_tables,
)
from s3text.ingest.tabular import cell_text
from s3text.ingest.textio import Utf8Bytes, open_text
from s3text.records import Actor, FileOpened, IngestItem, IngestResult, QuarantineRecord

__all__ = [
    "iter_cordis_csv",
    "iter_cordis_json",
    "iter_cordis_official",
    "read_cordis_csv",
    "read_cordis_json",
    "read_cordis_official",
]


def iter_cordis_csv(
    path: Path | str,
    participants: Path | str | None = None,
    *,
    source: str,
    require_abstract: bool = True,
    encoding: str = "auto",
) -> Iterator[IngestItem]:
    """Flattened CORDIS project CSV (comma-separated), optionally joined with a participants CSV.

    Reads both the INRAE FP7 flattening and the H2020 energy file (unnamed index column, no
    participants). ``Document.provenance_row`` is the physical line where the record starts.
    """
    yield from iter_tables(
        Path(path),
        Path(participants) if participants is not None else None,
        None,
        layout=FLAT,
        source=source,
        require_abstract=require_abstract,
        encoding=encoding,
    )


def read_cordis_csv(
    path: Path | str,
    participants: Path | str | None = None,
    *,
    source: str,
    require_abstract: bool = True,
    encoding: str = "auto",
) -> IngestResult:
    """:func:`iter_cordis_csv`, collected."""
    return IngestResult.collect(
        iter_cordis_csv(path, participants, source=source, require_abstract=require_abstract, encoding=encoding)
    )


def read_cordis_official(
    project_csv: Path | str,
    organization_csv: Path | str | None = None,
    *,
    source: str,
    require_abstract: bool = True,
    euroscivoc: Path | str | None = None,
    encoding: str = "auto",
    nuts_version: str | None = None,
) -> IngestResult:
    """:func:`iter_cordis_official`, collected (any of its formats, despite the parameter names)."""
    return IngestResult.collect(
        iter_cordis_official(
            project_csv,
            organization_csv,
            euroscivoc=euroscivoc,
            source=source,
            require_abstract=require_abstract,
            encoding=encoding,
            nuts_version=nuts_version,
        )
    )


def iter_cordis_json(
    path: Path | str, *, source: str, require_abstract: bool = True, encoding: str = "auto"
) -> Iterator[IngestItem]:
    """The INRAE CORDIS JSON: ``{"projects": [{..., "partners": [...], "euroSciVoc": [...]}, ...]}``.

    Streamed with ijson. ``provenance_row`` and quarantine ``row`` are the 1-based index of the project in
    ``projects``; a partner problem names the field as ``partners[i].name`` with ``i`` 0-based, as in a
    JSON path.
    """
    import ijson

    path = Path(path)
    file = str(path)
    with open_text(path, encoding) as (handle, used):
        yield FileOpened(file, used)
        index = 0
        seen: set[str] = set()
        try:
            for index, project in enumerate(ijson.items(Utf8Bytes(handle), "projects.item"), start=1):
                yield from _inrae_project(index, project, source=source, file=file,
                                          require_abstract=require_abstract, seen=seen)
        except ijson.JSONError as exc:
            raise InputError(f"invalid or truncated JSON after project {index}: {exc}", file=file,
                             row=index + 1) from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as {used}: {exc.reason}", file=file, row=index + 1) from exc
    if index == 0:
        _check_projects_list(path, encoding)


def _check_projects_list(path: Path, encoding: str) -> None:
    """No project came out: tell an empty ``projects`` list from a file that has none."""
    import ijson

    with open_text(path, encoding) as (handle, _used):
        try:
            for prefix, event, _value in ijson.parse(Utf8Bytes(handle)):
                if prefix == "projects" and event == "start_array":
                    return
        except ijson.JSONError as exc:
            raise InputError(f"not valid JSON: {exc}", file=str(path)) from exc
    raise InputError("top level has no 'projects' list", file=str(path), field="projects")


def _inrae_project(
    index: int, project: Any, *, source: str, file: str, require_abstract: bool, seen: set[str]
) -> Iterator[IngestItem]:
    quarantine = Quarantine(source, file)
    if not isinstance(project, dict):
        yield quarantine(index, ("*", "bad_record", "project is not a JSON object"), _json(project))
        return
    values = {k: cell_text(v) for k, v in project.items() if k not in ("partners", "euroSciVoc")}
    checked = check_project(values, seen, require_abstract)
    if not isinstance(checked, Core):
        yield quarantine(index, checked, _json(project))
        return
    actors: list[Actor] = []
    bad: list[QuarantineRecord] = []  # after the document, as the partners come after the project
    keys: set[str] = set()
    strings: dict[str, str] = {}
    for i, partner in enumerate(project.get("partners") or []):  # 0-based, as in a JSON path
        p = {k: cell_text(v) for k, v in partner.items()} if isinstance(partner, dict) else {}
        built = build_actor(p, "pic", None, strings)
        if isinstance(built, Actor) and built.actor_id in keys:
            built = ("pic", "duplicate_participant", f"{built.name!r} already listed")
        if not isinstance(built, Actor):
            column, code, message = built
            bad.append(quarantine(index, (f"partners[{i}].{column}", code, message), _json(partner)))
            continue
        keys.add(built.actor_id)
        actors.append(built)
    classes = [("euroscivoc", path) for c in project.get("euroSciVoc") or []
               if isinstance(c, dict) and (path := norm_space(str(c.get("path") or "")))]
    yield build_document(checked, values, source=source, file=file, row=index, layout=FLAT, actors=actors,
                         classes=list(dict.fromkeys(classes)))
    yield from bad


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def read_cordis_json(
    path: Path | str, *, source: str, require_abstract: bool = True, encoding: str = "auto"
) -> IngestResult:
    """:func:`iter_cordis_json`, collected."""
    return IngestResult.collect(
        iter_cordis_json(path, source=source, require_abstract=require_abstract, encoding=encoding)
    )
