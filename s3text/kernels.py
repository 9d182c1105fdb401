"""Portable numeric kernels: the CPU-dependent kernel choices that change vectors and topics, pinned to what
every x86-64 CPU with AVX2 shares.

torch (ATen), MKL and numba pick their CPU kernels when they load, by what the CPU offers. The
reproducibility probe (``bench/bench_repro.py``; docs/BENCHMARKS.md, "What varies between machines")
measures what that changes: ATen's AVX-512 kernels give embeddings a rounding error away from its
AVX2 ones, and numba code generated for the host CPU gives other topics than generic code on the
same vectors, while thread counts change nothing. So, before any of them loads, ``import s3text``
asks all three for the kernels every such CPU shares: ATen AVX2, MKL's AVX2 code path (its
conditional numerical reproducibility mode) and numba's generic target. A variable already set
wins (a child process inherits its parent's); ``S3TEXT_KERNELS=native`` keeps the libraries' own
choices (faster on some CPUs, reproducible only on the same CPU). run.json records what was in
force (``reproducibility``). Not pinned: numpy's OpenBLAS kernels (set per machine through
OPENBLAS_CORETYPE where older builds need it), which UMAP's spectral initialisation uses.
"""

from __future__ import annotations

import os
import platform
import sys

PORTABLE_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "NUMBA_CPU_NAME": "generic"}
MODES = ("portable", "native")


def cpu_field(name: str) -> str | None:
    """The first ``name: value`` of /proc/cpuinfo (``flags``, ``model name``); None where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.split(":", 1)[0].strip() == name),
                        None)
    except OSError:
        return None


def has_avx2() -> bool:
    return "avx2" in (cpu_field("flags") or "").split()


def kernel_mode() -> str:
    mode = os.environ.get("S3TEXT_KERNELS", "portable")
    if mode not in MODES:
        raise ValueError(f"S3TEXT_KERNELS must be one of {MODES}, not {mode!r}")
    return mode


def use_portable_kernels() -> dict[str, str]:
    """Set the portable kernel variables that are not set yet; returns those it set. Does nothing in
    ``native`` mode, off x86-64, on a CPU without AVX2, or for a library already loaded (too late:
    its kernels are chosen), which run.json then shows."""
    if kernel_mode() == "native" or platform.machine() not in ("x86_64", "AMD64") or not has_avx2():
        return {}
    loaded = {"ATEN_CPU_CAPABILITY": "torch", "MKL_CBWR": "torch", "NUMBA_CPU_NAME": "numba"}
    chosen = {name: value for name, value in PORTABLE_ENV.items()
              if name not in os.environ and loaded[name] not in sys.modules}
    os.environ.update(chosen)
    return chosen
