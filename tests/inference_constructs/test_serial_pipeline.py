"""Serial inference pipelines: containers in order in front of the model's own, each with its
image, artifact and environment, and a role that may pull and read exactly those."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from inference_constructs.errors import InvalidPropsError
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from tests.inference_constructs.helpers import new_key, new_model, new_stack

PREPROCESS = {
    "image": {"uri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/iris-preprocess:3"},
    "model_data": "s3://my-bucket/iris/preprocess.tar.gz",
    "environment": {"SCALER": "standard"},
}


@pytest.fixture(scope="module")
def pipeline(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact, pipeline=[PREPROCESS, {"image": PREPROCESS["image"]}])
    return model, Template.from_stack(stack)


def test_the_containers_run_in_order_the_models_own_last(pipeline):
    _, template = pipeline
    (resource,) = template.find_resources("AWS::SageMaker::Model").values()
    properties = resource["Properties"]
    assert "PrimaryContainer" not in properties
    assert properties["InferenceExecutionConfig"] == {"Mode": "Serial"}
    first, second, own = properties["Containers"]
    assert first["Image"] == PREPROCESS["image"]["uri"] and first["ContainerHostname"] == "step1"
    assert first["ModelDataUrl"] == PREPROCESS["model_data"] and first["Environment"] == {"SCALER": "standard"}
    assert second["ContainerHostname"] == "step2" and "ModelDataUrl" not in second and "Environment" not in second
    # The model's own container: the framework image with its handler variables, last; every
    # container has a hostname (SageMaker wants all or none).
    assert own["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py" and own["Mode"] == "SingleModel"
    assert own["ContainerHostname"] == "model"


def test_the_role_pulls_each_image_and_reads_each_artifact(pipeline):
    _, template = pipeline
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    # CDK merges statements with the same actions: the resources of each, as text.
    by_action = {
        str(statement["Action"]): json.dumps(statement["Resource"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    assert ":s3:::my-bucket/iris/preprocess.tar.gz" in by_action["s3:GetObject"]
    pulls = next(resources for action, resources in by_action.items() if "ecr:BatchGetImage" in action)
    assert ":ecr:eu-west-1:111111111111:repository/iris-preprocess" in pulls
    assert "sagemaker-scikit-learn" in pulls  # the model's own image still


def test_one_container_is_still_a_primary_container(model_artifact):
    stack = new_stack()
    new_model(stack, new_key(stack), model_artifact)
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    assert "PrimaryContainer" in resource["Properties"] and "Containers" not in resource["Properties"]


@pytest.mark.parametrize(
    ("pipeline", "extra", "message"),
    [
        (
            [PREPROCESS] * 15,
            {},
            r"at most 14 containers in front of the model's own \(sagemaker ContainerDefinitionList takes 15\); got 15",
        ),
        (
            [{"image": {"framework": "sklearn", "version": "1.4-2"}}],
            {},
            "a framework image reads its handler from model_data",
        ),
        (
            [
                {
                    **PREPROCESS,
                    "image": {"framework": "sklearn", "version": "1.4-2"},
                    "environment": {"SAGEMAKER_PROGRAM": "x.py"},
                }
            ],
            {},
            r"pipeline\[0\]\.environment: SAGEMAKER_PROGRAM is set by the platform",
        ),
        (
            [PREPROCESS],
            {"multi_model": True, "model_data": "s3://models/tenants/"},
            "a multi-model endpoint runs one container",
        ),
    ],
)
def test_refused(model_artifact, pipeline, extra, message):
    stack = new_stack()
    with pytest.raises(InvalidPropsError, match=message):
        new_model(stack, new_key(stack), model_artifact, pipeline=pipeline, **extra)


def test_every_container_must_run_on_the_endpoints_instances(model_artifact):
    """The containers share the model's instances: an arm64 preprocessing image cannot start on
    an x86 type even when the model's own image can (the config checked this; now the construct does)."""
    stack = new_stack()
    key = new_key(stack)
    arm_step = {**PREPROCESS, "image": {**PREPROCESS["image"], "architecture": "arm64"}}
    model = new_model(stack, key, model_artifact, pipeline=[PREPROCESS, arm_step])
    with pytest.raises(InvalidPropsError, match=r"settings\.instance_type: pipeline\[1\]\.image: .*arm64"):
        RealtimeEndpoint(
            stack,
            "Realtime",
            model=model,
            encryption_key=key,
            endpoint_name="test-iris-realtime",
            settings={"instance_type": "ml.m5.large"},
        )
