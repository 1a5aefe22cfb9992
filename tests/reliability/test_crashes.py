"""Crashes: a real process is killed (SIGKILL) at each step of the commit and create sequence, the event is
delivered again, and the jobs and object versions are counted.  No job is lost (a claim never stands for a
job), none is doubled, and a delivery that finds a live holder fails retryably instead of answering
``duplicate``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import model_training
from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from model_training.output import claims
from tests.fixtures import EVENT_TIME, Context, inject, jobs, small_csv

ROOT = Path(__file__).resolve().parents[2]
#: Where this process imported model_training from: a child imports the same code (not another installed copy).
PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]

#: The steps of the commit and create sequence, in order (see crash_driver).
STEPS = ["after-claim", "mid-train-file", "after-train-file", "after-run-json", "before-create", "after-create", "after-outcome"]


def child(args: list[str], sig: str = "SIGKILL", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)])
    full = {**os.environ, "PYTHONPATH": path, "POWERTOOLS_METRICS_DISABLED": "true", **(env or {})}
    cmd = [sys.executable, "-m", "tests.reliability.crash_driver", *args[:1], sig, *args[1:]]
    return subprocess.run(cmd, cwd=ROOT, env=full, capture_output=True, text=True, timeout=300)


def versions(bucket: str) -> Counter[str]:
    """Object versions (not delete markers) per key under the output prefixes, by file name."""
    listed = aws.client("s3").list_object_versions(Bucket=bucket, Prefix="automl/").get("Versions", [])
    return Counter(v["Key"].split("/", 5)[-1] for v in listed if "/training/" in v["Key"])


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the lease clock forward: every lease taken before now + ``seconds`` has run out."""
    monkeypatch.setattr(claims, "clock", lambda: __import__("time").time() + seconds)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims, "WAIT_SECONDS", 0.5)


def event_for(p: Pipeline, name: str, tmp_path: Path, rows: int = 120) -> tuple[dict[str, Any], Path]:
    key = f"automl/2026-03-04/{name}.csv"
    meta = upload(p.data_bucket, key, small_csv(rows))
    event = s3_event(p.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(event))
    return event, path


@pytest.mark.parametrize("step", STEPS)
def test_a_delivery_killed_at_any_step_loses_no_job_and_doubles_none(
    pipeline: Pipeline, catalogue, quick, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    event, path = event_for(pipeline, "kill", tmp_path)
    killed = child([step, "handler", str(path), "600000"])
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    catalogue.record("kills survived")
    job_created = step in ("after-create", "after-outcome")
    assert len(jobs()) == (1 if job_created else 0)

    sqs = {"Records": [{"messageId": "m1", "body": json.dumps(event), "eventSource": "aws:sqs"}]}
    first = handle(sqs, Context())
    (result,) = first["results"]
    if job_created:  # the job exists: found by its name, recorded, a duplicate
        assert result["status"] == "duplicate" and result["job_name"] == jobs()[0], result
        assert first["batchItemFailures"] == []
    else:  # the killed delivery's lease (its 600 s left, plus a margin) still runs: retry later, never "duplicate"
        assert result["status"] == "failed" and result["retryable"] is True, result
        assert "another delivery" in result["reason"]
        assert first["batchItemFailures"] == [{"itemIdentifier": "m1"}]
        later(monkeypatch, 700)  # the lease ran out: the next delivery takes the run over
        (result,) = handle(sqs, Context())["results"]
        assert result["status"] == "started", result
    assert len(jobs()) == 1
    if step == "after-create":  # run.json is left to the holder while its lease runs; then a delivery records the job
        later(monkeypatch, 700)
    (again,) = handle(sqs, Context())["results"]
    assert again["status"] == "duplicate" and again["job_name"] == jobs()[0]
    record = json.loads(
        aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=result["run_record"].split("/", 3)[3])["Body"].read()
    )
    assert record["status"] in ("started", "complete") and record["training"]["job_name"] == jobs()[0]
    counts = versions(pipeline.data_bucket)
    # each split file written by the killed delivery and at most once more by the one that took over
    assert all(counts[f] <= 2 for f in ("train/part-00000", "validation/part-00000", "test/part-00000")), counts
    assert all(counts[f] == 1 for f in ("validation/part-00000", "test/part-00000") if step in STEPS[3:]), counts


def test_a_failed_create_whose_claim_cannot_be_released_is_retried_and_never_a_duplicate(
    pipeline: Pipeline, catalogue, quick, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, _ = event_for(pipeline, "norelease", tmp_path)
    with inject("sagemaker", "CreateTrainingJob", "5xx", times=None) as create, inject("s3", "DeleteObject", "5xx", times=None):
        (failed,) = _results(event)
    catalogue.record("faults injected", create.injected)
    assert failed["status"] == "failed" and failed["retryable"] is True
    assert jobs() == []
    (busy,) = _results(event)  # the claim is still there, its lease running: retryable, not "duplicate"
    assert busy["status"] == "failed" and busy["retryable"] is True and "another delivery" in busy["reason"]
    later(monkeypatch, 700)
    (done,) = _results(event)
    assert done["status"] == "started" and done["job_name"]
    assert len(jobs()) == 1


def _results(event: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = {"Records": [{"messageId": "m1", "body": json.dumps(event), "eventSource": "aws:sqs"}]}
    return list(handle(sqs, Context())["results"])


def test_8_concurrent_processes_write_every_file_once(pipeline: Pipeline, catalogue, tmp_path: Path) -> None:
    _, path = event_for(pipeline, "eight", tmp_path, rows=400)
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda _: child(["none", "handler", str(path)]), range(8)))
    catalogue.record("duplicates delivered", 7)
    results = [json.loads(d.stdout.strip().splitlines()[-1])["results"][0] for d in done]
    statuses = Counter(r["status"] for r in results)
    assert statuses == {"started": 1, "duplicate": 7}, [r.get("reason") for r in results]
    assert statuses == {"started": 1, "duplicate": 7}, results
    assert len(jobs()) == 1
    counts = versions(pipeline.data_bucket)
    # the losers stopped before writing: one version of every split file, run.json committed then started
    assert {f: counts[f] for f in ("train/part-00000", "validation/part-00000", "test/part-00000")} == dict.fromkeys(
        ("train/part-00000", "validation/part-00000", "test/part-00000"), 1
    ), counts
    assert counts["run.json"] == 2, counts


# ------------------------------------------------------------------------------------- the command line


def local_csv(path: Path, rows: int = 400) -> Path:
    lines = ["f1,f2,y_no,y_yes"] + [f"{i % 13},{(i * 7) % 11},{int(i % 3 != 0)},{int(i % 3 == 0)}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli_args(src: Path, out: Path, *more: str) -> list[str]:
    return ["run", str(src), "-o", str(out), "-q", "-H", "num_round=5", "--date", "2026-03-04", *more]


def hidden_or_temporary(out: Path) -> list[str]:
    return [
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and (p.name.startswith(".") or p.relative_to(out).parts[0] == "_tmp")
    ]


@pytest.mark.parametrize("step", ["after-claim", "mid-train-file", "after-train-file", "after-run-json", "mid-training"])
def test_a_local_run_killed_at_any_step_is_completed_by_the_next_run(tmp_path: Path, catalogue, step: str) -> None:
    src, out = local_csv(tmp_path / "data.csv"), tmp_path / "out"
    killed = child([step, "cli", *cli_args(src, out)])
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-2000:]
    catalogue.record("kills survived")
    rerun = child(["none", "cli", *cli_args(src, out)])
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    (record_path,) = out.rglob("run.json")
    record = json.loads(record_path.read_text())
    assert record["status"] == "complete" and record["training"]["status"] == "Completed", record["training"]
    assert hidden_or_temporary(out) == []  # the killed run's temporary file was removed, none in a channel
    again = child(["none", "cli", *cli_args(src, out)])
    assert again.returncode == 0 and "already done" in again.stdout + again.stderr


def test_sigterm_during_a_streaming_split_removes_its_temporary_folder_and_partial_files(tmp_path: Path, catalogue) -> None:
    src, out, tmp = local_csv(tmp_path / "data.csv", 2000), tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp / f"model-training-{dead.pid}-abcd"  # what a run killed earlier left
    leftover.mkdir()
    (leftover / "bucket-0000.rows").write_bytes(b"x" * 1000)
    env = {"MODEL_TRAINING_TMP_DIR": str(tmp)}
    terminated = child(["after-train-file", "cli", *cli_args(src, out, "--stream")], sig="SIGTERM", env=env)
    catalogue.record("kills survived")
    assert terminated.returncode == 143, terminated.stdout[-2000:] + terminated.stderr[-2000:]
    assert list(tmp.iterdir()) == []  # its own temporary folder and the dead run's
    assert [p for p in out.rglob("*") if p.is_file()] == []  # the train file written before SIGTERM is removed


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill ({done.stderr.strip() or 'mount failed'}): needs root")


def test_a_full_disk_leaves_nothing_and_is_retryable_then_the_run_completes(tmp_path: Path, catalogue) -> None:
    src, out = local_csv(tmp_path / "data.csv", 600_000), tmp_path / "small-disk"
    assert src.stat().st_size > 4 * 2**20
    _mount_tmpfs(out, "4m")
    try:
        full = child(["none", "cli", *cli_args(src, out)])
        catalogue.record("disks filled")
        assert full.returncode == 75, full.stdout[-2000:] + full.stderr[-2000:]
        assert "No space left on device" in full.stderr and "failed earlier" not in full.stderr
        assert [p for p in out.rglob("*") if p.is_file()] == []  # no partial split, no temporary file, no claim
        subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)  # space freed
        rerun = child(["none", "cli", *cli_args(src, out)])
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
        (record_path,) = out.rglob("run.json")
        assert json.loads(record_path.read_text())["training"]["status"] == "Completed"
    finally:
        subprocess.run(["umount", str(out)], check=False)
