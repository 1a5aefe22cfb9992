"""The Lambda handler end to end against moto's server over HTTP: nothing in the product is mocked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.errors import RetryableError
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, eventbridge_object_created, jobs, run_day, small_csv, training_objects
from tests.keys import KEYS, PROCESSED
from tests.reference import original_split


def deliver(p: Pipeline, key: str, data: bytes, **kw: Any) -> dict[str, Any]:
    meta = upload(p.data_bucket, key, data)
    event = s3_event(
        p.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME, **kw
    )
    return lambda_handler(event, Context())


def objects(bucket: str, prefix: str = "") -> dict[str, bytes]:
    s3 = aws.client("s3")
    out = {}
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        out[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def test_s3_event_splits_into_the_data_bucket_and_starts_one_training_job(pipeline: Pipeline) -> None:
    response = deliver(pipeline, "automl/2026-03-04/small.csv", small_csv())
    (result,) = response["results"]
    assert result["status"] == "started", result
    run_id, job = result["run_id"], result["job_name"]
    prefix = f"automl/{run_day(pipeline.data_bucket, 'automl/2026-03-04/small.csv')}/training/small/{run_id}"
    written = objects(pipeline.data_bucket, prefix)
    assert set(written) == {f"{prefix}/{p}" for p in ("train/part-00000", "validation/part-00000", "test/part-00000", "run.json")}
    record = json.loads(written[f"{prefix}/run.json"])
    assert record["source"]["uri"] == f"s3://{pipeline.data_bucket}/automl/2026-03-04/small.csv"
    assert record["training"]["backend"] == "sagemaker" and record["training"]["job_name"] == job

    s3 = aws.client("s3")
    for key in written:
        head = s3.head_object(Bucket=pipeline.data_bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=pipeline.data_bucket, Key=key)["TagSet"]}
        assert tags["RunId"] == run_id
        assert tags["SourceObject"] == f"s3://{pipeline.data_bucket}/automl/2026-03-04/small.csv"
        assert tags["ProcessedTime"].endswith("+00:00")

    described = aws.client("sagemaker").describe_training_job(TrainingJobName=job)
    # moto reports new jobs as finished at once; on SageMaker the record says "started" and InProgress
    assert record["training"]["status"] == described["TrainingJobStatus"]
    assert record["status"] == ("started" if described["TrainingJobStatus"] == "InProgress" else "complete")
    assert described["RoleArn"] == pipeline.role_arn
    assert {k: described["AlgorithmSpecification"][k] for k in ("TrainingImage", "TrainingInputMode")} == {
        "TrainingImage": "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5",
        "TrainingInputMode": "File",
    }
    channels = {c["ChannelName"]: c for c in described["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    for name, channel in channels.items():
        assert channel["ContentType"] == "text/csv"
        assert channel["CompressionType"] == "None"
        source = channel["DataSource"]["S3DataSource"]
        assert source["S3DataType"] == "S3Prefix"
        assert source["S3Uri"] == f"s3://{pipeline.data_bucket}/{prefix}/{name}/"
    day = run_day(pipeline.data_bucket, "automl/2026-03-04/small.csv")  # the version's LastModified, not the event's time
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{pipeline.model_output_bucket}/{day}/output"
    assert described["HyperParameters"] == {
        "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
        "objective": "binary:logistic", "num_round": "100", "eval_metric": "auc,logloss",
    }  # fmt: skip
    assert described["ResourceConfig"]["InstanceCount"] == 1
    tags = {t["Key"]: t["Value"] for t in aws.client("sagemaker").list_tags(ResourceArn=described["TrainingJobArn"])["Tags"]}
    assert tags["Project"] == "MLOps" and tags["Region"] == "eu-west-2" and tags["RunId"] == run_id
    assert tags["Testing"] == f"s3://{pipeline.data_bucket}/{prefix}/test/part-00000"
    # the deployment stage must serve with the image that trained the model (not xgboost:latest, XGBoost 0.72)
    assert tags["ServingImage"] == described["AlgorithmSpecification"]["TrainingImage"]
    assert tags["ServingImage"].endswith("/sagemaker-xgboost:3.0-5")
    assert [k for k in tags if "Testing" in k] == ["Testing"]


def test_the_same_event_twice_starts_one_job(pipeline: Pipeline) -> None:
    data = small_csv()
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/small.csv", data)
    event = s3_event(
        pipeline.data_bucket,
        "automl/2026-03-04/small.csv",
        version_id=meta["version_id"],
        etag=meta["etag"],
        event_time=EVENT_TIME,
    )
    first = lambda_handler(event, Context())["results"][0]
    second = lambda_handler(event, Context())["results"][0]
    assert first["status"] == "started"
    assert second["status"] == "duplicate"
    assert second["run_id"] == first["run_id"] and second["job_name"] == first["job_name"]
    assert len(jobs()) == 1


def test_a_new_version_of_the_object_is_a_new_run(pipeline: Pipeline) -> None:
    first = deliver(pipeline, "automl/2026-03-04/small.csv", small_csv(seed=0))["results"][0]
    second = deliver(pipeline, "automl/2026-03-04/small.csv", small_csv(seed=1))["results"][0]
    assert first["status"] == second["status"] == "started"
    assert first["run_id"] != second["run_id"]
    assert len(jobs()) == 2


def test_url_encoded_key_with_spaces_and_non_ascii(pipeline: Pipeline) -> None:
    key = "automl/2026-03-04/données client+v2 (final).csv"
    response = deliver(pipeline, key, small_csv())
    (result,) = response["results"]
    assert result["status"] == "started", result
    assert result["object"] == f"s3://{pipeline.data_bucket}/{key}"
    assert any("/training/donn" in k for k in objects(pipeline.data_bucket, "automl/"))


def test_ten_record_event_handles_every_record(pipeline: Pipeline) -> None:
    records = []
    for i in range(10):
        key = f"automl/2026-03-04/part-{i}.csv"
        meta = upload(pipeline.data_bucket, key, small_csv(seed=i))
        records += s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)[
            "Records"
        ]
    response = lambda_handler({"Records": records}, Context())
    assert [r["status"] for r in response["results"]] == ["started"] * 10
    assert len({r["job_name"] for r in response["results"]}) == 10


@pytest.mark.parametrize(("key", "expected"), KEYS)
def test_the_shared_key_list_is_processed_or_skipped_by_the_handler(pipeline: Pipeline, key: str, expected: str) -> None:
    # the same list the deployment template's filters are checked against; own outputs are skipped by prefix,
    # a user's "training-data.csv" is not (a marker of an empty folder is processed, and fails: no parts)
    (result,) = deliver(pipeline, key, b"" if key.endswith("_SUCCESS") else small_csv())["results"]
    assert (result["status"] != "skipped") == (expected == PROCESSED), result


def test_sqs_batch_with_one_bad_message_reports_only_it(pipeline: Pipeline) -> None:
    good_key = "automl/2026-03-04/good.csv"
    meta = upload(pipeline.data_bucket, good_key, small_csv())
    good_body = json.dumps(
        s3_event(pipeline.data_bucket, good_key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    )
    bad_key = "automl/2026-03-04/bad.csv"
    meta_bad = upload(pipeline.data_bucket, bad_key, b"f1,y_no,y_yes\nyes,0,1\n" * 20)
    bad_body = json.dumps(s3_event(pipeline.data_bucket, bad_key, version_id=meta_bad["version_id"], event_time=EVENT_TIME))
    sns_body = json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": good_body})
    event = {
        "Records": [
            sqs_record("m-good", good_body),
            sqs_record("m-bad", bad_body),
            sqs_record("m-junk", "{not json"),
            sqs_record("m-sns", sns_body),
            sqs_record("m-test", json.dumps({"Event": "s3:TestEvent", "Bucket": pipeline.data_bucket})),
        ]
    }
    response = lambda_handler(event, Context())
    assert response["batchItemFailures"] == [{"itemIdentifier": "m-bad"}, {"itemIdentifier": "m-junk"}]
    by_item = {r["item"]: r for r in response["results"]}
    assert by_item["m-good"]["status"] == "started"
    assert by_item["m-sns"]["status"] == "duplicate"  # the same object version, fanned out twice
    assert by_item["m-bad"]["status"] == "failed" and "not a number" in by_item["m-bad"]["reason"]
    assert by_item["m-junk"]["status"] == "failed"
    assert by_item["m-test"]["status"] == "skipped"


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "handle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:training-queue",
        "awsRegion": "eu-west-2",
    }


def test_eventbridge_object_created(pipeline: Pipeline) -> None:
    key = "automl/2026-03-04/eb data.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = eventbridge_object_created(pipeline.data_bucket, "automl/2026-03-04/eb+data.csv", meta)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    assert result["object"] == f"s3://{pipeline.data_bucket}/{key}"


def test_delete_events_and_test_events_are_skipped(pipeline: Pipeline) -> None:
    event = s3_event(pipeline.data_bucket, "automl/x.csv", event_name="ObjectRemoved:Delete", event_time=EVENT_TIME)
    assert lambda_handler(event, Context())["results"][0]["status"] == "skipped"
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": pipeline.data_bucket}
    assert lambda_handler(test_event, Context())["results"][0]["status"] == "skipped"


def test_object_deleted_before_it_is_read(pipeline: Pipeline) -> None:
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/gone.csv", event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed" and "no longer exists" in result["reason"]


def test_warm_container_gives_distinct_runs_and_keys(pipeline: Pipeline) -> None:
    a = deliver(pipeline, "automl/2026-03-04/a.csv", small_csv(seed=2))["results"][0]
    b = deliver(pipeline, "automl/2026-03-04/b.csv", small_csv(seed=2))["results"][0]
    assert a["run_id"] != b["run_id"] and a["job_name"] != b["job_name"]
    assert set(a["outputs"].values()).isdisjoint(b["outputs"].values())


def test_run_date_comes_from_the_event_time(pipeline: Pipeline) -> None:
    (result,) = deliver(pipeline, "automl/2026-01-31/late.csv", small_csv())["results"]
    assert "/training/late/" in result["outputs"]["train"]


def test_kms_encryption_when_configured(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_TRAINING_SSE", "aws:kms")
    monkeypatch.setenv("MODEL_TRAINING_KMS_KEY_ID", "alias/automl")
    (result,) = deliver(pipeline, "automl/2026-03-04/kms.csv", small_csv())["results"]
    assert result["status"] == "started", result
    s3 = aws.client("s3")
    for uri in result["outputs"].values():
        head = s3.head_object(Bucket=pipeline.data_bucket, Key=uri.split("/", 3)[3])
        assert head["ServerSideEncryption"] == "aws:kms"


def test_not_enough_time_left_fails_the_record_cleanly(pipeline: Pipeline) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/t.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/t.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    with pytest.raises(RetryableError, match="failed transiently"):
        handle(event, Context(remaining_ms=5_000))
    assert training_objects(pipeline.data_bucket) == []


def test_bank_data_is_split_byte_identically_in_s3(pipeline: Pipeline, bank_csv: Path) -> None:
    data = bank_csv.read_bytes()
    (result,) = deliver(pipeline, "automl/2026-03-04/bank-preprocessed.csv", data)["results"]
    assert result["status"] == "started", result
    reference = original_split(bank_csv)
    s3 = aws.client("s3")
    for split, uri in result["outputs"].items():
        body = s3.get_object(Bucket=pipeline.data_bucket, Key=uri.split("/", 3)[3])["Body"].read()
        assert body == reference[split], split


def test_bank_job_trained_locally_lands_where_the_deployment_stage_looks(
    pipeline: Pipeline, bank_csv: Path, tmp_path: Path
) -> None:
    import re
    import tarfile

    from model_training.demo import train_received_job
    from model_training.training.local import LocalTrainingBackend

    (result,) = deliver(pipeline, "automl/2026-03-04/bank-preprocessed.csv", bank_csv.read_bytes())["results"]
    job = train_received_job(result["job_name"], LocalTrainingBackend(tmp_path / "jobs"))
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["validation:auc"] > 0.75
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    day = run_day(pipeline.data_bucket, "automl/2026-03-04/bank-preprocessed.csv")
    assert artifact == f"s3://{pipeline.model_output_bucket}/{day}/output/{result['job_name']}/output/model.tar.gz"
    key = artifact.split("/", 3)[3]
    # the deployment stage recovers the job name from the key
    assert re.sub(r"^\d{4}-\d{2}-\d{2}/[A-Za-z0-9]+/", "", key).removesuffix("/output/model.tar.gz") == result["job_name"]
    body = aws.client("s3").get_object(Bucket=pipeline.model_output_bucket, Key=key)["Body"].read()
    (tmp_path / "model.tar.gz").write_bytes(body)
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        assert tar.getnames() == ["xgboost-model"]


def test_malformed_messages_fail_alone_in_an_sqs_batch(pipeline: Pipeline) -> None:
    good_key = "automl/2026-03-04/good.csv"
    meta = upload(pipeline.data_bucket, good_key, small_csv())
    good = s3_event(pipeline.data_bucket, good_key, version_id=meta["version_id"], event_time=EVENT_TIME)
    bad_elements = json.loads(json.dumps(good))
    bad_elements["Records"][0]["responseElements"] = "x"
    bad_s3 = json.loads(json.dumps(good))
    bad_s3["Records"][0]["s3"] = "oops"
    event = {
        "Records": [
            sqs_record("m-elements", json.dumps(bad_elements)),
            sqs_record("m-s3", json.dumps(bad_s3)),
            sqs_record("m-eb", json.dumps({"source": "aws.s3", "detail": {}})),
            sqs_record("m-deep", "[" * 5000 + "]" * 5000),
            sqs_record("m-empty", json.dumps({"Records": []})),
            {"eventSource": "aws:sqs", "messageId": "m-nobody"},
            sqs_record("m-good", json.dumps(good)),
        ]
    }
    response = lambda_handler(event, Context())
    by_item = {r["item"]: r for r in response["results"]}
    assert by_item["m-elements"]["status"] == "started"  # a junk responseElements only loses the correlation id
    assert by_item["m-good"]["status"] == "duplicate"
    assert by_item["m-empty"]["status"] == "skipped"
    assert by_item["m-eb"]["status"] == "skipped"  # an EventBridge body without detail-type is not Object Created
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {"m-s3", "m-deep", "m-nobody"}


def test_minio_event_names_and_gzip_objects(pipeline: Pipeline) -> None:
    import gzip

    key = "automl/2026-03-04/packed.csv.gz"
    meta = upload(pipeline.data_bucket, key, gzip.compress(small_csv()))
    event = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME, event_name="s3:ObjectCreated:Put"
    )
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    assert "/training/packed/" in result["outputs"]["train"]


def test_requests_aws_refuses_are_not_retried(pipeline: Pipeline) -> None:
    aws.client("ssm").put_parameter(
        Name="mlops-eu-west-2-dev-automl-data", Value="no-such-bucket-x", Type="SecureString", Overwrite=True
    )
    # the event names the bucket SSM names (any other is skipped), which does not exist: S3 refuses the read
    event = s3_event("no-such-bucket-x", "automl/2026-03-04/r.csv", event_time=EVENT_TIME)
    (result,) = handle(event, Context())["results"]  # no RetryableError raised: a retry cannot help
    assert result["status"] == "failed" and result["retryable"] is False


def test_a_missing_event_time_uses_the_objects_last_modified_and_an_unreadable_one_fails(pipeline: Pipeline) -> None:
    import datetime as dt

    meta = upload(pipeline.data_bucket, "automl/2026-03-04/t.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/t.csv", version_id=meta["version_id"])
    del event["Records"][0]["eventTime"]
    (result,) = lambda_handler(event, Context())["results"]
    today = dt.datetime.now(dt.UTC).date().isoformat()  # moto's LastModified is the upload's time
    assert f"/automl/{today}/training/t/" in result["outputs"]["train"]
    event["Records"][0]["eventTime"] = "yesterday"
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed" and "'yesterday' is not an ISO-8601 time" in result["reason"]


def test_corrupt_run_record_is_redone_not_stuck(pipeline: Pipeline) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/c.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/c.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    (first,) = lambda_handler(event, Context())["results"]
    key = first["run_record"].split("/", 3)[3]
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=key, Body=b"{not json")
    (second,) = lambda_handler(event, Context())["results"]
    assert second["status"] == "duplicate"  # the split is redone, the job is found: nothing started twice
    assert len(jobs()) == 1


def test_manifest_beside_the_object_and_ssm_layers(pipeline: Pipeline) -> None:
    ssm = aws.client("ssm")
    ssm.put_parameter(
        Name="mlops-eu-west-2-dev-training-settings",
        Value=json.dumps(
            {"training": {"instance_type": "ml.c5.xlarge", "hyperparameters": {"num_round": 50}}, "split": {"seed": 11}}
        ),
        Type="SecureString",
    )
    aws.client("s3").put_object(
        Bucket=pipeline.data_bucket,
        Key="automl/2026-03-04/manifest.json",
        Body=json.dumps({"split": {"strategy": "stratified", "seed": 12}}),
    )
    (result,) = deliver(pipeline, "automl/2026-03-04/m.csv", small_csv())["results"]
    assert result["status"] == "started", result
    record = json.loads(
        aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=result["run_record"].split("/", 3)[3])["Body"].read()
    )
    assert record["manifest"]["uri"] == f"s3://{pipeline.data_bucket}/automl/2026-03-04/manifest.json"
    assert record["manifest"]["etag"]
    assert record["config"]["split"] == {**record["config"]["split"], "strategy": "stratified", "seed": 12}  # manifest over SSM
    assert record["config"]["training"]["instance_type"] == "ml.c5.xlarge"  # from SSM
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert job["HyperParameters"]["num_round"] == "50"
    assert job["ResourceConfig"]["InstanceType"] == "ml.c5.xlarge"


def test_default_manifest_named_by_ssm(pipeline: Pipeline) -> None:
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key="config/default.json", Body=b'{"split": {"seed": 99}}')
    aws.client("ssm").put_parameter(
        Name="mlops-eu-west-2-dev-default-manifest", Value=f"s3://{pipeline.data_bucket}/config/default.json", Type="String"
    )
    (result,) = deliver(pipeline, "automl/2026-03-04/d.csv", small_csv())["results"]
    record = json.loads(
        aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=result["run_record"].split("/", 3)[3])["Body"].read()
    )
    assert record["config"]["split"]["seed"] == 99
    assert record["manifest"]["uri"].endswith("/config/default.json")


def test_an_invalid_manifest_fails_the_object_before_anything_is_written(pipeline: Pipeline) -> None:
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key="automl/2026-03-04/manifest.json", Body=b'{"lable": "y"}')
    (result,) = deliver(pipeline, "automl/2026-03-04/x.csv", small_csv())["results"]
    assert result["status"] == "failed" and result["retryable"] is False
    assert "did you mean 'label'" in result["reason"]
    assert training_objects(pipeline.data_bucket) == []


def test_the_ssm_settings_problems_are_reported_with_the_other_layers_at_once(pipeline: Pipeline) -> None:
    # before: an unknown key in the SSM parameter dropped the whole layer, so its other settings were never checked:
    # its fractions that do not sum to 1 came to light only after 'labl' was fixed (a second round trip)
    aws.client("ssm").put_parameter(
        Name="mlops-eu-west-2-dev-training-settings",
        Value=json.dumps({"labl": "y", "split": {"fractions": [0.5, 0.5, 0.5]}}),
        Type="String",
    )
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key="automl/2026-03-04/manifest.json", Body=b'{"drop": "x"}')
    (result,) = deliver(pipeline, "automl/2026-03-04/s.csv", small_csv())["results"]
    assert result["status"] == "failed" and result["retryable"] is False
    assert "unknown key 'labl' (did you mean 'label'?)" in result["reason"]
    assert "fractions must sum to 1, got 0.5,0.5,0.5" in result["reason"]
    assert "drop: Input should be a valid list" in result["reason"]
    assert training_objects(pipeline.data_bucket) == []


def test_distributed_training_gets_a_sharded_train_channel_with_a_part_per_instance(pipeline: Pipeline) -> None:
    aws.client("s3").put_object(
        Bucket=pipeline.data_bucket, Key="automl/2026-03-04/manifest.json", Body=json.dumps({"training": {"instance_count": 2}})
    )
    (result,) = deliver(pipeline, "automl/2026-03-04/dist.csv", small_csv(200))["results"]
    assert result["status"] == "started", result
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    sources = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in job["InputDataConfig"]}
    assert sources["train"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert sources["validation"]["S3DataDistributionType"] == "FullyReplicated"
    prefix = sources["train"]["S3Uri"].split("/", 3)[3]
    parts = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=pipeline.data_bucket, Prefix=prefix)["Contents"]]
    assert [p.rsplit("/", 1)[1] for p in parts] == ["part-00000", "part-00001"]


def test_a_success_marker_splits_its_folder_of_parts_as_one_dataset(pipeline: Pipeline) -> None:
    data = small_csv(90)
    header, body = data.split(b"\n", 1)
    lines = body.splitlines(keepends=True)
    folder = "automl/exports/small"  # under the input prefix, as every object the handler splits
    results = []
    for i in range(3):  # Spark's layout: part files, then the marker
        key = f"{folder}/part-{i:05d}-4f1c-c000.csv"
        results += deliver(pipeline, key, header + b"\n" + b"".join(lines[i * 30 : (i + 1) * 30]))["results"]
    assert [r["status"] for r in results] == ["skipped"] * 3  # the parts wait for the marker
    (result,) = deliver(pipeline, f"{folder}/_SUCCESS", b"")["results"]
    assert result["status"] == "started", result
    run = {k: v for k, v in objects(pipeline.data_bucket, "automl/").items() if result["run_id"] in k}
    record = json.loads(next(v for k, v in run.items() if k.endswith("run.json")))
    assert record["source"]["uri"] == f"s3://{pipeline.data_bucket}/{folder}/"
    assert record["source"]["identity"]["etag"].startswith("parts-")
    assert sum(record["splits"][s]["rows"] for s in ("train", "validation", "test")) == 90
    # the same rows as the single file would give
    expected = original_split(io.BytesIO(data))  # type: ignore[arg-type]
    train = next(v for k, v in run.items() if k.endswith("train/part-00000"))
    assert train == expected["train"]


def test_a_bad_part_in_an_s3_folder_is_named_with_its_own_line(pipeline: Pipeline) -> None:
    """The error is about the part (its URI and line are the error's fields); a part's header error was once
    rewritten as if it were about a line of the dataset ("...part-00000.csvpart-00001.csv: ... (line 1 (line 1
    of the dataset) ...)") because its URI starts with the folder's."""
    data = small_csv(60)
    header, body = data.split(b"\n", 1)
    bad_header = "automl/exports/badheader"
    upload(pipeline.data_bucket, f"{bad_header}/part-00000.csv", data)
    upload(pipeline.data_bucket, f"{bad_header}/part-00001.csv", b",,,\n" + body)
    (result,) = deliver(pipeline, f"{bad_header}/_SUCCESS", b"")["results"]
    part = f"s3://{pipeline.data_bucket}/{bad_header}/part-00001.csv"
    assert result["status"] == "failed" and result["retryable"] is False, result
    assert result["reason"] == f"{part}: its first line is not the dataset's header (line 1 has no column names)"
    bad_row = "automl/exports/badrow"
    upload(pipeline.data_bucket, f"{bad_row}/part-00000.csv", data)
    upload(pipeline.data_bucket, f"{bad_row}/part-00001.csv", header + b"\n" + body.replace(b"\n", b",9\n", 1))
    (result,) = deliver(pipeline, f"{bad_row}/_SUCCESS", b"")["results"]
    part = f"s3://{pipeline.data_bucket}/{bad_row}/part-00001.csv"
    assert result["status"] == "failed", result
    assert result["reason"].startswith(f"{part}: line 2 (line 62 of the dataset) has "), result
    assert training_objects(pipeline.data_bucket) == []


def test_lambda_handler_works_without_a_context_as_the_original_stages_tests_call_it(pipeline: Pipeline) -> None:
    import model_training

    key = "automl/2026-03-04/small.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    (result,) = model_training.lambda_handler(event, None)["results"]
    assert result["status"] == "started", result
    assert aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    skipped_key = "automl/2026-03-04/training/small/0123456789abcdef/train/part-00000"
    (skipped,) = model_training.lambda_handler(s3_event(pipeline.data_bucket, skipped_key, event_time=EVENT_TIME), None)[
        "results"
    ]
    assert skipped["status"] == "skipped" and "output prefix" in skipped["reason"]
