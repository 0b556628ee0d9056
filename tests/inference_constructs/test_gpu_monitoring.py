"""GPU variants: GPU and GPU memory alarms normalised per GPU, and their dashboard row."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.inference_model import InferenceModel
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from tests.conftest import new_app
from tests.inference_constructs.helpers import new_key, new_model
from tests.inference_constructs.test_dashboard import dashboard_body, graphs_by_title, metric_lines


def _endpoint(stack: cdk.Stack, instance_type: str, model: InferenceModel, alarms: dict | None = None):
    return RealtimeEndpoint(
        stack,
        f"Endpoint{instance_type.replace('.', '')}",
        model=model,
        encryption_key=model.encryption_key,
        endpoint_name=f"test-llm-{instance_type.split('.')[2]}",
        settings={"instance_type": instance_type, **({"alarms": alarms} if alarms else {})},
    )


@pytest.fixture(scope="module")
def gpu_stacks():
    app = new_app()
    models = cdk.Stack(app, "Models", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    model = InferenceModel(
        models,
        "Llm",
        name="llm",
        name_prefix="test-llm",
        image={"dlc": "huggingface-tgi", "version": "3.3.6"},
        model_data="s3://my-models/llm/",
        encryption_key=new_key(models),
    )
    four_gpus = _endpoint(models, "ml.g5.12xlarge", model, {"gpu_utilization_percent": 80})
    _endpoint(models, "ml.g5.2xlarge", model)
    monitoring = cdk.Stack(app, "Monitoring", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    dashboard = InferenceDashboard(monitoring, "Dashboard", dashboard_name="test", title="Inference: test")
    dashboard.add_realtime_endpoint(four_gpus, model_name="llm")
    return Template.from_stack(models), Template.from_stack(monitoring)


def _alarms(template: Template) -> dict[str, dict]:
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "AlarmName" in alarm["Properties"]  # the async wake-up alarm has a generated name
    }


def test_gpu_alarms_are_rendered_per_gpu(gpu_stacks):
    alarms = _alarms(gpu_stacks[0])
    four = alarms["test-llm-12xlarge-GpuUtilization"]
    assert (four["Namespace"], four["MetricName"], four["Threshold"]) == (
        "/aws/sagemaker/Endpoints",
        "GPUUtilization",
        320,
    )
    assert {d["Name"]: d["Value"] for d in four["Dimensions"]} == {
        "EndpointName": "test-llm-12xlarge",
        "VariantName": "AllTraffic",
    }
    assert "above 80% of its 4 GPU(s)" in four["AlarmDescription"]
    assert four["TreatMissingData"] == "missing"
    memory = alarms["test-llm-12xlarge-GpuMemoryUtilization"]
    assert (memory["MetricName"], memory["Threshold"]) == ("GPUMemoryUtilization", 360)
    # One GPU: the threshold is the share itself.
    assert alarms["test-llm-2xlarge-GpuUtilization"]["Threshold"] == 90


def test_no_gpu_alarms_on_a_cpu_instance(model_artifact):
    stack = cdk.Stack(new_app(), "Cpu")
    key = new_key(stack)
    RealtimeEndpoint(
        stack,
        "Endpoint",
        model=new_model(stack, key, model_artifact),
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={"instance_type": "ml.m5.large"},
    )
    assert not [name for name in _alarms(Template.from_stack(stack)) if "Gpu" in name]


@pytest.mark.parametrize("field", ["gpu_utilization_percent", "gpu_memory_utilization_percent"])
def test_gpu_thresholds_are_shares_of_the_instance(field):
    from pydantic import ValidationError

    from inference_constructs.realtime_endpoint import RealtimeAlarms

    with pytest.raises(ValidationError, match="less than or equal to 100"):
        RealtimeAlarms(**{field: 400})


def test_dashboard_shows_gpu_and_overhead_latency_of_a_gpu_variant(gpu_stacks):
    widgets = dashboard_body(gpu_stacks[1].to_json())["widgets"]
    graphs = graphs_by_title(widgets)
    gpu = graphs["GPU utilization (%, 100 per GPU; 4 GPU(s) per instance)"]
    assert [(m["namespace"], m["name"]) for m in metric_lines(gpu)] == [
        ("/aws/sagemaker/Endpoints", "GPUUtilization"),
        ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization"),
    ]
    assert [a["value"] for a in gpu["properties"]["annotations"]["horizontal"]] == [320, 360]
    assert gpu["properties"]["yAxis"]["left"]["max"] == 400
    overhead = metric_lines(graphs["Overhead latency (microseconds)"])
    assert [(m["name"], m["stat"]) for m in overhead] == [
        ("OverheadLatency", "p50"),
        ("OverheadLatency", "p90"),
        ("OverheadLatency", "p99"),
    ]


def test_async_gpu_variants_get_the_same_alarms_and_row():
    from aws_cdk import aws_s3 as s3

    from inference_constructs.async_endpoint import AsyncEndpoint
    from inference_constructs.platform_key import PlatformKey

    stack = cdk.Stack(new_app(), "Async", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = PlatformKey(stack, "PlatformKey", alias="test/key", removal_policy=cdk.RemovalPolicy.DESTROY).key
    model = InferenceModel(
        stack,
        "Llm",
        name="llm",
        name_prefix="test-llm",
        image={"dlc": "djl-lmi", "version": "0.33.0"},
        model_data="s3://my-models/llm/",
        encryption_key=key,
    )
    endpoint = AsyncEndpoint(
        stack,
        "AsyncLlm",
        model=model,
        encryption_key=key,
        async_bucket=s3.Bucket(stack, "AsyncBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key),
        path_prefix="test/llm",
        endpoint_name="test-llm-async",
        alarm_topic=None,
        settings={"instance_type": "ml.g5.12xlarge", "alarms": {"gpu_memory_utilization_percent": 50}},
    )
    dashboard = InferenceDashboard(stack, "Dashboard", dashboard_name="test", title="Inference: test")
    dashboard.add_async_endpoint(endpoint, model_name="llm")
    template = Template.from_stack(stack)
    alarms = _alarms(template)
    assert alarms["test-llm-async-GpuUtilization"]["Threshold"] == 360
    assert alarms["test-llm-async-GpuMemoryUtilization"]["Threshold"] == 200
    assert alarms["test-llm-async-GpuMemoryUtilization"]["MetricName"] == "GPUMemoryUtilization"
    graphs = graphs_by_title(dashboard_body(template.to_json())["widgets"])
    assert "GPU utilization (%, 100 per GPU; 4 GPU(s) per instance)" in graphs
    assert "Overhead latency (microseconds)" not in graphs  # a real-time signal
