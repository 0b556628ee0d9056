from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from inference_constructs.errors import InvalidPropsError
from inference_constructs.inference_model import InferenceModel, ModelServer
from tests.inference_constructs.helpers import new_key, new_model, new_stack


@pytest.fixture(scope="module")
def framework_model(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact, environment={"LOG_LEVEL": "DEBUG"})
    return model, Template.from_stack(stack)


def test_one_model_and_one_role(framework_model):
    _, template = framework_model
    template.resource_count_is("AWS::SageMaker::Model", 1)
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_model_name_is_left_to_cloudformation(framework_model):
    _, template = framework_model
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))
    assert "ModelName" not in model["Properties"]


def test_framework_container_finds_the_packed_handler(framework_model):
    _, template = framework_model
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "Environment": {
                    "SAGEMAKER_PROGRAM": "inference.py",
                    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                    "PIP_NO_BUILD_ISOLATION": "false",
                    "LOG_LEVEL": "DEBUG",
                },
                "Mode": "SingleModel",
                "ModelDataUrl": Match.any_value(),
            }
        },
    )


def test_env_agnostic_image_resolves_through_region_mapping(framework_model):
    _, template = framework_model
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))
    image = json.dumps(model["Properties"]["PrimaryContainer"]["Image"])
    assert "Fn::FindInMap" in image
    assert "sagemaker-scikit-learn:1.4-2-cpu-py3" in image
    mappings = template.to_json()["Mappings"]
    registry = next(iter(mappings.values()))
    assert registry["us-east-1"] == {"account": "683313688378"}
    assert registry["eu-west-1"] == {"account": "141502667606"}


def test_concrete_region_gets_a_literal_image_uri(model_artifact):
    stack = new_stack(region="eu-west-1")
    new_model(stack, new_key(stack), model_artifact)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "Image": Match.object_like(
                    {
                        "Fn::Join": [
                            "",
                            Match.array_with([Match.string_like_regexp("^141502667606\\.dkr\\.ecr\\.eu-west-1\\.")]),
                        ]
                    }
                )
            }
        },
    )
    assert "Mappings" not in template.to_json()


def test_each_stack_has_one_registry_mapping_shared_by_its_models(model_artifact):
    """The mapping is kept per stack in Python (no lookup per model): two models of a stack
    share one, and a stack of the same app gets its own."""
    first = new_stack()
    second = cdk.Stack(first.node.scope, "Second")  # type: ignore[arg-type]
    key = new_key(first)
    new_model(first, key, model_artifact, id="One")
    new_model(first, key, model_artifact, id="Two")
    new_model(second, new_key(second), model_artifact)
    for stack in (first, second):
        assert list(Template.from_stack(stack).to_json()["Mappings"]) == ["SageMakerFrameworkRegistries"]
    images = [
        model["Properties"]["PrimaryContainer"]["Image"]
        for model in Template.from_stack(first).find_resources("AWS::SageMaker::Model").values()
    ]
    assert len(images) == 2 and images[0] == images[1]


def _policy_statements(template: Template) -> list[dict]:
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement for policy in policies.values() for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_role_is_least_privilege(framework_model):
    _, template = framework_model
    statements = _policy_statements(template)
    actions = sorted(
        action
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    )
    assert not any(action.endswith(":*") or action == "*" for action in actions)
    assert "s3:GetObject" in actions and "s3:PutObject" not in actions
    rendered = json.dumps(statements)
    assert "repository/sagemaker-scikit-learn" in rendered
    assert "/aws/sagemaker/Endpoints/test-iris-*" in rendered
    role = next(iter(template.find_resources("AWS::IAM::Role").values()))
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "FullAccess" not in json.dumps(template.to_json())


def test_artifact_read_is_one_object(framework_model):
    _, template = framework_model
    s3_statements = [s for s in _policy_statements(template) if s["Action"] == "s3:GetObject"]
    assert len(s3_statements) == 1
    resource = json.dumps(s3_statements[0]["Resource"])
    assert resource.endswith('.gz"]]}') and "*" not in resource


def test_s3_model_data_scopes_read_to_that_object():
    stack = new_stack()
    InferenceModel(
        stack,
        "Model",
        name="iris",
        name_prefix="test-iris",
        image={"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-model:1.0"},
        model_data="s3://my-bucket/models/iris/model.tar.gz",
        encryption_key=new_key(stack),
        environment={"SAGEMAKER_PROGRAM": "serve.py"},
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-model:1.0",
                "ModelDataUrl": "s3://my-bucket/models/iris/model.tar.gz",
                # Own containers get exactly the caller's environment.
                "Environment": {"SAGEMAKER_PROGRAM": "serve.py"},
            }
        },
    )
    rendered = json.dumps(_policy_statements(template))
    assert ":s3:::my-bucket/models/iris/model.tar.gz" in rendered
    assert "repository/my-model" in rendered


def test_every_bad_prop_is_reported_at_once(model_artifact):
    stack = new_stack()
    with pytest.raises(InvalidPropsError) as raised:
        InferenceModel(
            stack,
            "Model",
            name="Bad_Name",
            name_prefix="x",
            image={"framework": "pytorch", "version": "2"},
            model_data="s3://bucket/model.zip",
            encryption_key=new_key(stack),
        )
    message = str(raised.value)
    assert "Test/Model" in message
    assert "name: must be 2-32 characters" in message and "(got 'Bad_Name')" in message
    assert "unknown framework 'pytorch'" in message
    assert "model_data" in message and "s3://<bucket>/<key>.tar.gz" in message
    assert len(raised.value.problems) == 3


def test_reserved_framework_variables_cannot_be_overridden(model_artifact):
    stack = new_stack()
    with pytest.raises(
        InvalidPropsError, match="environment: SAGEMAKER_PROGRAM is set by the platform for framework images"
    ):
        new_model(stack, new_key(stack), model_artifact, environment={"SAGEMAKER_PROGRAM": "other.py"})


def test_default_server_is_real_time_60_seconds_and_the_images_workers(framework_model):
    _, template = framework_model
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))
    environment = model["Properties"]["PrimaryContainer"]["Environment"]
    assert environment["SAGEMAKER_MODEL_SERVER_TIMEOUT"] == "60"
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" not in environment  # one per vCPU, the image's default


def test_server_timeout_and_workers_reach_the_container(model_artifact):
    stack = new_stack()
    new_model(stack, new_key(stack), model_artifact, server=ModelServer(timeout_seconds=900, workers=2))
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "Environment": Match.object_like(
                    {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "900", "SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
                )
            }
        },
    )


@pytest.mark.parametrize(
    "image",
    [
        {"framework": "sklearn", "version": "1.4-2"},
        {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-model:1.0"},
    ],
)
def test_server_variables_come_only_from_server(model_artifact, image):
    stack = new_stack()
    with pytest.raises(
        InvalidPropsError,
        match="environment: SAGEMAKER_MODEL_SERVER_TIMEOUT is set by the platform from each mode's limits",
    ):
        new_model(
            stack, new_key(stack), model_artifact, image=image, environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "5"}
        )


@pytest.mark.parametrize("server", [{"timeout_seconds": 0}, {"workers": 0}])
def test_server_limits_are_at_least_one(server):
    with pytest.raises(ValueError, match="timeout_seconds and workers must be at least 1"):
        ModelServer(**server)


def test_missing_local_artifact_is_an_error(tmp_path):
    stack = new_stack()
    with pytest.raises(
        InvalidPropsError,
        match=r"model_data: local artifact not found .*run `make model` to build it \(got '.*missing\.tar\.gz'\)",
    ):
        new_model(stack, new_key(stack), tmp_path / "missing.tar.gz")


def test_image_needs_exactly_one_source(model_artifact):
    stack = new_stack()
    with pytest.raises(InvalidPropsError, match="either uri, or framework and version"):
        new_model(
            stack,
            new_key(stack),
            model_artifact,
            image={
                "framework": "sklearn",
                "version": "1.4-2",
                "uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1",
            },
        )


NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnets": [
        {"id": "subnet-0123456789abcdef0", "availability_zone": "eu-west-1a"},
        {"id": "subnet-0123456789abcdef1", "availability_zone": "eu-west-1b"},
    ],
    "security_group_ids": ["sg-0123456789abcdef0"],
}


def test_network_isolation_is_on_by_default_and_no_vpc_without_network(framework_model):
    _, template = framework_model
    template.has_resource_properties(
        "AWS::SageMaker::Model", {"EnableNetworkIsolation": True, "VpcConfig": Match.absent()}
    )


def test_vpc_placement_and_scoped_network_interface_permissions(model_artifact):
    stack = new_stack(region="eu-west-1")
    new_model(stack, new_key(stack), model_artifact, network=NETWORK)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "EnableNetworkIsolation": True,
            "VpcConfig": {
                "Subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
            },
        },
    )
    create = next(s for s in _policy_statements(template) if "ec2:CreateNetworkInterface" in s["Action"])
    rendered = json.dumps(create["Resource"])
    assert "subnet/subnet-0123456789abcdef0" in rendered and "security-group/sg-0123456789abcdef0" in rendered


def test_network_isolation_can_be_switched_off_explicitly(model_artifact):
    stack = new_stack()
    new_model(stack, new_key(stack), model_artifact, network_isolation=False)
    Template.from_stack(stack).has_resource_properties("AWS::SageMaker::Model", {"EnableNetworkIsolation": False})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"subnets": NETWORK["subnets"][:1]}, "at least 2 items"),
        (
            {
                "subnets": [
                    {"id": "subnet-0123456789abcdef0", "availability_zone": "eu-west-1a"},
                    {"id": "subnet-0123456789abcdef1", "availability_zone": "eu-west-1a"},
                ]
            },
            "at least 2 Availability Zones",
        ),
        ({"vpc_id": "vpc-xyz"}, "network.vpc_id"),
        ({"security_group_ids": ["group-1"]}, "must look like sg-"),
    ],
)
def test_bad_network_settings(model_artifact, change, expected):
    stack = new_stack()
    with pytest.raises(InvalidPropsError, match=re.escape(expected)):
        new_model(stack, new_key(stack), model_artifact, network={**NETWORK, **change})


# --- your own container, built from a Dockerfile ---------------------------------------


@pytest.fixture(scope="module")
def container_model(model_artifact, tmp_path_factory):
    context = tmp_path_factory.mktemp("container")
    (context / "Dockerfile.serve").write_text("FROM public.ecr.aws/docker/library/python:3.11-slim\n")
    stack = new_stack()
    new_model(
        stack,
        new_key(stack),
        model_artifact,
        image={"dockerfile": str(context / "Dockerfile.serve")},
        environment={"SAGEMAKER_PROGRAM": "serve.py"},  # not reserved: the image is ours
    )
    template = Template.from_stack(stack)
    return stack, template


def test_dockerfile_image_is_an_asset_built_at_deploy_time_not_at_synth(container_model):
    stack, template = container_model
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))
    container = model["Properties"]["PrimaryContainer"]
    image = json.dumps(container["Image"])
    assert "cdk-hnb659fds-container-assets-" in image
    # Our own image gets only its own variables and the server's timeout (AWS's serving
    # toolkits, which own images are often built on, read it too).
    assert container["Environment"] == {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_MODEL_SERVER_TIMEOUT": "60"}
    # The asset manifest tells `cdk deploy` what to build: the Dockerfile, its directory, amd64.
    assembly = stack.node.root.synth()
    manifest = json.loads((Path(assembly.directory) / f"{stack.artifact_id}.assets.json").read_text())
    (image_asset,) = manifest["dockerImages"].values()
    assert image_asset["source"]["dockerFile"] == "Dockerfile.serve"
    assert image_asset["source"]["platform"] == "linux/amd64"
    assert (Path(assembly.directory) / image_asset["source"]["directory"] / "Dockerfile.serve").is_file()


def test_dockerfile_image_pull_is_scoped_to_the_asset_repository(container_model):
    _, template = container_model
    pulls = [s for s in _policy_statements(template) if "ecr:BatchGetImage" in s["Action"]]
    assert len(pulls) == 1
    resource = json.dumps(pulls[0]["Resource"])
    assert '":repository/", {"Fn::Sub": "cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}"}' in resource


def test_dockerfile_is_one_source_among_three(model_artifact, tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    stack = new_stack()
    with pytest.raises(InvalidPropsError, match="give either dockerfile, or uri, or framework and version"):
        new_model(
            stack,
            new_key(stack),
            model_artifact,
            image={"dockerfile": str(dockerfile), "uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1"},
        )


def test_missing_dockerfile_is_an_error(model_artifact, tmp_path):
    stack = new_stack()
    with pytest.raises(
        InvalidPropsError, match=r"image\.dockerfile: Dockerfile not found under .* \(got '.*/nowhere/Dockerfile'\)"
    ):
        new_model(stack, new_key(stack), model_artifact, image={"dockerfile": str(tmp_path / "nowhere" / "Dockerfile")})


def test_the_models_of_a_stack_share_one_asset_per_artifact_file(model_artifact, tmp_path):
    """One mode's model each, same model.tar.gz: one asset in the stack, each role reading it."""
    stack = new_stack()
    key = new_key(stack)
    models = [new_model(stack, key, model_artifact, id=f"Model{index}") for index in range(3)]
    other = tmp_path / "other.tar.gz"
    other.write_bytes(model_artifact.read_bytes() + b"\0")  # a different file: its own asset
    new_model(stack, key, other, id="OtherModel")
    assert [child.node.id for child in stack.node.children if child.node.id.startswith("ModelArtifact")] == [
        "ModelArtifact",
        "ModelArtifact2",
    ]
    urls = {json.dumps(stack.resolve(model.cfn_model.primary_container.model_data_url)) for model in models}
    assert len(urls) == 1
    reads = [
        statement["Resource"]
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:GetObject"
    ]
    assert len(reads) == 4  # every model's role is granted its artifact, shared or not
