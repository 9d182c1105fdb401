"""Stage steps over the store: :mod:`~s3text.steps.prepare`, :mod:`~s3text.steps.actors`,
:mod:`~s3text.steps.analyse`, :mod:`~s3text.steps.flag`,
:mod:`~s3text.steps.topics`, :mod:`~s3text.steps.stability`."""

from s3text.steps.actors import organisations, regions
from s3text.steps.analyse import capacity, emergence
from s3text.steps.flag import candidates
from s3text.steps.prepare import embed, ingest, normalise
from s3text.steps.stability import stability
from s3text.steps.topics import topics

__all__ = [
    "candidates", "capacity", "embed", "emergence", "ingest", "normalise", "organisations", "regions", "stability",
    "topics",
]
