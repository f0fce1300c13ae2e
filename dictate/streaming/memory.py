"""Process memory of a long dictation: give large freed buffers back to the system (glibc).

onnxruntime runs without its arena (dictate.asr.runtime), so every decode allocates and frees
its activations through malloc: megabyte tensors (encoder activations, the mel window's STFT)
and the 54-MB attention matrices. glibc raises its mmap threshold each time it frees a large
mapped block, after which blocks below 32 MB come from the heap, which fragments and never
shrinks: steady RSS crept from 260 to ~310 MB over a few 29-s decodes of tiny.en and stayed there.
A fixed threshold keeps such blocks mapped and returns them on free.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_MMAP_THRESHOLD = -3  # mallopt parameter number (glibc <malloc.h>)
MMAP_THRESHOLD_BYTES = 2 * 1024 * 1024  # blocks from this size are mapped and unmapped on free
# 8 x 15-29 s decodes of tiny.en int8 (2 shared cores): steady RSS 305 -> 196 MB, peak 362 -> 302 MB,
# decode CPU about +7 % (256 KiB: peak 295 MB, CPU +20 %; 4 MiB: peak 356 MB)


def return_large_buffers_to_the_system() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD_BYTES for this process; True when it was set.

    Not on other C libraries or systems, and never over a MALLOC_MMAP_THRESHOLD_ the user set.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
