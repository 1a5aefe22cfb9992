"""The deployment artefacts: the SAM template passes cfn-lint (in every mode), grants least privilege,
and wires the triggers the pipeline needs, whose filters deliver every key the handler processes and none
of the stage's own outputs; the Dockerfile builds the function from the Lambda base image."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.keys import INPUT_PREFIX, KEYS, OUTPUT_KEYS, PROCESSED

REPO = Path(__file__).resolve().parents[1]


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_Loader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.load((REPO / "template.yaml").read_text(), Loader=_Loader)


def _cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    return subprocess.run([exe, *map(str, paths)], capture_output=True, text=True)


def test_cfn_lint_passes() -> None:
    res = _cfn_lint(REPO / "template.yaml")
    assert res.returncode == 0, res.stdout + res.stderr


def test_cfn_lint_passes_in_every_mode(tmp_path: Path) -> None:
    # cfn-lint resolves a SAM template's parameters with their defaults (its --parameters had no effect on
    # this template), so each mode is linted as a copy whose defaults select it
    text = (REPO / "template.yaml").read_text()
    variants = []
    for existing in ("", "mlops-eu-west-2-dev-automl-data-ab12cd"):
        for trigger in ("s3", "sqs"):
            variant = re.sub(r"(  ExistingDataBucketName:\n    Type: String\n    Default: )\"\"", rf'\1"{existing}"', text)
            variant = re.sub(r"(    AllowedValues: \[s3, sqs\]\n    Default: )s3", rf"\g<1>{trigger}", variant)
            variant = re.sub(r"(  DataBucketSuffix:\n    Type: String\n    Default: )\"\"", r'\1"ab12cd"', variant)
            assert f'Default: "{existing}"' in variant and f"Default: {trigger}" in variant and 'Default: "ab12cd"' in variant
            path = tmp_path / f"template-{'existing' if existing else 'created'}-{trigger}.yaml"
            path.write_text(variant)
            variants.append(path)
    res = _cfn_lint(*variants)
    assert res.returncode == 0, res.stdout + res.stderr


def statements(template: dict) -> dict[str, dict]:
    policy = template["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


#: The data bucket's name in both modes: the one the template creates, or the existing one.
BUCKET_NAME = {
    "If": [
        "CreateDataBucket",
        {"Sub": "mlops-${AWS::Region}-${Environment}-automl-data-${DataBucketSuffix}"},
        {"Ref": "ExistingDataBucketName"},
    ]
}


def bucket_arn(resource: dict) -> str:
    """The ARN template of an IAM resource on the data bucket, checked to name the bucket of either mode."""
    text, variables = resource["Sub"]
    assert variables == {"Bucket": BUCKET_NAME}
    assert text.startswith("arn:${AWS::Partition}:s3:::${Bucket}")
    return text


def test_least_privilege(template: dict) -> None:
    st = statements(template)
    assert all(s["Effect"] == "Allow" for s in st.values())
    assert not any(a.endswith("*") and ":" not in a.rstrip("*") for s in st.values() for a in _list(s["Action"]))
    assert bucket_arn(st["ReadInputs"]["Resource"]).endswith("/automl/*")
    assert bucket_arn(st["ListInputPrefix"]["Resource"]).endswith("${Bucket}")
    assert bucket_arn(st["WriteOutputs"]["Resource"]).endswith("/automl/*/training/*")
    assert set(_list(st["ReadParameters"]["Action"])) == {"ssm:GetParameter"}
    names = [r["Sub"].rsplit("-", 0)[0].split("${Environment}-", 1)[1] for r in st["ReadParameters"]["Resource"]]
    # the three the pipeline names, the two optional settings parameters the stage reads (issue #4), and the
    # optional ceilings of the costly settings (issue #11)
    expected = ["automl-data", "model-output", "sagemaker-role-arn", "training-settings", "default-manifest", "training-limits"]
    assert sorted(names) == sorted(expected)
    assert set(_list(st["StartTrainingJobs"]["Action"])) == {
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:AddTags",
    }
    assert st["StartTrainingJobs"]["Resource"]["Sub"].endswith(":training-job/*")
    assert st["PassTheSageMakerRoleOnly"]["Resource"] == {"Ref": "SageMakerRoleArn"}
    assert st["PassTheSageMakerRoleOnly"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    for statement in st.values():
        assert statement["Resource"] != "*"


def _list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_a_missing_object_is_a_404_to_both_roles_not_a_403(template: dict) -> None:
    """S3 answers a HeadObject of a missing key with 404 only to a caller allowed s3:ListBucket on the bucket, else 403
    (AccessDenied), and that check carries no ``s3:prefix``: a plain ``StringLike`` on it never matches there, so
    ``run.json`` not written yet would be an access error.  Each ListBucket on the data bucket limits ``s3:prefix``
    only where the request has one (``StringLikeIfExists``)."""
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    listing = [
        s
        for role in roles
        for policy in role["Properties"].get("Policies", [])
        for s in policy["PolicyDocument"]["Statement"]
        if "s3:ListBucket" in _list(s["Action"]) and "Sub" in s["Resource"] and s["Resource"]["Sub"][1] == {"Bucket": BUCKET_NAME}
    ]
    assert len(listing) >= 2  # the function's role and the processing job's
    for statement in listing:
        conditions = statement.get("Condition", {})
        assert all(operator.endswith("IfExists") for operator in conditions), statement


def test_triggers_and_image(template: dict) -> None:
    resources = template["Resources"]
    function = resources["TrainingFunction"]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["ImageConfig"]["Command"] == ["model_training.lambda_handler"]
    assert resources["QueueMapping"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "deadLetterTargetArn" in resources["TriggerQueue"]["Properties"]["RedrivePolicy"]


def test_dockerfile_uses_the_lambda_python_312_base_and_the_handler() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "FROM public.ecr.aws/lambda/python:3.12" in text
    assert 'CMD ["model_training.lambda_handler"]' in text
    assert "[dev]" not in text and "[demo]" not in text and "[local]" not in text


def test_the_lambda_import_path_stays_lean() -> None:
    code = (
        "import sys, model_training, model_training.handler, model_training.pipeline;"
        "heavy = {'xgboost', 'matplotlib', 'pandas', 'sklearn', 'moto', 'sagemaker', 'typer', 'rich'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
    bare = subprocess.run(
        [sys.executable, "-c", "import sys, model_training; print(sorted({'boto3', 'pyarrow', 'numpy'} & set(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert bare.stdout.strip() == "[]"


# -- the triggers' filters against the keys the handler processes ---------------------------------------


def notification_filters(template: dict, kind: str) -> tuple[str, list[tuple[str, str]]]:
    """The (prefix, suffix) pairs of the data bucket's ``LambdaConfigurations`` or ``QueueConfigurations``,
    and the condition they apply under; S3 allows one prefix and one suffix rule per configuration, and
    refuses configurations of one event type whose prefixes and suffixes both overlap."""
    condition, configurations, otherwise = template["Resources"]["DataBucket"]["Properties"]["NotificationConfiguration"][kind][
        "If"
    ]
    assert otherwise == {"Ref": "AWS::NoValue"}
    filters = []
    for configuration in configurations:
        assert configuration["Event"] == "s3:ObjectCreated:*"
        rules = configuration["Filter"]["S3Key"]["Rules"]
        assert sorted(r["Name"] for r in rules) == ["prefix", "suffix"]
        by_name = {r["Name"]: r["Value"] for r in rules}
        filters.append((by_name["prefix"], by_name["suffix"]))
    for i, (p1, s1) in enumerate(filters):
        for p2, s2 in filters[i + 1 :]:
            overlap = (p1.startswith(p2) or p2.startswith(p1)) and (s1.endswith(s2) or s2.endswith(s1))
            assert not overlap, f"overlapping notification configurations {p1}*{s1} and {p2}*{s2}"
    return condition, filters


def _eventbridge_matches(matcher: object, value: str) -> bool:
    """EventBridge's string matchers: an exact value, ``prefix``, ``suffix``, or ``wildcard`` (``*`` is any run)."""
    if isinstance(matcher, str):
        return value == matcher
    assert isinstance(matcher, dict) and len(matcher) == 1, matcher
    ((op, arg),) = matcher.items()
    if op == "prefix":
        return value.startswith(arg)
    if op == "suffix":
        return value.endswith(arg)
    if op == "wildcard":
        return re.fullmatch(".*".join(re.escape(part) for part in arg.split("*")), value, re.DOTALL) is not None
    raise AssertionError(f"matcher {op!r} is not modelled by this test")


def eventbridge_rule(template: dict) -> dict:
    rule = template["Resources"]["ObjectCreatedRule"]
    assert rule["Type"] == "AWS::Events::Rule" and rule["Condition"] == "UseExistingBucket"
    return rule["Properties"]


def deliveries(template: dict) -> dict[str, Callable[[str], bool]]:
    """For each trigger mode, whether an ``Object Created`` event for a key in the data bucket reaches the stage."""
    lambda_condition, lambda_filters = notification_filters(template, "LambdaConfigurations")
    queue_condition, queue_filters = notification_filters(template, "QueueConfigurations")
    assert (lambda_condition, queue_condition) == ("UseS3Trigger", "UseSqsTrigger")
    pattern = eventbridge_rule(template)["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"] == {"name": [{"Ref": "ExistingDataBucketName"}]}
    assert set(pattern["detail"]) == {"bucket", "object"} and set(pattern["detail"]["object"]) == {"key"}
    key_matchers = pattern["detail"]["object"]["key"]
    return {
        "bucket notification to the function": lambda key: any(key.startswith(p) and key.endswith(s) for p, s in lambda_filters),
        "bucket notification to the queue": lambda key: any(key.startswith(p) and key.endswith(s) for p, s in queue_filters),
        "EventBridge rule on an existing bucket": lambda key: any(_eventbridge_matches(m, key) for m in key_matchers),
    }


#: Keys beyond the shared list, to compare the modes on: outside the input prefix, and near misses.
PROBES = ["data/small.csv", "small.csv", "exports/small/_SUCCESS", "automl", "automl/", "automl/x.csv.gz.tmp", "automl/x.gz"]


@pytest.mark.parametrize(("key", "expected"), KEYS)
def test_every_trigger_delivers_what_the_handler_processes_and_none_of_its_outputs(
    template: dict, key: str, expected: str
) -> None:
    for mode, delivered in deliveries(template).items():
        if expected == PROCESSED and key.startswith(INPUT_PREFIX):
            assert delivered(key), f"{mode} does not deliver {key}, which the handler processes"
        if key in OUTPUT_KEYS:
            assert not delivered(key), f"{mode} delivers the stage's own output {key}"


def test_each_trigger_mode_delivers_the_same_keys(template: dict) -> None:
    keys = [k for k, _ in KEYS] + PROBES
    delivered = {mode: [k for k in keys if accepts(k)] for mode, accepts in deliveries(template).items()}
    first = next(iter(delivered.values()))
    assert first and all(d == first for d in delivered.values()), delivered
    assert all(k.startswith(INPUT_PREFIX) for k in first)  # nothing outside the input prefix


def test_the_existing_bucket_mode_has_no_bucket_and_subscribes_through_eventbridge(template: dict) -> None:
    resources = template["Resources"]
    conditions = template["Conditions"]
    assert conditions["CreateDataBucket"] == {"Equals": [{"Ref": "ExistingDataBucketName"}, ""]}
    assert template["Parameters"]["ExistingDataBucketName"]["Default"] == ""
    assert resources["DataBucket"]["Condition"] == "CreateDataBucket"
    assert resources["InvokePermission"]["Condition"] == "CreateDataBucket"
    rule = eventbridge_rule(template)
    (targets,) = rule["Targets"]
    condition, to_function, to_queue = targets["If"]
    assert condition == "UseS3Trigger"
    assert to_function["Arn"] == {"GetAtt": "TrainingFunction.Arn"} and to_queue["Arn"] == {"GetAtt": "TriggerQueue.Arn"}
    permission = resources["EventsInvokePermission"]
    assert conditions[permission["Condition"]] == {"And": [{"Condition": "UseExistingBucket"}, {"Condition": "UseS3Trigger"}]}
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"GetAtt": "ObjectCreatedRule.Arn"}
    (statement,) = resources["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    when, created, existing = statement["If"]
    assert when == "CreateDataBucket"
    assert created["Principal"] == {"Service": "s3.amazonaws.com"}
    assert existing["Principal"] == {"Service": "events.amazonaws.com"} and existing["Action"] == "sqs:SendMessage"
    assert existing["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "ObjectCreatedRule.Arn"}}}
    assert template["Outputs"]["DataBucket"]["Value"] == BUCKET_NAME


# -- SageMaker's job state-change events -------------------------------------------------------------------------


def _pattern_matches(pattern: object, event: object) -> bool:
    """EventBridge's matching of an event pattern: every field the pattern names is in the event, with the same
    nesting, and one of the pattern's values matches the event's (or one of them, for an array)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and _pattern_matches(v, event[k]) for k, v in pattern.items())
    assert isinstance(pattern, list), pattern
    values = event if isinstance(event, list) else [event]
    return any(isinstance(v, str) and _eventbridge_matches(m, v) for m in pattern for v in values)


def test_the_training_job_state_rule_routes_every_ended_job_to_the_function(template: dict) -> None:
    from model_training.events import decode_event
    from model_training.offline import s3_event
    from tests.fixtures import training_job_event

    resources = template["Resources"]
    rule = resources["TrainingJobStateRule"]
    assert rule["Type"] == "AWS::Events::Rule" and "Condition" not in rule  # in every mode
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"GetAtt": "TrainingFunction.Arn"}
    permission = resources["JobEventsInvokePermission"]
    assert "Condition" not in permission
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"GetAtt": "TrainingJobStateRule.Arn"}
    assert permission["Properties"]["FunctionName"] == {"GetAtt": "TrainingFunction.Arn"}

    pattern = rule["Properties"]["EventPattern"]
    name = "small-0123456789abcdef"
    for status in ("Completed", "Failed", "Stopped"):
        event = training_job_event(name, status)
        assert _pattern_matches(pattern, event), status
        (item,) = decode_event(event).items  # and the handler takes each for the job it names
        assert [(j.kind, j.name) for j in item.jobs] == [("training", name)]
    for status in ("InProgress", "Stopping"):
        assert not _pattern_matches(pattern, training_job_event(name, status)), status
    tuning = {**training_job_event(name, "Completed"), "detail-type": "SageMaker HyperParameter Tuning Job State Change"}
    assert not _pattern_matches(pattern, tuning)
    assert not _pattern_matches(pattern, s3_event("b", "automl/x.csv"))


def test_the_function_may_describe_jobs_and_release_run_claims(template: dict) -> None:
    st = statements(template)
    outcomes = st["RecordJobOutcomes"]
    assert set(_list(outcomes["Action"])) == {"sagemaker:DescribeTrainingJob", "sagemaker:ListTags"}
    assert outcomes["Resource"]["Sub"].endswith(":training-job/*")
    # a run's claim is a conditional write released by deleting it: only the stage's own outputs may be deleted
    deleting = [s for s in st.values() if "s3:DeleteObject" in _list(s["Action"])]
    assert deleting == [st["WriteOutputs"]]
    assert bucket_arn(st["WriteOutputs"]["Resource"]).endswith("/automl/*/training/*")


def test_the_tuning_job_state_rule_routes_every_ended_search_to_the_function(template: dict) -> None:
    from model_training.events import decode_event
    from tests.fixtures import training_job_event, tuning_job_event

    resources = template["Resources"]
    rule = resources["TuningJobStateRule"]
    assert rule["Type"] == "AWS::Events::Rule" and "Condition" not in rule  # in every mode
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"GetAtt": "TrainingFunction.Arn"}
    permission = resources["TuningJobEventsInvokePermission"]
    assert "Condition" not in permission
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"GetAtt": "TuningJobStateRule.Arn"}
    assert permission["Properties"]["FunctionName"] == {"GetAtt": "TrainingFunction.Arn"}

    pattern = rule["Properties"]["EventPattern"]
    training_pattern = resources["TrainingJobStateRule"]["Properties"]["EventPattern"]
    name = "small-0123456789abcdef"
    for status in ("Completed", "Failed", "Stopped"):
        event = tuning_job_event(name, status)
        assert _pattern_matches(pattern, event), status
        assert not _pattern_matches(training_pattern, event), status  # one rule, one delivery
        (item,) = decode_event(event).items  # and the handler takes each for the tuning job it names
        assert [(j.kind, j.name, j.claimed_status) for j in item.jobs] == [("tuning", name, status)]
    for status in ("InProgress", "Stopping"):
        assert not _pattern_matches(pattern, tuning_job_event(name, status)), status
    # a trial's own event is a training job's: the training rule's, never this one's
    assert not _pattern_matches(pattern, training_job_event(f"{name}-001-1a2b3c4d", "Completed"))


def test_the_function_may_start_and_record_tuning_jobs_and_deliver_the_best_model(template: dict) -> None:
    st = statements(template)
    tuning_jobs = ":hyper-parameter-tuning-job/*"
    assert set(_list(st["StartTuningJobs"]["Action"])) == {
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
    }
    assert st["StartTuningJobs"]["Resource"]["Sub"].endswith(tuning_jobs)
    assert set(_list(st["RecordTuningJobOutcomes"]["Action"])) == {
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
        "sagemaker:ListTags",
    }
    assert st["RecordTuningJobOutcomes"]["Resource"]["Sub"].endswith(tuning_jobs)
    # a trial's event: DescribeTrainingJob on the trial, as for any training job
    assert "sagemaker:DescribeTrainingJob" in _list(st["RecordJobOutcomes"]["Action"])
    # the trials' models under the run folders' tuning folder, read (with their tags, which CopyObject copies)
    assert bucket_arn(st["ReadTrialModels"]["Resource"]).endswith("/automl/*/training/*/tuning/*")
    assert set(_list(st["ReadTrialModels"]["Action"])) == {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"}
    # the copy: only model archives at the key the deployment stage parses, never deleted or overwritten by a policy
    deliver = st["DeliverBestModel"]
    assert deliver["Resource"] == {"Sub": "arn:${AWS::Partition}:s3:::${ModelOutputBucketName}/*/output/*/output/model.tar.gz"}
    assert set(_list(deliver["Action"])) == {"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"}
    assert st["ListModelOutput"]["Resource"] == {"Sub": "arn:${AWS::Partition}:s3:::${ModelOutputBucketName}"}
    assert _list(st["ListModelOutput"]["Action"]) == ["s3:ListBucket"]
    writes_model_output = [
        sid for sid, s in st.items() if "ModelOutputBucketName" in str(s["Resource"]) and "s3:PutObject" in _list(s["Action"])
    ]
    assert writes_model_output == ["DeliverBestModel"]
    assert st["BucketKey"]["Resource"] == {"Ref": "BucketKmsKeyArn"}  # both buckets' key (SSE-KMS)
    assert set(_list(st["BucketKey"]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_the_function_may_hand_a_split_to_a_processing_job_in_its_own_image(template: dict) -> None:
    from model_training.config.settings import settings_from_env

    resources = template["Resources"]
    variables = resources["TrainingFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["MODEL_TRAINING_PROCESSING_IMAGE"] == {"Ref": "ImageUri"}  # the function's own image
    assert variables["MODEL_TRAINING_PROCESSING_ROLE_ARN"] == {"GetAtt": "ProcessingRole.Arn"}
    image, role = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:1", "arn:aws:iam::123456789012:role/p"
    named = settings_from_env({"MODEL_TRAINING_PROCESSING_IMAGE": image, "MODEL_TRAINING_PROCESSING_ROLE_ARN": role})
    assert (named.processing_image, named.processing_role_arn) == (image, role)  # the variables the stage reads
    st = statements(template)
    assert set(_list(st["StartProcessingJobs"]["Action"])) == {
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
    }
    assert st["StartProcessingJobs"]["Resource"]["Sub"].endswith(":processing-job/*")
    assert st["PassTheProcessingRoleOnly"]["Resource"] == {"GetAtt": "ProcessingRole.Arn"}
    assert st["PassTheProcessingRoleOnly"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}

    role = resources["ProcessingRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    job = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    # the job's run does what the function's run does: the same inputs, outputs, parameters and training jobs
    for sid in ("ReadInputs", "ListInputPrefix", "WriteOutputs", "BucketKey", "ReadParameters"):
        assert job[sid]["Resource"] == st[sid]["Resource"], sid
    assert "sagemaker:CreateTrainingJob" in job["StartTrainingJobs"]["Action"]
    assert job["PassTheSageMakerRoleOnly"]["Resource"] == {"Ref": "SageMakerRoleArn"}
    assert [s for s in job.values() if s["Resource"] == "*"] == [job["EcrLogin"]]
    assert job["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"


def test_the_processing_job_state_rule_routes_every_ended_split_to_the_function(template: dict) -> None:
    from model_training.events import decode_event

    resources = template["Resources"]
    rule = resources["ProcessingJobStateRule"]
    assert rule["Type"] == "AWS::Events::Rule" and "Condition" not in rule
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"GetAtt": "TrainingFunction.Arn"}
    permission = resources["ProcessingJobEventsInvokePermission"]["Properties"]
    assert permission["SourceArn"] == {"GetAtt": "ProcessingJobStateRule.Arn"}
    assert permission["Principal"] == "events.amazonaws.com"
    pattern = rule["Properties"]["EventPattern"]
    name = "model-training-split-0123456789abcdef"
    for status in ("Completed", "Failed", "Stopped", "InProgress"):
        event = {
            "source": "aws.sagemaker",
            "detail-type": "SageMaker Processing Job State Change",
            "detail": {"ProcessingJobName": name, "ProcessingJobStatus": status},
        }
        assert _pattern_matches(pattern, event) == (status != "InProgress"), status
        (item,) = decode_event(event).items  # and the handler takes each for the job it names
        assert [(j.kind, j.name) for j in item.jobs] == [("processing", name)]


def test_the_data_bucket_removes_the_parts_of_a_killed_upload(template: dict) -> None:
    """A split file is a multipart upload, invisible until completed: a killed write's parts are aborted after a day."""
    rules = template["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if "AbortIncompleteMultipartUpload" in r]
    assert rule["Status"] == "Enabled" and rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert "Prefix" not in rule and "Filter" not in rule  # every key
