"""The latest approved version of a group, through botocore's Stubber (requests and answers are
checked against the sagemaker service model)."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.stub import Stubber

from inference_platform.model_registry import ApprovedVersion, ModelRegistryError, latest_approved
from scripts import resolve_model_packages

GROUP = "iris-models"
ARN = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/7"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
ARTIFACT = "s3://ml-registry-artifacts-111111111111/iris/7/model.tar.gz"
LIST_REQUEST = {
    "ModelPackageGroupName": GROUP,
    "ModelApprovalStatus": "Approved",
    "ModelPackageType": "Versioned",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 1,
}
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)


def client_with(*containers: dict) -> tuple[object, Stubber]:
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    summary = {"ModelPackageArn": ARN, "CreationTime": NOW, "ModelPackageStatus": "Completed"}
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": [summary]}, LIST_REQUEST)
    stubber.add_response(
        "describe_model_package",
        {
            "ModelPackageName": GROUP,
            "ModelPackageArn": ARN,
            "CreationTime": NOW,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "InferenceSpecification": {"Containers": list(containers)},
        },
        {"ModelPackageName": ARN},
    )
    stubber.activate()
    return client, stubber


def test_the_newest_approved_version_with_its_artifact_and_image():
    client, stubber = client_with({"Image": IMAGE, "ModelDataUrl": ARTIFACT})
    assert latest_approved(client, GROUP) == ApprovedVersion(arn=ARN, model_data=ARTIFACT, image=IMAGE)
    stubber.assert_no_pending_responses()


def test_a_group_with_nothing_approved_is_an_error():
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        stubber.add_response("list_model_packages", {"ModelPackageSummaryList": []}, LIST_REQUEST)
        with pytest.raises(ModelRegistryError, match=r"model package group 'iris-models' has no approved version"):
            latest_approved(client, GROUP)


def test_a_serial_pipeline_package_is_refused():
    client, _ = client_with({"Image": IMAGE, "ModelDataUrl": ARTIFACT}, {"Image": IMAGE})
    with pytest.raises(ModelRegistryError, match=r"/7: expected one inference container, found 2"):
        latest_approved(client, GROUP)


def test_the_script_prints_every_group_of_the_configs(tmp_path, capsys):
    (tmp_path / "dev.yaml").write_text(f"models:\n  - name: iris\n    model_package: {{group: {GROUP}}}\n")
    (tmp_path / "prod.yaml").write_text("models:\n  - name: iris\n    model_data: s3://b/k.tar.gz\n")
    client, _ = client_with({"Image": IMAGE, "ModelDataUrl": ARTIFACT})
    assert resolve_model_packages.main(["--config-dir", str(tmp_path)], sagemaker=client) == 0
    assert json.loads(capsys.readouterr().out) == {GROUP: {"arn": ARN, "model_data": ARTIFACT, "image": IMAGE}}
