"""``model-training jobs list|describe``: the training jobs and hyperparameter tuning jobs of the local backend (its
records under the output folder) or of SageMaker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_training.cli.guard import guarded
from model_training.cli.help import Command, new_app
from model_training.cli.options import Backend, BackendOpt, JobNameArg, OutputOpt, RecordJsonOpt, TrialsOpt
from model_training.cli.render import jobs_command
from model_training.cli.render_jobs import print_job, print_job_listing
from model_training.output.layout import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.sagemaker import SageMakerBackend

app = new_app("Training and tuning jobs: the local backend's records, or SageMaker's (--backend sagemaker).")


@app.command("list", cls=Command)
def jobs_list(output: OutputOpt = str(DEFAULT_OUTPUT), backend: BackendOpt = Backend.local, trials: TrialsOpt = False) -> None:
    """List the training jobs, newest first, then the hyperparameter tuning jobs: the local records under -o, or
    SageMaker's. A search's training jobs (its trials) are listed under their tuning job with --trials."""

    def show() -> None:
        from model_training.wiring import jobs_backend, jobs_folder

        where = str(jobs_folder(output)) if backend == Backend.local else "SageMaker"
        found = jobs_backend(output, backend.value)
        print_job_listing(found.list_training_jobs(), found.list_hyper_parameter_tuning_jobs(), where, trials=trials)

    guarded(show)


@app.command("describe", cls=Command)
def jobs_describe(
    name: JobNameArg, output: OutputOpt = str(DEFAULT_OUTPUT), backend: BackendOpt = Backend.local, as_json: RecordJsonOpt = False
) -> None:
    """Show one training job: status, failure reason, final metrics, model artifact, timings, and what its run's
    run.json records of it. For a hyperparameter tuning job: its trials as a table (trial, status, objective, tuned
    values, seconds; the best and the untuned trial marked), the best hyperparameters, and what its run's run.json
    records (the model copied for deployment, the plot of the objective against the trial)."""

    def show() -> None:
        from model_training.errors import TrainingJobNotFoundError
        from model_training.wiring import job_run_record, jobs_backend

        found = jobs_backend(output, backend.value)
        try:
            job = found.describe_training_job(name)
        except TrainingJobNotFoundError as not_a_job:
            try:
                description = found.describe_hyper_parameter_tuning_job(name)
            except TrainingJobNotFoundError:
                # the jobs there are, listed from the same folder (or SageMaker): the command that lists them
                listing = jobs_command(["list"], output, sagemaker=backend == Backend.sagemaker)
                raise TrainingJobNotFoundError(
                    f"{not_a_job.message}, nor a hyperparameter tuning job of that name",
                    f"check the name; the jobs there are: {listing}; a run's tuning job is named in its summary and "
                    "run.json (tuning.job_name)",
                ) from None
            show_tuning_job(found, description, as_json=as_json, output=output)
            return
        print_job(job, as_json=as_json, recorded=job_run_record(job, output), output=output)

    guarded(show)


def show_tuning_job(
    found: LocalTrainingBackend | SageMakerBackend, description: dict[str, Any], *, as_json: bool, output: str
) -> None:
    """Print a tuning job (:func:`~model_training.cli.render_tuning.print_tuning_job`) with its trials and what its
    run's ``run.json`` records (found beside the channels of its ``TrainingJobDefinition``, or in ``output``'s copy of
    its bucket).

    Raises:
        TrainingJobError: the description names a best training job that is not one of its own.
    """
    from model_training.cli.render_tuning import print_tuning_job
    from model_training.training.tuning_outcome import tuning_record
    from model_training.wiring import job_run_record

    name = str(description["HyperParameterTuningJobName"])
    trials = found.list_training_jobs_for_hyper_parameter_tuning_job(name)
    tuning = tuning_record(description, trials, found.backend_name)
    recorded = job_run_record(dict(description.get("TrainingJobDefinition") or {}), output)
    print_tuning_job(tuning, description, as_json=as_json, recorded=recorded)
