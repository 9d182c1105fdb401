"""Stage steps over the store: :mod:`~s3text.steps.prepare`, :mod:`~s3text.steps.actors`,
:mod:`~s3text.steps.analyse`, :mod:`~s3text.steps.flag`."""

from s3text.steps.actors import organisations, regions
from s3text.steps.analyse import capacity, emergence
from s3text.steps.flag import candidates
from s3text.steps.prepare import embed, ingest, normalise, topics

__all__ = [
    "candidates", "capacity", "embed", "emergence", "ingest", "normalise", "organisations", "regions", "topics",
]
