"""How the pipeline reports progress without knowing who listens.

The command line passes a rich-based :class:`Reporter` (progress bars); the Lambda handler and the
tests use :class:`NullReporter` or a logging one.  Parts of the pipeline take a reporter argument and
never import rich themselves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol


class Reporter(Protocol):
    """Receives progress from the pipeline."""

    def task(
        self, description: str, total: float | None = None, unit: str = ""
    ) -> contextlib.AbstractContextManager[Callable[[float], None]]:
        """A step with an optional ``total`` (bytes, rows or rounds, per ``unit``); the context yields
        ``advance(amount)``."""
        ...

    def info(self, message: str) -> None:
        """A one-line message for the user."""
        ...


class NullReporter:
    """A reporter that reports nothing."""

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None, unit: str = "") -> Iterator[Callable[[float], None]]:
        yield lambda amount: None

    def info(self, message: str) -> None:
        return None
