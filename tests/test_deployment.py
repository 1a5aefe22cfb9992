"""The deployment artefacts: the SAM template passes cfn-lint, grants least privilege, and wires the
triggers the pipeline needs; the Dockerfile builds the function from the Lambda base image."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_cfn_lint_passes() -> None:
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    res = subprocess.run([exe, str(REPO / "template.yaml")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def statements(template: dict) -> dict[str, dict]:
    policy = template["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


def test_least_privilege(template: dict) -> None:
    st = statements(template)
    assert all(s["Effect"] == "Allow" for s in st.values())
    assert not any(a.endswith("*") and ":" not in a.rstrip("*") for s in st.values() for a in _list(s["Action"]))
    assert st["ReadInputs"]["Resource"]["Sub"].endswith("/automl/*")
    assert st["WriteOutputs"]["Resource"]["Sub"].endswith("/automl/*/training/*")
    assert set(_list(st["ReadParameters"]["Action"])) == {"ssm:GetParameter"}
    names = [r["Sub"].rsplit("-", 0)[0].split("${Environment}-", 1)[1] for r in st["ReadParameters"]["Resource"]]
    # the three the pipeline names, and the two optional settings parameters the stage reads (issue #4)
    assert sorted(names) == sorted(["automl-data", "model-output", "sagemaker-role-arn", "training-settings", "default-manifest"])
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


def test_triggers_and_image(template: dict) -> None:
    resources = template["Resources"]
    function = resources["TrainingFunction"]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["ImageConfig"]["Command"] == ["model_training.lambda_handler"]
    notification = resources["DataBucket"]["Properties"]["NotificationConfiguration"]
    lambda_rules = notification["LambdaConfigurations"]["If"][1][0]["Filter"]["S3Key"]["Rules"]
    assert {r["Name"]: r["Value"] for r in lambda_rules} == {"prefix": "automl/", "suffix": ".csv"}
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
