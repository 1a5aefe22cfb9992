"""The reliability catalogue: its fixture, and a one-line summary of what was tried (the moto server's
``endpoint`` and ``pipeline`` fixtures are in ``tests/conftest.py``).

Each test records what it exercised with the ``catalogue`` fixture (``bad input``, ``fault``,
``duplicate``, ``load``, ``untrusted events refused``, ``bombs refused``); ``pytest tests/reliability`` ends
with one line counting them and their outcomes.
"""

from __future__ import annotations

from collections import Counter

import pytest

_counts: Counter[str] = Counter()
_outcomes: Counter[str] = Counter()


class Catalogue:
    """What one test exercised, carried in its report's ``user_properties`` so that the summary counts it
    in the process that prints it (pytest-xdist runs tests in worker processes and replays their reports)."""

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def record(self, kind: str, amount: int = 1) -> None:
        self._node.user_properties.append(("catalogue_count", (kind, amount)))


@pytest.fixture
def catalogue(request: pytest.FixtureRequest) -> Catalogue:
    request.node.user_properties.append(("catalogue", True))
    return Catalogue(request.node)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or not any(k == "catalogue" for k, _ in report.user_properties):
        return
    _outcomes["xfailed" if hasattr(report, "wasxfail") else report.outcome] += 1
    for key, value in report.user_properties:
        if key == "catalogue_count":
            kind, amount = value
            _counts[kind] += amount


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _counts:
        return
    parts = [f"{kind}: {n}" for kind, n in sorted(_counts.items())]
    outcome = ", ".join(f"{n} {o}" for o, n in sorted(_outcomes.items()))
    terminalreporter.write_line(f"reliability catalogue: {'; '.join(parts)} ({outcome})")
