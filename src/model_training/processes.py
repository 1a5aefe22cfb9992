"""Which processes are alive, and removing what dead ones left.

Temporary files and folders are named by the process that writes them (``{prefix}{pid}-...``); a run killed
with SIGKILL leaves them behind, and the next run removes those whose process is gone (:func:`sweep_dead`).
Run claims record their holder the same way (:func:`host_id`, :func:`process_start`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from pathlib import Path


def host_id() -> str:
    """This machine: its host name and boot id (a Lambda execution environment or container has its own)."""
    boot = ""
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{socket.gethostname()}/{boot}"


def process_start(pid: int) -> str | None:
    """An identity of the live process ``pid`` (its start time in clock ticks on Linux, ``"alive"``
    elsewhere), or ``None`` if there is no such process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "alive"
        return "alive"
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else "alive"


#: Seconds of leeway between a process's start time (whole seconds of the boot time plus clock ticks) and the
#: modification time of what it wrote.
_START_LEEWAY_SECONDS = 2.0


def _alive_since_before(pid: int, entry: Path) -> bool:
    """Whether ``entry`` (named by ``pid``) may belong to a live process: ``pid`` is alive and, where its start
    time is known (Linux), it started no later than ``entry`` was last modified.  A process id is reused: a
    Lambda execution environment restarted after a timeout runs its new runtime under the same small process
    ids, and what the killed one left is older than the process that has its id now."""
    start = process_start(pid)
    if start is None:
        return False
    started = _start_time(start)
    if started is None:
        return True
    try:
        modified = entry.lstat().st_mtime
    except OSError:
        return True
    return modified >= started - _START_LEEWAY_SECONDS


def _start_time(start: str) -> float | None:
    """The wall-clock time (epoch seconds) of a start time in clock ticks since boot (:func:`process_start`)."""
    if not start.isdigit():
        return None
    try:
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
        return int(boot.split()[1]) + int(start) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def pid_of(name: str, prefix: str) -> int | None:
    """The process id in a name ``{prefix}{pid}-...`` or ``{prefix}{pid}.``, or ``None``."""
    head = name[len(prefix) :].split("-", 1)[0].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def sweep_dead(folder: Path, prefix: str) -> int:
    """Remove the entries of ``folder`` named ``{prefix}{pid}-...`` (or ``{prefix}{pid}.``) whose process is
    gone: what a killed run left.  Returns how many were removed."""
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid = pid_of(entry.name, prefix)
        if pid is None or _alive_since_before(pid, entry):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
    return removed
