"""A local job of several instances (``ResourceConfig.InstanceCount`` > 1), trained as the SageMaker XGBoost
container's distributed mode trains it (``algorithm_mode/train.py`` ``sagemaker_train``, ``distributed.py``
``rabit_run`` and ``Rabit``), with one worker process per host joined by XGBoost's own collective.

What it reproduces of the container:

* Hosts are ``algo-1`` ... ``algo-N``, as SageMaker names them.  A ``ShardedByS3Key`` channel gives host
  ``i`` (0-based, in that order) every N-th object of the channel by key order (:func:`shard`); a
  ``FullyReplicated`` channel gives every host every object.
* A host whose ``train`` share is empty, or whose ``validation`` share is empty when the job has a
  ``validation`` channel, leaves the training (the container logs a warning and the host exits 0).  None
  left: the job fails (the container's ``RuntimeError("No hosts received training data.")``); one left: it
  trains alone, as a single-host job.
* Two or more: the tracker (``xgboost.tracker.RabitTracker``, ``sortby="task"``) runs in the master host's
  worker process, as in the container, and each worker joins it with ``xgboost.collective.CommunicatorContext``
  as task ``hosts.index(host)`` of the hosts left sorted by name (``algo-10`` sorts before ``algo-2``, as in the
  container); the first of them is the master, and only the master saves the model.  XGBoost's collective
  sums the evaluation metrics over the workers, so the master's metrics are the job's.

Each worker trains with :func:`~model_training.training.local_training.train_model` on its share, so the
hyperparameters, logs, metrics and outputs are those of a single-host job; the job record's shape is the same.
The job's log holds the master's lines, then each other host's lines prefixed ``[algo-k]``.

Not reproduced: a ``watch`` (a tuning job's early stopping) sees one process only, so a job given one trains on
one host (:meth:`~model_training.training.local.LocalTrainingBackend.run_training_job`).  A host "has no data"
here when it is given no files; the container measures bytes, so a host given only empty files leaves the
training there and fails the job here.  The objects sharded are the files the container would read (names
starting with ``_`` and those deeper than 3 levels are left out before sharding, not after).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from model_training.algorithm.hyperparameters import ParsedHyperparameters, parse_hyperparameters
from model_training.algorithm.images import image_version
from model_training.errors import HyperparameterError
from model_training.progress import NullReporter, Reporter
from model_training.training.failures import ChannelDataError, first_line
from model_training.training.local_channels import channel_files, load_files
from model_training.training.local_training import TrainedModel, train_model
from model_training.training.xgboost_import import import_xgboost

#: How long a worker may take to train before the job fails (seconds): a worker left waiting on a peer that
#: died would otherwise wait for ever.
WORKER_TIMEOUT_SECONDS = 6 * 3600


def host_names(count: int) -> list[str]:
    """SageMaker's host names for ``count`` instances: ``algo-1`` ... ``algo-{count}``."""
    return [f"algo-{i}" for i in range(1, count + 1)]


def shard(keys: Sequence[str], hosts: int) -> list[list[str]]:
    """``ShardedByS3Key``: each of ``hosts`` instances' objects, host ``i`` (0-based) getting ``keys[i::hosts]``
    of the keys in key order (``sorted``).  A host gets none when there are fewer objects than hosts."""
    ordered = sorted(keys)
    return [ordered[i::hosts] for i in range(hosts)]


def train_distributed(
    record: dict[str, Any], log: Callable[[str], None], reporter: Reporter, *, nthread: int | None = None
) -> TrainedModel:
    """Train the job of ``record`` (created, ``InstanceCount`` > 1) on its hosts as the container does (see the
    module); logs as :func:`train_model` does, the master's lines first.  ``nthread``: each worker's XGBoost
    threads when the hyperparameters set none (default: this machine's cores shared among the workers).

    Raises:
        HyperparameterError: the hyperparameters break the container's rules.
        ChannelDataError: no host has training data, or a host's data cannot be used (see
            :func:`~model_training.training.local_channels.load_files`).
        RuntimeError: a worker failed otherwise (the job fails with its first line as an ``AlgorithmError``).
    """
    version = image_version(record["AlgorithmSpecification"]["TrainingImage"])
    parse_hyperparameters(record.get("HyperParameters", {}), version)  # refused here, before any worker starts
    hosts = host_names(int(record["ResourceConfig"]["InstanceCount"]))
    shares = host_shares(record, len(hosts))
    if "train" not in shares:
        raise ChannelDataError("the train channel is required")
    left = []
    for i, host in enumerate(hosts):
        empty = [name for name in ("train", "validation") if name in shares and not shares[name][i]]
        if empty:
            log(f"warning: host {host} has no {' and no '.join(empty)} data: it is not used in distributed training")
        else:
            left.append(host)
    if not left:
        raise ChannelDataError("no host received training data (the container: No hosts received training data.)")
    ranked = sorted(left)  # the container's Rabit sorts the hosts and makes the first the master
    index = {host: hosts.index(host) for host in ranked}
    if len(ranked) == 1:
        log(f"only {ranked[0]} has training data: single-host training")
        share = {name: files[index[ranked[0]]] for name, files in shares.items()}
        return train_model(record, log, reporter, nthread=nthread, loader=_loader(share))
    threads = nthread or max(1, (os.cpu_count() or 1) // len(ranked))
    log(f"distributed training on {len(ranked)} hosts: {', '.join(ranked)} (master {ranked[0]})")
    return _run_workers(record, log, reporter, shares, ranked, index, threads)


def host_shares(record: dict[str, Any], count: int) -> dict[str, list[list[str]]]:
    """Each channel's objects on each of ``count`` hosts: channel -> per host (``algo-1`` first) -> the relative
    names of its files (as :func:`~model_training.training.local_channels.channel_files` names them)."""
    shares = {}
    for c in record["InputDataConfig"]:
        source = c["DataSource"]["S3DataSource"]
        names = [rel for rel, _ in channel_files(c["ChannelName"], source["S3Uri"])]
        sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
        shares[c["ChannelName"]] = shard(names, count) if sharded else [sorted(names)] * count
    return shares


def _loader(share: dict[str, list[str]]) -> Callable[[str, str, ParsedHyperparameters], Any]:
    """A channel loader that reads only ``share``'s files of each channel."""

    def load(name: str, uri: str, hp: ParsedHyperparameters) -> Any:
        wanted = set(share.get(name, []))
        return load_files(name, uri, [f for f in channel_files(name, uri) if f[0] in wanted], hp)

    return load


def _run_workers(
    record: dict[str, Any],
    log: Callable[[str], None],
    reporter: Reporter,
    shares: dict[str, list[list[str]]],
    ranked: list[str],
    index: dict[str, int],
    threads: int,
) -> TrainedModel:
    """Start one worker process per host of ``ranked`` (a fresh interpreter each, which imports this package and
    nothing of the caller's ``__main__``; its output to ``{rank}.out``, added to the job's log when it fails),
    wait for them, and return the master's result."""
    package_root = str(Path(__file__).resolve().parents[2])  # the folder model_training is imported from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    name = record["TrainingJobName"]
    with (
        tempfile.TemporaryDirectory(prefix="distributed-") as tmp,
        reporter.task(f"training {name} on {len(ranked)} hosts", total=len(ranked), unit="hosts") as advance,
    ):
        workers: list[subprocess.Popen[bytes]] = []
        ended: set[int] = set()  # the ranks this process ended (a peer had failed, or the time ran out)
        timed_out = False
        try:
            for rank, host in enumerate(ranked):
                job = {
                    "record": record,
                    "share": {channel: files[index[host]] for channel, files in shares.items()},
                    "rank": rank,
                    "workers": len(ranked),
                    "threads": threads,
                    "folder": tmp,
                    "parent": os.getpid(),
                }
                Path(tmp, f"{rank}.job.json").write_text(json.dumps(job), encoding="utf-8")
                command = [sys.executable, "-c", f"{_WORKER}({str(Path(tmp, f'{rank}.job.json'))!r})"]
                with Path(tmp, f"{rank}.out").open("wb") as output:
                    workers.append(
                        subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
                    )
            timed_out = _wait(workers, advance)
        finally:
            for rank, process in enumerate(workers):
                if process.poll() is None:
                    process.kill()  # a worker left waiting on a peer that failed
                    ended.add(rank)
                process.wait()
        for rank, host in enumerate(ranked):
            lines = Path(tmp, f"{rank}.log")
            for line in lines.read_text(encoding="utf-8").splitlines() if lines.exists() else []:
                log(line if rank == 0 else f"[{host}] {line}")
        results = [_result(Path(tmp, f"{rank}.json")) for rank in range(len(ranked))]
        for rank, host in enumerate(ranked):
            if workers[rank].returncode != 0:  # what the failed worker printed (XGBoost, Python), last lines
                printed = Path(tmp, f"{rank}.out").read_text(encoding="utf-8", errors="replace").splitlines()
                for line in printed[-_OUTPUT_LINES:]:
                    log(f"[{host}] {line}")
    failed = [(rank, r) for rank, r in enumerate(results) if r is not None and "error" in r]
    # a data or hyperparameter error first: a peer of the worker that raised it fails in the collective after it;
    # then a worker that died by itself (killed, crashed): its peers' errors in the collective follow from it
    failed.sort(key=lambda f: (f[1]["kind"] not in ("ChannelDataError", "HyperparameterError"), f[0]))
    for rank, error in failed[:1]:
        if error["kind"] == "HyperparameterError":
            raise HyperparameterError(error["problems"])
        if error["kind"] == "ChannelDataError":
            raise ChannelDataError(f"{ranked[rank]}: {error['error']}")
    died = [rank for rank, r in enumerate(results) if r is None and rank not in ended]
    for rank in died[:1]:
        code = workers[rank].returncode
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        raise RuntimeError(f"the worker of {ranked[rank]} ended without a result ({how})")
    for rank, error in failed[:1]:
        raise RuntimeError(f"{ranked[rank]}: {error['error']}")
    if timed_out:
        raise RuntimeError(f"training on {len(ranked)} hosts did not finish within {WORKER_TIMEOUT_SECONDS} s: workers ended")
    for rank, missing in enumerate(results):
        if missing is None:
            raise RuntimeError(f"the worker of {ranked[rank]} ended without a result (exit code {workers[rank].returncode})")
    master = results[0]
    assert master is not None
    return TrainedModel(**master["trained"])


#: The last lines of a failed worker's output added to the job's log.
_OUTPUT_LINES = 20
#: The workers' master host writes the tracker's address here for the others (``{folder}/tracker.json``).
_TRACKER_FILE = "tracker.json"
_WORKER = "from model_training.training.local_distributed import worker_main; worker_main"


def _result(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _wait(workers: list[subprocess.Popen[bytes]], advance: Callable[[float], None]) -> bool:
    """Wait for every worker; the first that fails, or the timeout, ends the wait.  Returns whether the time ran out."""
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    pending = list(workers)
    while pending and time.monotonic() < deadline:
        for process in list(pending):
            if process.poll() is None:
                continue
            pending.remove(process)
            advance(1)
            if process.returncode != 0:
                return False
        time.sleep(0.05)
    return bool(pending)


def _end_with(parent: int) -> None:
    """End this worker process once its parent (the job's process, ``parent``) is gone: a job killed mid-training
    leaves no worker training on, nor writing the job's outputs after it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def worker_main(job_file: str) -> None:
    """One host's training, in its own process (ended when the job's process is gone): the master (rank 0) starts
    the tracker, as the container's master host does, and writes its address for the others; each joins the
    collective and trains on the host's share, the master writing the outputs; writes ``{rank}.log`` and
    ``{rank}.json`` (the result or the error) beside ``job_file`` (the JSON :func:`_run_workers` wrote: record,
    share, rank, workers, threads, folder, parent)."""
    xgb = import_xgboost()
    from xgboost.tracker import RabitTracker

    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    threading.Thread(target=_end_with, args=(int(job["parent"]),), daemon=True).start()
    out, rank = Path(job["folder"]), int(job["rank"])
    tracker = None
    if rank == 0:
        tracker = RabitTracker(n_workers=int(job["workers"]), host_ip="127.0.0.1", port=0, sortby="task")
        tracker.start()
        (out / "tracker.tmp").write_text(json.dumps(tracker.worker_args()), encoding="utf-8")
        (out / "tracker.tmp").rename(out / _TRACKER_FILE)  # whole, or not there
    while not (out / _TRACKER_FILE).exists():
        time.sleep(0.05)  # the parent ends a worker whose master failed
    tracker_args = {**json.loads((out / _TRACKER_FILE).read_text(encoding="utf-8")), "dmlc_task_id": str(rank)}
    result: dict[str, Any]
    with (out / f"{rank}.log").open("w", encoding="utf-8") as log_file:

        def log(line: str) -> None:
            log_file.write(line + "\n")
            log_file.flush()

        try:
            with xgb.collective.CommunicatorContext(**tracker_args):
                trained = train_model(
                    job["record"], log, NullReporter(), nthread=job["threads"], loader=_loader(job["share"]),
                    save_outputs=rank == 0,
                )  # fmt: skip
            result = {"trained": asdict(trained)}
        except HyperparameterError as exc:
            result = {"kind": "HyperparameterError", "error": str(exc), "problems": exc.problems}
        except ChannelDataError as exc:
            result = {"kind": "ChannelDataError", "error": str(exc)}
        except Exception as exc:  # any other failure fails the job as an AlgorithmError, as in one process
            log(traceback.format_exc())
            result = {"kind": type(exc).__name__, "error": first_line(exc)}
    (out / f"{rank}.json").write_text(json.dumps(result), encoding="utf-8")
    if tracker is not None and "error" not in result:  # after a failure the parent ends the process and its tracker
        tracker.free()
    if "error" in result:
        raise SystemExit(1)
