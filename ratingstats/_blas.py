"""Best-effort control of OpenBLAS threads for the dense factorisations.

On a two-core machine that is also running something else (a web worker, a test suite),
OpenBLAS's spinning worker threads make a 500 x 500 Cholesky factorisation fifty times slower
than on one thread (measured: a whole REML fit 0.24 s on one thread, 11.9 s on two with the
other core busy).  The fits therefore run their dense linear algebra on ``threads`` BLAS
threads (default 1).  This is what threadpoolctl does, reduced to the OpenBLAS builds that
numpy and scipy wheels ship; when no such library is loaded it silently does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator

__all__ = ["blas_threads"]

_SETTERS = (
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
)
_libs: list[tuple[object, object]] | None = None


def _openblas_libs() -> list[tuple[object, object]]:
    global _libs
    if _libs is not None:
        return _libs
    found = []
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line and ".so" in line}
    except OSError:  # not Linux: leave the library default
        paths = set()
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SETTERS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                found.append((getattr(lib, set_name), getattr(lib, get_name)))
                break
    _libs = found
    return found


_lock = threading.Lock()
_depth = 0
_saved: list[int] = []


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` OpenBLAS threads; ``None`` leaves them alone.

    The OpenBLAS setting is process-wide, so concurrent fits (e.g. a threaded web server) share
    it: the first fit to enter saves the previous value and the last one to leave restores it.
    """
    global _depth, _saved
    if threads is None:
        yield
        return
    import scipy.linalg  # noqa: F401  (make sure scipy's OpenBLAS is loaded before we look)

    libs = _openblas_libs()
    with _lock:
        if _depth == 0:
            _saved = [get() for _, get in libs]
            for setter, _ in libs:
                setter(int(threads))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for (setter, _), n in zip(libs, _saved, strict=True):
                    setter(int(n))
