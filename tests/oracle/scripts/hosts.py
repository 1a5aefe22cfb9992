"""Runs in an oracle environment: each host's channels loaded as the image's distributed training loads them.

stdin: ``{"hosts": [{"host": name, "train": dir, "validation": dir | null}], "content_type": "text/csv"}``: each
host's channel folders, holding the files SageMaker gave that host.
stdout (last line): ``[{"host": name, "train_rows": int | null, "validation_rows": int | null,
"include_in_training": bool}]``: the rows of the ``DMatrix`` the container's ``get_validated_dmatrices`` builds
for each channel (``null``: the container found no data), and whether the host takes part in distributed
training by the container's rule in ``sagemaker_train`` (no training data, or a validation channel without
data: the host leaves the training).
"""

import json
import sys

from input_lock import input_data_folder
from sagemaker_xgboost_container import data_utils
from sagemaker_xgboost_container.algorithm_mode.train import get_validated_dmatrices


def main():
    job = json.load(sys.stdin)
    content_type = data_utils.get_content_type(job.get("content_type", "text/csv"))
    out = []
    for host in job["hosts"]:
        with input_data_folder():  # the container links part files into one fixed folder (input_lock.py)
            train, validation, _ = get_validated_dmatrices(host["train"], host.get("validation"), content_type)
        missing_validation = host.get("validation") is not None and not validation
        out.append(
            {
                "host": host["host"],
                "train_rows": train.num_row() if train else None,
                "validation_rows": validation.num_row() if validation else None,
                "include_in_training": bool(train) and not missing_validation,
            }
        )
    print(json.dumps(out))


main()
