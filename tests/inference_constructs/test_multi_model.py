"""Multi-model endpoints: Mode MultiModel on an S3 prefix, a role confined to it, MME alarms and
dashboard, and the images and instances AWS allows."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.errors import InvalidPropsError
from inference_constructs.multi_model import MULTI_MODEL_GPU_INSTANCE_TYPES, check_multi_model_image
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from tests.inference_constructs.helpers import new_key, new_model, new_stack
from tests.inference_constructs.test_dashboard import dashboard_body, graphs_by_title

PREFIX = "s3://tenant-models/iris/"
TRITON = "785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:23.02-py3"


def build(model_artifact, *, instance_type="ml.m5.large", **model_overrides):
    stack = new_stack()
    key = new_key(stack)
    overrides = {"model_data": PREFIX, "multi_model": True, **model_overrides}
    model = new_model(stack, key, model_artifact, **overrides)
    endpoint = RealtimeEndpoint(
        stack,
        "Realtime",
        model=model,
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={"instance_type": instance_type},
    )
    return stack, endpoint


@pytest.fixture(scope="module")
def mme(model_artifact):
    stack, endpoint = build(model_artifact)
    board = InferenceDashboard(stack, "Dashboard", dashboard_name="test-inference", title="Inference: test")
    board.add_realtime_endpoint(endpoint, model_name="iris")
    return endpoint, Template.from_stack(stack)


def test_the_container_serves_every_model_under_the_prefix(mme):
    _, template = mme
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": Match.object_like(
                {
                    "Mode": "MultiModel",
                    "ModelDataUrl": PREFIX,
                    # The framework image switches to its multi-model server on this variable.
                    "Environment": Match.object_like({"SAGEMAKER_MULTI_MODEL": "true"}),
                }
            )
        },
    )


def test_the_role_reads_only_under_the_prefix(mme):
    _, template = mme
    policy = next(
        iter(
            template.find_resources(
                "AWS::IAM::Policy",
                {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("^ModelExecutionRole")}]}},
            ).values()
        )
    )
    reads = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "s3:GetObject"]
    assert len(reads) == 1
    assert reads[0]["Resource"]["Fn::Join"][1][-1] == ":s3:::tenant-models/iris/*"


def test_mme_alarms_watch_loading_and_cache_hits(mme):
    _, template = mme
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-realtime-ModelLoadingWaitTime",
            "MetricName": "ModelLoadingWaitTime",
            "ExtendedStatistic": "p99",
            "Threshold": 5_000_000,
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-realtime-ModelCacheHit",
            "MetricName": "ModelCacheHit",
            "Statistic": "Average",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 0.5,
            "TreatMissingData": "notBreaching",
        },
    )


def test_the_dashboard_shows_models_loaded_cache_hits_and_loading_wait(mme):
    _, template = mme
    graphs = graphs_by_title(dashboard_body(template.to_json())["widgets"])
    loaded = graphs["Models loaded and cache hits"]["properties"]["metrics"]
    assert [m[1] for m in loaded] == ["LoadedModelCount", "ModelCacheHit"]
    waiting = graphs["Model loading wait (microseconds)"]["properties"]["metrics"]
    assert {m[1] for m in waiting} == {"ModelLoadingWaitTime"}


def test_a_single_model_endpoint_has_no_mme_alarms(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    RealtimeEndpoint(
        stack,
        "Realtime",
        model=new_model(stack, key, model_artifact),
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={"instance_type": "ml.m5.large"},
    )
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert not [
        a for a in alarms.values() if a["Properties"].get("MetricName") in ("ModelLoadingWaitTime", "ModelCacheHit")
    ]


@pytest.mark.parametrize(
    ("overrides", "instance_type", "message"),
    [
        ({"model_data": "s3://tenant-models/iris/model.tar.gz"}, "ml.m5.large", "an S3 prefix ending in '/'"),
        ({}, "ml.g5.xlarge", r"GPU instances \(ml\.g5\.xlarge\) need the SageMaker Triton Inference Server image"),
        (
            {"image": {"uri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/own:1"}},
            "ml.g5.xlarge",
            "need the SageMaker Triton",
        ),
    ],
)
def test_refused(model_artifact, overrides, instance_type, message):
    with pytest.raises(InvalidPropsError, match=message):
        build(model_artifact, instance_type=instance_type, **overrides)


def test_triton_serves_gpu_multi_model_endpoints(model_artifact):
    build(model_artifact, instance_type="ml.g5.xlarge", image={"uri": TRITON})


@pytest.mark.parametrize("instance_type", ["ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.g6.xlarge"])
def test_gpu_multi_model_endpoints_only_on_the_instance_types_aws_lists(model_artifact, instance_type):
    # multi-model-support.html lists single-GPU p2, p3, g4dn and g5 types only: Triton is not enough.
    with pytest.raises(InvalidPropsError, match=rf"run on .*ml\.g4dn\.xlarge.* only, not on {instance_type}"):
        build(model_artifact, instance_type=instance_type, image={"uri": TRITON})


def test_an_unlisted_gpu_type_without_triton_names_both_problems(model_artifact):
    with pytest.raises(InvalidPropsError, match=r"only, not on ml\.g5\.12xlarge; .*need the SageMaker Triton"):
        build(model_artifact, instance_type="ml.g5.12xlarge")


def test_the_listed_gpu_instance_types_are_aws_table():
    """The whole table of the page (2026-11): 12 single-GPU types."""
    assert sorted(MULTI_MODEL_GPU_INSTANCE_TYPES) == [
        "ml.g4dn.16xlarge", "ml.g4dn.2xlarge", "ml.g4dn.4xlarge", "ml.g4dn.8xlarge", "ml.g4dn.xlarge",
        "ml.g5.16xlarge", "ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g5.8xlarge", "ml.g5.xlarge",
        "ml.p2.xlarge", "ml.p3.2xlarge",
    ]  # fmt: skip


def test_which_images_serve_several_models():
    # AWS's list (https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-support.html).
    check_multi_model_image(framework="sklearn", uri=None, instance_type="ml.m5.large")
    check_multi_model_image(framework="xgboost", uri=None, instance_type="ml.c5.xlarge")
    with pytest.raises(ValueError, match="not on AWS's list"):
        check_multi_model_image(framework="huggingface", uri=None, instance_type="ml.m5.large")
    with pytest.raises(ValueError, match=r"not on ml\.inf1\.xlarge"):
        check_multi_model_image(framework=None, uri=None, instance_type="ml.inf1.xlarge")
