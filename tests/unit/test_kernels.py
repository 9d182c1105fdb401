"""Portable kernels are in force in a fresh process that imports s3text before torch and numba."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from s3text.kernels import PORTABLE_ENV, has_avx2

PROBE = ("import json, s3text, torch, numba; print(json.dumps({'torch': torch.backends.cpu.get_cpu_capability(), "
         "'numba': numba.config.CPU_NAME, 'mkl': __import__('os').environ.get('MKL_CBWR')}))")
pytestmark = pytest.mark.skipif(not has_avx2(), reason="portable kernels need an x86-64 CPU with AVX2")


def probe(**env: str) -> dict[str, str | None]:
    clean = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV and k != "S3TEXT_KERNELS"}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_portable_by_default_native_on_request_and_the_user_wins() -> None:
    assert probe() == {"torch": "AVX2", "numba": "generic", "mkl": "AVX2"}
    native = probe(S3TEXT_KERNELS="native")
    assert native["numba"] is None and native["mkl"] is None
    assert probe(NUMBA_CPU_NAME="host")["numba"] == "host", "a variable the user set is left alone"


def test_unknown_mode_is_an_error() -> None:
    clean = {k: v for k, v in os.environ.items() if k != "S3TEXT_KERNELS"}
    failed = subprocess.run([sys.executable, "-c", "import s3text"], env={**clean, "S3TEXT_KERNELS": "fast"},
                            capture_output=True, text=True, check=False, timeout=60)
    assert failed.returncode != 0 and "S3TEXT_KERNELS must be one of" in failed.stderr
