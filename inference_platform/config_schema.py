"""The typed shape of ``config/<environment>.yaml``.

Mode blocks reuse the constructs' own settings models, so every range and rule is stated
once, in the construct, and the config file gets exactly the same validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from inference_constructs.batch_transform_job import MAX_JOB_NAME_PREFIX_LENGTH, BatchSettings
from inference_constructs.inference_model import MODEL_NAME, ModelImage, check_model_data
from inference_constructs.naming import MAX_ENDPOINT_NAME_LENGTH
from inference_constructs.network import NetworkSettings
from inference_constructs.realtime_endpoint import RealtimeSettings
from inference_constructs.settings import Settings
from inference_platform.naming import stage_name

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]{1,15}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
TAG_KEY = re.compile(r"^[\w.:/=+@ -]{1,128}$")
# The longest mode suffix appended to "<environment>-<model>-" in endpoint names.
LONGEST_MODE_SUFFIX = len("serverless")


def _check_region(value: str) -> str:
    if not REGION.match(value):
        raise ValueError("expected an AWS region such as eu-west-1 or us-east-1")
    return value


def _check_account(value: str) -> str:
    if not ACCOUNT_ID.match(value):
        raise ValueError("expected a 12-digit AWS account id, quoted as a string")
    return value


class ModelConfig(Settings):
    """One model and the inference modes it is served in."""

    name: str = Field(pattern=MODEL_NAME.pattern, description="Short name: 2-32 lowercase letters, digits, hyphens.")
    image: ModelImage
    model_data: Annotated[str, AfterValidator(check_model_data)] = Field(
        description="Local .tar.gz (relative to the repository root) or s3://bucket/key.tar.gz."
    )
    environment: dict[str, str] = Field(default_factory=dict, description="Container environment variables.")
    realtime: RealtimeSettings | None = None
    batch: BatchSettings | None = None

    @field_validator("model_data")
    @classmethod
    def _local_artifact_exists(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is not None and not value.startswith("s3://") and not (Path(base_dir) / value).is_file():
            raise ValueError(f"local artifact not found under {base_dir}; run `make model` to build it")
        return value

    @model_validator(mode="after")
    def _served_somewhere(self) -> ModelConfig:
        if not self.modes:
            raise ValueError("serve the model in at least one mode: realtime, batch")
        return self

    @property
    def modes(self) -> list[str]:
        return [mode for mode in ("realtime", "batch") if getattr(self, mode) is not None]


class EnvironmentConfig(Settings):
    """One deployment environment (a CDK stage)."""

    environment: str = Field(pattern=ENVIRONMENT_NAME.pattern, description="Must equal the file name, e.g. dev.")
    account: Annotated[str, AfterValidator(_check_account)] | None = Field(
        default=None, description="Target account; omit for an environment-agnostic template."
    )
    region: Annotated[str, AfterValidator(_check_region)] | None = Field(
        default=None, description="Target region; omit for an environment-agnostic template."
    )
    tags: dict[Annotated[str, Field(pattern=TAG_KEY.pattern)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict
    )
    termination_protection: bool = Field(default=True, description="Protect every stack from deletion.")
    retain_stateful_resources: bool = Field(
        default=True, description="Keep the key, buckets and their data when a stack is deleted."
    )
    access_log_retention_days: int = Field(default=365, ge=1, le=3650)
    network: NetworkSettings | None = Field(
        default=None, description="Run models in this VPC with network isolation (ids are not looked up)."
    )
    models: list[ModelConfig] = Field(min_length=1)

    @field_validator("environment")
    @classmethod
    def _matches_file(cls, value: str, info: ValidationInfo) -> str:
        expected = (info.context or {}).get("expected_environment")
        if expected is not None and value != expected:
            raise ValueError(f"must match the file name: expected {expected!r}")
        return value

    @model_validator(mode="after")
    def _unique_names_that_fit(self) -> EnvironmentConfig:
        names = [model.name for model in self.models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique; duplicated: {', '.join(duplicates)}")
        longest = MAX_ENDPOINT_NAME_LENGTH - len(self.environment) - LONGEST_MODE_SUFFIX - 2
        too_long = [name for name in names if len(name) > longest]
        if too_long:
            raise ValueError(
                f"model names {too_long} are too long for endpoint names in environment "
                f"{self.environment!r}; at most {longest} characters"
            )
        return self

    @model_validator(mode="after")
    def _batch_job_names_fit(self) -> EnvironmentConfig:
        # Batch transform job names are "<environment>-<model>-<32-character hash>", at most 63.
        longest = MAX_JOB_NAME_PREFIX_LENGTH - len(self.environment) - 1
        too_long = [model.name for model in self.models if model.batch is not None and len(model.name) > longest]
        if too_long:
            raise ValueError(
                f"model names {too_long} are too long for batch transform job names in environment "
                f"{self.environment!r}; at most {longest} characters for a model with a batch block"
            )
        return self

    @property
    def stage_name(self) -> str:
        """The CDK stage id, e.g. ``Prod`` (so ``cdk deploy "Prod/*"``)."""
        return stage_name(self.environment)
