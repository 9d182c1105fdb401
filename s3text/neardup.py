"""Near-duplicate documents: the same project, patent or page stored twice with small edits.

Exact copies (equal content hash) are marked by :func:`s3text.normalise.mark_duplicates`; this
module finds the rest. A text becomes the set of its word shingles (``shingle`` consecutive
words after NFKC normalisation and case folding; punctuation and spacing are dropped, so they
cannot break a shingle). A seeded MinHash signature of that set goes into an LSH index, which
proposes candidate pairs; the exact Jaccard similarity of the two shingle sets then decides, and
is what a pair reports. Pairs are links for analysts and exports: no document is dropped.

What a threshold means on CORDIS objectives (~280 words, 5-word shingles): case, spacing and
punctuation edits give 1.0, three swapped word pairs 0.85, one sentence replaced by another a
median of 0.80 (so only half such copies pass 0.8), two sentences replaced 0.65.

The index lives in memory and grows batch by batch: :meth:`NearDuplicateIndex.add` hashes only
the documents it is given and returns only the pairs that involve them. A new process rebuilds
it from the stored texts, which is cheap (about 0.5 ms of CPU per document: 2 s for the 2,967
bundled documents, 5 s for 10,000) and keeps the pairs right when a text changes or a document
later turns out to be an exact duplicate (the 10,000-document run peaked at 283 MB, whole process).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from datasketch import MinHash, MinHashLSH

if TYPE_CHECKING:
    from s3text.config import NormaliseConfig

METHOD = "minhash"
# \w+ keeps letters and digits of every script; everything between words is a separator.
_WORD = re.compile(r"\w+")
# A pair exactly at the threshold becomes a candidate with at least this probability. Candidates
# below the threshold only cost one exact Jaccard (microseconds), so the LSH is tuned for recall
# rather than datasketch's default balance, which finds a pair at the threshold 0.8 only 40% of the time.
CANDIDATE_RECALL = 0.99
_SCHEME = "affine64"  # datasketch >= 2: 64-bit input hashes, a collision-free permutation step


class NearDuplicate(NamedTuple):
    """One row of the store's ``near_duplicates`` table; ``doc_id < other_id``."""

    doc_id: str
    other_id: str
    similarity: float  # exact Jaccard similarity of the two shingle sets
    method: str = METHOD


def words(text: str) -> list[str]:
    """The words of ``text`` after NFKC normalisation and case folding."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """Sorted, unique 64-bit hashes of the ``size``-word shingles of ``text``.

    A text shorter than ``size`` words is one shingle, so two identical short texts still match;
    a text without words has no shingles. blake2b, not ``hash()``: Python salts string hashes
    per process, and the sets must be the same in every run.
    """
    tokens = words(text)
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    grams = [" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))]
    digests = [int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little") for g in grams]
    return np.unique(np.array(digests, dtype=np.uint64))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


def lsh_params(threshold: float, permutations: int, recall: float = CANDIDATE_RECALL) -> tuple[int, int]:
    """(bands, rows) with the most rows per band whose candidate probability at ``threshold`` is ``recall``.

    More rows per band means fewer false candidates; a pair of similarity s is a candidate with
    probability 1 - (1 - s**rows)**bands.
    """
    for rows in range(permutations // 2, 0, -1):
        bands = permutations // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return bands, rows
    raise ValueError(f"{permutations} permutations cannot reach recall {recall} at threshold {threshold}")


def _identity(value: int) -> int:
    return value


class NearDuplicateIndex:
    """Documents seen so far, and the near-duplicate pairs each new batch forms with them.

    Results depend only on the texts, the parameters and ``seed``, not on batch sizes or the
    order within a batch: pairs are decided by exact Jaccard, and the LSH only proposes them.
    """

    def __init__(self, threshold: float = 0.8, shingle: int = 5, permutations: int = 128, seed: int = 1) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if shingle < 1 or permutations < 16:
            raise ValueError(f"need shingle >= 1 and permutations >= 16, not {shingle} and {permutations}")
        self.threshold = threshold
        self.shingle = shingle
        self.permutations = permutations
        self.seed = seed
        self.bands, self.rows = lsh_params(threshold, permutations)
        # Drawn once from the seed and shared by every signature, which must all use the same permutations.
        self._perm = MinHash(num_perm=permutations, seed=seed, scheme=_SCHEME).permutations
        self._lsh = MinHashLSH(threshold=threshold, num_perm=permutations, params=(self.bands, self.rows))
        self._shingles: dict[str, np.ndarray] = {}
        self._seen: set[str] = set()

    @classmethod
    def from_config(cls, cfg: NormaliseConfig, *, seed: int = 1) -> NearDuplicateIndex | None:
        """The index a ``normalise:`` section asks for; None when near-duplicate detection is off."""
        if cfg.near_duplicate_threshold is None:
            return None
        return cls(threshold=cfg.near_duplicate_threshold, shingle=cfg.near_duplicate_shingle,
                   permutations=cfg.near_duplicate_permutations, seed=seed)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._seen

    def signature(self, hashes: np.ndarray) -> MinHash:
        """The seeded MinHash of a shingle-hash set."""
        minhash = MinHash(num_perm=self.permutations, seed=self.seed, hashfunc=_identity,
                          permutations=self._perm, scheme=_SCHEME)
        minhash.update_batch(hashes.tolist())
        return minhash

    def add(self, doc_ids: Sequence[str], texts: Sequence[str]) -> list[NearDuplicate]:
        """Index a batch; return its near-duplicate pairs (within the batch and with earlier batches), sorted.

        Raises ValueError for a doc_id that is already indexed or repeated in the batch: an
        index holds one text per document. Texts without words are remembered but never paired.
        """
        if len(doc_ids) != len(texts):
            raise ValueError(f"{len(doc_ids)} doc_ids but {len(texts)} texts")
        batch = set(doc_ids)
        if len(batch) < len(doc_ids) or not self._seen.isdisjoint(batch):
            repeated = sorted(self._seen & batch) or sorted(d for d in batch if doc_ids.count(d) > 1)
            raise ValueError(f"doc_ids already indexed or repeated in the batch: {repeated[:5]}")
        pairs: list[NearDuplicate] = []
        for doc_id, text in zip(doc_ids, texts, strict=True):
            self._seen.add(doc_id)
            hashes = shingle_hashes(text, self.shingle)
            if hashes.size == 0:
                continue  # every empty set has the same signature: it would pair with all the others
            minhash = self.signature(hashes)
            for other in self._lsh.query(minhash):
                similarity = jaccard(hashes, self._shingles[other])
                if similarity >= self.threshold:
                    first, second = sorted((doc_id, str(other)))
                    pairs.append(NearDuplicate(first, second, similarity))
            self._lsh.insert(doc_id, minhash, check_duplication=False)
            self._shingles[doc_id] = hashes
        return sorted(pairs)
