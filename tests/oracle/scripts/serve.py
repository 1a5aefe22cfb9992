"""Runs in an oracle environment: the image's serving path on a ``model.tar.gz``.

stdin: ``{"model_tar": path, "csv": path, "workdir": empty dir}``: ``csv`` holds the feature rows as the
evaluation stage sends them to the endpoint (``text/csv``, no header, no label).  The archive is unpacked
to ``{workdir}/model`` as SageMaker unpacks it to ``/opt/ml/model``; ``serve_utils.get_loaded_booster``
loads it (pickle first, then ``Booster.load_model``), ``serve_utils.parse_content_data`` reads the rows and
``serve_utils.predict`` scores them.

stdout (last line): ``{"xgboost": version, "format": model format, "base_score": the loaded booster's
base_score as its config states it, "predictions": [float, ...]}``.
"""

import json
import os
import sys
import tarfile

import xgboost as xgb
from sagemaker_xgboost_container.algorithm_mode import serve_utils


def main():
    job = json.load(sys.stdin)
    model_dir = os.path.join(job["workdir"], "model")
    os.makedirs(model_dir, exist_ok=True)
    with tarfile.open(job["model_tar"]) as tar:
        tar.extractall(model_dir)
    booster, model_format = serve_utils.get_loaded_booster(model_dir)
    with open(job["csv"], "rb") as fh:
        payload = fh.read()
    dtest, content_type = serve_utils.parse_content_data(payload, "text/csv")
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]  # as serve.ScoringService does
    predictions = serve_utils.predict(booster, model_format, dtest, content_type, objective)
    config = json.loads(booster.save_config())
    print(
        json.dumps(
            {
                "xgboost": xgb.__version__,
                "format": model_format,
                "base_score": config["learner"]["learner_model_param"]["base_score"],
                "num_feature": booster.num_features(),
                "predictions": [float(p) for p in predictions],
            }
        )
    )


main()
