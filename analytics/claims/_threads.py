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

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional speed-up
    threadpool_limits = None


@contextlib.contextmanager
def single_blas_thread():
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def single_threaded(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
