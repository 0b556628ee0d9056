"""A model package as a source: the ARN and group checks come from botocore's sagemaker model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inference_constructs.model_package import ModelPackageSource, check_model_package_arn

ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/iris-models/3"


def test_a_version_arn_is_accepted():
    assert check_model_package_arn(ARN) == ARN
    assert ModelPackageSource(arn=ARN, group="iris-models").arn == ARN


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # botocore's ModelPackageArn pattern: the partition, region and 12-digit account.
        ("arn:aws:sagemaker:eu-west-1:1111:model-package/iris-models/3", r"ModelPackageArn"),
        ("arn:aws:s3:::bucket/iris-models/3", r"ModelPackageArn"),
        # Matches botocore's patterns but names no version: CreateModel would deploy something else.
        ("arn:aws:sagemaker:eu-west-1:111111111111:model-package/iris-models", r"model package version ARN"),
    ],
)
def test_arns_aws_refuses_or_that_name_no_version_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        check_model_package_arn(value)


def test_a_group_name_follows_botocores_entity_name():
    with pytest.raises(ValidationError, match=r"EntityName"):
        ModelPackageSource(group="iris_models")


def test_an_arn_of_another_group_is_refused():
    with pytest.raises(ValidationError, match=r"arn is a version of group 'iris-models', not of 'fraud'"):
        ModelPackageSource(arn=ARN, group="fraud")


def test_a_source_names_something():
    with pytest.raises(ValidationError, match=r"give arn \(one model package version\) or group"):
        ModelPackageSource()
