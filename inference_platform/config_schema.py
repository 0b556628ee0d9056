"""The typed shape of ``config/<environment>.yaml``.

Mode blocks reuse the constructs' own settings models, so every range and rule is stated
once, in the construct, and the config file gets exactly the same validation.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from inference_constructs.async_endpoint import AsyncSettings
from inference_constructs.endpoint import check_log_retention_days
from inference_constructs.inference_model import (
    FRAMEWORK_CONTAINER_ENVIRONMENT,
    ModelImage,
    check_model_data,
    check_model_name,
)
from inference_constructs.naming import MAX_ENDPOINT_NAME_LENGTH
from inference_constructs.network import NetworkSettings
from inference_constructs.realtime_endpoint import RealtimeSettings
from inference_constructs.serverless_endpoint import ServerlessSettings
from inference_constructs.settings import Settings
from inference_platform.naming import stage_name

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]{1,15}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
TAG_KEY = re.compile(r"^[\w.:/=+@ -]{1,128}$")
# The inference modes a model can be served in; each is an optional block of ModelConfig.
MODES = ("realtime", "serverless", "async")
# The longest mode suffix appended to "<environment>-<model>-" in endpoint names.
LONGEST_MODE_SUFFIX = len("serverless")


def _check_environment_name(value: str) -> str:
    if not ENVIRONMENT_NAME.fullmatch(value):
        raise ValueError("must be 2-16 lowercase letters and digits, starting with a letter, e.g. dev or prod")
    return value


def _check_region(value: str) -> str:
    if not REGION.fullmatch(value):
        raise ValueError("expected an AWS region such as eu-west-1 or us-east-1")
    return value


def _account_is_quoted(value: object) -> object:
    if isinstance(value, int):
        raise ValueError('account ids must be quoted strings (YAML drops leading zeros), e.g. account: "012345678901"')
    return value


def _check_account(value: str) -> str:
    if not ACCOUNT_ID.fullmatch(value):
        raise ValueError("expected a 12-digit AWS account id, quoted as a string")
    return value


def _field_of(mode: str) -> str:
    """The ModelConfig field of a mode: ``async`` is a keyword, so its field is ``async_``."""
    return f"{mode}_" if keyword.iskeyword(mode) else mode


class ModelConfig(Settings):
    """One model and the inference modes it is served in."""

    name: Annotated[str, AfterValidator(check_model_name)] = Field(
        description="Short name: 2-32 lowercase letters, digits, hyphens."
    )
    image: ModelImage
    model_data: Annotated[str, AfterValidator(check_model_data)] = Field(
        description="Local .tar.gz (relative to the repository root) or s3://bucket/key.tar.gz."
    )
    environment: dict[str, str] = Field(default_factory=dict, description="Container environment variables.")
    realtime: RealtimeSettings | None = None
    serverless: ServerlessSettings | None = Field(
        default=None, description="Serverless endpoint; its model runs outside any VPC, without network isolation."
    )
    # `async` is a Python keyword: the field is async_, the YAML key (and every message) is async.
    async_: AsyncSettings | None = Field(default=None, alias="async")

    @field_validator("environment")
    @classmethod
    def _framework_variables_are_reserved(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        image = info.data.get("image")
        reserved = sorted(FRAMEWORK_CONTAINER_ENVIRONMENT.keys() & value.keys())
        if image is not None and image.is_framework and reserved:
            raise ValueError(
                f"{', '.join(reserved)} is set by the platform for framework images; remove it "
                "(or serve your own container with image.uri)"
            )
        return value

    @field_validator("model_data")
    @classmethod
    def _local_artifact_exists(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is not None and not value.startswith("s3://") and not (Path(base_dir) / value).is_file():
            raise ValueError(
                "local artifact not found (paths are relative to the repository root); run `make model` to build it"
            )
        return value

    @model_validator(mode="after")
    def _served_somewhere(self) -> ModelConfig:
        if not self.modes:
            raise ValueError(f"serve the model in at least one mode: {', '.join(MODES)}")
        return self

    @property
    def modes(self) -> list[str]:
        return [mode for mode in MODES if getattr(self, _field_of(mode)) is not None]


class EnvironmentConfig(Settings):
    """One deployment environment (a CDK stage)."""

    environment: Annotated[str, AfterValidator(_check_environment_name)] = Field(
        description="Must equal the file name, e.g. dev."
    )
    account: Annotated[str, BeforeValidator(_account_is_quoted), AfterValidator(_check_account)] | None = Field(
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
    log_retention_days: Annotated[int, AfterValidator(check_log_retention_days)] = Field(
        default=365, description="How long endpoint container logs are kept (a CloudWatch Logs retention period)."
    )
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

    @field_validator("models")
    @classmethod
    def _unique_names_that_fit(cls, models: list[ModelConfig], info: ValidationInfo) -> list[ModelConfig]:
        names = [model.name for model in models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique; duplicated: {', '.join(duplicates)}")
        environment = info.data.get("environment")
        if environment is not None:
            longest = MAX_ENDPOINT_NAME_LENGTH - len(environment) - LONGEST_MODE_SUFFIX - 2
            too_long = [name for name in names if len(name) > longest]
            if too_long:
                raise ValueError(
                    f"model names {too_long} are too long for endpoint names in environment "
                    f"{environment!r}; at most {longest} characters"
                )
        return models

    @property
    def stage_name(self) -> str:
        """The CDK stage id, e.g. ``Prod`` (so ``cdk deploy "Prod/*"``)."""
        return stage_name(self.environment)
