"""Run the claims statistics with single-threaded BLAS.

The engine solves many small least-squares problems (a few thousand rows, a dozen columns).
Multi-threaded OpenBLAS spends more time waking and synchronising threads than computing on
such problems — on a busy two-core server, statsmodels fits were 5× slower with two threads
than with one — so the scorecard limits BLAS to one thread while it runs (threadpoolctl, the
maintained way to do this at run time; environment variables only work before numpy loads).
"""

from __future__ import annotations

import contextlib
import functools
import threading

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional speed-up
    threadpool_limits = None


_state = threading.local()


@contextlib.contextmanager
def single_blas_thread():
    """Limit BLAS to one thread; nested uses are free (threadpoolctl scans every loaded library
    each time a limit is set, which costs more than the small fits it protects)."""
    depth = getattr(_state, "depth", 0)
    if threadpool_limits is None or depth:
        _state.depth = depth + 1
        try:
            yield
        finally:
            _state.depth = depth
        return
    with threadpool_limits(limits=1, user_api="blas"):
        _state.depth = 1
        try:
            yield
        finally:
            _state.depth = 0


def single_threaded(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
