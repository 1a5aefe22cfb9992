"""Warnings captured per thread, so that local training jobs can run in parallel threads (the trials of a
local tuning job) and each job's log still gets its own XGBoost warnings.

:class:`warnings.catch_warnings` swaps process-wide state (``warnings.showwarning`` and the filters) on entry
and puts back what it saw on exit: two threads whose blocks overlap restore each other's state, and warnings
then go to a list nobody reads, for the rest of the process.  Here one process-wide hook is installed while
any thread captures (counted under a lock), and it hands each warning to the list of the thread that raised
it; a thread that does not capture sees its warnings shown as before.

XGBoost's own warnings (its native library's log lines with ``WARNING:``) reach Python's warnings through a
log callback that XGBoost registers at import for the importing thread only (its callback registry is
thread-local): in another thread they are written straight to the process's stderr, past any capture.  A
capture registers XGBoost's callback for its thread first (once per thread).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

_lock = threading.Lock()
_sinks: dict[int, list[warnings.WarningMessage]] = {}
_saved: tuple[Any, list[Any]] | None = None  # showwarning and the filters before the first capture
_routed = threading.local()


def _route_xgboost_logs() -> None:
    """Register XGBoost's log callback (``xgboost.core``: ``_LIB.callback``, as it registers it at import) for
    this thread, once; nothing if XGBoost is not imported."""
    if getattr(_routed, "done", False):
        return
    core = sys.modules.get("xgboost.core")
    lib = getattr(core, "_LIB", None)
    callback = getattr(lib, "callback", None)
    if lib is not None and callback is not None:
        lib.XGBRegisterLogCallback(callback)
        _routed.done = True


def _show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sink = _sinks.get(threading.get_ident())
    if sink is not None:
        sink.append(warnings.WarningMessage(message, category, filename, lineno, file, line))
    elif _saved is not None:
        _saved[0](message, category, filename, lineno, file, line)


@contextlib.contextmanager
def captured_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised in this thread inside the block (each one, as the ``always`` filter gives them),
    in order, instead of being shown.  While any thread is inside such a block the ``always`` filter applies
    to every thread (another thread may see a repeated warning shown again)."""
    global _saved
    _route_xgboost_logs()
    caught: list[warnings.WarningMessage] = []
    me = threading.get_ident()
    with _lock:
        if me in _sinks:
            raise RuntimeError("captured_warnings is not reentrant within one thread")
        if not _sinks:
            _saved = (warnings.showwarning, list(warnings.filters))
            warnings.simplefilter("always")
            warnings.showwarning = _show
        _sinks[me] = caught
    try:
        yield caught
    finally:
        with _lock:
            del _sinks[me]
            if not _sinks and _saved is not None:
                warnings.showwarning = _saved[0]
                warnings.filters = _saved[1]  # as catch_warnings puts them back on exit
                warnings._filters_mutated()  # type: ignore[attr-defined]
                _saved = None
