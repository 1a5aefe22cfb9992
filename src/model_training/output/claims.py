"""Leases on a run, so that of concurrent or repeated deliveries exactly one writes a run and creates its
job, and a delivery that dies holding the lease never blocks the run for good.

A claim is a small JSON object in the run folder, created with a conditional write
(:meth:`~model_training.ports.Store.create_exclusive`: ``If-None-Match: *`` on S3, a hard link locally, which
fails if the name exists).
It says who holds it and until when:

* ``expires_at``: on Lambda, the holder's remaining invocation time plus a margin (Lambda kills it then);
  without a time budget (the command line), :data:`NO_BUDGET_LEASE_SECONDS`;
* ``holder``: host (name and boot id), process id and the process's start time: on the same host, a claim
  whose process is gone is over at once (a killed ``model-training run`` is taken over by the next one).

Claims are numbered generations: ``_run-claim.json``, then ``_run-claim.1.json``, ``_run-claim.2.json``
... The current claim is the highest generation that exists.  A claim whose holder can no longer be alive
is taken over by creating the next generation (a conditional write again, so of several takers one wins),
never by deleting it; a holder deletes only its own claim, and only while its lease is still running (so
nobody can have taken it over).  Temporary files are named by process id
(:func:`~model_training.processes.sweep_dead`), so the next run removes what a killed one left.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from model_training.errors import RunBusyError
from model_training.processes import host_id, process_start

#: The first claim of a run folder (later generations: ``_run-claim.{n}.json``).  A ``_`` name is never a data
#: file (the container and our trigger skip it) and ``.json`` is a suffix no trigger delivers.
RUN_CLAIM = "_run-claim.json"
#: Added to a Lambda holder's remaining time: the lease outlives the invocation that holds it.
LEASE_MARGIN_SECONDS = 60.0
#: The lease of a holder without a time budget, as seen from another host (the same host checks the process).
NO_BUDGET_LEASE_SECONDS = 900.0
#: How long a delivery that finds a live holder waits for it to finish before failing retryably.
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.25
#: A holder releases its claim only with at least this much of its lease left (clocks differ a little).
RELEASE_SAFETY_SECONDS = 5.0

#: The clock leases are read with (tests move it forward to expire a lease).
clock: Callable[[], float] = time.time


class ClaimStore(Protocol):
    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def create_exclusive(self, key: str, data: bytes) -> bool: ...

    def delete(self, key: str) -> None: ...


def claim_key(prefix: str, generation: int) -> str:
    """The key of claim ``generation`` of the run folder ``prefix``."""
    return f"{prefix}/{RUN_CLAIM}" if generation == 0 else f"{prefix}/{RUN_CLAIM.removesuffix('.json')}.{generation}.json"


def _holder() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": host_id(), "pid": pid, "started": process_start(pid)}


def holder_gone(body: dict[str, Any]) -> bool:
    """Whether the claim ``body``'s holder can no longer be working on the run: its lease has run out, or
    (a holder without a time budget, on this host) its process is gone."""
    try:
        if clock() >= float(body["expires_at"]):
            return True
        holder = body["holder"]
    except (KeyError, TypeError, ValueError):
        return False  # unreadable: wait for it like a live one (its lease cannot be read, nor taken over early)
    if body.get("budgeted") or holder.get("host") != host_id():
        return False
    pid = holder.get("pid")
    if pid == os.getpid() or not isinstance(pid, int):
        return False
    return process_start(pid) != holder.get("started")


@dataclass
class Claim:
    """A claim this process holds (:func:`acquire`)."""

    store: ClaimStore
    key: str
    expires_at: float

    def release(self) -> None:
        """Delete the claim, if its lease is still running (else another delivery may hold the next one,
        and this one is left as it is); a failed delete leaves it to expire."""
        if clock() < self.expires_at - RELEASE_SAFETY_SECONDS:
            with contextlib.suppress(Exception):
                self.store.delete(self.key)


def _read(store: ClaimStore, key: str) -> dict[str, Any] | None:
    """The claim at ``key``: ``None`` if there is none (or it was released meanwhile), ``{}`` if unreadable."""
    from model_training.aws import error_code

    if not store.exists(key):
        return None
    try:
        data = store.read_bytes(key)
    except FileNotFoundError:
        return None
    except Exception as exc:
        if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None  # released between the two calls
        raise
    try:
        body = json.loads(data)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _latest(store: ClaimStore, prefix: str) -> tuple[int, dict[str, Any] | None]:
    """The run folder ``prefix``'s next claim generation (the number of claims that exist) and its current
    claim (the highest generation; ``None`` if there is none)."""
    generation, body = 0, None
    while (found := _read(store, claim_key(prefix, generation))) is not None:
        body = found
        generation += 1
    return generation, body


def current(store: ClaimStore, prefix: str) -> dict[str, Any] | None:
    """The current claim of the run folder ``prefix`` (its highest generation), or ``None`` if there is none."""
    return _latest(store, prefix)[1]


def held(store: ClaimStore, prefix: str) -> bool:
    """Whether a live delivery holds the run folder ``prefix``'s claim."""
    body = current(store, prefix)
    return body is not None and not holder_gone(body)


def acquire(
    store: ClaimStore,
    prefix: str,
    *,
    time_left: Callable[[], float] | None,
    done: Callable[[], bool],
    what: str,
) -> Claim | None:
    """Take the run claim of the run folder ``prefix``.

    Returns the claim, or ``None`` when ``done()`` turned true while a live holder had it (the other
    delivery finished the run).  A holder that is gone (:func:`holder_gone`) is taken over.

    Raises:
        RunBusyError: a live holder still has it after :data:`WAIT_SECONDS` (or the time left): retryable.
    """
    budget = WAIT_SECONDS if time_left is None else max(0.0, min(WAIT_SECONDS, time_left() - 30.0))
    deadline = time.monotonic() + budget
    while True:
        generation, current = _latest(store, prefix)
        if current is None or holder_gone(current):
            now = clock()
            lease = NO_BUDGET_LEASE_SECONDS if time_left is None else max(time_left(), 0.0) + LEASE_MARGIN_SECONDS
            body = {"holder": _holder(), "budgeted": time_left is not None, "claimed_at": now, "expires_at": now + lease}
            key = claim_key(prefix, generation)
            if store.create_exclusive(key, json.dumps(body, sort_keys=True).encode()):
                return Claim(store, key, now + lease)
            continue  # another delivery took this generation first: read it
        if done():
            return None
        if time.monotonic() >= deadline:
            holder = current.get("holder") or {}
            until = current.get("expires_at")
            left = f", its lease ends in {float(until) - clock():.0f} s" if isinstance(until, int | float) else ""
            raise RunBusyError(
                f"{what} is being written or trained by another delivery (process {holder.get('pid', '?')} on "
                f"{str(holder.get('host', '?')).split('/')[0]}{left})",
                "run again later: the run is finished by that delivery, or taken over once its holder is gone",
            )
        time.sleep(POLL_SECONDS)
