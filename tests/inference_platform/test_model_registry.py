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


PINNED = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/5"


def described(group: str, status: str) -> dict:
    return {
        "ModelPackageName": group,
        "ModelPackageGroupName": group,
        "ModelPackageArn": PINNED,
        "CreationTime": NOW,
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": []},
        "ModelApprovalStatus": status,
        "InferenceSpecification": {"Containers": [{"Image": IMAGE, "ModelDataUrl": ARTIFACT}]},
    }


def pinned_client(group: str, status: str) -> tuple[object, Stubber]:
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    # Only DescribeModelPackage of the pinned version: the group's latest is not listed.
    stubber.add_response("describe_model_package", described(group, status), {"ModelPackageName": PINNED})
    stubber.activate()
    return client, stubber


def test_a_pinned_approved_version_deploys_instead_of_the_latest(tmp_path, capsys):
    (tmp_path / "dev.yaml").write_text(f"models:\n  - name: iris\n    model_package: {{group: {GROUP}}}\n")
    client, stubber = pinned_client(GROUP, "Approved")
    pinned = json.dumps({GROUP: PINNED})
    assert resolve_model_packages.main(["--config-dir", str(tmp_path), "--pinned", pinned], sagemaker=client) == 0
    assert json.loads(capsys.readouterr().out) == {GROUP: {"arn": PINNED, "model_data": ARTIFACT, "image": IMAGE}}
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("group", "status", "message"),
    [
        (GROUP, "Rejected", "is Rejected; only an approved version deploys"),
        (GROUP, "PendingManualApproval", "is PendingManualApproval; only an approved version deploys"),
        ("other-models", "Approved", "is not a version of model package group 'iris-models'"),
    ],
)
def test_a_pinned_version_must_be_an_approved_version_of_its_group(tmp_path, capsys, group, status, message):
    (tmp_path / "dev.yaml").write_text(f"models:\n  - name: iris\n    model_package: {{group: {GROUP}}}\n")
    client, _ = pinned_client(group, status)
    pinned = json.dumps({GROUP: PINNED})
    assert resolve_model_packages.main(["--config-dir", str(tmp_path), "--pinned", pinned], sagemaker=client) == 1
    assert message in capsys.readouterr().err


def test_a_pin_for_a_group_no_model_names_is_refused(tmp_path, capsys):
    (tmp_path / "dev.yaml").write_text(f"models:\n  - name: iris\n    model_package: {{group: {GROUP}}}\n")
    pinned = json.dumps({"unknown-models": PINNED})
    assert resolve_model_packages.main(["--config-dir", str(tmp_path), "--pinned", pinned], sagemaker=object()) == 1
    assert "pinned groups ['unknown-models'] are not named by any model" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["{}", ""])
def test_the_variables_default_pins_nothing(value):
    assert resolve_model_packages._pinned(value) == {}


def test_a_pin_that_is_not_an_object_of_arns_is_refused(capsys):
    with pytest.raises(SystemExit):
        resolve_model_packages.main(["--pinned", '["arn"]'], sagemaker=object())
    assert "expected a JSON object of group to version ARN" in capsys.readouterr().err
