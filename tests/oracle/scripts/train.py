"""Runs in an oracle environment: the image's training entry point on a SageMaker folder layout.

stdin: ``{"hyperparameters": {name: str}, "train": dir, "validation": dir | null, "base": empty dir,
"input_data_config": the request's ``InputDataConfig`` (optional: content type, distribution and compression
per channel come from it; a channel without ``ContentType`` gets none, as SageMaker sends it), "content_type":
"text/csv" (without a request), "instance_count": 1}``.  The channel folders' files are copied to
``{base}/input/data/{channel}/`` as SageMaker downloads them; ``{base}/input/config/`` gets
``hyperparameters.json`` (string values), ``inputdataconfig.json`` and ``resourceconfig.json``; then
``sagemaker_xgboost_container.training:main`` (the image's ``SAGEMAKER_TRAINING_MODULE``) runs with
``SAGEMAKER_BASE_DIR={base}`` in a child process, as the image's ``train`` command would.

stdout (last line): ``{"ok": bool, "exit_code": int, "error": str | null, "log": [lines], "model": path | null}``;
``error`` is the failure the container wrote to ``{base}/output/failure``, else the log's last lines.
"""

import json
import os
import shutil
import subprocess
import sys

from input_lock import input_data_folder


def main():
    job = json.load(sys.stdin)
    base = job["base"]
    config = os.path.join(base, "input", "config")
    os.makedirs(config, exist_ok=True)
    os.makedirs(os.path.join(base, "model"), exist_ok=True)
    os.makedirs(os.path.join(base, "output", "data"), exist_ok=True)
    # inputdataconfig.json as SageMaker writes it from the request's InputDataConfig (when given)
    requested = {c["ChannelName"]: c for c in job.get("input_data_config") or []}
    channels = {}
    for name in ("train", "validation"):
        if job.get(name):
            shutil.copytree(job[name], os.path.join(base, "input", "data", name))
            asked = requested.get(name, {})
            source = asked.get("DataSource", {}).get("S3DataSource", {})
            channels[name] = {
                key: value
                for key, value in {
                    "ContentType": asked.get("ContentType") if asked else job.get("content_type", "text/csv"),
                    "TrainingInputMode": job.get("input_mode", "File"),
                    "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                    "RecordWrapperType": asked.get("RecordWrapperType", "None"),
                    "CompressionType": asked.get("CompressionType", "None"),
                }.items()
                if value is not None
            }
    hosts = [f"algo-{i + 1}" for i in range(job.get("instance_count", 1))]
    with open(os.path.join(config, "hyperparameters.json"), "w") as fh:
        json.dump(job["hyperparameters"], fh)
    with open(os.path.join(config, "inputdataconfig.json"), "w") as fh:
        json.dump(channels, fh)
    with open(os.path.join(config, "resourceconfig.json"), "w") as fh:
        json.dump({"current_host": hosts[0], "hosts": hosts, "network_interface_name": "lo"}, fh)
    env = dict(
        os.environ,
        SAGEMAKER_BASE_DIR=base,
        SAGEMAKER_TRAINING_MODULE="sagemaker_xgboost_container.training:main",
        # the image's Dockerfile.final.cpu sets these (ENV) under /opt/ml; here under the base folder
        SM_INPUT=os.path.join(base, "input"),
        SM_INPUT_TRAINING_CONFIG_FILE=os.path.join(config, "hyperparameters.json"),
        SM_INPUT_DATA_CONFIG_FILE=os.path.join(config, "inputdataconfig.json"),
        SM_CHECKPOINT_CONFIG_FILE=os.path.join(config, "checkpointconfig.json"),
        SM_MODEL_DIR=os.path.join(base, "model"),
    )
    code = "from sagemaker_xgboost_container import training; training.main()"
    with input_data_folder():  # one data loading at a time on this machine (input_lock.py)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    log = (proc.stdout + proc.stderr).splitlines()
    failure_file = os.path.join(base, "output", "failure")
    error = None
    if proc.returncode != 0:
        if os.path.exists(failure_file):
            with open(failure_file) as fh:
                error = fh.read().strip()
        else:
            error = "\n".join(log[-15:])
    model = os.path.join(base, "model", "xgboost-model")
    print(
        json.dumps(
            {
                "ok": proc.returncode == 0,
                "exit_code": proc.returncode,
                "error": error,
                "log": log,
                "model": model if os.path.exists(model) else None,
            }
        )
    )


main()
