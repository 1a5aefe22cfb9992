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


def handoff_reason(
    *,
    size_bytes: int,
    expanded_bytes: int,
    max_object_bytes: int,
    max_decompressed_bytes: int,
    seconds_left: float | None,
) -> str | None:
    """Why a source cannot be split inside the Lambda function, or ``None`` when it can: the hand-off decision.

    A source is handed off (to a SageMaker Processing job running ``model-training run`` on a larger machine)
    when any of these holds, each the rule that refused it before the hand-off existed:

    - ``size_bytes > max_object_bytes`` (``MODEL_TRAINING_MAX_OBJECT_BYTES``: the function's ``/tmp`` and memory);
    - ``expanded_bytes > max_decompressed_bytes`` (``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``: a gzip source's
      estimated inflated size, :func:`~model_training.split.size.in_memory_size`);
    - ``seconds_left`` is below the stage's own estimate of reading and splitting it: ``size_bytes /``
      :data:`READ_BYTES_PER_SECOND` ``+ 3 * expanded_bytes /`` :data:`WRITE_BYTES_PER_SECOND` ``+``
      :data:`TIME_MARGIN_SECONDS` (the streaming split's estimate, the larger of the pipeline's two).

    Args:
        size_bytes: the source's size as stored, in bytes.
        expanded_bytes: its size once read (inflated, for gzip), in bytes.
        seconds_left: seconds left in the invocation (``None``: no budget).

    Returns:
        The reasons joined by ``"; "``, or ``None``: split here.
    """
    reasons = []
    if size_bytes > max_object_bytes:
        reasons.append(f"{size_bytes} bytes is more than MODEL_TRAINING_MAX_OBJECT_BYTES ({max_object_bytes})")
    if expanded_bytes > max_decompressed_bytes:
        reasons.append(
            f"about {expanded_bytes} bytes once inflated is more than MODEL_TRAINING_MAX_DECOMPRESSED_BYTES "
            f"({max_decompressed_bytes})"
        )
    if seconds_left is not None:
        needed = size_bytes / READ_BYTES_PER_SECOND + 3 * expanded_bytes / WRITE_BYTES_PER_SECOND + TIME_MARGIN_SECONDS
        if seconds_left < needed:
            reasons.append(f"reading and splitting it needs about {needed:.0f} s and {seconds_left:.0f} s are left")
    return "; ".join(reasons) or None
