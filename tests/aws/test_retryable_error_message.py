"""What the Lambda function reports when it raises so that Lambda retries an S3 event: the runtime's
``errorMessage`` is ``str(exception)`` (it is what CloudWatch, an on-failure destination and a DLQ record show).

Before the architecture change ``RetryableError`` was a ``RuntimeError`` and ``str()`` was its message.  It is now
a ``TransientError`` (a ``ModelTrainingError``), whose ``__str__`` appends the hint in parentheses, so the
function's error message changed to
``1 of 1 record(s) failed transiently; the log names them (object and version) (a transient failure: Lambda
retries the event; by hand, run it again)``.  The changelog lists the new class, not a new message; the
refactoring promised the same error messages.
"""

from __future__ import annotations

import pytest

from model_training import lambda_handler
from model_training.errors import RetryableError
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, small_csv

#: The function's error message before the architecture change (c298c9f), for one record that failed transiently.
MESSAGE = "1 of 1 record(s) failed transiently; the log names them (object and version)"


def test_the_retry_signal_keeps_its_error_message(pipeline: Pipeline) -> None:
    key = "automl/2026-03-04/t.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME)
    with pytest.raises(RetryableError) as raised:
        lambda_handler(event, Context(remaining_ms=5_000))  # too little time left: the record fails transiently
    assert raised.value.message == MESSAGE  # the message itself is unchanged
    assert str(raised.value) == MESSAGE  # what the Lambda runtime reports as errorMessage
