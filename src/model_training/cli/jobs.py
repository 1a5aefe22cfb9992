"""``model-training jobs list|describe``: the training jobs of the local backend (its records under the output
folder) or of SageMaker."""

from __future__ import annotations

import typer

from model_training.cli.guard import guarded
from model_training.cli.options import Backend, BackendOpt, JobNameArg, OutputOpt, RecordJsonOpt
from model_training.cli.render import print_job, print_jobs
from model_training.output.layout import DEFAULT_OUTPUT

app = typer.Typer(help="Training jobs: the local backend's records, or SageMaker's (--backend sagemaker).", no_args_is_help=True)


@app.command("list")
def jobs_list(output: OutputOpt = DEFAULT_OUTPUT, backend: BackendOpt = Backend.local) -> None:
    """List training jobs, newest first (local records, or SageMaker's)."""

    def show() -> None:
        from model_training.wiring import jobs_backend

        print_jobs(jobs_backend(output, backend.value).list_training_jobs(), backend.value)

    guarded(show)


@app.command("describe")
def jobs_describe(
    name: JobNameArg, output: OutputOpt = DEFAULT_OUTPUT, backend: BackendOpt = Backend.local, as_json: RecordJsonOpt = False
) -> None:
    """Show one training job: status, failure reason, final metrics, model artifact, timings, and what its run's
    run.json records of it."""

    def show() -> None:
        from model_training.wiring import job_run_record, jobs_backend

        job = jobs_backend(output, backend.value).describe_training_job(name)
        print_job(job, as_json=as_json, recorded=job_run_record(job))

    guarded(show)
