"""Warnings of local training jobs that run in parallel threads (the trials of a local tuning job): each job
captures its own, and the process's warning state is what it was once every capture has ended."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from model_training.training.local_warnings import captured_warnings


def test_overlapping_captures_in_threads_keep_their_own_warnings_and_restore_the_process_state() -> None:
    """``warnings.catch_warnings`` in two overlapping threads mixes their warnings and leaves the second one's
    hook installed after both have ended."""
    before = (warnings.showwarning, list(warnings.filters))
    caught: dict[str, list[str]] = {}
    inside = threading.Barrier(2)
    leave_first = threading.Event()

    def job(name: str, first: bool) -> None:
        with captured_warnings() as mine:
            inside.wait()
            for n in range(3):
                warnings.warn(f"{name} {n}", UserWarning, stacklevel=1)
            if first:
                leave_first.set()  # the first to enter leaves first, while the other is still capturing
            else:
                leave_first.wait()
                warnings.warn(f"{name} after", UserWarning, stacklevel=1)
        caught[name] = [str(w.message) for w in mine]

    threads = [threading.Thread(target=job, args=(name, name == "a")) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert caught == {"a": ["a 0", "a 1", "a 2"], "b": ["b 0", "b 1", "b 2", "b after"]}
    assert (warnings.showwarning, list(warnings.filters)) == before
    with pytest.warns(UserWarning, match="shown as before"):
        warnings.warn("shown as before", UserWarning, stacklevel=1)


def test_a_capture_is_not_reentrant() -> None:
    with captured_warnings(), pytest.raises(RuntimeError, match="not reentrant"), captured_warnings():
        pass


def test_xgboost_warnings_in_another_thread_are_captured(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """XGBoost registers its log callback for the importing thread only: in another thread its warnings went to
    stderr, past the capture (a parallel search printed "Saving model in the UBJSON format" once per trial)."""
    import xgboost as xgb

    booster = xgb.train({"nthread": 1}, xgb.DMatrix(np.arange(20.0).reshape(10, 2), label=np.arange(10.0)), 2)
    caught: list[str] = []

    def save() -> None:
        with captured_warnings() as mine:
            booster.save_model(str(tmp_path / "model"))  # no extension: XGBoost warns of its default format
        caught.extend(str(w.message) for w in mine)

    thread = threading.Thread(target=save)
    thread.start()
    thread.join()
    assert any("UBJSON" in message for message in caught), caught
    assert "UBJSON" not in capfd.readouterr().err
