"""A model package from the SageMaker Model Registry as a model's source.

A model names either one version (``arn``: ``arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>``)
or a model package group (``group``), whose latest approved version the delivery pipeline
resolves before it synthesizes (nothing is looked up at synth: the resolved ARN is written into
the config the pipeline synthesizes). The model's CreateModel container then names the package
(``ModelPackageName``) instead of an image and an artifact; the package's ``model_data`` and
``image`` in the config say what the execution role may read, since SageMaker creates the model
with that role from the package's own artifact and image.
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html
https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-version.html

This module never imports CDK: config validation uses it too.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from inference_constructs.service_models import check_string
from inference_constructs.settings import Settings

# A version ARN ends in /<version number>; the unversioned form names a package outside any group.
VERSIONED_PACKAGE = re.compile(
    r"^arn:[^:]+:sagemaker:[^:]+:[0-9]{12}:model-package/(?P<group>[^/]+)/(?P<version>[0-9]+)$"
)


def check_model_package_arn(value: str) -> str:
    """A model package version ARN, as CreateModel's ContainerDefinition.ModelPackageName takes it."""
    check_string("sagemaker", "ModelPackageArn", value)
    check_string("sagemaker", "VersionedArnOrName", value)
    if not VERSIONED_PACKAGE.fullmatch(value):
        raise ValueError(
            "expected a model package version ARN arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
        )
    return value


def check_model_package_group(value: str) -> str:
    """A model package group name (sagemaker CreateModelPackageGroup's EntityName)."""
    check_string("sagemaker", "EntityName", value)
    return value


class ModelPackageSource(Settings):
    """A registered model: one version (``arn``), or the latest approved version of a ``group``,
    resolved by the delivery pipeline before it synthesizes (``arn`` then holds what it resolved)."""

    arn: Annotated[str, AfterValidator(check_model_package_arn)] | None = Field(
        default=None,
        description="A model package version ARN: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>.",
    )
    group: Annotated[str, AfterValidator(check_model_package_group)] | None = Field(
        default=None,
        description="A model package group: the pipeline deploys its latest approved version and starts when a "
        "version is approved (needs config/pipeline.yaml enabled: true).",
    )

    @model_validator(mode="after")
    def _names_a_package(self) -> ModelPackageSource:
        if self.arn is None and self.group is None:
            raise ValueError("give arn (one model package version) or group (its latest approved version)")
        if self.arn is not None and self.group is not None:
            match = VERSIONED_PACKAGE.fullmatch(self.arn)
            if match is not None and match["group"] != self.group:
                raise ValueError(f"arn is a version of group {match['group']!r}, not of {self.group!r}")
        return self
