"""A local hyperparameter tuning job's search, with Optuna: the trials are local training jobs (the same code
path as a single job: :meth:`~model_training.training.local.LocalTrainingBackend.run_training_job`), each with
its own record, log, metrics, learning curve and model, under the ``S3OutputPath`` of the request's
``TrainingJobDefinition`` (``{S3OutputPath}/{trial name}/output/``), as SageMaker places a tuning job's models.

Strategies (``HyperParameterTuningJobConfig.Strategy``) and their Optuna samplers:

* ``Bayesian``: ``TPESampler`` (its first ``max(1, min(10, MaxNumberOfTrainingJobs // 2))`` trials are random);
* ``Random``: ``RandomSampler``;
* ``Grid``: every combination of the categorical ranges once, in the order of
  :func:`~model_training.algorithm.tuning.grid_trials` (names sorted, the last varying fastest), each put in
  the study's queue (``enqueue_trial``) so that a resumed search runs exactly those not yet run; the study's
  sampler is a ``GridSampler`` over the same combinations, which would only draw if the queue ran dry;
* ``Hyperband``: ``TPESampler`` (Optuna's recommended partner) with a ``HyperbandPruner`` whose resource is the
  boosting round: ``min_resource`` and ``max_resource`` are ``HyperbandStrategyConfig``'s ``MinResource`` and
  ``MaxResource`` (without one: 1 and the static ``num_round``), ``reduction_factor`` 3 (Optuna's default).

Early stopping ``Auto``: :class:`~model_training.training.local_tuning_space.RunningAverageMedianPruner`
(SageMaker's rule).  A pruner sees the validation channel's objective metric after every round (through the
training's round watch; step = rounds trained) and a trial it stops is recorded ``Stopped``, SageMaker's word
for a training job its tuning stopped early.

The baseline: before the search, trial 000 trains the untuned configuration (the static hyperparameters and
the ``baseline`` values of the tuned ones; a value of ``None`` leaves the container's default).  It is never
stopped early, it is not one of the ``MaxNumberOfTrainingJobs`` searched trials (numbered 001 on), and it is a
candidate for the best trial, so the search's best is never worse than no tuning.  It is a trial apart
rather than the study's first enqueued one because its values may lie outside the ranges (or be the
container's defaults, unknown here) and a Grid must still run every combination; when all its values lie
inside the ranges it is also added to the study as a finished trial, so the sampler and the early stopping
rule learn from it.

Parallelism: ``min(MaxParallelTrainingJobs, cores, trials)`` trials at once, in threads (XGBoost releases
the GIL while it trains), each XGBoost with ``cores // that`` threads unless the static hyperparameters set
``nthread``.  No trial starts after ``ResourceLimits.MaxRuntimeInSeconds`` (when given); those running finish.

Determinism, for a ``RandomSeed`` (else :data:`DEFAULT_SEED`): with one trial at a time every strategy picks
the same hyperparameters, names the trials alike and trains the same models on the same machine (XGBoost's
sums may differ in the last digits with another thread count).  With several at once, the values depend on
the order in which trials start and finish (Random draws in the order trials start, TPE learns from those
finished), except for Grid: the same combinations under the same names; only early stopping, which compares
with finished trials, may then differ.  A resumed search draws with :func:`sampler_seed`'s seed.

A failed trial (bad data or hyperparameters for one configuration) is recorded ``Failed`` with its reason,
and the search goes on; the tuning job ends ``Completed`` if at least one trial (trial 000 included)
completed with a value of the objective metric (it has a best training job), else ``Failed``.

Crash safety: the tuning job's record says ``InProgress`` until the search has ended, and names its owner
(host, process id and start time) while it runs.  Creating it again fails (``TrainingJobExistsError``, as
SageMaker's ``ResourceInUse``); the caller describes it and, finding it ``InProgress``, runs it, as the stage
runs a local training job it finds ``InProgress``.  A run of a tuning job whose owner is gone (killed, or the
machine rebooted: another boot is another host) resumes it: trials left ``InProgress`` are trained again from
the start (as a local training job left ``InProgress`` is), the finished ones are kept, count towards
``MaxNumberOfTrainingJobs`` and are added to the study (their final values; the per-round values the pruners
saw are not kept), and the search runs the trials still missing, numbered after the last.  An owner that is
alive on this machine makes the run fail with ``RunBusyError``.  A machine failure in a trial (disk full, out
of memory: ``EnvironmentFailure``) ends the run the same way, the tuning job left ``InProgress``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from model_training.algorithm.hyperparameter_rules import ALIASES
from model_training.errors import ConfigurationError, RunBusyError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.processes import host_id, process_start
from model_training.progress import Reporter
from model_training.training.local_training import History, Watch
from model_training.training.local_tuning_records import (
    BASELINE_TRIAL,
    TuningRecords,
    best_trial,
    failure_reason,
    now,
    objective_value,
    summary,
    trial_name,
)

#: The search's seed when the request has no ``RandomSeed``.
DEFAULT_SEED = 0
#: Hyperband's ``reduction_factor`` (Optuna's default: a third of the trials at a rung go on to the next).
REDUCTION_FACTOR = 3
#: The keys of a ``TrainingJobDefinition`` a trial's ``CreateTrainingJob`` request takes as they are.
DEFINITION_KEYS = (
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "RoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
)


class TrialBackend(Protocol):
    """What the search needs of the local backend: training jobs in its jobs folder."""

    jobs_dir: Path
    reporter: Reporter

    def create_training_job(self, request: dict[str, Any]) -> str: ...

    def run_training_job(self, name: str, *, watch: Watch | None = None, nthread: int | None = None) -> dict[str, Any]: ...


class _TrialFailed(Exception):
    """A trial ended without a value of the objective metric (``Failed``, or no such metric)."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def sampler_seed(seed: int, next_trial: int) -> int:
    """The sampler's seed for a run of the search whose first new trial is ``next_trial``: ``seed`` for a fresh search,
    else the first 32 bits of the SHA-256 of ``{seed}/{next_trial}``: a resumed sampler seeded with ``seed`` would
    draw the first trials' values again (Random, and TPE's random startup trials)."""
    if next_trial <= 1:
        return seed
    return int.from_bytes(hashlib.sha256(f"{seed}/{next_trial}".encode()).digest()[:4], "big")


def run_search(backend: TrialBackend, name: str, baseline: Mapping[str, str | None] | None) -> dict[str, Any]:
    """Run tuning job ``name``'s search to its end (see the module docstring); returns its description.

    Raises:
        TrainingJobNotFoundError: no such tuning job.
        RunBusyError: a live process on this machine owns the search.
        ConfigurationError: Optuna is not installed.
        ValueError: a ``baseline`` name is not tuned.
        EnvironmentFailure: the machine failed a trial (the tuning job stays ``InProgress``).
    """
    records = TuningRecords(backend.jobs_dir)
    record = records.load(name)
    if record["HyperParameterTuningJobStatus"] != "InProgress":
        return records.describe(name)
    try:
        import optuna
    except ImportError:
        raise ConfigurationError(
            "a local hyperparameter tuning job searches with Optuna, which is not installed",
            "install the local extra (pip install -e '.[local]'), or pip install optuna",
        ) from None
    _take_ownership(record, name)
    if baseline is not None:
        record["BaselineHyperParameters"] = _container_names(baseline, record)
    records.save(record)
    # process-wide: trials are reported as training jobs (reporter, records), not as Optuna's log lines
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    started = time.monotonic()
    _Search(backend, records, record).run()
    record = records.load(name)
    objective = record["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    summaries = records.trial_summaries(name)
    best = best_trial(summaries, objective["Type"])
    ended = now()
    record.update(HyperParameterTuningJobStatus="Completed" if best is not None else "Failed")
    record.update(HyperParameterTuningEndTime=ended, LastModifiedTime=ended)
    record["ConsumedResources"] = {"RuntimeInSeconds": max(1, round(time.monotonic() - started))}
    if best is None:
        record["FailureReason"] = failure_reason(summaries, objective["MetricName"])
    record.pop("Owner", None)
    records.save(record)
    return records.describe(name)


def _take_ownership(record: dict[str, Any], name: str) -> None:
    owner: dict[str, Any] = record.get("Owner") or {}
    pid = os.getpid()
    here = owner.get("Host") == host_id() and owner.get("Pid") not in (None, pid)
    if here and owner.get("Start") is not None and process_start(int(owner["Pid"])) == owner["Start"]:
        raise RunBusyError(
            f"hyperparameter tuning job {name!r} is being run by process {owner['Pid']} on this machine",
            "wait for it to finish (describe the tuning job to follow it)",
        )
    record["Owner"] = {"Host": host_id(), "Pid": pid, "Start": process_start(pid)}


def _container_names(baseline: Mapping[str, str | None], record: Mapping[str, Any]) -> dict[str, str | None]:
    from model_training.training.local_tuning_space import dimensions

    tuned = {d.name for d in dimensions(record["HyperParameterTuningJobConfig"]["ParameterRanges"])}
    named = {ALIASES.get(key, key): value for key, value in baseline.items()}
    unknown = sorted(set(named) - tuned)
    if unknown:
        raise ValueError(f"baseline values of hyperparameters that are not tuned: {', '.join(unknown)}")
    return named


class _Search:
    """One run of a tuning job's search (fresh or resumed)."""

    def __init__(self, backend: TrialBackend, records: TuningRecords, record: dict[str, Any]) -> None:
        from model_training.training.local_tuning_space import dimensions

        self.backend, self.records, self.record = backend, records, record
        self.name: str = record["HyperParameterTuningJobName"]
        self.config: dict[str, Any] = record["HyperParameterTuningJobConfig"]
        self.definition: dict[str, Any] = record["TrainingJobDefinition"]
        self.objective: dict[str, str] = self.config["HyperParameterTuningJobObjective"]
        self.metric = self.objective["MetricName"]
        self.dims = dimensions(self.config["ParameterRanges"])
        limits = self.config["ResourceLimits"]
        self.max_trials = int(limits["MaxNumberOfTrainingJobs"])
        self.workers = max(1, min(int(limits.get("MaxParallelTrainingJobs", 1)), cores(), self.max_trials))
        self.nthread = max(1, cores() // self.workers)
        self.seed = int(self.config.get("RandomSeed", DEFAULT_SEED))
        self.lock = threading.Lock()

    # -- the search ---------------------------------------------------------------------------------
    def run(self) -> None:
        import optuna

        trials = self.records.trials(self.name)
        for number, job in trials.items():
            if job["TrainingJobStatus"] == "InProgress":  # left by a search that died: trained again
                trials[number] = self.backend.run_training_job(job["TrainingJobName"], nthread=cores())
        curve: dict[int, float] = {}
        if BASELINE_TRIAL not in trials:
            values = self.record.get("BaselineHyperParameters", {})
            given = {k: v for k, v in values.items() if v is not None}
            trials[BASELINE_TRIAL] = self._train(BASELINE_TRIAL, given, curve, nthread=cores())  # alone: every core
        searched = [number for number in trials if number != BASELINE_TRIAL]
        remaining, next_trial = self.max_trials - len(searched), max(searched, default=0) + 1
        study = optuna.create_study(
            study_name=self.name,
            direction="maximize" if self.objective["Type"] == "Maximize" else "minimize",
            sampler=self._sampler(next_trial),
            pruner=self._pruner(),
        )
        for number, job in trials.items():
            self._add(study, job, curve if number == BASELINE_TRIAL else {})
        self._warm_start(study)
        first_number = len(study.trials)  # before the queue's trials
        if self.config["Strategy"] == "Grid":
            done = [trials[number].get("TunedHyperParameters", {}) for number in searched]
            queue = [combination for combination in self._grid() if combination not in done]
            for combination in queue:
                study.enqueue_trial(dict(combination))
            remaining = min(remaining, len(queue))
        if remaining <= 0:
            return

        def objective(trial: optuna.Trial) -> float:
            number = next_trial + trial.number - first_number
            tuned = {dim.name: dim.suggest(trial) for dim in self.dims}
            job = self._train(number, tuned, {}, trial)
            value = objective_value(job, self.metric)
            if job["TrainingJobStatus"] == "Stopped":
                raise optuna.TrialPruned()
            if job["TrainingJobStatus"] != "Completed" or value is None:
                raise _TrialFailed(job["TrainingJobName"])
            return value

        timeout = self.config["ResourceLimits"].get("MaxRuntimeInSeconds")
        study.optimize(objective, n_trials=remaining, n_jobs=self.workers, catch=(_TrialFailed,), timeout=timeout)

    def _sampler(self, next_trial: int) -> Any:
        """The strategy's sampler, seeded with :func:`sampler_seed` for the first trial this run numbers."""
        import optuna

        strategy, seed = self.config["Strategy"], sampler_seed(self.seed, next_trial)
        if strategy == "Random":
            return optuna.samplers.RandomSampler(seed=seed)
        if strategy == "Grid":
            space = {d.name: list(d.values) for d in self.dims}
            return optuna.samplers.GridSampler(space, seed=seed)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, min(10, self.max_trials // 2)))

    def _pruner(self) -> Any:
        import optuna

        from model_training.training.local_tuning_space import RunningAverageMedianPruner

        if self.config["Strategy"] == "Hyperband":
            resources = (self.config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
            rounds = self.definition.get("StaticHyperParameters", {}).get("num_round", "1")
            return optuna.pruners.HyperbandPruner(
                min_resource=int(resources.get("MinResource", 1)),
                max_resource=int(resources.get("MaxResource", rounds)),
                reduction_factor=REDUCTION_FACTOR,
            )
        if self.config.get("TrainingJobEarlyStoppingType") == "Auto":
            return RunningAverageMedianPruner()
        return optuna.pruners.NopPruner()

    def _grid(self) -> list[dict[str, str]]:
        """Every combination of the categorical ranges, as :func:`~model_training.algorithm.tuning.grid_trials`
        orders them (names sorted, the last varying fastest)."""
        names = [d.name for d in self.dims]
        return [dict(zip(names, c, strict=True)) for c in itertools.product(*(d.values for d in self.dims))]

    # -- one trial ------------------------------------------------------------------------------------
    def _train(
        self, number: int, tuned: dict[str, str], curve: dict[int, float], trial: Any = None, nthread: int | None = None
    ) -> dict[str, Any]:
        """Create and run trial ``number`` with the ``tuned`` values; ``curve`` receives the objective metric
        per round; an Optuna ``trial`` is told each value and may stop it (not the baseline's)."""
        name = trial_name(self.name, number, tuned)
        short = self.metric.split(":", 1)[1]

        def watch(epoch: int, history: History) -> bool:
            values = history.get("validation", {}).get(short)
            if not values or values[-1] != values[-1]:  # no such metric yet, or NaN
                return False
            curve[epoch + 1] = float(values[-1])
            if trial is None:
                return False
            trial.report(float(values[-1]), epoch + 1)
            return bool(trial.should_prune())

        # a trial of this name was created by an earlier run of this search, with the same values (its name hashes them)
        with contextlib.suppress(TrainingJobExistsError):
            self.backend.create_training_job(self._request(name, tuned))
        job = self.backend.run_training_job(name, watch=watch, nthread=nthread or self.nthread)
        self._reported(job)
        return job

    def _request(self, name: str, tuned: Mapping[str, str]) -> dict[str, Any]:
        """The trial's ``CreateTrainingJob`` request: the definition's, with the static and tuned
        hyperparameters and ``_tuning_objective_metric`` (as SageMaker passes it to the container), the tuning
        job's tags, and this backend's ``TuningJobArn`` and ``TunedHyperParameters``."""
        spec = self.definition["AlgorithmSpecification"]
        request: dict[str, Any] = {
            "TrainingJobName": name,
            "AlgorithmSpecification": {k: spec[k] for k in ("TrainingImage", "TrainingInputMode") if k in spec},
            "HyperParameters": {
                **self.definition.get("StaticHyperParameters", {}),
                **tuned,
                "_tuning_objective_metric": self.metric,
            },
            **{key: self.definition[key] for key in DEFINITION_KEYS if key in self.definition},
            "Tags": list(self.record.get("Tags", [])),
            "TuningJobArn": self.record["HyperParameterTuningJobArn"],
            "TunedHyperParameters": dict(tuned),
        }
        return request

    def _reported(self, job: Mapping[str, Any]) -> None:
        item = summary(job, self.name, self.objective)
        value = item.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
        shown = f", {self.metric} {value:.5f}" if value is not None else ""
        reason = f": {job['FailureReason']}" if "FailureReason" in job else ""
        self.backend.reporter.info(f"trial {job['TrainingJobName']}: {job['TrainingJobStatus']}{shown}{reason}")
        with self.lock:
            record = self.records.load(self.name)
            record["LastModifiedTime"] = now()
            self.records.save(record)

    # -- what the study learns from besides its own trials --------------------------------------------
    def _add(self, study: Any, job: Mapping[str, Any], curve: Mapping[int, float]) -> None:
        """Add a finished trial (this search's, or a parent's) to the study when its values lie in the ranges."""
        import optuna
        from optuna.trial import TrialState

        tuned = job.get("TunedHyperParameters", {})
        params = {d.name: d.param(tuned.get(d.name)) for d in self.dims}
        value = objective_value(job, self.metric)
        status = job["TrainingJobStatus"]
        if any(p is None for p in params.values()) or status not in ("Completed", "Stopped"):
            return
        if status == "Completed" and value is None:
            return
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={d.name: d.distribution() for d in self.dims},
                value=value if status == "Completed" else None,
                state=TrialState.COMPLETE if status == "Completed" else TrialState.PRUNED,
                intermediate_values=dict(curve),
            )
        )

    def _warm_start(self, study: Any) -> None:
        """Add the parent tuning jobs' trials (``WarmStartConfig``) to the study: the sampler starts from what
        they found.  They are not trials of this tuning job (not counted, never its best)."""
        for parent in (self.record.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs", []):
            try:
                jobs = self.records.trials(parent["HyperParameterTuningJobName"])
            except TrainingJobNotFoundError:
                continue  # removed since this tuning job was created
            for job in jobs.values():
                if job["TrainingJobStatus"] == "Completed":
                    self._add(study, job, {})
