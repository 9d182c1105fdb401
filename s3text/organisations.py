"""Organisation resolution: actor records become organisations with aliases.

An actor is one source record (a CORDIS PIC, a patent assignee, a name in a country); an organisation
is every actor that denotes the same body. Links are unions in one union-find, made in this order,
each actor keeping the first link that placed it (``assignments_``; all links are in ``links_``):

1. ``override``: the analysts' ``merge`` lines.
2. ``identifier``: the same (id_scheme, native_id), evidence e.g. ``pic=999984059``.
3. ``vat``: the same VAT number, spaces and punctuation removed, evidence ``vat=DE129515865``.
4. ``name``: the same :func:`normalise_name` key in the same country (in any country with
   ``names_across_countries``); a record with no country (a patent assignee) takes the country of
   its namesakes when they all have one. This crosses identifiers on purpose: CORDIS holds duplicate
   PICs of one body under one name (BTU Cottbus-Senftenberg, 999888223 and 937759529, in FP7).
5. ``name_prefix``: below. Actors linked by nothing are ``singleton``.

A union that would put the two actors of a ``split`` line into one organisation is refused and listed
in ``refused_``, so a split beats an identifier; deleting the line and rerunning restores the links.

``name_prefix`` takes long-form tails ("FRAUNHOFER GESELLSCHAFT" vs "Fraunhofer-Gesellschaft zur
Förderung der angewandten Forschung e.V.") without stripping such tails generically, because
over-merging is worse than under-merging. Key A (two tokens or more) must be a strict token prefix of
B, and B's extra tokens must open with a connector ("zur", "for", "pour", "di"...), so "Università
degli Studi di Milano" never absorbs "... di Milano-Bicocca" (both in the FP7 data). A must prefix one
organisation only ("Helmholtz-Zentrum" prefixes the Leipzig and the Kiel centres: refused), in a
compatible country as for ``name``, and the two may not hold different identifiers of one scheme. In
the FP7 INRAE participants each PIC has one name, and PICs with different names were different bodies
wherever we looked: "INSTITUT NATIONAL DE LA RECHERCHE AGRONOMIQUE" (997320148) is INRA Maroc, the
French INRA appears only as INRAE (999993274), INRAE TRANSFERT SAS (999793260) is its subsidiary. So
the rule joins a record without a PIC (a patent assignee, a website) to one with it, never two PICs.
Renamings ("Commissariat à l'énergie atomique" → "... et aux énergies alternatives"), languages
("UNIVERSITAT ZURICH" / "University of Zurich", two PICs) and ae/oe/ue transliterations ("Foerderung")
are left to ``merge`` overrides: folding "ue" to "u" would also join Bauer and Baur.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import pandas as pd

from s3text.errors import ConfigError, InputError
from s3text.records import stable_id
from s3text.textfold import strip_accents

# Trailing tokens only: inside a name "AG" or "SA" may be a word or an acronym.
LEGAL_FORMS = frozenset({
    "ev", "eg", "gmbh", "ggmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "gesmbh", "se",  # de, at, ch
    "spa", "srl", "sas", "snc", "scarl", "scrl", "sarl", "sa", "sca", "eurl", "sasu", "gie", "epic",  # it, fr
    "asbl", "aisbl", "vzw", "bv", "nv", "doo", "dd", "dno", "kd", "sl", "slu",  # be, nl, si, hr, es
    "ltd", "limited", "inc", "incorporated", "llc", "llp", "lp", "plc", "corp", "corporation", "co", "company",  # en
    "oy", "oyj", "ab", "publ", "as", "aps",  # nordic
})
# Words that open a long-form tail ("zur Förderung ...") and that acronyms skip ("CNRS").
CONNECTORS = frozenset({
    "zur", "zum", "fur", "der", "des", "for", "of", "the", "pour", "de", "du", "la", "le",
    "della", "delle", "dello", "degli", "di", "per", "del", "za", "od",
})
_DOTTED = re.compile(r"\b(?:\w\.)+\w?\.?|\b[a-z]/[a-z]\b")  # e.V., S.p.A., d.o.o., C.I.R.A.D., a/s
_TRAILING_PAREN = re.compile(r"\(([^()]*)\)\s*$")
_DANGLING = frozenset({"and", "und", "et"})  # left by "& Co" once the legal form is gone
# One spelling per legal form, so "Corp." and "Corporation" compare equal in legal_form.
_LEGAL_SPELLINGS = {"corp": "corporation", "incorporated": "inc", "limited": "ltd", "company": "co"}
OverrideAction = Literal["merge", "split"]


@dataclass(frozen=True)
class Override:
    action: OverrideAction
    actor_id: str
    other_actor_id: str
    note: str = ""


def load_overrides(path: Path) -> list[Override]:
    """Read the analysts' corrections; rows are numbered as lines, the header being row 1."""

    def bad(message: str, row: int, field: str) -> InputError:
        return InputError(message, file=str(path), row=row, field=field)

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if missing := {"action", "actor_id", "other_actor_id"} - set(reader.fieldnames or ()):
                raise bad(f"missing columns {sorted(missing)}", 1, min(missing))
            out: list[Override] = []
            seen: dict[frozenset[str], Override] = {}
            for row_no, row in enumerate(reader, start=2):
                action = (row.get("action") or "").strip().lower()
                if action not in ("merge", "split"):
                    raise bad(f"unknown action {action!r}, expected merge or split", row_no, "action")
                ids = [(row.get(f) or "").strip() for f in ("actor_id", "other_actor_id")]
                for name, value in zip(("actor_id", "other_actor_id"), ids, strict=True):
                    if not value:
                        raise bad("empty actor id", row_no, name)
                if ids[0] == ids[1]:
                    raise bad("an actor paired with itself", row_no, "other_actor_id")
                override = Override(cast(OverrideAction, action), ids[0], ids[1], (row.get("note") or "").strip())
                if seen.setdefault(frozenset(ids), override).action != action:
                    raise bad("the same pair is both merged and split", row_no, "action")
                out.append(override)
            return out
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read overrides: {exc}", file=str(path)) from exc


def _fold(text: str) -> str:
    return strip_accents(unicodedata.normalize("NFKC", text).casefold())  # casefold: ß -> ss


def _split_acronym(name: str) -> tuple[str, str | None]:
    """Peel a trailing "(INRA)": one short token in brackets; "(Inc.)" or "(publ)" is peeled but is no acronym."""
    match = _TRAILING_PAREN.search(name)
    inner = match.group(1).strip() if match else ""
    if not match or not inner or " " in inner or len(inner) > 12 or not name[: match.start()].strip():
        return name, None
    return name[: match.start()].rstrip(" -,"), inner if _tokens(inner) else None


def _tokens(name: str, keep_one: bool = False) -> list[str]:
    tokens, _ = _strip_legal_form(name, keep_one)
    # "CENTRE NATIONAL DE LA RECHERCHE SCIENTIFIQUE CNRS": a bare trailing acronym of the words before
    if len(tokens) > 2 and tokens[-1] == "".join(t[0] for t in tokens[:-1] if t not in CONNECTORS):
        tokens.pop()
    return tokens


def _strip_legal_form(name: str, keep_one: bool) -> tuple[list[str], list[str]]:
    """(tokens, trailing legal-form tokens removed from them, in name order)."""
    text = re.sub(r"\b(\w)\.\s(?=\w\.)", r"\1.", _fold(name))  # "d. d." is "d.d."
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", "").replace("/", ""), text)
    tokens = re.sub(r"[\W_]+", " ", text).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    dropped: list[str] = []
    while len(tokens) > int(keep_one) and (tokens[-1] in LEGAL_FORMS or tokens[-1] in _DANGLING):
        dropped.insert(0, tokens.pop())
    return tokens, dropped


def legal_form(name: str) -> str:
    """The trailing legal form :func:`normalise_name` drops ("corporation", "gmbh", "gmbh co kg"), "" if none.

    Two names with one key but different legal forms ("Microsoft Corporation", "MICROSOFT NV") are
    often a parent and its national subsidiary; a caller that has no country to tell them apart
    compares these."""
    _, dropped = _strip_legal_form(_split_acronym(name)[0], keep_one=True)
    return " ".join(_LEGAL_SPELLINGS.get(t, t) for t in dropped if t not in _DANGLING)


def normalise_name(name: str) -> str:
    """The matching key: NFKC, casefolded, accentless, no punctuation, trailing legal forms and acronym gone."""
    return " ".join(_tokens(_split_acronym(name)[0], keep_one=True))


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _vat(value: object) -> str | None:
    text = re.sub(r"[\W_]+", "", _clean(value) or "").upper()
    # placeholders such as "MISSING" or "N/A" carry no digits and must not join everyone who uses them
    return text if sum(c.isdigit() for c in text) >= 4 else None


def _mode(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _canonical(names: Counter[str]) -> str:
    """Most frequent spelling; ties go to a non-all-caps one, then the longest, then alphabetical."""
    return min(names, key=lambda n: (-names[n], n.isupper(), -len(n), n))


class _UnionFind:
    """Union-find whose root is always the smallest actor id, so org ids do not depend on row order."""

    def __init__(self, items: Iterable[str], splits: Iterable[tuple[str, str]]) -> None:
        self.parent = {i: i for i in items}
        self.members = {i: [i] for i in self.parent}
        self.splits = [(a, b) for a, b in splits if a in self.parent and b in self.parent]

    def find(self, item: str) -> str:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def blocked_by(self, a: str, b: str) -> tuple[str, str] | None:
        roots = {self.find(a), self.find(b)}
        return next(((x, y) for x, y in self.splits if {self.find(x), self.find(y)} == roots), None)

    def union(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        if ra != rb:
            self.parent[rb] = ra
            self.members[ra].extend(self.members.pop(rb))


class OrganisationResolver:
    """Fit on the ``actors`` table, then read ``assignments_`` (the actor_orgs table), ``organisations_``
    (the organisations table), ``links_`` (every union made) and ``refused_`` (unions a split blocked,
    ambiguous or contradicted prefixes, merge overrides naming actors not in the data)."""

    assignments_: pd.DataFrame
    organisations_: pd.DataFrame
    links_: pd.DataFrame
    refused_: pd.DataFrame

    def __init__(self, *, names_across_countries: bool = False, overrides: Sequence[Override] = ()) -> None:
        actions: dict[frozenset[str], set[str]] = defaultdict(set)
        for o in overrides:
            actions[frozenset((o.actor_id, o.other_actor_id))].add(o.action)
        if clash := next((sorted(pair) for pair, acts in actions.items() if len(acts) > 1), None):
            raise ConfigError(f"overrides both merge and split actors {clash[0]} and {clash[1]}")
        self.names_across_countries = names_across_countries
        self.overrides = list(overrides)

    def fit(self, actors: pd.DataFrame) -> OrganisationResolver:
        rows = actors.reindex(columns=sorted({*actors.columns, "country", "id_scheme", "native_id", "vat"}))
        rows = rows.assign(actor_id=rows["actor_id"].map(_clean), name=rows["name"].map(_clean))
        rows = rows.dropna(subset=["actor_id", "name"])
        ids = sorted(set(rows["actor_id"]))
        country = {a: _mode(map(_clean, c)) for a, c in rows.groupby("actor_id")["country"]}
        self._uf = _UnionFind(ids, [(o.actor_id, o.other_actor_id) for o in self.overrides if o.action == "split"])
        self._placed: dict[str, tuple[str, str]] = {}
        self._links: list[tuple[str, str, str, str]] = []
        self._refused: list[tuple[str, str, str, str, str]] = []
        for o in (o for o in self.overrides if o.action == "merge"):
            if o.actor_id in self._uf.parent and o.other_actor_id in self._uf.parent:
                self._link(o.actor_id, o.other_actor_id, "override", o.note or "merge override")
            else:
                self._refused.append((o.actor_id, o.other_actor_id, "override", o.note, "unknown actor"))
        idents: dict[str, set[str]] = defaultdict(set)
        by_ident: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_vat: dict[tuple[str, str], list[str]] = defaultdict(list)
        for a, scheme, native, vat in rows[["actor_id", "id_scheme", "native_id", "vat"]].itertuples(index=False):
            if native := _clean(native):
                idents[a].add(ident := f"{_clean(scheme) or 'id'}={native}")
                by_ident[(ident, "")].append(a)
            if vat := _vat(vat):
                by_vat[(f"vat={vat}", "")].append(a)
        self._link_groups(by_ident, "identifier")
        self._link_groups(by_vat, "vat")
        keys = sorted({(normalise_name(n), a) for n, a in zip(rows["name"], rows["actor_id"], strict=True)})
        seen_in: dict[str, set[str]] = defaultdict(set)
        for k, a in keys:
            if found := country[a]:
                seen_in[k].add(found)
        by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
        for k, a in keys:
            # a record without a country (a patent assignee) takes the country of its namesakes if they agree
            where = country[a] or (min(seen_in[k]) if len(seen_in[k]) == 1 else "")
            if k:
                by_name[(k, "" if self.names_across_countries else where)].append(a)
        self._link_groups(by_name, "name")
        self._link_prefixes(by_name, idents)
        self._finish(rows, ids, country, {a: k for k, a in sorted(keys, reverse=True)})
        return self

    def _link(self, a: str, b: str, rule: str, evidence: str) -> None:
        if self._uf.find(a) == self._uf.find(b):
            return
        if blocker := self._uf.blocked_by(a, b):
            self._refused.append((a, b, rule, evidence, f"split override {blocker[0]} / {blocker[1]}"))
            return
        self._uf.union(a, b)
        self._links.append((a, b, rule, evidence))
        for actor in (a, b):
            self._placed.setdefault(actor, (rule, evidence))

    def _link_groups(self, groups: dict[tuple[str, str], list[str]], rule: str) -> None:
        """Each group's key is (evidence, country or ""); its actors join its smallest actor id."""
        for key in sorted(groups):
            head, *rest = sorted(set(groups[key]))
            for actor in rest:
                self._link(head, actor, rule, key[0])

    def _link_prefixes(self, groups: dict[tuple[str, str], list[str]], idents: dict[str, set[str]]) -> None:
        longer: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        for key, where in groups:
            tokens = tuple(key.split())
            for n in range(2, len(tokens)):
                if tokens[n] in CONNECTORS:
                    longer[tokens[:n]].append((key, where))
        # longest first, so that a chain A < B < C is joined B-C before A looks for a unique partner
        for key, where in sorted(groups, key=lambda g: (-len(g[0].split()), g)):
            found = sorted(g for g in longer.get(tuple(key.split()), []) if where in (g[1], "") or not g[1])
            if not found:
                continue
            head, other = min(groups[(key, where)]), min(groups[found[0]])
            evidence = f"{key} < {' | '.join(sorted({k for k, _ in found}))}"
            if len({self._uf.find(groups[g][0]) for g in found}) > 1:
                self._refused.append((head, other, "name_prefix", evidence, "ambiguous"))
            elif self._conflict(head, other, idents):
                self._refused.append((head, other, "name_prefix", evidence, "different identifiers"))
            else:
                self._link(head, other, "name_prefix", evidence)

    def _conflict(self, a: str, b: str, idents: dict[str, set[str]]) -> bool:
        """Both organisations hold identifiers of one scheme, and none in common."""

        def schemes(actor: str) -> dict[str, set[str]]:
            found: dict[str, set[str]] = defaultdict(set)
            for ident in (i for m in self._uf.members[self._uf.find(actor)] for i in idents.get(m, ())):
                scheme, value = ident.split("=", 1)
                found[scheme].add(value)
            return found

        left, right = schemes(a), schemes(b)
        return any(not left[s] & right[s] for s in left.keys() & right.keys())

    def _finish(self, rows: pd.DataFrame, ids: list[str], country: dict[str, str | None],
                key_of: dict[str, str]) -> None:
        self.assignments_ = pd.DataFrame(
            [(a, stable_id("org", self._uf.find(a)), *self._placed.get(a, ("singleton", key_of[a]))) for a in ids],
            columns=["actor_id", "org_id", "rule", "evidence"])
        names_of = rows.groupby("actor_id")["name"].agg(list)
        orgs = []
        for root, members in self._uf.members.items():
            names = Counter(n for a in members for n in names_of[a])
            aliases = set(names) | {acronym for n in names if (acronym := _split_acronym(n)[1])}
            orgs.append((stable_id("org", root), _canonical(names), _mode(country[a] for a in members),
                         len(members), json.dumps(sorted(aliases), ensure_ascii=False)))
        self.organisations_ = pd.DataFrame(sorted(orgs), columns=["org_id", "name", "country", "actors", "aliases"])
        self.links_ = pd.DataFrame(self._links, columns=["actor_id", "other_actor_id", "rule", "evidence"])
        self.refused_ = pd.DataFrame(self._refused,
                                     columns=["actor_id", "other_actor_id", "rule", "evidence", "reason"])
