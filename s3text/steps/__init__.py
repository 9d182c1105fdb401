"""Stage steps over the store; see :mod:`s3text.steps.prepare` and :mod:`s3text.steps.analyse`."""

from s3text.steps.analyse import capacity, emergence
from s3text.steps.flag import candidates
from s3text.steps.prepare import embed, ingest, normalise, regions, topics

__all__ = ["candidates", "capacity", "embed", "emergence", "ingest", "normalise", "regions", "topics"]
