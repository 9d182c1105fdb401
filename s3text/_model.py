"""The base of every config model: frozen, and unknown keys are errors (a typo never falls back to a default).

Kept apart from :mod:`s3text.config` so that config sections defined next to their stage (the
crawler's) can share it without an import cycle.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
