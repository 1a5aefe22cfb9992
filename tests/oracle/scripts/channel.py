"""Runs in an oracle environment: the image's ``data_utils`` loads one channel folder as training does.

stdin: ``{"path": channel folder, "content_type": "text/csv", "csv_weights": 0}``.
stdout (last line): ``{"rows": int, "columns": int, "labels": {label: count}, "sum": float, "sum_squares": float}``:
the DMatrix's shape, its label counts, and the sums of every feature value and of their squares (float64),
which do not depend on the order the container happens to read the files in.
"""

import json
import sys

import numpy as np
from input_lock import input_data_folder
from sagemaker_xgboost_container import data_utils


def main():
    job = json.load(sys.stdin)
    content_type = data_utils.get_content_type(job.get("content_type", "text/csv"))
    with input_data_folder():  # the container links part files into one fixed folder (input_lock.py)
        dmatrix = data_utils.get_dmatrix(job["path"], content_type, csv_weights=job.get("csv_weights", 0))
    labels, counts = np.unique(dmatrix.get_label(), return_counts=True)
    out = {
        "rows": dmatrix.num_row(),
        "columns": dmatrix.num_col(),
        "labels": {repr(float(v)): int(c) for v, c in zip(labels, counts, strict=True)},
    }
    data = dmatrix.get_data().toarray().astype(np.float64)  # the stored values (float32), as CSR
    out["sum"] = float(np.nansum(data))
    out["sum_squares"] = float(np.nansum(data * data))
    print(json.dumps(out))


main()
