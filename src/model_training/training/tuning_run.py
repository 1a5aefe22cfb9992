"""A committed run's hyperparameter search, started in place of its training job when the configuration has a
``tuning`` section (:func:`tune`, called by the pipeline under the run's claim, as
:func:`~model_training.training.jobs.train` is).

1. The ``CreateHyperParameterTuningJob`` request (:func:`~model_training.training.tuning_request.tuning_request`)
   is sent unless the run's tuning job exists (:func:`~model_training.training.tuning_jobs.start_tuning_job`:
   its name is derived from the run id, so a second delivery finds it).
2. Where the backend runs jobs itself (local), the search runs to its end
   (``run_hyper_parameter_tuning_job``, the untuned configuration trained first as trial 000:
   :func:`~model_training.algorithm.tuning.untuned_values`); a search found ``InProgress`` (a delivery that
   died) is resumed.
3. Its state is recorded in ``run.json`` (:func:`~model_training.training.tuning_outcome.settle_tuning`): a
   search that has ended is drawn, and a completed one's best model copied once to the model output
   location; the run is then ``complete``.  On SageMaker the search runs on: the run is ``started`` with the
   search ``InProgress``, and SageMaker's ``HyperParameter Tuning Job State Change`` event finishes it, or a later
   delivery that finds the search ended (the pipeline's ``_search_ended``: the command line run again).
"""

from __future__ import annotations

from typing import Any

from model_training.algorithm.tuning import untuned_values
from model_training.config.run import RunConfig
from model_training.output.runrecord import RunRecord
from model_training.ports import Store, TrainingBackend
from model_training.progress import Reporter
from model_training.training.jobs import TrainingTarget, run_hyperparameters
from model_training.training.model_copy import ModelCopier
from model_training.training.tuning_jobs import start_tuning_job
from model_training.training.tuning_outcome import FINAL_TUNING_STATUSES, settle_tuning
from model_training.training.tuning_request import tuning_request


def tune(
    record: RunRecord,
    config: RunConfig,
    backend: TrainingBackend,
    target: TrainingTarget,
    store: Store,
    record_key: str,
    rep: Reporter,
) -> tuple[RunRecord, bool]:
    """Start the run's tuning job unless it exists, run its search where the backend runs jobs (local), and record
    it in ``run.json`` (see the module's documentation).  Returns the record and whether an earlier delivery did
    it all: the tuning job existed, and this call ran no search.

    Raises:
        HyperparameterError: the search does not fit the run's hyperparameters with those inferred from the data.
        ConfigurationError: the trials' models would land in the model output location.
        TrainingJobError: the backend refused the request; a completed search's best model cannot be copied
            (the search's outcome is recorded first, the run left ``started``).
        RunBusyError: another live process runs the local search.
        EnvironmentFailure: the machine failed a local trial (the search stays ``InProgress``; running again
            resumes it).
    """
    assert config.tuning is not None, "tune() needs a configuration with a tuning section"
    request = tuning_request(record, config, config.tuning, target, store)
    name = request["HyperParameterTuningJobName"]
    description, duplicate = start_tuning_job(request, backend, rep)
    if backend.runs_jobs and description["HyperParameterTuningJobStatus"] not in FINAL_TUNING_STATUSES:
        duplicate = False  # this delivery runs the search (a new one, or one an earlier delivery left)
        baseline = untuned_values(run_hyperparameters(record, config), config.tuning)
        rep.info(f"tuning job {name}: {config.tuning.max_trials} trials and the untuned configuration (trial 000)")
        description = backend.run_hyper_parameter_tuning_job(name, baseline)
    trials: list[dict[str, Any]] = []
    if backend.runs_jobs or description["HyperParameterTuningJobStatus"] in FINAL_TUNING_STATUSES:
        trials = backend.list_training_jobs_for_hyper_parameter_tuning_job(name)
    copier = ModelCopier(kms_key_id=config.training.output_kms_key_id)
    updated = settle_tuning(record, description, trials, backend.backend_name, store, record_key, target, copier)
    return updated, duplicate
