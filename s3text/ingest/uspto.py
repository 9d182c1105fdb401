"""USPTO full-text grant XML (Red Book, ``us-patent-grant`` DTD v4.x): the weekly ``ipgYYMMDD`` files.

A weekly file is thousands of XML documents written one after another, each starting with its own
``<?xml ...?>`` line and ``<!DOCTYPE us-patent-grant SYSTEM "us-patent-grant-v45-2014-04-03.dtd" [ ]>``,
so it is not one XML document. It is split on the declaration lines while reading line by line (plain,
.gz, or a one-file .zip), and each document is parsed on its own: memory is one document, not the file.

Parsing is defused (defusedxml over expat): the DTD is never loaded, and any entity declaration in a
document (a "billion laughs" bomb, an external entity such as ``SYSTEM "file:///etc/passwd"``) makes
that document a quarantined record, never an expansion or a file read. The grants themselves need no
entities: the USPTO writes characters as numeric references (``&#x201c;``).

Element paths (us-patent-grant v4.5, as in the weekly files): publication-reference/document-id
(country, doc-number, kind, date YYYYMMDD), application-reference (appl-type, document-id/date),
invention-title, abstract, classifications-cpc/{main-cpc,further-cpc}/classification-cpc (section,
class, subclass, main-group, subgroup), classifications-ipcr/classification-ipcr (the same parts; the
only classes before CPC began in 2013), assignees/assignee/addressbook (orgname or first-name and
last-name; address/city, country), us-parties/inventors/inventor/addressbook (older versions:
parties/applicants/applicant with app-type="applicant-inventor").
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from s3text.ingest._common import MAX_RAW, Core, Problem, Quarantine, check_core, norm_space
from s3text.ingest.patents import InventorPolicy, cpc_code, patent_document, with_inventors
from s3text.ingest.textio import open_binary
from s3text.records import Actor, Document, FileOpened, IngestItem

_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_BOM = b"\xef\xbb\xbf"


def iter_uspto_xml(
    path: Path | str, *, source: str, require_abstract: bool = True, inventors: InventorPolicy = "fallback"
) -> Iterator[IngestItem]:
    """Documents from a file of concatenated us-patent-grant XML documents.

    A document that cannot be used is quarantined with the line where its ``<?xml`` declaration
    stands: not decodable in its declared encoding, not well-formed (truncated), declaring
    entities, not a grant, or lacking a doc-number, a valid date or (when required) an abstract.
    Actors: assignees, and inventors as the ``inventors`` policy says (see ``patents.InventorPolicy``).
    """
    path = Path(path)
    quarantine = Quarantine(source, str(path))
    seen: set[str] = set()
    opened = False
    for start, chunk in _documents(path):
        if not opened:
            yield FileOpened(str(path), _encoding(chunk))
            opened = True
        if not chunk.lstrip(_BOM).lstrip().startswith(b"<?xml"):
            if chunk.strip():
                problem = ("*", "not_a_document", "text before the first <?xml declaration")
                yield quarantine(start, problem, _raw(chunk))
            continue
        result = _parse(chunk, start, path, source, seen, require_abstract, inventors)
        yield result if isinstance(result, Document) else quarantine(start, result, _raw(chunk))
    if not opened:
        yield FileOpened(str(path), "utf-8")  # an empty file was still opened, and is summarised


def _raw(chunk: bytes) -> str:
    """The start of a document as text for its quarantine record (which caps it at MAX_RAW characters)."""
    return chunk[: 4 * MAX_RAW].decode("utf-8", "replace")


def _documents(path: Path) -> Iterator[tuple[int, bytes]]:
    """(first line, bytes) of each document: a new one starts at every line that opens with ``<?xml``."""
    lines: list[bytes] = []
    start = 1
    with open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.lstrip(_BOM).startswith(b"<?xml") and lines:
                yield start, b"".join(lines)
                lines, start = [], number
            lines.append(line)
    if lines:
        yield start, b"".join(lines)


def _encoding(chunk: bytes) -> str:
    match = _DECLARATION.match(chunk.lstrip(_BOM))
    name = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _parse(
    chunk: bytes, start: int, path: Path, source: str, seen: set[str], require_abstract: bool,
    inventors: InventorPolicy,
) -> Document | Problem:
    encoding = _encoding(chunk)
    try:
        text = chunk.decode(encoding)  # strict: a wrong byte is reported, never turned into mojibake
    except LookupError:
        return ("*", "bad_encoding", f"unknown encoding {encoding!r} in the XML declaration")
    except UnicodeDecodeError as exc:
        line = start + chunk.count(b"\n", 0, exc.start)
        return ("*", "bad_encoding", f"not {encoding} at line {line} ({exc.reason})")
    try:
        root = fromstring(text, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        return ("*", "entity_declaration", f"declares entity {exc.name!r}; entities are not expanded")
    except ExternalReferenceForbidden as exc:
        return ("*", "external_reference", f"refers to external {exc.sysid!r}; not fetched")
    except DefusedXmlException as exc:
        return ("*", "unsafe_xml", str(exc))
    except ParseError as exc:
        line = start + exc.position[0] - 1
        return ("*", "xml_error", f"not well-formed XML at line {line}: {str(exc).split(':')[0]}")
    if root.tag != "us-patent-grant":
        return ("*", "not_a_grant", f"root element is <{root.tag}>, not <us-patent-grant>")
    biblio = root.find("us-bibliographic-data-grant")
    if biblio is None:
        return ("us-bibliographic-data-grant", "missing_field", "no bibliographic data")
    pub = biblio.find("publication-reference/document-id")
    raw_number = _text(pub, "doc-number")
    raw_date = _text(pub, "date")
    values = {
        # doc-number is zero-padded (08123456); PatentsView writes 8123456, and so does this reader.
        "doc-number": raw_number.lstrip("0") if raw_number.isdigit() else raw_number,
        "date": f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:]}" if re.fullmatch(r"\d{8}", raw_date) else raw_date,
        "invention-title": _text(biblio, "invention-title"),
        "abstract": _text(root, "abstract"),
    }
    checked = check_core(values, id_col="doc-number", title_col="invention-title", text_col="abstract",
                         date_cols=("date",), seen=seen, require_abstract=require_abstract)
    if not isinstance(checked, Core):
        return checked
    application = biblio.find("application-reference")
    extra = {"doc_number": raw_number}
    for key, value in (("kind", _text(pub, "kind")),
                       ("patent_type", application.get("appl-type", "") if application is not None else ""),
                       ("application_date", _text(application, "document-id/date"))):
        if value:
            extra[key] = value
    return patent_document(
        checked, source=source, file=str(path), row=start, office=_text(pub, "country") or "US",
        date_field="publication_date", extra=extra, classes=_classes(biblio),
        actors=with_inventors(_parties(biblio, "assignee"), _parties(biblio, "inventor"), inventors),
    )


def _text(node: Element | None, child: str) -> str:
    """All text under ``child`` of ``node``, whitespace-normalised ('' when absent); inline markup adds no spaces."""
    found = node.find(child) if node is not None else None
    return norm_space("".join(found.itertext())) if found is not None else ""


def _classes(biblio: Element) -> tuple[tuple[str, str], ...]:
    found: dict[tuple[str, str], None] = {}
    for scheme, xpath in (("cpc", "classifications-cpc//classification-cpc"),
                          ("ipc", "classifications-ipcr/classification-ipcr")):
        for node in biblio.findall(xpath):
            parts = [_text(node, tag) for tag in ("section", "class", "subclass", "main-group")]
            code = cpc_code(f"{''.join(parts)}/{_text(node, 'subgroup')}")
            if code is not None:  # an incomplete symbol names no group: skipped, the document still loads
                found[(scheme, code)] = None
    return tuple(found)


def _parties(biblio: Element, role: str) -> list[Actor]:
    if role == "assignee":
        nodes = biblio.findall(".//assignees/assignee")
    else:
        nodes = biblio.findall(".//inventors/inventor") + biblio.findall(
            ".//applicants/applicant[@app-type='applicant-inventor']")
    actors = []
    for node in nodes:
        book = node.find("addressbook")
        book = book if book is not None else node  # older grants put the names directly under <assignee>
        name = _text(book, "orgname") or " ".join(p for p in (_text(book, "first-name"), _text(book, "last-name")) if p)
        if name:
            actors.append(Actor(name, country=_text(book, "address/country") or None,
                                city=_text(book, "address/city") or None, kind=role, role=role))
    return actors
