"""A local job of several instances (``instance_count`` > 1) killed mid-training, with real processes: one worker
killed (SIGKILL) fails the job at once, naming the host that died rather than a peer whose collective broke after
it; the job's own process killed leaves no worker training on (writing the job's outputs after it)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import model_training
from model_training.training.failures import first_line

PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]
#: How long a killed worker may take to fail the job, in seconds (2 shared cores: generous).
BOUND_SECONDS = 60
#: How long workers may go on after their job's process was killed, in seconds (left alone, they train for a minute).
ORPHAN_SECONDS = 15


def data(folder: Path) -> Path:
    """A CSV that trains for a minute or more on two workers (40,000 rows, 3,000 rounds of depth 8)."""
    rng = random.Random(1)
    rows = ["f1,f2,f3,f4,y"]
    for _ in range(40_000):
        a, b, c, d = (rng.gauss(0, 1) for _ in range(4))
        rows.append(f"{a:.4f},{b:.4f},{c:.4f},{d:.4f},{int(a + 0.5 * b + rng.gauss(0, 0.5) > 0)}")
    source = folder / "d.csv"
    source.write_text("\n".join(rows) + "\n")
    manifest = {"label": "y", "training": {"instance_count": 2, "hyperparameters": {"num_round": 3000, "max_depth": 8}}}
    (folder / "d.manifest.json").write_text(json.dumps(manifest))
    return source


def workers_of(parent: int) -> dict[int, tuple[int, Path]]:
    """The distributed workers started by process ``parent``: rank -> (pid, the job's temporary folder)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        match = re.search(r"(/\S+?)/(\d+)\.job\.json", command)
        if ppid == parent and "worker_main" in command and match:
            found[int(match.group(2))] = (int(entry.name), Path(match.group(1)))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left to a parent that does not reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def training(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[int, tuple[int, Path]]]]:
    """``model-training run`` of a 2-instance job, once both workers have trained a round; every process it started
    is killed at the end of the test."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("finding the worker processes reads /proc (Linux)")
    source = data(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    command = [sys.executable, "-m", "model_training.cli", "run", str(source), "-o", str(tmp_path / "out"), "-q"]
    job = subprocess.Popen([*command, "--date", "2026-03-04"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    found: dict[int, tuple[int, Path]] = {}
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and job.poll() is None:
            found = workers_of(job.pid) or found
            logs = [folder / f"{rank}.log" for rank, (_, folder) in found.items()]
            if len(found) == 2 and all(p.exists() and "[0]\t" in p.read_text() for p in logs):
                break
            time.sleep(0.2)
        assert len(found) == 2 and job.poll() is None, "the two workers did not start training"
        yield job, found
    finally:
        for pid, _ in found.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if job.poll() is None:
            job.kill()
        job.wait()
        for _, folder in found.values():  # left behind when the job's process was killed
            shutil.rmtree(folder, ignore_errors=True)


def job_record(out: Path) -> dict:
    (path,) = (out / "training-jobs").glob("*.json")
    return dict(json.loads(path.read_text()))


def test_a_worker_killed_mid_training_fails_the_job_naming_its_host(training, catalogue, tmp_path: Path) -> None:
    job, workers = training
    os.kill(workers[1][0], signal.SIGKILL)  # algo-2
    catalogue.record("kills survived")
    output, _ = job.communicate(timeout=BOUND_SECONDS)  # fails, does not wait on the dead peer
    assert job.returncode not in (0, None)
    record = job_record(tmp_path / "out")
    assert record["TrainingJobStatus"] == "Failed"
    assert record["FailureReason"] == "AlgorithmError: the worker of algo-2 ended without a result (killed by SIGKILL)"
    assert "killed by SIGKILL" in output.decode()
    assert not any(alive(pid) for pid, _ in workers.values())


def test_the_jobs_process_killed_mid_training_leaves_no_worker_training(training, catalogue, tmp_path: Path) -> None:
    job, workers = training
    job.kill()
    job.wait()
    catalogue.record("kills survived")
    deadline = time.monotonic() + ORPHAN_SECONDS
    while time.monotonic() < deadline and any(alive(pid) for pid, _ in workers.values()):
        time.sleep(0.2)
    left = [pid for pid, _ in workers.values() if alive(pid)]
    assert left == [], f"workers {left} still train after their job's process was killed"
    master = next(iter(workers.values()))[1] / "0.json"
    assert not master.exists() or "trained" not in json.loads(master.read_text())  # ended, or failed with its peer
    assert list((tmp_path / "out").rglob("model.tar.gz")) == []  # no model written after the job's process died
    assert job_record(tmp_path / "out")["TrainingJobStatus"] == "InProgress"  # the next run trains it again


def test_a_collective_error_has_its_message_in_the_failure_reason() -> None:
    """XGBoost 3's collective errors put the message on the lines after an empty first one."""
    error = Exception(
        "[18:18:53] /workspace/src/collective/result.cc:78: \n"
        "- [allreduce.cc:135|18:18:53]: Ring Allreduce failed.\n"
        "- [socket.h:79|18:18:53]: Poll error condition:Success code:0\n"
    )
    assert first_line(error) == "Ring Allreduce failed."
    assert first_line(Exception("[10:00:00] /src/learner.cc:12: Check failed: x > 0\nmore")) == "x > 0"
    assert first_line(Exception("[10:00:00] /src/learner.cc:12: ")) == "Exception"
