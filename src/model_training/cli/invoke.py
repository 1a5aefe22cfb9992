"""``model-training invoke``: run the Lambda handler on an event file and print its JSON response."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from model_training.cli.guard import guarded
from model_training.cli.options import EventFileArg
from model_training.cli.render import out
from model_training.errors import ModelTrainingError


def invoke(event_file: EventFileArg) -> None:
    """Run the Lambda handler on an event file and print its JSON response.

    The handler runs against whatever endpoint boto3 is configured for (AWS, MinIO, moto: AWS_ENDPOINT_URL).
    The event's bucket must be the data bucket the SSM parameters name, its key under automl/, and the object
    must exist; an eTag or versionId in the event pins that version (examples/s3-put-event.json has neither).
    Exit 1 if any record failed.
    """
    guarded(lambda: invoke_file(event_file))


def invoke_file(event_file: Path) -> None:
    """Hand the event to :func:`model_training.handler.handle` (its log on stderr, so stdout holds only the
    response), print the response as JSON, and exit 1 if any record failed.

    Raises:
        ModelTrainingError: as :func:`call_handler` raises it.
        typer.Exit: 1, a record of the response failed.
    """
    from model_training.handler import handle, logger

    handler = logger.registered_handler
    stream = handler.stream if isinstance(handler, logging.StreamHandler) else None
    if isinstance(handler, logging.StreamHandler):
        handler.stream = sys.stderr  # stdout: the response only (set directly: setStream flushes the old stream)
    try:
        response = call_handler(handle, event_file)
    finally:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = stream
    out.print_json(json.dumps(response, default=str))
    if any(r.get("status") == "failed" for r in response.get("results", [])):
        raise typer.Exit(1)


def call_handler(handle: Callable[..., dict[str, Any]], event_file: Path) -> dict[str, Any]:
    """``handle(event, None)`` for the event read from ``event_file``.

    Raises:
        ModelTrainingError: no such file, or not JSON.
        RetryableError: a record failed transiently; the Lambda runtime would retry the event (exit 75).
    """
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelTrainingError(f"{event_file}: no such file", "give the path of an event JSON file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelTrainingError(f"{event_file}: not JSON ({exc})", "give a Lambda event as JSON") from None
    return handle(event, None)
