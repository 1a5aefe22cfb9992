"""The hand-off decision (:func:`model_training.budget.handoff_reason`) at its boundaries: one byte under each limit
the function splits the source itself, one byte over it hands the source to a Processing job; and the time left
against the stage's own estimate, one second either side."""

from __future__ import annotations

import pytest

from model_training.budget import READ_BYTES_PER_SECOND, TIME_MARGIN_SECONDS, WRITE_BYTES_PER_SECOND, handoff_reason

LIMIT = 1_000_000


def decide(size: int, expanded: int | None = None, left: float | None = None) -> str | None:
    return handoff_reason(
        size_bytes=size,
        expanded_bytes=size if expanded is None else expanded,
        max_object_bytes=LIMIT,
        max_decompressed_bytes=4 * LIMIT,
        seconds_left=left,
    )


def test_size_at_the_limit_is_split_here_one_byte_over_is_handed_off() -> None:
    assert decide(LIMIT - 1) is None
    assert decide(LIMIT) is None
    reason = decide(LIMIT + 1)
    assert reason == f"{LIMIT + 1} bytes is more than MODEL_TRAINING_MAX_OBJECT_BYTES ({LIMIT})"


def test_inflated_size_at_its_limit_is_split_here_one_byte_over_is_handed_off() -> None:
    assert decide(1000, expanded=4 * LIMIT) is None
    reason = decide(1000, expanded=4 * LIMIT + 1)
    assert reason is not None and "MODEL_TRAINING_MAX_DECOMPRESSED_BYTES (4000000)" in reason


@pytest.mark.parametrize("size", [0, 10**6, 7 * 10**8])
def test_time_left_against_the_stages_own_estimate(size: int) -> None:
    needed = size / READ_BYTES_PER_SECOND + 3 * size / WRITE_BYTES_PER_SECOND + TIME_MARGIN_SECONDS
    big = handoff_reason(
        size_bytes=size, expanded_bytes=size, max_object_bytes=10**12, max_decompressed_bytes=10**12, seconds_left=needed
    )
    assert big is None
    short = handoff_reason(
        size_bytes=size, expanded_bytes=size, max_object_bytes=10**12, max_decompressed_bytes=10**12, seconds_left=needed - 1
    )
    assert short is not None and "are left" in short


def test_no_budget_never_hands_off_for_time_and_every_reason_is_given() -> None:
    assert decide(10, left=None) is None
    both = decide(LIMIT + 1, expanded=4 * LIMIT + 1, left=0.0)
    assert both is not None and len(both.split("; ")) == 3
