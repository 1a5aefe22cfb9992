"""ISO-8601 dates and timestamps, the ``ordered`` strategy's order values when they are text, as sortable numbers.

Accepted (after stripping white space; bytes are read as UTF-8): ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``,
optionally followed by ``T`` or a space and ``hh[:mm[:ss[.fffffffff]]]`` and then optionally ``Z`` or
``+hh[[:]mm]`` / ``-hh[[:]mm]``.  A value with an offset is converted to UTC, one without is taken as UTC.  A
whole column is read at once by numpy (``datetime64``, to the nanosecond).

This is not the rule for an event's time (:func:`model_training.events.parse_event_time`), which reads one time
with Python's ``datetime.fromisoformat`` (to the microsecond, years 1 to 9999).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np

_ISO_8601 = re.compile(
    r"(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:[T ](?P<time>\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


class UnreadableTime(ValueError):
    """A value that is not a readable ISO-8601 date or timestamp.

    Attributes:
        row: the value's row (0-based) in the items given.
        reason: why, as a phrase that follows "is" ("not an ISO-8601 date or timestamp").
    """

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(f"row {row} is {reason}")
        self.row = row
        self.reason = reason


def parse_timestamps(items: Sequence[object]) -> np.ndarray:
    """ISO-8601 strings (or UTF-8 bytes) to int64 counts of one common numpy datetime unit, offsets applied
    (so the counts sort as the instants do).

    Args:
        items: ``n`` values, one a row.

    Returns:
        Shape ``(n,)``, int64: counts of the finest unit any value needs (seconds ... nanoseconds).

    Raises:
        UnreadableTime: the first row (0-based) that is not of the accepted shape (see the module), has an offset
            beyond +-14:00 or 60 minutes or more, is not a real date or time (``2024-02-30``), or lies outside
            1678-2261 when the column needs nanoseconds; an earlier row that is not a real date or time comes
            first.
    """
    naive: list[str] = []
    offsets: list[int] = []  # minutes east of UTC
    years: list[int] = []
    for row, item in enumerate(items):
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else item
        match = _ISO_8601.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            _first_unparseable(naive)  # an earlier row numpy cannot read comes first
            raise UnreadableTime(row, "not an ISO-8601 date or timestamp")
        time, zone = match["time"], match["zone"]
        naive.append(match["date"] + ("T" + time if time else ""))
        offset = _offset_minutes(zone)
        if abs(offset) > 14 * 60 or (zone and len(zone) > 3 and int(zone.replace(":", "")[3:5] or 0) >= 60):
            raise UnreadableTime(row, "its UTC offset is not a real one (at most +14:00, minutes below 60)")
        offsets.append(offset)
        years.append(int(match["date"][:4]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = np.array(naive, dtype="datetime64")
    except (ValueError, Warning, OverflowError):
        _first_unparseable(naive)
        raise
    unit = np.datetime_data(parsed.dtype)[0]
    if unit in ("ns", "ps", "fs", "as"):  # sub-microsecond units only span 1678-2261
        outside = [row for row, year in enumerate(years) if not 1678 <= year <= 2261]
        if outside:
            raise UnreadableTime(outside[0], "outside 1678-2261, the range of nanosecond timestamps")
    if any(offsets):
        parsed = parsed - np.asarray(offsets, dtype=np.int64).astype("timedelta64[m]")
    return parsed.view(np.int64)


def _first_unparseable(naive: list[str]) -> None:
    """Raise :class:`UnreadableTime` for the first of ``naive`` (ISO-8601 shaped) that numpy cannot read
    (e.g. 2024-02-30)."""
    for row, text in enumerate(naive):
        try:
            np.datetime64(text)
        except ValueError as exc:
            reason = str(exc).split(" in datetime string")[0].lower()
            raise UnreadableTime(row, f"not a valid date or time ({reason})") from None


def _offset_minutes(zone: str | None) -> int:
    """The UTC offset ``Z``, ``+hh``, ``+hh:mm`` or ``+hhmm`` in minutes east of UTC (0 for none)."""
    if not zone or zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    return -minutes if zone[0] == "-" else minutes


__all__ = ["UnreadableTime", "parse_timestamps"]
