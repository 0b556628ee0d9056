"""The latest approved version of a model package group, as the delivery pipeline deploys it.

Run before synth (never during it): ``ListModelPackages`` with ``ModelApprovalStatus=Approved``,
newest first, then ``DescribeModelPackage`` for the version's artifact and image, which the
model's execution role is granted. https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListModelPackages.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackage.html
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class ModelRegistryError(Exception):
    """A group with no approved version, or a version this platform cannot serve."""


@dataclass(frozen=True)
class ApprovedVersion:
    """What a model's config needs of one approved package version."""

    arn: str
    model_data: str
    image: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def latest_approved(sagemaker: Any, group: str) -> ApprovedVersion:
    """The newest approved version of ``group`` (a boto3 ``sagemaker`` client)."""
    listed = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        ModelPackageType="Versioned",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    if not listed:
        raise ModelRegistryError(f"model package group {group!r} has no approved version")
    arn = listed[0]["ModelPackageArn"]
    return _version(arn, sagemaker.describe_model_package(ModelPackageName=arn))


def pinned_version(sagemaker: Any, group: str, arn: str) -> ApprovedVersion:
    """Version ``arn`` of ``group``, which must be approved: what a pipeline run pinned (to roll
    back, or to hold a version) instead of the group's latest."""
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    if described.get("ModelPackageGroupName") != group:
        raise ModelRegistryError(f"{arn} is not a version of model package group {group!r}")
    if described.get("ModelApprovalStatus") != "Approved":
        raise ModelRegistryError(
            f"{arn} is {described.get('ModelApprovalStatus', 'not approved')}; only an approved version deploys"
        )
    return _version(arn, described)


def _version(arn: str, described: dict[str, Any]) -> ApprovedVersion:
    containers = described.get("InferenceSpecification", {}).get("Containers", [])
    # One container: a serial pipeline of several is a different kind of model (not served here).
    if len(containers) != 1:
        raise ModelRegistryError(f"{arn}: expected one inference container, found {len(containers)}")
    container = containers[0]
    model_data = container.get("ModelDataUrl") or container.get("ModelDataSource", {}).get("S3DataSource", {}).get(
        "S3Uri"
    )
    if not model_data:
        raise ModelRegistryError(f"{arn}: its container has no model artifact in S3 (ModelDataUrl)")
    return ApprovedVersion(arn=arn, model_data=model_data, image=container["Image"])
