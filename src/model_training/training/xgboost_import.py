"""XGBoost imported without the optional libraries it would pull in for nothing: scikit-learn (with scipy.stats)
and pandas, about 1.1 s of a local run's 2-3 s outside training (``python -X importtime``, XGBoost 3.0.5,
scikit-learn 1.9, pandas 3.1).

Why: ``xgboost/compat.py`` imports ``pandas`` and ``sklearn.base`` at import time when they are installed, only to
define the base classes of its scikit-learn wrappers (``XGBClassifier``...) and pandas' ``DataFrame`` for
``trees_to_dataframe``; and ``xgboost.DMatrix`` imports pandas on every construction, to ask whether its data is a
pandas ``Series`` (``data.py``: ``dispatch_data_backend``).  A local job uses neither: its channels are numpy
arrays and it trains with ``xgboost.train``.  Both guards treat an ``ImportError`` as "not installed", and Python
raises one for a module whose ``sys.modules`` entry is ``None``; so :func:`import_xgboost` and
:func:`numpy_dmatrix` set those entries to ``None`` for the duration of the import (or of the construction) and
take them out again afterwards, so that a later ``import sklearn`` or ``import pandas`` in the process works as
usual.  A module already imported is left alone (nothing to save).

The model is the same, byte for byte: the data reach XGBoost's C library by the same path (a numpy array's
``__array_interface__``), and neither library takes part in training (``tests/training/test_lean_training.py``
compares the saved models).  What changes in a process whose XGBoost was imported so: ``xgboost.XGBClassifier``
and the other scikit-learn wrappers are built on XGBoost's stand-in base classes (not scikit-learn estimators),
``Booster.trees_to_dataframe`` refuses, and ``xgboost.cv`` cannot stratify; nothing here uses them.  The
container's own metrics that need scikit-learn (``accuracy``, ``f1``, ``r2``...) import it through
:func:`import_visible`, which waits for a construction under way to put the modules back.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

#: The modules hidden from XGBoost: they would be imported at its import (both) and at each DMatrix (pandas).
HIDDEN = ("sklearn", "pandas")

# One hiding at a time, and no import of a hidden module while one is under way (jobs of a tuning search build
# their matrices in parallel threads; sys.modules is the process's).
_LOCK = threading.RLock()


@contextlib.contextmanager
def hidden(names: tuple[str, ...] = HIDDEN) -> Iterator[None]:
    """Make ``import NAME`` raise ``ImportError`` for each of ``names`` not yet imported, until the block ends
    (their ``sys.modules`` entries set to ``None``, then taken out); other threads' imports of them wait
    (:func:`import_visible`)."""
    with _LOCK:
        absent = [name for name in names if name not in sys.modules]
        for name in absent:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            for name in absent:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]


def import_xgboost() -> ModuleType:
    """The ``xgboost`` module, imported (the first time) without scikit-learn and pandas (see the module's text).

    Raises:
        ImportError: XGBoost is not installed (or its library does not load).
    """
    module = sys.modules.get("xgboost")
    if module is not None:
        return module
    with hidden():
        return importlib.import_module("xgboost")


def numpy_dmatrix(data: Any, **kwargs: Any) -> Any:
    """``xgboost.DMatrix(data, **kwargs)`` for a numpy ``data`` (and numpy ``label``, ``weight``), built without
    XGBoost importing pandas to rule out a pandas ``Series``.

    Raises:
        Exception: what ``xgboost.DMatrix`` raises.
    """
    xgb = import_xgboost()
    with hidden(("pandas",)):
        return xgb.DMatrix(data, **kwargs)


def import_visible(name: str) -> ModuleType:
    """``importlib.import_module(name)``, once no :func:`hidden` block of another thread hides a module it may
    import (scikit-learn imports pandas).

    Raises:
        ImportError: the module is not installed.
    """
    with _LOCK:
        return importlib.import_module(name)
