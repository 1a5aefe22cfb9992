"""The time budget of a run on Lambda: before each expensive step the time left in the invocation is compared
with an estimate of the step, and the record fails (retryably) before the step rather than being killed
during it.
"""

from __future__ import annotations

from collections.abc import Callable

from model_training.errors import TimeBudgetError

#: Conservative throughputs for the estimates, in bytes a second (a Lambda reads S3 at a few hundred MB/s).
READ_BYTES_PER_SECOND = 50e6
WRITE_BYTES_PER_SECOND = 20e6
#: Seconds kept in reserve on top of every estimate (uploads finishing, run.json, the response).
TIME_MARGIN_SECONDS = 10.0


def check_time_budget(time_left: Callable[[], float] | None, step: str, estimate_seconds: float) -> None:
    """Refuse to start ``step`` when less than ``estimate_seconds`` plus :data:`TIME_MARGIN_SECONDS` is left.

    Args:
        time_left: seconds left in the invocation (``None``: no budget, nothing is checked).

    Raises:
        TimeBudgetError: too little time left.
    """
    if time_left is None:
        return
    left = time_left()
    needed = estimate_seconds + TIME_MARGIN_SECONDS
    if left < needed:
        raise TimeBudgetError(f"{step} needs about {needed:.0f} s and {left:.0f} s are left in this invocation")
