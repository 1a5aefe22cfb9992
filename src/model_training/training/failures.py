"""How a local training job fails: the error of unusable channel data, and the one-line text an error
becomes in the job's ``FailureReason`` (as the container's own failures read)."""

from __future__ import annotations

import re

#: The longest ``FailureReason`` line taken from an error, in characters.
MAX_FAILURE_LINE = 500


class ChannelDataError(Exception):
    """A channel's data cannot be used (the job fails with this as its ``FailureReason``)."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s text (its type's name if it has none), without the
    ``[hh:mm:ss] /path/file.cc:123: Check failed:`` prefix XGBoost puts on its errors, at most 500 characters."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    line = re.sub(r"^\[[0-9:]+\] \S+:\d+:\s*(Check failed: )?", "", line)
    if not line.strip():  # XGBoost 3's collective errors: the message on the next line, "- [file.cc:135|hh:mm:ss]: ..."
        rest = (re.sub(r"^- \[[^\]]*\]: ", "", t.strip()) for t in text[1:])
        line = next((t for t in rest if t), type(exc).__name__)
    return line[:MAX_FAILURE_LINE]
