"""A child process for the crash tests: runs the Lambda handler on an event, or the command line, and kills
itself (SIGKILL) or terminates itself (SIGTERM) at a named step of the commit and create sequence.

    python -m tests.reliability.crash_driver STEP SIGNAL handler EVENT.json [REMAINING_MS]
    python -m tests.reliability.crash_driver STEP SIGNAL cli ARG...

The hooks wrap the product's functions in this process only (test-only: nothing in the package knows of
them).  Steps:

``after-claim``        the run claim was just taken
``mid-train-file``     the first chunk of ``train/part-00000`` is written (locally: into the temporary file)
``after-train-file``   ``train/part-00000`` is written, the other files not
``after-run-json``     ``run.json`` is committed, the job not created
``before-create``      just before ``CreateTrainingJob``
``after-create``       the job exists, ``run.json`` does not record it
``after-outcome``      ``run.json`` records the job
``mid-training``       a local job is training
``after-handoff``      the hand-off's ``handoff.json`` is written, its processing job not yet created
``after-processing``   the handler created the processing job of a hand-off (after its record), has not answered
``none``               no kill
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any


def main() -> None:
    step, sig_name, mode, *args = sys.argv[1:]
    sig = getattr(signal, sig_name)

    def at(name: str) -> None:
        if name == step:
            sys.stdout.flush()
            os.kill(os.getpid(), sig)

    from model_training import pipeline
    from model_training.output import claims
    from model_training.output.local_store import LocalStore
    from model_training.output.s3_store import S3Store
    from model_training.training import jobs
    from model_training.training import local as local_backend
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.sagemaker import SageMakerBackend

    acquire = claims.acquire

    def acquire_then(*a: Any, **k: Any) -> Any:
        claim = acquire(*a, **k)
        if claim is not None:
            at("after-claim")
        return claim

    claims.acquire = acquire_then

    for store in (S3Store, LocalStore):

        def make(write: Any) -> Any:
            def hooked(self: Any, key: str, chunks: Any) -> Any:
                if not key.endswith("/train/part-00000"):
                    return write(self, key, chunks)

                def pieces() -> Any:
                    for i, chunk in enumerate(chunks):
                        yield chunk
                        if i == 0:
                            at("mid-train-file")

                obj = write(self, key, pieces())
                at("after-train-file")
                return obj

            return hooked

        store.write = make(store.write)  # type: ignore[method-assign]

    commit = pipeline.commit_record

    def commit_then(*a: Any, **k: Any) -> Any:
        record = commit(*a, **k)
        at("after-run-json")
        return record

    pipeline.commit_record = commit_then

    for backend in (SageMakerBackend, LocalTrainingBackend):

        def make_create(create: Any) -> Any:
            def hooked(self: Any, request: dict[str, Any]) -> Any:
                at("before-create")
                arn = create(self, request)
                at("after-create")
                return arn

            return hooked

        backend.create_training_job = make_create(backend.create_training_job)  # type: ignore[method-assign]

    train = local_backend.train_model

    def train_then(record: Any, log: Any, reporter: Any, **options: Any) -> Any:
        at("mid-training")
        return train(record, log, reporter, **options)

    local_backend.train_model = train_then

    from model_training import handoff

    start_processing = handoff.start_processing_job

    def start_processing_then(*a: Any, **k: Any) -> Any:
        found = start_processing(*a, **k)
        at("after-processing")
        return found

    handoff.start_processing_job = start_processing_then
    create_exclusive = S3Store.create_exclusive

    def create_exclusive_then(self: Any, key: str, data: bytes) -> bool:
        created = create_exclusive(self, key, data)
        if key.endswith("/handoff.json"):
            at("after-handoff")
        return created

    S3Store.create_exclusive = create_exclusive_then  # type: ignore[method-assign]

    # run.json records the job in training.jobs.train (a new job) and in the pipeline (a job found on a later
    # delivery): both modules' names are hooked, each wrapping the function it calls.
    for module in (jobs, pipeline):
        if not hasattr(module, "record_job_outcome"):
            continue

        def make_outcome(outcome: Any) -> Any:
            def outcome_then(*a: Any, **k: Any) -> Any:
                record = outcome(*a, **k)
                at("after-outcome")
                return record

            return outcome_then

        module.record_job_outcome = make_outcome(module.record_job_outcome)  # type: ignore[attr-defined]

    if mode == "handler":
        from model_training.handler import handle
        from tests.fixtures import Context

        with open(args[0], encoding="utf-8") as fh:
            event = json.load(fh)
        remaining = int(args[1]) if len(args) > 1 else 600_000
        print(json.dumps(handle(event, Context(remaining))))
    else:
        from model_training import cli

        sys.argv = ["model-training", *args]
        cli.main()


if __name__ == "__main__":
    main()
