"""The typed shape of ``config/<environment>.yaml``.

Mode blocks reuse the constructs' own settings models, so every range and rule is stated
once, in the construct, and the config file gets exactly the same validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from inference_constructs.async_endpoint import AsyncSettings
from inference_constructs.batch.settings import MAX_JOB_NAME_PREFIX_LENGTH, BatchSettings
from inference_constructs.dlc_images import DLC_REGISTRY_ACCOUNTS
from inference_constructs.inference_component import ComponentSettings, check_fits_endpoint
from inference_constructs.inference_model import (
    ModelImage,
    check_dockerfile_exists,
    check_image_runs_on,
    check_local_artifact_exists,
    check_model_data,
    check_model_name,
    check_reserved_environment,
)
from inference_constructs.instance_types import Accelerator
from inference_constructs.log_retention import check_log_retention_days
from inference_constructs.model_approval import DEFAULT_EVENT_PATTERN_QUOTA
from inference_constructs.model_package import ModelPackageSource
from inference_constructs.multi_model import check_model_prefix, check_multi_model_image, is_model_prefix
from inference_constructs.network import NetworkSettings
from inference_constructs.realtime_endpoint import RealtimeSettings
from inference_constructs.serial_pipeline import MAX_PIPELINE_CONTAINERS, PipelineContainer
from inference_constructs.serverless_endpoint import ServerlessSettings
from inference_constructs.service_models import check_string, max_items, max_length
from inference_constructs.settings import Settings
from inference_constructs.shared_endpoint import SharedEndpointSettings
from inference_constructs.subscribers import NotificationSettings
from inference_core.modes import Mode, registered
from inference_core.naming import ENVIRONMENT_TAG, MAX_ENDPOINT_NAME_LENGTH, MODEL_TAG, stage_name

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]{1,15}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
# Tags the stages add to every stack themselves (so at most TagList's maximum less these are left).
PLATFORM_TAG_KEYS = (ENVIRONMENT_TAG, MODEL_TAG)
# CreateModel's limit on the whole container environment, which the service model cannot express:
# "Environment ... up to 32 KB" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).
MAX_CONTAINER_ENVIRONMENT_BYTES = 32 * 1024
# The inference modes a model can be served in (inference_core.modes) are each an optional block
# of ModelConfig, whose field is the mode's ``field``.
# What the shipped handler (model_code/code/inference.py, CONTENT_TYPES and ACCEPT_TYPES) reads
# and writes; a model-code test keeps the two equal. A batch job of a framework-image model may
# only send and ask for these, or every mini-batch fails with a 415 or 406.
HANDLER_CONTENT_TYPES = ("text/csv", "application/json", "application/jsonlines")
HANDLER_ACCEPT_TYPES = ("text/csv", "application/json", "application/jsonlines")
# SplitType values whose records the handler can read: lines of text (or the whole file).
# RecordIO and TFRecord frame binary records, which no text parser reads.
HANDLER_SPLIT_TYPES = ("Line", "None")


def longest_mode_suffix() -> int:
    """The longest mode suffix appended to "<environment>-<model>-" in endpoint names."""
    return max(len(mode.name) for mode in registered())


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


def _check_tag_key(value: str) -> str:
    check_string("sagemaker", "TagKey", value)
    # "The aws: prefix is reserved for AWS use" (tag keys may not start with it):
    # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions
    if value.lower().startswith("aws:"):
        raise ValueError("tag keys may not start with aws: (reserved for AWS)")
    return value


def _check_tag_value(value: str) -> str:
    return check_string("sagemaker", "TagValue", value)


def _check_container_environment(value: dict[str, str]) -> dict[str, str]:
    """AWS's limits on a container's environment (botocore's EnvironmentMap, -Key and -Value shapes)."""
    limit = max_items("sagemaker", "EnvironmentMap")
    if len(value) > limit:
        raise ValueError(f"at most {limit} variables (sagemaker EnvironmentMap); got {len(value)}")
    problems = []
    for key, item in value.items():
        for shape, text in (("EnvironmentKey", key), ("EnvironmentValue", item)):
            try:
                check_string("sagemaker", shape, text)
            except ValueError as error:
                problems.append(f"{key!r}: {error}")
    size = sum(len(key.encode()) + len(item.encode()) for key, item in value.items())
    if size > MAX_CONTAINER_ENVIRONMENT_BYTES:
        problems.append(f"all variables together take {size} bytes; CreateModel allows 32 KB")
    if problems:
        raise ValueError("; ".join(problems))
    return value


def check_problem(check: Callable[[str], object], value: str) -> str:
    """The message ``check`` raises for ``value`` (empty if it passes)."""
    try:
        check(value)
    except ValueError as error:
        return str(error)
    return ""


def _instance_types_in(settings: Settings, path: str) -> list[tuple[str, str]]:
    found = []
    if isinstance(getattr(settings, "instance_type", None), str):
        found.append((f"{path}.instance_type", settings.instance_type))  # type: ignore[attr-defined]
    for name in type(settings).model_fields:
        nested = getattr(settings, name)
        if isinstance(nested, Settings):
            found.extend(_instance_types_in(nested, f"{path}.{name}"))
        # Lists of blocks (weighted variants); one with an image of its own checks it itself.
        elif isinstance(nested, tuple):
            for index, item in enumerate(nested):
                if isinstance(item, Settings) and getattr(item, "image", None) is None:
                    found.extend(_instance_types_in(item, f"{path}.{name}[{index}]"))
    return found


# The validation context key under which EnvironmentConfig hands its shared endpoint to its models.
SHARED_ENDPOINT_CONTEXT = "shared_endpoint"
_INVALID_SHARED_ENDPOINT = object()


def _component_problems(
    component: ComponentSettings, shared: SharedEndpointSettings | None, image: ModelImage | None
) -> list[str]:
    """What AWS would refuse of a model's component block on the environment's shared endpoint."""
    if shared is None:
        return ["an inference component needs the environment's shared_endpoint block"]
    problems = check_fits_endpoint(component, shared)
    if image is not None:
        try:
            check_image_runs_on(image.runs_on, image.architecture, shared.instance_type)
        except ValueError as error:
            problems.append(f"shared_endpoint.instance_type: {error}")
    return problems


class ModelConfig(Settings):
    """One model and the inference modes it is served in."""

    name: Annotated[str, AfterValidator(check_model_name)] = Field(
        description="Short name: 2-32 lowercase letters, digits, hyphens."
    )
    image: ModelImage = Field(
        description="A prebuilt framework image ({framework, version}), your own ECR image ({uri}) or your own image "
        "built from a Dockerfile at deploy time ({dockerfile})."
    )
    model_data: Annotated[str, AfterValidator(check_model_data)] = Field(
        description="Local .tar.gz (relative to the repository root), s3://bucket/key.tar.gz, or an uncompressed "
        "model's S3 prefix s3://bucket/prefix/ (every object under it, for large models); with multi_model, the S3 "
        "prefix under which each .tar.gz is one model."
    )
    environment: Annotated[dict[str, str], AfterValidator(_check_container_environment)] = Field(
        default_factory=dict, description="Container environment variables (AWS's limits: 100 entries, 32 KB)."
    )
    model_package: ModelPackageSource | None = Field(
        default=None,
        description="Serve a model package from the SageMaker Model Registry: one version (arn) or a group's latest "
        "approved version (group). model_data and image then name the package's artifact and image, for the "
        "execution role's permissions.",
    )
    multi_model: bool = Field(
        default=False,
        description="Serve every model under the model_data prefix from one real-time endpoint (a multi-model "
        "endpoint: callers pick a model with TargetModel); real-time only.",
    )
    serial_pipeline: tuple[PipelineContainer, ...] = Field(
        default=(),
        description="Containers run in order in front of the model's own, each answer the next one's request (a "
        "serial inference pipeline); real-time and batch only.",
    )
    realtime: RealtimeSettings | None = Field(default=None, description="Serve as a real-time endpoint.")
    serverless: ServerlessSettings | None = Field(
        default=None, description="Serverless endpoint; its model runs outside any VPC, without network isolation."
    )
    # `async` is a Python keyword: the field is async_, the YAML key (and every message) is async.
    async_: AsyncSettings | None = Field(
        default=None,
        alias="async",
        description="Serve as an asynchronous endpoint (the Python field is async_: async is a Python keyword).",
    )
    batch: BatchSettings | None = Field(default=None, description="Run batch transform jobs of the model.")
    component: ComponentSettings | None = Field(
        default=None,
        description="Serve as an inference component of the environment's shared endpoint (shared_endpoint).",
    )

    @field_validator("environment")
    @classmethod
    def _platform_variables_are_reserved(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        image = info.data.get("image")
        check_reserved_environment(value, framework_image=image is not None and image.is_framework)
        return value

    @field_validator("serial_pipeline")
    @classmethod
    def _pipeline_containers_fit(
        cls, value: tuple[PipelineContainer, ...], info: ValidationInfo
    ) -> tuple[PipelineContainer, ...]:
        if len(value) > MAX_PIPELINE_CONTAINERS:
            raise ValueError(
                f"at most {MAX_PIPELINE_CONTAINERS} containers in front of the model's own (sagemaker "
                f"ContainerDefinitionList takes {MAX_PIPELINE_CONTAINERS + 1}); got {len(value)}"
            )
        base_dir = (info.context or {}).get("base_dir")
        problems = []
        for index, container in enumerate(value):
            # (field, check): its environment as the model's, and its local files where the config is read.
            checks: list[tuple[str, Callable[[], object]]] = [
                ("environment", lambda c=container: _check_container_environment(c.environment)),
                (
                    "environment",
                    lambda c=container: check_reserved_environment(c.environment, framework_image=c.image.is_framework),
                ),
            ]
            if base_dir is not None and container.model_data is not None:
                checks.append(
                    ("model_data", lambda c=container: check_local_artifact_exists(c.model_data, Path(base_dir)))
                )
            if base_dir is not None and container.image.dockerfile is not None:
                checks.append(
                    (
                        "image.dockerfile",
                        lambda c=container: check_dockerfile_exists(c.image.dockerfile, Path(base_dir)),
                    )
                )
            for field, check in checks:
                try:
                    check()
                except ValueError as error:
                    problems.append(f"[{index}].{field}: {error}")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("batch")
    @classmethod
    def _batch_speaks_the_handlers_types(
        cls, value: BatchSettings | None, info: ValidationInfo
    ) -> BatchSettings | None:
        image = info.data.get("image")
        # With a serial pipeline the first container, not the model's handler, reads the job's records.
        if value is None or image is None or not image.is_framework or info.data.get("serial_pipeline"):
            return value
        problems = []
        if value.content_type.split(";")[0].strip() not in HANDLER_CONTENT_TYPES:
            problems.append(f"content_type {value.content_type!r} is not one the handler reads")
        if value.accept is not None and value.accept.split(";")[0].strip() not in HANDLER_ACCEPT_TYPES:
            problems.append(f"accept {value.accept!r} is not one the handler writes")
        if value.split_type not in HANDLER_SPLIT_TYPES:
            problems.append(f"split_type {value.split_type!r} frames binary records the handler cannot read")
        if problems:
            raise ValueError(
                "; ".join(problems) + f" (model_code/code/inference.py reads {', '.join(HANDLER_CONTENT_TYPES)}, "
                f"writes {', '.join(HANDLER_ACCEPT_TYPES)}, with split_type {' or '.join(HANDLER_SPLIT_TYPES)})"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _resolved_group_version(cls, data: Any, info: ValidationInfo) -> Any:
        # The pipeline resolved the group before synth (scripts.resolve_model_packages, passed as
        # -c model_packages=...): its version, artifact and image replace what the file says.
        resolved = (info.context or {}).get("model_packages") or {}
        package = data.get("model_package") if isinstance(data, dict) else None
        group = package.get("group") if isinstance(package, dict) else None
        if not isinstance(group, str) or group not in resolved:
            return data
        version = resolved[group]
        # The package names its image; what the image is built for (CPU architecture, accelerator)
        # stays the config's, so the instance-type checks still apply to it.
        image = data.get("image") if isinstance(data.get("image"), dict) else {}
        built_for = {key: image[key] for key in ("architecture", "accelerator") if key in image}
        return {
            **data,
            "model_package": {**package, "arn": version["arn"]},
            "model_data": version["model_data"],
            "image": {"uri": version["image"], **built_for},
        }

    @field_validator("model_package")
    @classmethod
    def _package_is_resolvable(
        cls, value: ModelPackageSource | None, info: ValidationInfo
    ) -> ModelPackageSource | None:
        if value is None:
            return value
        model_data = info.data.get("model_data")
        if model_data is not None and not model_data.startswith("s3://"):
            raise ValueError(
                "model_data must be the package's own artifact, s3://<bucket>/<key>.tar.gz (its ModelDataUrl), "
                f"for the execution role's read permission; got the local file {model_data!r}"
            )
        if value.group is not None and not (info.context or {}).get("pipeline"):
            raise ValueError(
                f"group {value.group!r}: only the delivery pipeline resolves a group's latest approved version "
                "(config/pipeline.yaml enabled: true); without it, name one version with model_package.arn"
            )
        if value.group is not None and value.arn is None:
            raise ValueError(
                f"group {value.group!r} is not resolved: the pipeline's synth step writes its latest approved "
                'version into arn (cdk synth -c model_packages="$(python -m scripts.resolve_model_packages)"); run '
                "that with credentials to synthesize locally"
            )
        return value

    @field_validator("component")
    @classmethod
    def _component_fits_the_shared_endpoint(
        cls, value: ComponentSettings | None, info: ValidationInfo
    ) -> ComponentSettings | None:
        if value is None or not isinstance(info.context, dict) or SHARED_ENDPOINT_CONTEXT not in info.context:
            return value  # without the environment's context, EnvironmentConfig checks it
        shared = info.context[SHARED_ENDPOINT_CONTEXT]
        if shared is _INVALID_SHARED_ENDPOINT:
            return value
        problems = _component_problems(value, shared, info.data.get("image"))
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("model_data")
    @classmethod
    def _local_artifact_exists(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is not None:
            check_local_artifact_exists(value, Path(base_dir))
        return value

    @model_validator(mode="after")
    def _package_is_one_container(self) -> ModelConfig:
        # A package version is one container with one artifact (scripts.resolve_model_packages
        # refuses others): no multi-model prefix, no serial pipeline in front of it.
        if self.model_package is not None and (self.multi_model or self.serial_pipeline):
            raise ValueError("model_package serves one model in one container: remove multi_model and serial_pipeline")
        return self

    @model_validator(mode="after")
    def _served_somewhere(self) -> ModelConfig:
        if not self.modes:
            raise ValueError(f"serve the model in at least one mode: {', '.join(m.name for m in registered())}")
        return self

    @model_validator(mode="after")
    def _pipeline_fits_its_modes(self) -> ModelConfig:
        # Serverless endpoints exclude inference pipelines
        # (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html, feature exclusions);
        # real-time and batch run them (https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipelines.html).
        # Async endpoints are not offered one by this platform (not checked against AWS).
        refused = [mode for mode in ("serverless", "async") if mode in self.modes]
        if self.serial_pipeline and refused:
            raise ValueError(
                f"a serial pipeline runs on real-time endpoints and batch transform only; remove {', '.join(refused)} "
                "(serverless endpoints exclude inference pipelines) or serve those modes from another model entry"
            )
        # "If you pass multiple containers to a CreateModel request, then the maximum length of all of
        # their maps, combined, is also 32 KB" (ContainerDefinition.Environment,
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).
        environments = [self.environment, *(container.environment for container in self.serial_pipeline)]
        size = sum(len(key.encode()) + len(value.encode()) for env in environments for key, value in env.items())
        if self.serial_pipeline and size > MAX_CONTAINER_ENVIRONMENT_BYTES:
            raise ValueError(
                f"the environments of the model and its serial_pipeline containers take {size} bytes together; "
                "CreateModel allows 32 KB for all containers combined"
            )
        return self

    @model_validator(mode="after")
    def _multi_model_fits(self) -> ModelConfig:
        # Without multi_model, an S3 prefix is an uncompressed model (check_model_data).
        if not self.multi_model:
            return self
        prefix = is_model_prefix(self.model_data)
        problems = []
        if not prefix:
            problems.append(f"model_data: {check_problem(check_model_prefix, self.model_data)}")
        if self.serial_pipeline:
            problems.append("serial_pipeline: a multi-model endpoint runs one container")
        # https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html (feature exclusions);
        # async endpoints and batch jobs are not offered one by this platform.
        others = [mode for mode in self.modes if mode != "realtime"]
        if others:
            problems.append(
                f"a multi-model endpoint is real-time only; remove {', '.join(others)} (serverless endpoints do not "
                "host multi-model endpoints) or serve those modes from another model entry"
            )
        if self.realtime is not None:
            if self.realtime.shadow is not None or self.realtime.variants:
                problems.append("realtime.shadow and realtime.variants are not offered with multi_model")
            for field, instance_type in self.instance_types():
                try:
                    check_multi_model_image(
                        framework=self.image.framework, uri=self.image.uri, instance_type=instance_type
                    )
                except ValueError as error:
                    problems.append(f"{field}: {error}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _image_runs_on_every_instance(self) -> ModelConfig:
        # Serverless compute is x86_64 (no instance type to choose), like the framework images.
        problems = []
        images = [("image", self.image)] + [
            (f"serial_pipeline[{index}].image", container.image) for index, container in enumerate(self.serial_pipeline)
        ]
        for field, instance_type in self.instance_types():
            for image_field, image in images:
                try:
                    check_image_runs_on(image.runs_on, image.architecture, instance_type)
                except ValueError as error:
                    problems.append(f"{field}: {error}" + (f" ({image_field})" if image is not self.image else ""))
        # Serverless compute is CPU only: a GPU or Neuron image cannot start there.
        if self.serverless is not None and self.image.runs_on is not Accelerator.CPU:
            problems.append(
                f"serverless: the model's image is built for {self.image.runs_on}, and serverless endpoints run on "
                "CPU only; serve it from a realtime or async endpoint on a GPU or accelerator instance type"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def instance_types(self) -> list[tuple[str, str]]:
        """(config path, instance type) of every instance this model runs on: every
        ``instance_type`` in a mode's block or in a block nested in it (a shadow variant's)."""
        found: list[tuple[str, str]] = []
        for mode in registered():
            settings = self.settings_of(mode)
            if settings is not None:
                found.extend(_instance_types_in(settings, mode.config_key))
        return found

    def settings_of(self, mode: Mode) -> Settings | None:
        """The block of ``mode`` (None when the model is not served in it)."""
        settings: Settings | None = getattr(self, mode.field, None)
        return settings

    @property
    def modes(self) -> list[str]:
        return [mode.name for mode in registered() if self.settings_of(mode) is not None]


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
    tags: dict[Annotated[str, AfterValidator(_check_tag_key)], Annotated[str, AfterValidator(_check_tag_value)]] = (
        Field(default_factory=dict, description="Tags on every resource (AWS's tag key and value rules apply).")
    )
    notifications: NotificationSettings = Field(
        default=NotificationSettings(), description="Who receives alarms and batch run notifications."
    )
    termination_protection: bool = Field(default=True, description="Protect every stack from deletion.")
    retain_stateful_resources: bool = Field(
        default=True, description="Keep the key, buckets and their data when a stack is deleted."
    )
    retain_endpoint_logs: bool = Field(
        default=True,
        description="Keep endpoint log groups (and their logs) when stacks are deleted. SageMaker fixes their "
        "names (/aws/sagemaker/Endpoints/<endpoint>), so a kept group must be deleted before the same "
        "environment deploys again; turn this off where environments are torn down and rebuilt.",
    )
    access_log_retention_days: int = Field(
        default=365, ge=1, le=3650, description="How long S3 server access logs are kept, in days."
    )
    log_retention_days: Annotated[int, AfterValidator(check_log_retention_days)] = Field(
        default=365, description="How long endpoint container logs are kept (a CloudWatch Logs retention period)."
    )
    network: NetworkSettings | None = Field(
        default=None, description="Run models in this VPC with network isolation (ids are not looked up)."
    )
    # Before models: the models' component blocks are checked against it.
    shared_endpoint: SharedEndpointSettings | None = Field(
        default=None,
        description="One real-time endpoint whose instances host the models that have a component block, "
        "each as an inference component (docs/modes/component.md).",
    )
    models: list[ModelConfig] = Field(min_length=1, description="The models; their names must be unique.")

    @field_validator("environment")
    @classmethod
    def _matches_file(cls, value: str, info: ValidationInfo) -> str:
        expected = (info.context or {}).get("expected_environment")
        if expected is not None and value != expected:
            raise ValueError(f"must match the file name: expected {expected!r}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags_fit(cls, value: dict[str, str]) -> dict[str, str]:
        limit = max_items("sagemaker", "TagList") - len(PLATFORM_TAG_KEYS)
        if len(value) > limit:
            raise ValueError(
                f"at most {limit} tags: SageMaker takes {max_items('sagemaker', 'TagList')} per resource and the "
                f"platform adds {', '.join(PLATFORM_TAG_KEYS)}"
            )
        reserved = sorted(PLATFORM_TAG_KEYS & value.keys())
        if reserved:
            raise ValueError(f"{', '.join(reserved)} is set by the platform on every stack; remove it")
        return value

    @field_validator("notifications")
    @classmethod
    def _lambda_subscribers_in_this_account(
        cls, notifications: NotificationSettings, info: ValidationInfo
    ) -> NotificationSettings:
        # The topic grants the function permission to be invoked, which only works in the
        # function's own account (AddPermission is an action on the function).
        account = info.data.get("account")
        if account is None:
            return notifications
        foreign = [
            subscriber.endpoint
            for subscriber in (*notifications.alarm_subscribers, *notifications.notification_subscribers)
            if subscriber.protocol == "lambda" and subscriber.account != account
        ]
        if foreign:
            raise ValueError(f"Lambda subscribers must be in the environment's account {account}: {foreign}")
        return notifications

    @field_validator("models")
    @classmethod
    def _unique_names_that_fit(cls, models: list[ModelConfig], info: ValidationInfo) -> list[ModelConfig]:
        names = [model.name for model in models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique; duplicated: {', '.join(duplicates)}")
        environment = info.data.get("environment")
        if environment is not None:
            longest = MAX_ENDPOINT_NAME_LENGTH - len(environment) - longest_mode_suffix() - 2
            too_long = [name for name in names if len(name) > longest]
            if too_long:
                raise ValueError(
                    f"model names {too_long} are too long for endpoint names in environment "
                    f"{environment!r}; at most {longest} characters"
                )
        return models

    @model_validator(mode="before")
    @classmethod
    def _share_the_endpoint_with_the_models(cls, data: object, info: ValidationInfo) -> object:
        # Each model's component block is checked against the shared endpoint where it is written,
        # so its errors name the component's own line: the models read it from the context.
        if isinstance(data, dict) and isinstance(info.context, dict):
            raw = data.get("shared_endpoint")
            try:
                shared = SharedEndpointSettings.model_validate(raw) if raw is not None else None
            except ValidationError:
                shared = _INVALID_SHARED_ENDPOINT  # reported on its own, where it is written
            info.context[SHARED_ENDPOINT_CONTEXT] = shared
        return data

    @field_validator("models")
    @classmethod
    def _components_fit_the_shared_endpoint(cls, models: list[ModelConfig], info: ValidationInfo) -> list[ModelConfig]:
        # Models validated with the shared endpoint in their context were checked already.
        if isinstance(info.context, dict) and SHARED_ENDPOINT_CONTEXT in info.context:
            return models
        if "shared_endpoint" not in info.data:
            return models  # shared_endpoint itself is invalid and reported on its own
        shared: SharedEndpointSettings | None = info.data["shared_endpoint"]
        problems = [
            f"models[{index}].component: {problem}"
            for index, model in enumerate(models)
            if model.component is not None
            for problem in _component_problems(model.component, shared, model.image)
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return models

    @field_validator("models")
    @classmethod
    def _images_published_in_the_region(cls, models: list[ModelConfig], info: ValidationInfo) -> list[ModelConfig]:
        # The Deep Learning Container table holds the regions where AWS publishes every image
        # of it (inference_constructs/dlc_images.py); a pinned region outside it has no registry.
        region = info.data.get("region")
        if region is None or region in DLC_REGISTRY_ACCOUNTS:
            return models
        using = [model.name for model in models if model.image.dlc is not None]
        if using:
            raise ValueError(
                f"models {using} use Deep Learning Container images, and no Deep Learning Container registry is "
                f"recorded for region {region}; regions: {', '.join(sorted(DLC_REGISTRY_ACCOUNTS))}"
            )
        return models

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


# --- config/pipeline.yaml: the delivery pipeline, which spans environments -------------------

CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:connection/[\w-]+$"
)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
GITHUB_REPOSITORY = re.compile(r"^[\w.-]+/[\w.-]+$")
CODECOMMIT_REPOSITORY = re.compile(r"^[\w.-]{1,100}$")
GIT_BRANCH = re.compile(r"^[\w.-]+(/[\w.-]+)*$")
PIPELINE_NAME = re.compile(r"^[A-Za-z0-9.@_-]{1,100}$")


def _check_connection_arn(value: str) -> str:
    if not CONNECTION_ARN.match(value):
        raise ValueError(
            "expected a CodeConnections (CodeStar) connection ARN such as "
            "arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-..."
        )
    return value


def _check_branch(value: str) -> str:
    if len(value) > 255 or not GIT_BRANCH.match(value) or ".." in value or value.endswith(".lock"):
        raise ValueError("expected a git branch name such as main or release/1.2")
    return value


def _check_role_arn(value: str) -> str:
    if not ROLE_ARN.match(value):
        raise ValueError("expected an IAM role ARN such as arn:aws:iam::222222222222:role/smoke-tests")
    return value


class PipelineSource(Settings):
    """Where the pipeline gets the code: a repository behind a CodeConnections (CodeStar)
    connection (GitHub, GitLab, Bitbucket), or a CodeCommit repository. Nothing is looked up."""

    connection_arn: Annotated[str, AfterValidator(_check_connection_arn)] | None = Field(
        default=None, description="CodeConnections connection ARN; needs `repository`."
    )
    repository: str | None = Field(
        default=None, pattern=GITHUB_REPOSITORY.pattern, description="owner/name, with `connection_arn`."
    )
    codecommit_repository: str | None = Field(
        default=None, pattern=CODECOMMIT_REPOSITORY.pattern, description="CodeCommit repository name."
    )
    branch: Annotated[str, AfterValidator(_check_branch)] = Field(default="main", description="The branch deployed.")

    @model_validator(mode="after")
    def _one_source(self) -> PipelineSource:
        if (self.connection_arn is None) == (self.codecommit_repository is None):
            raise ValueError(
                "set exactly one source: connection_arn with repository (owner/name), or codecommit_repository"
            )
        if self.connection_arn is not None and self.repository is None:
            raise ValueError("connection_arn needs repository: owner/name of the repository to build")
        if self.codecommit_repository is not None and self.repository is not None:
            raise ValueError(
                "repository goes with connection_arn; a CodeCommit source needs codecommit_repository only"
            )
        return self


class PipelineStage(Settings):
    """One environment the pipeline deploys, in the order listed."""

    environment: str = Field(pattern=ENVIRONMENT_NAME.pattern, description="config/<environment>.yaml must exist.")
    manual_approval: bool = Field(default=False, description="Wait for a person to approve before deploying.")
    smoke_test_role_arn: Annotated[str, AfterValidator(_check_role_arn)] | None = Field(
        default=None,
        description="Role in the environment's account that the smoke tests assume; only for another account.",
    )


class PipelineConfig(Settings):
    """``config/pipeline.yaml``: a self-mutating CDK pipeline deploying the environments in order."""

    enabled: bool = Field(default=False, description="When true, `cdk synth` builds the pipeline stack instead.")
    name: str = Field(
        default="sagemaker-inference",
        pattern=PIPELINE_NAME.pattern,
        description="Pipeline name (its stack is <name>-pipeline).",
    )
    account: Annotated[str, AfterValidator(_check_account)] = Field(description="The pipeline's (tooling) account.")
    region: Annotated[str, AfterValidator(_check_region)] = Field(description="The pipeline's region.")
    source: PipelineSource = Field(
        description="Where the code comes from: a CodeConnections connection or a CodeCommit repository."
    )
    stages: list[PipelineStage] = Field(min_length=1, description="Environments in deployment order.")
    event_pattern_quota: int = Field(
        default=DEFAULT_EVENT_PATTERN_QUOTA,
        ge=DEFAULT_EVENT_PATTERN_QUOTA,
        le=max_length("events", "EventPattern"),
        description="The pipeline account's EventBridge event pattern size quota, in characters (2,048 unless "
        "raised): the approval rule's pattern, which names every model package group, must fit it.",
    )

    @model_validator(mode="after")
    def _unique_stages(self) -> PipelineConfig:
        names = [stage.environment for stage in self.stages]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"each environment is deployed once; listed more than once: {', '.join(duplicates)}")
        return self

    @property
    def environments(self) -> list[str]:
        return [stage.environment for stage in self.stages]
