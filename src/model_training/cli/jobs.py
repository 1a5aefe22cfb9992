"""``model-training jobs list|describe``: the training jobs of the local backend (its records under the output
folder) or of SageMaker."""

from __future__ import annotations

from model_training.cli.guard import guarded
from model_training.cli.help import Command, new_app
from model_training.cli.options import Backend, BackendOpt, JobNameArg, OutputOpt, RecordJsonOpt
from model_training.cli.render import jobs_command, print_job, print_jobs
from model_training.output.layout import DEFAULT_OUTPUT

app = new_app("Training jobs: the local backend's records, or SageMaker's (--backend sagemaker).")


@app.command("list", cls=Command)
def jobs_list(output: OutputOpt = str(DEFAULT_OUTPUT), backend: BackendOpt = Backend.local) -> None:
    """List the training jobs, newest first: the local records under -o, or SageMaker's."""

    def show() -> None:
        from model_training.wiring import jobs_backend, jobs_folder

        where = str(jobs_folder(output)) if backend == Backend.local else "SageMaker"
        print_jobs(jobs_backend(output, backend.value).list_training_jobs(), where)

    guarded(show)


@app.command("describe", cls=Command)
def jobs_describe(
    name: JobNameArg, output: OutputOpt = str(DEFAULT_OUTPUT), backend: BackendOpt = Backend.local, as_json: RecordJsonOpt = False
) -> None:
    """Show one training job: status, failure reason, final metrics, model artifact, timings, and what its run's
    run.json records of it."""

    def show() -> None:
        from model_training.errors import TrainingJobNotFoundError
        from model_training.wiring import job_run_record, jobs_backend

        try:
            job = jobs_backend(output, backend.value).describe_training_job(name)
        except TrainingJobNotFoundError as exc:  # the jobs there are, listed from the same folder (or SageMaker)
            listing = jobs_command(["list"], output, sagemaker=backend == Backend.sagemaker)
            raise exc.with_hint(f"check the name; the jobs there are: {listing}") from None
        print_job(job, as_json=as_json, recorded=job_run_record(job))

    guarded(show)
