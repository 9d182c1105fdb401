"""How much a run changed what an analyst sees, against the previous completed run.

- **kept share**: of the documents modelled in the previous run, the share whose topic has the
  same lineage id now; outlier → outlier counts as kept (nothing moved), and a document no
  longer modelled (deleted, or now a duplicate) counts as not kept.
- **candidate Jaccard**: |A ∩ B| / |A ∪ B| of the two runs' candidate key sets; undefined (None)
  when neither run has a candidate.

Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Stability:
    earlier_documents: int
    kept_documents: int
    missing_documents: int  # earlier documents not modelled any more
    kept_share: float | None  # None without earlier documents
    candidates: int
    previous_candidates: int
    shared_candidates: int
    candidate_jaccard: float | None

    def as_dict(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def kept_lineage(previous: Mapping[str, str | None], current: Mapping[str, str | None]) -> tuple[int, int, int]:
    """(earlier, kept, missing) for doc id → lineage id maps (None: outlier) of two runs."""
    missing = sum(1 for doc in previous if doc not in current)
    kept = sum(1 for doc, lid in previous.items() if doc in current and current[doc] == lid)
    return len(previous), kept, missing


def jaccard(a: Collection[str], b: Collection[str]) -> float | None:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else None


def stability(previous_docs: Mapping[str, str | None], current_docs: Mapping[str, str | None],
              previous_candidates: Collection[str] | None, current_candidates: Collection[str]) -> Stability:
    """``previous_candidates`` None: there is no previous run, so nothing to be stable against
    (Jaccard None, not the 0 that an empty previous set would give)."""
    earlier, kept, missing = kept_lineage(previous_docs, current_docs)
    prev, cur = set(previous_candidates or ()), set(current_candidates)
    return Stability(earlier_documents=earlier, kept_documents=kept, missing_documents=missing,
                     kept_share=kept / earlier if earlier else None, candidates=len(cur),
                     previous_candidates=len(prev), shared_candidates=len(prev & cur),
                     candidate_jaccard=None if previous_candidates is None else jaccard(prev, cur))
