"""What a killed run left under a process id that a later process has now (a Lambda execution environment
restarted after a timeout runs its runtime under the same small process ids) is swept, not kept for good."""

from __future__ import annotations

import os
import time
from pathlib import Path

from model_training.processes import sweep_dead
from model_training.split.streaming import TMP_PREFIX


def test_a_folder_named_by_this_process_id_but_older_than_this_process_is_swept(tmp_path: Path) -> None:
    stale = tmp_path / f"{TMP_PREFIX}{os.getpid()}-killed"
    (stale / "sub").mkdir(parents=True)
    (stale / "000001.rows").write_bytes(b"x" * 1000)
    long_ago = time.time() - 10 * 24 * 3600  # before this process started
    os.utime(stale, (long_ago, long_ago))
    mine = tmp_path / f"{TMP_PREFIX}{os.getpid()}-live"
    mine.mkdir()
    assert sweep_dead(tmp_path, TMP_PREFIX) == 1
    assert not stale.exists() and mine.exists()


def test_a_folder_of_a_live_process_that_started_before_it_is_kept(tmp_path: Path) -> None:
    live = tmp_path / f"{TMP_PREFIX}1-running"  # process 1 started at boot, before the folder
    live.mkdir()
    assert sweep_dead(tmp_path, TMP_PREFIX) == 0 and live.exists()
