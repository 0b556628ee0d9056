from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from pydantic import ValidationError

from inference_constructs.async_endpoint import AsyncSettings
from inference_constructs.errors import InvalidPropsError
from inference_constructs.realtime_endpoint import RealtimeEndpoint, RealtimeSettings
from inference_constructs.serverless_endpoint import ServerlessSettings
from inference_constructs.service_models import shape
from inference_constructs.variant_settings import VariantSettings, variant_properties
from tests.inference_constructs.helpers import new_key, new_model, new_stack

LARGE = {
    "container_startup_health_check_timeout_seconds": 1800,
    "model_data_download_timeout_seconds": 1200,
    "routing_strategy": "LEAST_OUTSTANDING_REQUESTS",
}


def test_ranges_are_botocores():
    # The model's own numbers, so a change in botocore shows here.
    for name in (
        "ProductionVariantContainerStartupHealthCheckTimeoutInSeconds",
        "ProductionVariantModelDataDownloadTimeoutInSeconds",
    ):
        assert shape("sagemaker", name).metadata == {"min": 60, "max": 3600}
    assert shape("sagemaker", "ProductionVariantVolumeSizeInGB").metadata == {"min": 1, "max": 512}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "container_startup_health_check_timeout_seconds",
            59,
            "must be 60-3600 (sagemaker ProductionVariantContainerStartupHealthCheckTimeoutInSeconds); got 59",
        ),
        ("container_startup_health_check_timeout_seconds", 3601, "must be 60-3600"),
        (
            "model_data_download_timeout_seconds",
            59,
            "must be 60-3600 (sagemaker ProductionVariantModelDataDownloadTimeoutInSeconds); got 59",
        ),
        ("model_data_download_timeout_seconds", 3601, "got 3601"),
        ("volume_size_in_gb", 0, "must be 1-512 (sagemaker ProductionVariantVolumeSizeInGB); got 0"),
        ("volume_size_in_gb", 513, "got 513"),
        (
            "routing_strategy",
            "ROUND_ROBIN",
            "must be one of LEAST_OUTSTANDING_REQUESTS, RANDOM (sagemaker RoutingStrategy)",
        ),
    ],
)
def test_each_range_is_refused_with_what_aws_allows(field, value, expected):
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        RealtimeSettings(instance_type="ml.m5.large", **{field: value})


def test_bounds_are_accepted():
    settings = RealtimeSettings(
        instance_type="ml.m5.large",
        container_startup_health_check_timeout_seconds=60,
        model_data_download_timeout_seconds=3600,
        volume_size_in_gb=512,
        routing_strategy="RANDOM",
    )
    properties = variant_properties(settings)
    assert properties.pop("routing_config").routing_strategy == "RANDOM"
    assert properties == {
        "container_startup_health_check_timeout_in_seconds": 60,
        "model_data_download_timeout_in_seconds": 3600,
        "volume_size_in_gb": 512,
    }


def test_unset_settings_render_nothing():
    assert variant_properties(VariantSettings()) == {}
    assert variant_properties(RealtimeSettings(instance_type="ml.m5.large")) == {}


@pytest.mark.parametrize("instance_type", ["ml.g5.2xlarge", "ml.g4dn.xlarge", "ml.p4d.24xlarge", "ml.m5d.large"])
def test_volume_size_is_refused_on_local_nvme_storage(instance_type):
    with pytest.raises(
        ValidationError, match=f"volume_size_in_gb cannot be set on {instance_type}: .*host-instance-storage"
    ):
        RealtimeSettings(instance_type=instance_type, volume_size_in_gb=100)


def test_volume_size_is_checked_on_shadow_and_async_too():
    with pytest.raises(ValidationError, match=r"volume_size_in_gb cannot be set on ml\.g5\.xlarge"):
        RealtimeSettings(
            instance_type="ml.m5.large",
            shadow={"model_data": "s3://b-b/m.tar.gz", "instance_type": "ml.g5.xlarge", "volume_size_in_gb": 50},
        )
    with pytest.raises(ValidationError, match=r"volume_size_in_gb cannot be set on ml\.g6\.xlarge"):
        AsyncSettings(instance_type="ml.g6.xlarge", volume_size_in_gb=50)
    # EBS-backed GPU types take a volume.
    assert AsyncSettings(instance_type="ml.p3.2xlarge", volume_size_in_gb=200).volume_size_in_gb == 200


@pytest.mark.parametrize(
    "field",
    [
        "container_startup_health_check_timeout_seconds",
        "model_data_download_timeout_seconds",
        "volume_size_in_gb",
        "routing_strategy",
    ],
)
def test_serverless_refuses_each_with_a_reason(field):
    with pytest.raises(
        ValidationError,
        match=f"serverless endpoints have no instances to start, store or route to: SageMaker refuses {field}",
    ):
        ServerlessSettings(
            memory_size_in_mb=2048, max_concurrency=5, **{field: 600 if field != "routing_strategy" else "RANDOM"}
        )


@pytest.fixture(scope="module")
def large_model_endpoint(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact)
    shadow = new_model(stack, key, model_artifact, id="ShadowModel")
    RealtimeEndpoint(
        stack,
        "Realtime",
        model=model,
        shadow_model=shadow,
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={
            "instance_type": "ml.p3.2xlarge",
            "volume_size_in_gb": 200,
            **LARGE,
            "shadow": {
                "model_data": "s3://b-b/m.tar.gz",
                "instance_type": "ml.g5.2xlarge",
                "routing_strategy": "RANDOM",
            },
        },
    )
    return Template.from_stack(stack)


def test_realtime_and_shadow_variants_carry_their_settings(large_model_endpoint):
    config = next(iter(large_model_endpoint.find_resources("AWS::SageMaker::EndpointConfig").values()))["Properties"]
    variant = config["ProductionVariants"][0]
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 1800
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200
    assert variant["VolumeSizeInGB"] == 200
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    shadow = config["ShadowProductionVariants"][0]
    assert shadow["RoutingConfig"] == {"RoutingStrategy": "RANDOM"}
    assert "VolumeSizeInGB" not in shadow and "ContainerStartupHealthCheckTimeoutInSeconds" not in shadow


def test_a_bad_setting_is_an_error_of_the_construct(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    with pytest.raises(InvalidPropsError, match=r"settings\.volume_size_in_gb"):
        RealtimeEndpoint(
            stack,
            "Realtime",
            model=new_model(stack, key, model_artifact),
            encryption_key=key,
            endpoint_name="test-iris-realtime",
            settings={"instance_type": "ml.m5.large", "volume_size_in_gb": 1000},
        )
