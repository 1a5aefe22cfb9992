"""model-training: the training stage of an event-driven AutoML pipeline.

Importing the package is cheap (it is what a Lambda cold start does): the pipeline's parts are
imported by the code that uses them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point (handler string ``model_training.lambda_handler``); see
    :mod:`model_training.handler`.  The handler module is imported on the first invocation."""
    from model_training.handler import lambda_handler as handler

    return handler(event, context)
