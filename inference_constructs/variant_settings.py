"""Settings of an instance-backed production variant that large models need: how long SageMaker
waits for the model to download and the container to pass its health check, the size of the
instances' storage volume, and how requests are routed to instances.

One settings model (``VariantSettings``, a mixin of the real-time, shadow and async settings)
and one function rendering its properties (``variant_properties``), so every kind of variant
(real-time, shadow, async, weighted A/B variants) states and checks them once.

The ranges and the routing strategies are AWS's, read from botocore's sagemaker service model
(the ``ProductionVariant*`` shapes), never typed in by hand.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from aws_cdk import aws_sagemaker as sagemaker
from pydantic import AfterValidator, Field, model_validator

from inference_constructs.instance_types import has_local_storage
from inference_constructs.service_models import enum, shape
from inference_constructs.settings import Settings

# The ProductionVariant members these settings fill, with the botocore shape of their value.
HEALTH_CHECK_TIMEOUT_SHAPE = "ProductionVariantContainerStartupHealthCheckTimeoutInSeconds"
DOWNLOAD_TIMEOUT_SHAPE = "ProductionVariantModelDataDownloadTimeoutInSeconds"
VOLUME_SIZE_SHAPE = "ProductionVariantVolumeSizeInGB"
ROUTING_STRATEGY_SHAPE = "RoutingStrategy"
# SageMaker mounts the instance's own NVMe storage on these types and provisions no EBS volume:
# "VolumeSizeInGB ... Currently only Amazon EBS gp2 storage volumes are supported" (botocore's
# ProductionVariant documentation) and the instance types with local storage, whose size is
# fixed, are listed on https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html.
INSTANCE_STORAGE_PAGE = "https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html"

# The settings' YAML keys, which serverless endpoints refuse (they have no instances).
VARIANT_SETTING_KEYS = (
    "container_startup_health_check_timeout_seconds",
    "model_data_download_timeout_seconds",
    "volume_size_in_gb",
    "routing_strategy",
)


def _in_range(shape_name: str) -> Any:
    """An AfterValidator holding an integer to the range of botocore shape ``shape_name``."""

    def check(value: int) -> int:
        metadata = shape("sagemaker", shape_name).metadata
        low, high = metadata["min"], metadata["max"]
        if not low <= value <= high:
            raise ValueError(f"must be {low}-{high} (sagemaker {shape_name}); got {value}")
        return value

    return AfterValidator(check)


def check_routing_strategy(value: str) -> str:
    allowed = enum("sagemaker", ROUTING_STRATEGY_SHAPE)
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(sorted(allowed))} (sagemaker {ROUTING_STRATEGY_SHAPE})")
    return value


def check_volume_size_fits(volume_size_in_gb: int | None, instance_type: str) -> None:
    """Raise ValueError when a volume size is asked of an instance type with local NVMe storage."""
    if volume_size_in_gb is not None and has_local_storage(instance_type):
        raise ValueError(
            f"volume_size_in_gb cannot be set on {instance_type}: its storage is the instance's own NVMe volume, "
            f"whose size is fixed, and SageMaker attaches no EBS volume to it ({INSTANCE_STORAGE_PAGE}); remove "
            "volume_size_in_gb, or use an instance type without instance storage"
        )


HealthCheckTimeoutSeconds = Annotated[
    Annotated[int, _in_range(HEALTH_CHECK_TIMEOUT_SHAPE)] | None,
    Field(
        default=None,
        description="How long the container may take to answer its first /ping after start (60-3600 s); large "
        "models loading into GPU memory need more than SageMaker's default.",
    ),
]
DownloadTimeoutSeconds = Annotated[
    Annotated[int, _in_range(DOWNLOAD_TIMEOUT_SHAPE)] | None,
    Field(default=None, description="How long downloading (and unpacking) the model from S3 may take (60-3600 s)."),
]
VolumeSizeInGb = Annotated[
    Annotated[int, _in_range(VOLUME_SIZE_SHAPE)] | None,
    Field(
        default=None,
        description="EBS volume per instance, in GB (1-512); refused on instance types with local NVMe storage "
        "(g4dn, g5, g6, p4d, p5, ...), whose storage size is fixed.",
    ),
]
RoutingStrategy = Annotated[
    Annotated[str, AfterValidator(check_routing_strategy)] | None,
    Field(
        default=None,
        description="How requests are spread over the instances: LEAST_OUTSTANDING_REQUESTS or RANDOM "
        "(SageMaker's default).",
    ),
]


class VariantSettings(Settings):
    """Start-up, storage and routing settings of an instance-backed variant (all optional:
    unset, SageMaker's defaults apply).

    A variant's settings model subclasses this and declares the four fields last, typed with
    the annotated types above (declared, not inherited, so that a block's own keys such as
    ``instance_type`` stay first in messages and in the configuration reference)::

        container_startup_health_check_timeout_seconds: HealthCheckTimeoutSeconds
        model_data_download_timeout_seconds: DownloadTimeoutSeconds
        volume_size_in_gb: VolumeSizeInGb
        routing_strategy: RoutingStrategy
    """

    @model_validator(mode="after")
    def _volume_fits_the_instance_type(self) -> Self:
        instance_type = getattr(self, "instance_type", None)
        if isinstance(instance_type, str):
            check_volume_size_fits(getattr(self, "volume_size_in_gb", None), instance_type)
        return self


def variant_properties(settings: VariantSettings) -> dict[str, Any]:
    """The ``ProductionVariantProperty`` keyword arguments these settings set (none when unset);
    CDK's property structs are plain Python objects, so no jsii call is made for them."""
    values = {key: getattr(settings, key, None) for key in VARIANT_SETTING_KEYS}
    properties: dict[str, Any] = {
        property_name: values[key]
        for key, property_name in (
            ("container_startup_health_check_timeout_seconds", "container_startup_health_check_timeout_in_seconds"),
            ("model_data_download_timeout_seconds", "model_data_download_timeout_in_seconds"),
            ("volume_size_in_gb", "volume_size_in_gb"),
        )
        if values[key] is not None
    }
    if values["routing_strategy"] is not None:
        properties["routing_config"] = sagemaker.CfnEndpointConfig.RoutingConfigProperty(
            routing_strategy=values["routing_strategy"]
        )
    return properties
