"""``model-training demo``: the whole stage on scikit-learn's breast-cancer data, offline
(:func:`model_training.demo.run_offline_demo`)."""

from __future__ import annotations

from pathlib import Path

from model_training.cli.guard import guarded
from model_training.cli.options import DemoOutputOpt, QuietOpt
from model_training.cli.render import RichReporter, out, print_demo, progress_bars
from model_training.errors import ModelTrainingError
from model_training.output.layout import DEFAULT_OUTPUT


def demo(output: DemoOutputOpt = DEFAULT_OUTPUT, quiet: QuietOpt = False) -> None:
    """Run the whole stage on scikit-learn's breast-cancer data, offline.

    An S3/SSM/SageMaker endpoint on this machine (moto's server) receives the data and the event, the Lambda
    handler splits it and starts the training job, and the local XGBoost backend trains it: no network, no AWS.
    """
    guarded(lambda: run_demo(output, quiet=quiet))


def run_demo(output: Path, *, quiet: bool) -> None:
    """Run the demo under ``output`` and show where its files are.

    Raises:
        ModelTrainingError: the demo's training job did not complete, or as the demo raises it (scikit-learn or
            moto missing, another XGBoost installed).
    """
    from model_training.demo import DEMO_LABEL, run_offline_demo

    out.print(f"demo: scikit-learn's breast-cancer data (label {DEMO_LABEL}) through the whole stage, offline")
    with progress_bars(quiet) as progress:
        outcome = run_offline_demo(output, say=out.print, reporter=RichReporter(progress))
    job = outcome["job"]
    if job["TrainingJobStatus"] != "Completed":
        raise ModelTrainingError(f"the demo's training job failed: {job.get('FailureReason')}", "see the job's log")
    print_demo(outcome, output)
