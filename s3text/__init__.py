"""s3text: find transformative-activity candidates for Smart Specialisation Strategies in text.

The library is Prefect-free; flows live in ``pipeline/``. Heavy dependencies (torch, BERTopic,
spaCy) are imported inside the functions that need them, so ``import s3text`` stays fast.
"""

import logging

from s3text.config import PipelineConfig, load_config
from s3text.errors import ConfigError, InputError, ModelError, S3TextError, StoreError
from s3text.kernels import use_portable_kernels as _use_portable_kernels
from s3text.records import Actor, Document, IngestResult, QuarantineRecord
from s3text.store import Store

__version__ = "0.1.0"

_use_portable_kernels()  # before torch, MKL or numba load (none of the modules above does): s3text/kernels.py

logging.getLogger("s3text").addHandler(logging.NullHandler())

__all__ = [
    "Actor",
    "ConfigError",
    "Document",
    "IngestResult",
    "InputError",
    "ModelError",
    "PipelineConfig",
    "QuarantineRecord",
    "S3TextError",
    "Store",
    "StoreError",
    "__version__",
    "load_config",
]
