"""The real CDK CLI bootstraps, deploys, updates and destroys the dev environment on moto.

Run with ``make e2e`` (plain ``make test`` deselects the ``e2e`` marker). The tests run in file
order and share one deployment: checks of what was deployed first, then the clients, then an
update of one model, then ``cdk destroy`` and what must survive it.

Every mode is checked for each model that ``config/dev.yaml`` serves in it, keyed on the stack
outputs clients rely on. A mode no model is configured for is reported as skipped ("not
deployed"); a mode the config asks for but the deployment lacks fails. Expected settings come
from the config where its schema is known here (real-time) and otherwise from the template
CloudFormation received, so the checks prove that what was synthesized is what got deployed.
What moto cannot show (IAM enforcement, scaling, alarms, bucket policies, models answering) is
listed in docs/testing.md, section "Deploy round trip on a local AWS emulator".
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from inference_config.loader import load_environment
from inference_config.schema import EnvironmentConfig, ModelConfig
from inference_constructs.framework_images import FRAMEWORKS, REGISTRY_ACCOUNTS
from inference_constructs.inference_model import FRAMEWORK_CONTAINER_ENVIRONMENT, ModelServer
from inference_core.naming import (
    endpoint_name,
    model_stack_name,
    monitoring_stack_name,
    platform_stack_name,
    shared_endpoint_name,
    shared_endpoint_stack_name,
    stage_name,
)
from inference_core.s3 import split_s3_uri
from inference_platform.commands import COMMANDS
from inference_platform.smoke import SAMPLE_ROWS
from tests.conftest import CONFIG_DIR, REPO_ROOT
from tests.e2e.conftest import ACCOUNT, ENVIRONMENT, REGION, CdkCli, Deadline, Emulator, check, run

pytestmark = pytest.mark.e2e

MODES = ("realtime", "serverless", "async", "batch", "component")
ENDPOINT_MODES = ("realtime", "serverless", "async")
# The stack outputs each mode publishes for clients (see the helper guide's conventions).
MODE_OUTPUTS = {
    "realtime": ("RealtimeEndpointName",),
    "serverless": ("ServerlessEndpointName",),
    "async": (
        "AsyncEndpointName",
        "AsyncInputPath",
        "AsyncOutputPath",
        "AsyncFailurePath",
        "AsyncSuccessTopicArn",
        "AsyncErrorTopicArn",
    ),
    "batch": ("BatchStateMachineArn", "BatchInputPath", "BatchOutputPath"),
    "component": ("InferenceComponentName", "InferenceComponentEndpointName"),
}
ENDPOINT_OUTPUT = {
    "realtime": "RealtimeEndpointName",
    "serverless": "ServerlessEndpointName",
    "async": "AsyncEndpointName",
}
PLATFORM_BUCKET_OUTPUTS = ("ModelArtifactsBucketName", "AsyncBucketName", "BatchBucketName", "DataCaptureBucketName")
PLATFORM_OUTPUTS = (*PLATFORM_BUCKET_OUTPUTS, "NotificationsTopicArn", "AlarmsTopicArn", "KeyArn")
# Client commands each mode's issue delivers with it; the smoke command comes on its own.
MODE_CLIENTS = {"async": "invoke-async", "batch": "run-batch"}
TRANSFORM_JOB_SYNC = "arn:aws:states:::sagemaker:createTransformJob.sync"
# What the smoke command sends: its own sample rows.
SMOKE_SAMPLE = "".join(f"{row}\n" for row in SAMPLE_ROWS)
# One iris record (a setosa flower): what the clients and the smoke test send.
SAMPLE_CSV = "5.1,3.5,1.4,0.2\n"
# A revision marker the update step adds to one model's container environment.
REVISION_VARIABLE = "E2E_REVISION"
CLIENT_TIME_LIMIT = 120
EXECUTION_TIME_LIMIT = 60


# Reading the deployment ------------------------------------------------------------------------


def outputs_of(emulator: Emulator, stack: str) -> dict[str, str]:
    described = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def status_of(emulator: Emulator, stack: str) -> str:
    return emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def template_of(emulator: Emulator, stack: str) -> dict:
    """The template CloudFormation received for ``stack`` (what the CLI really deployed)."""
    body = emulator.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else body


def physical_ids(emulator: Emulator, stack: str, resource_type: str) -> dict[str, str]:
    """Logical id -> physical id of the stack's resources of one type."""
    paginator = emulator.client("cloudformation").get_paginator("list_stack_resources")
    return {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for page in paginator.paginate(StackName=stack)
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == resource_type
    }


def model_names_of(emulator: Emulator, stack: str) -> set[str]:
    """Names of the SageMaker models a stack created (physical ids may be ARNs)."""
    return {physical.split("/")[-1] for physical in physical_ids(emulator, stack, "AWS::SageMaker::Model").values()}


def under(path: str, prefix: str) -> bool:
    """Whether the S3 URI ``path`` lies under the S3 URI ``prefix``."""
    return path.rstrip("/").startswith(prefix.rstrip("/"))


def literal_mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from the literal values of template properties ``expected``.

    Intrinsic functions (Ref, Fn::*) are references resolved at deploy time; they are checked
    separately against the resources they name, so they are skipped here.
    """
    if isinstance(expected, dict):
        if len(expected) == 1 and next(iter(expected)).startswith(("Ref", "Fn::")):
            return []
        if not isinstance(actual, dict):
            return [f"{path or '<root>'}: expected an object, deployed {actual!r}"]
        return [
            problem
            for key, value in expected.items()
            if key != "Tags"  # describe calls do not echo tags
            for problem in literal_mismatches(value, actual.get(key), f"{path}.{key}" if path else key)
        ]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, deployed {actual!r}"]
        return [
            problem
            for index, (item, deployed) in enumerate(zip(expected, actual, strict=True))
            for problem in literal_mismatches(item, deployed, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path}: template says {expected!r}, deployed {actual!r}"]


@dataclass
class Deployment:
    """The dev environment as the CLI deployed it, read back from the emulator."""

    emulator: Emulator
    config: EnvironmentConfig

    @property
    def platform_stack(self) -> str:
        return platform_stack_name(self.config.environment)

    def model_stack(self, model: ModelConfig) -> str:
        return model_stack_name(self.config.environment, model.name)

    @property
    def stacks(self) -> list[str]:
        shared = [shared_endpoint_stack_name(self.config.environment)] if self.config.shared_endpoint else []
        return [
            self.platform_stack,
            *shared,
            *(self.model_stack(model) for model in self.config.models),
            monitoring_stack_name(self.config.environment),
        ]

    def platform_outputs(self) -> dict[str, str]:
        return outputs_of(self.emulator, self.platform_stack)

    def model_outputs(self, model: ModelConfig) -> dict[str, str]:
        return outputs_of(self.emulator, self.model_stack(model))

    def serving(self, mode: str) -> list[ModelConfig]:
        """The models the config serves in ``mode``; skips the check when there are none.

        Models not served in ``mode`` must not publish its outputs either.
        """
        models = [model for model in self.config.models if mode in model.modes]
        for model in self.config.models:
            if model not in models:
                stray = sorted(set(MODE_OUTPUTS[mode]) & set(self.model_outputs(model)))
                assert not stray, f"{model.name} is not served in {mode} mode but its stack publishes {stray}"
        if not models:
            pytest.skip(
                f"{mode}: not deployed - config/{ENVIRONMENT}.yaml serves no model in this mode (not merged yet?)"
            )
        return models

    def mode_outputs(self, model: ModelConfig, mode: str) -> dict[str, str]:
        """The outputs ``mode`` must publish for ``model``; fails if the deployment lacks any."""
        outputs = self.model_outputs(model)
        missing = [key for key in MODE_OUTPUTS[mode] if key not in outputs]
        assert not missing, (
            f"config/{ENVIRONMENT}.yaml serves {model.name} in {mode} mode, but stack {self.model_stack(model)} "
            f"was deployed without the outputs {missing} (it has {sorted(outputs)})"
        )
        return outputs


@pytest.fixture(scope="module")
def dev_config(model_artifact: Path) -> EnvironmentConfig:
    return load_environment(CONFIG_DIR / f"{ENVIRONMENT}.yaml", base_dir=REPO_ROOT)


@pytest.fixture(scope="module")
def deployment(cdk: CdkCli, emulator: Emulator, dev_config: EnvironmentConfig) -> Deployment:
    """Bootstrap the emulated account and deploy every stack of the dev environment."""
    identity = emulator.client("sts").get_caller_identity()
    assert identity["Account"] == ACCOUNT
    cdk("bootstrap", f"aws://{ACCOUNT}/{REGION}", limit=180)
    # Change sets return no outputs on moto; direct deployment does.
    cdk("deploy", f"{stage_name(ENVIRONMENT)}/*", "--method=direct", "--require-approval", "never")
    return Deployment(emulator=emulator, config=dev_config)


@pytest.fixture(scope="module")
def model_answer(model_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[str, str]]:
    """What the packaged model answers to a CSV payload: the canned answer the emulator gives.

    moto does not run models; its invocations return bodies queued through its API. The answer
    queued is the real one, from the artifact's own handler, as the serving container loads it.
    """
    model_dir = tmp_path_factory.mktemp("model")
    with tarfile.open(model_artifact) as archive:
        archive.extractall(model_dir, filter="data")
    spec = importlib.util.spec_from_file_location("packaged_inference", model_dir / "code" / "inference.py")
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    model = handler.model_fn(str(model_dir))

    def answer(payload: str) -> tuple[str, str]:
        body, content_type = handler.transform_fn(model, payload, "text/csv", "text/csv")
        return body, content_type

    return answer


def python_client(deployment: Deployment, deadline: Deadline, *arguments: str) -> str:
    """Run ``python -m inference_platform <arguments>`` against the emulator; its output."""
    result = run(
        [sys.executable, "-m", "inference_platform", *arguments],
        deadline=deadline,
        limit=CLIENT_TIME_LIMIT,
        env=deployment.emulator.environment(),
    )
    return check(result, deployment.emulator)


def registered_commands() -> set[str]:
    return {command.NAME for command in COMMANDS}


def objects_under(emulator: Emulator, uri: str) -> dict[str, str]:
    """Key -> ETag of every object under an S3 URI."""
    bucket, prefix = split_s3_uri(uri)
    paginator = emulator.client("s3").get_paginator("list_objects_v2")
    return {
        item["Key"]: item["ETag"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    }


def wait_for_execution(emulator: Emulator, deadline: Deadline, execution_arn: str) -> dict:
    stepfunctions = emulator.client("stepfunctions")
    give_up = time.monotonic() + deadline.timeout(EXECUTION_TIME_LIMIT)
    while time.monotonic() < give_up:
        execution = stepfunctions.describe_execution(executionArn=execution_arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.5)
    pytest.fail(f"execution {execution_arn} still RUNNING after {EXECUTION_TIME_LIMIT} s")


def transform_task(definition: str) -> dict:
    """The state that runs the transform job in a state machine definition."""
    states: list[dict] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("Resource") == TRANSFORM_JOB_SYNC:
                states.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(json.loads(definition))
    assert len(states) == 1, f"expected one {TRANSFORM_JOB_SYNC} task, found {len(states)}"
    return states[0]


# 1. The CLI deployed every stack, from published assets ---------------------------------------


def test_every_stack_of_the_environment_is_deployed(deployment: Deployment):
    cloudformation = deployment.emulator.client("cloudformation")
    deployed = {
        stack["StackName"]: stack["StackStatus"]
        for page in cloudformation.get_paginator("describe_stacks").paginate()
        for stack in page["Stacks"]
        if stack["StackName"].startswith(f"{stage_name(ENVIRONMENT)}-")
    }
    assert deployed == dict.fromkeys(deployment.stacks, "CREATE_COMPLETE")
    assert set(deployment.platform_outputs()) >= set(PLATFORM_OUTPUTS)


def test_model_artifact_was_published_as_an_asset(deployment: Deployment):
    sagemaker, s3 = deployment.emulator.client("sagemaker"), deployment.emulator.client("s3")
    for model in deployment.config.models:
        names = model_names_of(deployment.emulator, deployment.model_stack(model))
        assert names, f"stack {deployment.model_stack(model)} created no SageMaker model"
        for name in names:
            url = sagemaker.describe_model(ModelName=name)["PrimaryContainer"]["ModelDataUrl"]
            if model.model_data.startswith("s3://"):
                assert url == model.model_data
                continue
            bucket, key = split_s3_uri(url)
            assert bucket == f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}", "not uploaded to the bootstrap bucket"
            published = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            local = (REPO_ROOT / model.model_data).read_bytes()
            assert hashlib.sha256(published).hexdigest() == hashlib.sha256(local).hexdigest()


def test_outputs_command_reads_the_deployment(deployment: Deployment, deadline: Deadline):
    report = json.loads(python_client(deployment, deadline, "outputs", "--env", ENVIRONMENT))
    assert report == {
        "platform": deployment.platform_outputs(),
        "models": {model.name: deployment.model_outputs(model) for model in deployment.config.models},
    }


# 2. Platform resources -----------------------------------------------------------------------


def test_platform_key_is_enabled_rotating_and_aliased(deployment: Deployment):
    kms = deployment.emulator.client("kms")
    key_arn = deployment.platform_outputs()["KeyArn"]
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert (metadata["KeyState"], metadata["KeyManager"], metadata["Arn"]) == ("Enabled", "CUSTOMER", key_arn)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    aliases = {alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]}
    assert aliases.get(f"alias/{ENVIRONMENT}/sagemaker-inference") == metadata["KeyId"]


def test_platform_buckets_are_encrypted_with_the_platform_key(deployment: Deployment):
    s3 = deployment.emulator.client("s3")
    outputs = deployment.platform_outputs()
    buckets = physical_ids(deployment.emulator, deployment.platform_stack, "AWS::S3::Bucket")
    data_buckets = {outputs[key] for key in PLATFORM_BUCKET_OUTPUTS}
    assert data_buckets <= set(buckets.values())
    (log_bucket,) = set(buckets.values()) - data_buckets  # the server access log bucket
    for bucket in buckets.values():
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        if bucket == log_bucket:  # S3 server access logging cannot deliver to SSE-KMS buckets
            assert default["SSEAlgorithm"] == "AES256"
        else:
            assert (default["SSEAlgorithm"], default.get("KMSMasterKeyID")) == ("aws:kms", outputs["KeyArn"])


def test_platform_topics_are_encrypted_with_the_platform_key(deployment: Deployment):
    sns = deployment.emulator.client("sns")
    outputs = deployment.platform_outputs()
    for key in ("NotificationsTopicArn", "AlarmsTopicArn"):
        attributes = sns.get_topic_attributes(TopicArn=outputs[key])["Attributes"]
        assert attributes.get("KmsMasterKeyId") == outputs["KeyArn"], key


# 3. The model(s) -----------------------------------------------------------------------------


def _models_behind_endpoints(deployment: Deployment, model: ModelConfig) -> dict[str, set[str]]:
    """Names of the SageMaker models each endpoint mode of ``model`` serves."""
    sagemaker = deployment.emulator.client("sagemaker")
    outputs = deployment.model_outputs(model)
    served: dict[str, set[str]] = {}
    for mode in ENDPOINT_MODES:
        if ENDPOINT_OUTPUT[mode] in outputs:
            endpoint = sagemaker.describe_endpoint(EndpointName=outputs[ENDPOINT_OUTPUT[mode]])
            config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            served[mode] = {variant["ModelName"] for variant in config["ProductionVariants"]}
    # An inference component names its model in the template (moto has no DescribeInferenceComponent).
    stack = deployment.model_stack(model)
    models = physical_ids(deployment.emulator, stack, "AWS::SageMaker::Model")
    for resource in template_of(deployment.emulator, stack)["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::InferenceComponent":
            logical = resource["Properties"]["Specification"]["ModelName"]["Fn::GetAtt"][0]
            served.setdefault("component", set()).add(models[logical].split("/")[-1])
    return served


def _server_of(model: ModelConfig, name: str, served: dict[str, set[str]]) -> ModelServer:
    """The server limits the model ``name`` must carry: its mode's (batch when no endpoint serves it)."""
    if name in served.get("async", set()):
        assert model.async_ is not None
        return ModelServer(
            timeout_seconds=model.async_.invocation_timeout_seconds,
            workers=model.async_.max_concurrent_invocations_per_instance,
        )
    if any(name in names for names in served.values()):
        return ModelServer()  # real-time and serverless
    assert model.batch is not None
    return ModelServer(
        timeout_seconds=model.batch.model_client.invocations_timeout_seconds,
        workers=model.batch.max_concurrent_transforms or 1,
    )


def test_models_run_the_configured_image_artifact_role_and_environment(deployment: Deployment):
    sagemaker, iam = deployment.emulator.client("sagemaker"), deployment.emulator.client("iam")
    for model in deployment.config.models:
        stack = deployment.model_stack(model)
        template = template_of(deployment.emulator, stack)["Resources"]
        # SageMaker cannot isolate serverless endpoints' models; every other model must be isolated.
        served = _models_behind_endpoints(deployment, model)
        serverless_only = served.get("serverless", set()) - set().union(
            *(names for mode, names in served.items() if mode != "serverless")
        )
        for logical, physical in physical_ids(deployment.emulator, stack, "AWS::SageMaker::Model").items():
            name = physical.split("/")[-1]
            described = sagemaker.describe_model(ModelName=name)
            container = described["PrimaryContainer"]
            if model.image.is_framework:
                framework = FRAMEWORKS[model.image.framework]
                expected_image = (
                    f"{REGISTRY_ACCOUNTS[REGION]}.dkr.ecr.{REGION}.amazonaws.com/"
                    f"{framework.repository}:{model.image.version}{framework.tag_suffix}"
                )
                assert container["Image"] == expected_image
                assert container["Environment"] == {
                    **model.environment,
                    **FRAMEWORK_CONTAINER_ENVIRONMENT,
                    **_server_of(model, name, served).environment(),
                }
            else:
                assert container["Image"] == model.image.uri
                assert container.get("Environment", {}) == {
                    **model.environment,
                    **_server_of(model, name, served).environment(),
                }
            role_name = described["ExecutionRoleArn"].split("/")[-1]
            trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
            assert "sagemaker.amazonaws.com" in json.dumps(trust), f"{role_name} is not assumable by SageMaker"
            # moto does not record EnableNetworkIsolation: check what CloudFormation was asked for.
            isolated = bool(template[logical]["Properties"].get("EnableNetworkIsolation"))
            assert isolated == (name not in serverless_only), f"{stack}/{logical}: EnableNetworkIsolation={isolated}"


# 4. Endpoints, per mode ----------------------------------------------------------------------


def _endpoint_config_in_template(template: dict, name: str) -> dict:
    """The template properties of the endpoint config behind endpoint ``name``."""
    resources = template["Resources"]
    endpoints = [
        resource
        for resource in resources.values()
        if resource["Type"] == "AWS::SageMaker::Endpoint" and resource["Properties"].get("EndpointName") == name
    ]
    assert len(endpoints) == 1, f"the deployed template declares {len(endpoints)} endpoints named {name}"
    config_reference = endpoints[0]["Properties"]["EndpointConfigName"]
    return resources[config_reference["Fn::GetAtt"][0]]["Properties"]


@pytest.mark.parametrize("mode", ENDPOINT_MODES)
def test_endpoints_are_in_service_with_the_deployed_config(deployment: Deployment, mode: str):
    emulator = deployment.emulator
    sagemaker = emulator.client("sagemaker")
    key_arn = deployment.platform_outputs()["KeyArn"]
    for model in deployment.serving(mode):
        outputs = deployment.mode_outputs(model, mode)
        name = outputs[ENDPOINT_OUTPUT[mode]]
        assert name == endpoint_name(ENVIRONMENT, model.name, mode)
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        assert endpoint["EndpointStatus"] == "InService"
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        template = _endpoint_config_in_template(template_of(emulator, deployment.model_stack(model)), name)
        assert literal_mismatches(template, config) == []
        assert config.get("KmsKeyId") == key_arn
        models = model_names_of(emulator, deployment.model_stack(model))
        for variant in config["ProductionVariants"]:
            assert variant["ModelName"] in models, f"{name} serves a model its stack did not create"
        CHECK_MODE[mode](deployment, model, endpoint, config, outputs)


def _check_realtime(deployment: Deployment, model: ModelConfig, endpoint: dict, config: dict, outputs: dict) -> None:
    settings = model.realtime
    assert settings is not None
    (variant,) = config["ProductionVariants"]
    assert (
        variant["VariantName"],
        variant["InstanceType"],
        variant["InitialInstanceCount"],
        variant["InitialVariantWeight"],
    ) == (
        settings.variant_name,
        settings.instance_type,
        settings.initial_instance_count,
        settings.initial_variant_weight,
    )
    (running,) = endpoint["ProductionVariants"]
    assert running["CurrentInstanceCount"] == settings.initial_instance_count


def _check_serverless(deployment: Deployment, model: ModelConfig, endpoint: dict, config: dict, outputs: dict) -> None:
    (variant,) = config["ProductionVariants"]
    assert "InstanceType" not in variant, "a serverless endpoint config must not hold instance variants"
    assert "ServerlessConfig" in variant
    (running,) = endpoint["ProductionVariants"]
    assert running["CurrentServerlessConfig"] == config["ProductionVariants"][0]["ServerlessConfig"]


def _check_async(deployment: Deployment, model: ModelConfig, endpoint: dict, config: dict, outputs: dict) -> None:
    platform = deployment.platform_outputs()
    bucket = f"s3://{platform['AsyncBucketName']}/"
    for key in ("AsyncInputPath", "AsyncOutputPath", "AsyncFailurePath"):
        assert under(outputs[key], bucket), f"{key} {outputs[key]} is not in the platform's async bucket"
    output_config = config["AsyncInferenceConfig"]["OutputConfig"]
    assert output_config["S3OutputPath"].rstrip("/") == outputs["AsyncOutputPath"].rstrip("/")
    assert output_config["S3FailurePath"].rstrip("/") == outputs["AsyncFailurePath"].rstrip("/")
    assert output_config.get("KmsKeyId") == platform["KeyArn"], "async results are not encrypted with the platform key"
    notifications = output_config["NotificationConfig"]
    assert (notifications["SuccessTopic"], notifications["ErrorTopic"]) == (
        outputs["AsyncSuccessTopicArn"],
        outputs["AsyncErrorTopicArn"],
    )
    sns = deployment.emulator.client("sns")
    for key in ("AsyncSuccessTopicArn", "AsyncErrorTopicArn"):
        attributes = sns.get_topic_attributes(TopicArn=outputs[key])["Attributes"]
        assert attributes.get("KmsMasterKeyId") == platform["KeyArn"], f"{key} is not encrypted with the platform key"


CHECK_MODE = {"realtime": _check_realtime, "serverless": _check_serverless, "async": _check_async}


def test_inference_components_run_on_the_shared_endpoint_and_scale_per_copy(deployment: Deployment):
    """The shared endpoint is in service with a config that names no model, each component was
    created through CloudFormation on it (the emulator checks endpoint, variant, model and size:
    tests/e2e/emulator_rules.py, rule 6), and its copies are registered with their policies."""
    emulator = deployment.emulator
    models = deployment.serving("component")
    shared = deployment.config.shared_endpoint
    assert shared is not None
    sagemaker = emulator.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=shared_endpoint_name(ENVIRONMENT))
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant and variant["InstanceType"] == shared.instance_type
    scaling = emulator.client("application-autoscaling")
    for model in models:
        outputs = deployment.mode_outputs(model, "component")
        assert outputs["InferenceComponentEndpointName"] == endpoint["EndpointName"]
        name = outputs["InferenceComponentName"]
        (physical,) = physical_ids(
            emulator, deployment.model_stack(model), "AWS::SageMaker::InferenceComponent"
        ).values()
        assert physical.endswith(f"inference-component/{name}")
        assert model.component is not None and model.component.autoscaling is not None
        resource_id = f"inference-component/{name}"
        (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource_id])[
            "ScalableTargets"
        ]
        assert target["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
        bounds = model.component.autoscaling
        assert (target["MinCapacity"], target["MaxCapacity"]) == (bounds.min_capacity, bounds.max_capacity)
        policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource_id)
        kinds = sorted(policy["PolicyType"] for policy in policies["ScalingPolicies"])
        assert kinds == (
            ["StepScaling", "TargetTrackingScaling"] if bounds.min_capacity == 0 else ["TargetTrackingScaling"]
        )


def test_every_configured_mode_is_known_to_this_test(dev_config: EnvironmentConfig):
    unknown = {mode for model in dev_config.models for mode in model.modes} - set(MODES)
    assert not unknown, f"config serves modes {sorted(unknown)} that this round trip does not verify yet"


# 5. Batch transform --------------------------------------------------------------------------


def test_batch_state_machines_run_transform_jobs_on_the_batch_bucket(deployment: Deployment):
    stepfunctions = deployment.emulator.client("stepfunctions")
    platform = deployment.platform_outputs()
    for model in deployment.serving("batch"):
        outputs = deployment.mode_outputs(model, "batch")
        for key in ("BatchInputPath", "BatchOutputPath"):
            assert under(outputs[key], f"s3://{platform['BatchBucketName']}/"), f"{key} is not in the batch bucket"
        machine = stepfunctions.describe_state_machine(stateMachineArn=outputs["BatchStateMachineArn"])
        task = transform_task(machine["definition"])
        assert task["Parameters"]["ModelName"] in model_names_of(deployment.emulator, deployment.model_stack(model))


def test_batch_executions_create_uniquely_named_transform_jobs(deployment: Deployment, deadline: Deadline):
    emulator = deployment.emulator
    sagemaker, stepfunctions, s3 = (emulator.client(name) for name in ("sagemaker", "stepfunctions", "s3"))
    key_arn = deployment.platform_outputs()["KeyArn"]
    for model in deployment.serving("batch"):
        outputs = deployment.mode_outputs(model, "batch")
        bucket, prefix = split_s3_uri(outputs["BatchInputPath"])
        s3.put_object(Bucket=bucket, Key=f"{prefix}e2e/records.csv", Body=SAMPLE_CSV.encode())
        task = transform_task(
            stepfunctions.describe_state_machine(stateMachineArn=outputs["BatchStateMachineArn"])["definition"]
        )
        before = {job["TransformJobName"] for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]}
        for run_number in (1, 2):
            started = stepfunctions.start_execution(
                stateMachineArn=outputs["BatchStateMachineArn"], name=f"e2e-{model.name}-{run_number}", input="{}"
            )
            execution = wait_for_execution(emulator, deadline, started["executionArn"])
            history = stepfunctions.get_execution_history(executionArn=started["executionArn"])["events"]
            assert execution["status"] == "SUCCEEDED", [event["type"] for event in history]
        created = {job["TransformJobName"] for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]} - before
        assert len(created) == 2, f"two executions created transform jobs {sorted(created)}"
        for name in created:
            job = sagemaker.describe_transform_job(TransformJobName=name)
            assert job["ModelName"] in model_names_of(emulator, deployment.model_stack(model))
            assert under(job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"], outputs["BatchInputPath"])
            assert under(job["TransformOutput"]["S3OutputPath"], outputs["BatchOutputPath"])
            assert job["TransformOutput"].get("KmsKeyId") == key_arn
            resources = job["TransformResources"]
            assert resources.get("VolumeKmsKeyId") == key_arn
            expected = task["Parameters"]["TransformResources"]
            assert (resources["InstanceType"], resources["InstanceCount"]) == (
                expected["InstanceType"],
                expected["InstanceCount"],
            )


# 6. Clients against the deployed stacks ------------------------------------------------------


def _client_for(mode: str) -> str:
    command = MODE_CLIENTS[mode]
    assert command in registered_commands(), (
        f"config serves the {mode} mode but `python -m inference_platform {command}` does not exist"
    )
    return command


def test_async_client_round_trip(deployment: Deployment, deadline: Deadline, tmp_path: Path, model_answer):
    emulator = deployment.emulator
    body, _ = model_answer(SAMPLE_CSV)
    for model in deployment.serving("async"):
        command = _client_for("async")
        outputs = deployment.mode_outputs(model, "async")
        emulator.moto_api("static/sagemaker/async-endpoint-results", {"results": [{"data": body}]})
        sample = tmp_path / f"{model.name}.csv"
        sample.write_text(SAMPLE_CSV)
        inputs_before = objects_under(emulator, outputs["AsyncInputPath"])
        printed = python_client(
            deployment, deadline, command, "--env", ENVIRONMENT, "--model", model.name, "--input", str(sample)
        )
        assert set(objects_under(emulator, outputs["AsyncInputPath"])) > set(inputs_before), (
            "the client uploaded nothing under AsyncInputPath"
        )
        assert body.strip() in printed


def test_batch_client_round_trip(deployment: Deployment, deadline: Deadline, tmp_path: Path):
    emulator = deployment.emulator
    sagemaker = emulator.client("sagemaker")
    for model in deployment.serving("batch"):
        command = _client_for("batch")
        outputs = deployment.mode_outputs(model, "batch")
        sample = tmp_path / f"{model.name}.csv"
        sample.write_text(SAMPLE_CSV)
        jobs_before = {job["TransformJobName"] for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]}
        printed = python_client(
            deployment, deadline, command, "--env", ENVIRONMENT, "--model", model.name, "--input", str(sample)
        )
        created = {
            job["TransformJobName"] for job in sagemaker.list_transform_jobs()["TransformJobSummaries"]
        } - jobs_before
        assert len(created) == 1, f"the client created transform jobs {sorted(created)}"
        job = sagemaker.describe_transform_job(TransformJobName=created.pop())
        input_uri = job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        assert objects_under(emulator, input_uri), f"the job reads {input_uri}, where the client uploaded nothing"
        assert split_s3_uri(outputs["BatchOutputPath"])[0] in printed, "the client did not say where the output is"


def test_smoke_command_passes_against_the_deployment(deployment: Deployment, deadline: Deadline, model_answer):
    if "smoke" not in registered_commands():
        pytest.skip("smoke: `python -m inference_platform smoke` does not exist yet (issue 8)")
    # The smoke test sends its own sample rows: queue the packaged model's answer to those.
    body, content_type = model_answer(SMOKE_SAMPLE)
    answers = [
        {"Body": body, "ContentType": content_type, "InvokedProductionVariant": "AllTraffic"}
        for model in deployment.config.models
        for mode in ("realtime", "serverless", "component")
        if mode in model.modes
    ]
    deployment.emulator.moto_api("static/sagemaker/endpoint-results", {"results": answers})
    asynchronous = [{"data": body} for model in deployment.config.models if "async" in model.modes]
    deployment.emulator.moto_api("static/sagemaker/async-endpoint-results", {"results": asynchronous})
    python_client(deployment, deadline, "smoke", "--env", ENVIRONMENT)


# Deploying a changed config ----------------------------------------------------------------


def _config_copy(tmp_path: Path, change: Callable[[dict], None]) -> Path:
    """A copy of config/ with ``change`` applied to the dev file's document."""
    copy = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, copy)
    path = copy / f"{ENVIRONMENT}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


def _deploy(cdk: CdkCli, config_dir: Path) -> None:
    cdk(
        "deploy",
        f"{stage_name(ENVIRONMENT)}/*",
        "--method=direct",
        "--require-approval",
        "never",
        config_dir=str(config_dir),
    )


# 7. Changing one model redeploys only its stack; endpoints keep their names -------------------


@dataclass
class ModelSnapshot:
    models: set[str]
    endpoint_configs: dict[str, str]  # endpoint name -> endpoint config name


def _snapshot(deployment: Deployment, model: ModelConfig) -> ModelSnapshot:
    sagemaker = deployment.emulator.client("sagemaker")
    outputs = deployment.model_outputs(model)
    names = [outputs[ENDPOINT_OUTPUT[mode]] for mode in ENDPOINT_MODES if mode in model.modes]
    return ModelSnapshot(
        models=model_names_of(deployment.emulator, deployment.model_stack(model)),
        endpoint_configs={name: sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] for name in names},
    )


@pytest.fixture
def changed_config_dir(tmp_path: Path, dev_config: EnvironmentConfig) -> Iterator[Path]:
    """A copy of config/ in which the first dev model gets one more container variable."""

    def change(document: dict) -> None:
        changed = document["models"][0]
        assert changed["name"] == dev_config.models[0].name
        changed.setdefault("environment", {})[REVISION_VARIABLE] = "2"

    yield _config_copy(tmp_path, change)


def test_changing_one_model_updates_only_its_stack_and_keeps_endpoint_names(
    deployment: Deployment, cdk: CdkCli, changed_config_dir: Path
):
    emulator = deployment.emulator
    changed, *others = deployment.config.models
    changed_stack = deployment.model_stack(changed)
    templates = {stack: template_of(emulator, stack) for stack in deployment.stacks}
    statuses = {stack: status_of(emulator, stack) for stack in deployment.stacks}
    outputs_before = deployment.model_outputs(changed)
    before = _snapshot(deployment, changed)

    _deploy(cdk, changed_config_dir)

    assert status_of(emulator, changed_stack) == "UPDATE_COMPLETE"
    assert template_of(emulator, changed_stack) != templates[changed_stack]
    for stack in (deployment.platform_stack, *(deployment.model_stack(model) for model in others)):
        assert template_of(emulator, stack) == templates[stack], f"{stack} changed, though its config did not"
        assert status_of(emulator, stack) == statuses[stack], f"{stack} was updated, though its config did not change"

    after = _snapshot(deployment, changed)
    assert deployment.model_outputs(changed) == outputs_before, "stack outputs (endpoint names, paths) changed"
    assert after.models and not after.models & before.models, "the changed model was not replaced"
    sagemaker = emulator.client("sagemaker")
    for name in after.models:
        environment = sagemaker.describe_model(ModelName=name)["PrimaryContainer"]["Environment"]
        assert environment[REVISION_VARIABLE] == "2"
    assert after.endpoint_configs.keys() == before.endpoint_configs.keys()
    for name, config_name in after.endpoint_configs.items():
        assert config_name != before.endpoint_configs[name], f"{name} still uses its old endpoint config"
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        assert {variant["ModelName"] for variant in config["ProductionVariants"]} <= after.models
    if "batch" in changed.modes:
        definition = emulator.client("stepfunctions").describe_state_machine(
            stateMachineArn=outputs_before["BatchStateMachineArn"]
        )["definition"]
        assert transform_task(definition)["Parameters"]["ModelName"] in after.models


# 8. Routine changes AWS refuses unless the stacks prepare for them -----------------------------

# Modes whose endpoints run on instances that Application Auto Scaling may scale.
AUTOSCALED_MODES = ("realtime", "async")
# Instance types the changed config moves autoscaled endpoints to (non-burstable, x86, EBS-backed).
OTHER_INSTANCE_TYPES = ("ml.c5.large", "ml.c5.xlarge")
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"


def registered_scaling(emulator: Emulator, endpoint: str) -> dict[str, dict]:
    """What Application Auto Scaling holds for ``endpoint``'s variants: bounds, policies (type and
    configuration; their names follow the construct path) and scheduled actions, by resource id."""
    scaling = emulator.client("application-autoscaling")
    prefix = f"endpoint/{endpoint}/variant/"
    registered = {}
    for target in scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]:
        resource_id = target["ResourceId"]
        if not resource_id.startswith(prefix):
            continue
        policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource_id)
        actions = scaling.describe_scheduled_actions(ServiceNamespace="sagemaker", ResourceId=resource_id)
        registered[resource_id] = {
            "bounds": (target["MinCapacity"], target["MaxCapacity"]),
            "policies": sorted(
                (
                    policy["PolicyType"],
                    json.dumps(
                        policy.get("TargetTrackingScalingPolicyConfiguration")
                        or policy.get("StepScalingPolicyConfiguration"),
                        sort_keys=True,
                        default=str,
                    ),
                )
                for policy in policies["ScalingPolicies"]
            ),
            "scheduled actions": sorted(action["ScheduledActionName"] for action in actions["ScheduledActions"]),
        }
    return registered


def declared_scaling(template: dict, endpoint: str) -> dict[str, tuple]:
    """What the deployed template declares for ``endpoint``'s variants: bounds, policy count and
    scheduled action names, by resource id."""
    resources = template["Resources"]
    declared = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] != SCALABLE_TARGET or not properties["ResourceId"].startswith(f"endpoint/{endpoint}/"):
            continue
        policies = [
            policy
            for policy in resources.values()
            if policy["Type"] == SCALING_POLICY and policy["Properties"].get("ScalingTargetId") == {"Ref": logical_id}
        ]
        declared[properties["ResourceId"]] = (
            (properties["MinCapacity"], properties["MaxCapacity"]),
            len(policies),
            sorted(action["ScheduledActionName"] for action in properties.get("ScheduledActions", [])),
        )
    return declared


def _autoscaled_endpoints(config: EnvironmentConfig) -> list[str]:
    return [
        endpoint_name(ENVIRONMENT, model.name, mode)
        for model in config.models
        for mode in AUTOSCALED_MODES
        if getattr(model, "async_" if mode == "async" else mode) is not None
        and getattr(model, "async_" if mode == "async" else mode).autoscaling is not None
    ]


def test_autoscaled_endpoints_are_registered_as_their_templates_declare(deployment: Deployment):
    emulator = deployment.emulator
    endpoints = _autoscaled_endpoints(deployment.config)
    if not endpoints:
        pytest.skip(f"no autoscaled real-time or async endpoint in config/{ENVIRONMENT}.yaml")
    model_of = {endpoint_name(ENVIRONMENT, m.name, mode): m for m in deployment.config.models for mode in MODES}
    for name in endpoints:
        declared = declared_scaling(template_of(emulator, deployment.model_stack(model_of[name])), name)
        registered = registered_scaling(emulator, name)
        assert declared, f"the template declares no scalable target for {name}"
        assert {
            resource_id: (scaling["bounds"], len(scaling["policies"]), scaling["scheduled actions"])
            for resource_id, scaling in registered.items()
        } == declared


def test_changing_the_instance_type_of_autoscaled_endpoints_takes_one_deploy(
    deployment: Deployment, cdk: CdkCli, tmp_path: Path
):
    """SageMaker refuses to update an endpoint whose registered variant changes instance type
    (the emulator enforces it, tests/e2e/emulator_rules.py): the stacks deregister the variant first
    and register it again afterwards, with the same scaling."""
    emulator = deployment.emulator
    changed: dict[str, str] = {}  # endpoint name -> its new instance type

    def change(document: dict) -> None:
        for model in document["models"]:
            for mode in AUTOSCALED_MODES:
                block = model.get(mode)
                if block and block.get("autoscaling"):
                    new_type = next(t for t in OTHER_INSTANCE_TYPES if t != block["instance_type"])
                    block["instance_type"] = new_type
                    changed[endpoint_name(ENVIRONMENT, model["name"], mode)] = new_type

    config_dir = _config_copy(tmp_path, change)
    if not changed:
        pytest.skip(f"no autoscaled real-time or async endpoint in config/{ENVIRONMENT}.yaml")
    before = {name: registered_scaling(emulator, name) for name in changed}
    assert all(before.values()), f"scaling not registered before the change: {before}"

    _deploy(cdk, config_dir)

    sagemaker = emulator.client("sagemaker")
    for name, instance_type in changed.items():
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        assert endpoint["EndpointStatus"] == "InService"
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        assert [variant["InstanceType"] for variant in config["ProductionVariants"]] == [instance_type]
        assert registered_scaling(emulator, name) == before[name], f"{name} lost or changed its scaling"
    for model in deployment.config.models:
        if any(endpoint_name(ENVIRONMENT, model.name, mode) in changed for mode in AUTOSCALED_MODES):
            assert status_of(emulator, deployment.model_stack(model)) == "UPDATE_COMPLETE"


# 8b. Weighted variants: an A/B pair deploys, each variant scaled on its own; weights follow the config


def _desired_weights(emulator: Emulator, name: str) -> dict[str, float]:
    variants = emulator.client("sagemaker").describe_endpoint(EndpointName=name)["ProductionVariants"]
    return {variant["VariantName"]: variant["DesiredWeight"] for variant in variants}


def test_an_ab_pair_deploys_and_its_weights_follow_the_config(
    deployment: Deployment, cdk: CdkCli, tmp_path: Path, dev_config: EnvironmentConfig
):
    """The first real-time model of dev becomes an A/B pair (an autoscaled challenger), then its
    weights change in the config after traffic was shifted outside CloudFormation: the deploy
    applies the configured weights (ExcludeRetainedVariantProperties: DesiredWeight; the emulator
    honours retention, tests/e2e/emulator_rules.py rule 8)."""
    model = next((m for m in dev_config.models if m.realtime is not None), None)
    if model is None:
        pytest.skip(f"no real-time model in config/{ENVIRONMENT}.yaml")
    name = endpoint_name(ENVIRONMENT, model.name, "realtime")
    first = model.realtime.variant_name
    emulator = deployment.emulator

    def pair(weights: tuple[float, float]) -> Callable[[dict], None]:
        def change(document: dict) -> None:
            block = next(m for m in document["models"] if m["name"] == model.name)["realtime"]
            block["initial_variant_weight"] = weights[0]
            block["variants"] = [
                {
                    "variant_name": "Challenger",
                    "instance_type": "ml.c5.large",
                    "initial_variant_weight": weights[1],
                    "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_invocations_per_instance": 1000},
                }
            ]

        return change

    _deploy(cdk, _config_copy(tmp_path / "ab", pair((0.9, 0.1))))
    sagemaker = emulator.client("sagemaker")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert _desired_weights(emulator, name) == {first: 0.9, "Challenger": 0.1}
    registered = registered_scaling(emulator, name)
    assert set(registered) == {f"endpoint/{name}/variant/{first}", f"endpoint/{name}/variant/Challenger"}
    declared = declared_scaling(template_of(emulator, deployment.model_stack(model)), name)
    assert {
        resource_id: (scaling["bounds"], len(scaling["policies"]), scaling["scheduled actions"])
        for resource_id, scaling in registered.items()
    } == declared

    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[
            {"VariantName": first, "DesiredWeight": 0.5},
            {"VariantName": "Challenger", "DesiredWeight": 0.5},
        ],
    )
    _deploy(cdk, _config_copy(tmp_path / "shift", pair((0.8, 0.2))))
    assert _desired_weights(emulator, name) == {first: 0.8, "Challenger": 0.2}
    assert status_of(emulator, deployment.model_stack(model)) == "UPDATE_COMPLETE"


# 8c. A multi-model endpoint and a serial pipeline deploy as model stacks of their own


PREPROCESS_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/iris-preprocess:1"


def test_a_multi_model_endpoint_and_a_serial_pipeline_deploy_as_model_stacks(
    deployment: Deployment, cdk: CdkCli, tmp_path: Path
):
    """A copy of the dev config with two more models: a multi-model endpoint and a serial
    pipeline. Their stacks deploy; the first model serves the prefix in MultiModel mode, the
    second lists its containers in order, the model's own last; both endpoints are in service.
    The stacks are deleted afterwards, as the later steps deploy the shipped config (cdk deploy
    never deletes a stack the app no longer has)."""
    prefix = "s3://tenant-models/tenants/"
    realtime = {"instance_type": "ml.m5.large", "deployment": {"strategy": "all_at_once"}}
    image = {"framework": "sklearn", "version": "1.4-2"}

    def add(document: dict) -> None:
        artifact = document["models"][0]["model_data"]
        document["models"] += [
            {"name": "tenants", "image": image, "multi_model": True, "model_data": prefix, "realtime": realtime},
            {
                "name": "piped",
                "image": image,
                "model_data": artifact,
                "serial_pipeline": [{"image": {"uri": PREPROCESS_IMAGE}, "environment": {"STEP": "scale"}}],
                "realtime": realtime,
            },
        ]

    stacks = [model_stack_name(ENVIRONMENT, name) for name in ("tenants", "piped")]
    _deploy(cdk, _config_copy(tmp_path, add))
    emulator = deployment.emulator
    sagemaker = emulator.client("sagemaker")
    try:
        (tenants,) = model_names_of(emulator, stacks[0])
        container = sagemaker.describe_model(ModelName=tenants)["PrimaryContainer"]
        assert (container["Mode"], container["ModelDataUrl"]) == ("MultiModel", prefix)
        (piped,) = model_names_of(emulator, stacks[1])
        containers = sagemaker.describe_model(ModelName=piped)["Containers"]
        assert containers[0]["Image"] == PREPROCESS_IMAGE
        assert containers[0]["Environment"] == {"STEP": "scale"}
        assert "sagemaker-scikit-learn" in containers[1]["Image"] and len(containers) == 2
        for name in ("tenants", "piped"):
            endpoint = endpoint_name(ENVIRONMENT, name, "realtime")
            assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    finally:
        cloudformation = emulator.client("cloudformation")
        for stack in stacks:
            cloudformation.delete_stack(StackName=stack)
            cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 1})


def platform_exports(emulator: Emulator, stack: str) -> dict[str, str]:
    stack_id = emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    paginator = emulator.client("cloudformation").get_paginator("list_exports")
    return {
        export["Name"]: export["Value"]
        for page in paginator.paginate()
        for export in page["Exports"]
        if export["ExportingStackId"] == stack_id
    }


def test_removing_a_mode_from_the_last_model_deploys_cleanly(deployment: Deployment, cdk: CdkCli, tmp_path: Path):
    """CloudFormation refuses to delete an export another stack still imports (the emulator
    enforces it): the platform keeps exporting what the old model stack imports."""
    emulator = deployment.emulator
    # The last model that has a mode to remove (a model serving only an inference component has none).
    index, last, removed = next(
        (
            (index, model, mode)
            for index, model in reversed(list(enumerate(deployment.config.models)))
            for mode in ("async", "batch", "realtime")
            if mode in model.modes and len(model.modes) > 1
        ),
        (None, None, None),
    )
    if last is None or removed is None:
        pytest.skip(f"no model of config/{ENVIRONMENT}.yaml has a mode that can be removed")
    exports = platform_exports(emulator, deployment.platform_stack)
    endpoint = endpoint_name(ENVIRONMENT, last.name, removed)

    _deploy(cdk, _config_copy(tmp_path, lambda document: document["models"][index].pop(removed)))

    stack = deployment.model_stack(last)
    assert status_of(emulator, stack) == "UPDATE_COMPLETE"
    assert not set(MODE_OUTPUTS[removed]) & set(deployment.model_outputs(last))
    assert platform_exports(emulator, deployment.platform_stack) == exports
    if removed in ENDPOINT_MODES:
        with pytest.raises(ClientError):
            emulator.client("sagemaker").describe_endpoint(EndpointName=endpoint)
        # Deleting the endpoint deregistered its variants; the retained scaling resources called nothing.
        assert registered_scaling(emulator, endpoint) == {}


# 9. Destroy keeps the retained key, buckets and data ------------------------------------------


def test_destroy_removes_the_stacks_and_keeps_retained_data(deployment: Deployment, cdk: CdkCli):
    emulator = deployment.emulator
    s3, kms, sagemaker = (emulator.client(name) for name in ("s3", "kms", "sagemaker"))
    assert deployment.config.retain_stateful_resources, "the dev config no longer retains its data"
    platform = deployment.platform_outputs()
    template = template_of(emulator, deployment.platform_stack)["Resources"]
    not_retained = [
        logical
        for logical, resource in template.items()
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key") and resource.get("DeletionPolicy") != "Retain"
    ]
    assert not not_retained, f"stateful resources deployed without DeletionPolicy Retain: {not_retained}"
    buckets = set(physical_ids(emulator, deployment.platform_stack, "AWS::S3::Bucket").values())
    assert {platform[key] for key in PLATFORM_BUCKET_OUTPUTS} < buckets  # and the access log bucket

    # Results as the async endpoints and batch jobs would leave them.
    results = {}
    for mode, bucket_output, path_output in (
        ("async", "AsyncBucketName", "AsyncOutputPath"),
        ("batch", "BatchBucketName", "BatchOutputPath"),
    ):
        # From the outputs: the step above may have removed a mode from the last model.
        paths = [
            deployment.model_outputs(model)[path_output]
            for model in deployment.config.models
            if path_output in deployment.model_outputs(model)
        ]
        for path in paths or [f"s3://{platform[bucket_output]}/e2e/{mode}-output/"]:
            bucket, prefix = split_s3_uri(path)
            key = f"{prefix.rstrip('/')}/e2e-result.out".lstrip("/")
            body = f"{mode} result kept after destroy".encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            results[(bucket, key)] = body
    contents = {bucket: objects_under(emulator, f"s3://{bucket}/") for bucket in buckets}
    outputs = {model.name: deployment.model_outputs(model) for model in deployment.config.models}
    endpoints = [
        outputs[model.name][ENDPOINT_OUTPUT[mode]]
        for model in deployment.config.models
        for mode in ENDPOINT_MODES
        if ENDPOINT_OUTPUT[mode] in outputs[model.name]
    ]
    state_machines = [
        outputs[model.name]["BatchStateMachineArn"]
        for model in deployment.config.models
        if "BatchStateMachineArn" in outputs[model.name]
    ]

    cdk("destroy", f"{stage_name(ENVIRONMENT)}/*", "--force", limit=300)

    cloudformation = emulator.client("cloudformation")
    for stack in deployment.stacks:
        with pytest.raises(ClientError, match="does not exist"):
            cloudformation.describe_stacks(StackName=stack)
    for name in endpoints + ([shared_endpoint_name(ENVIRONMENT)] if deployment.config.shared_endpoint else []):
        with pytest.raises(ClientError):
            sagemaker.describe_endpoint(EndpointName=name)
    for arn in state_machines:
        with pytest.raises(ClientError):
            emulator.client("stepfunctions").describe_state_machine(stateMachineArn=arn)

    for bucket, objects in contents.items():
        assert objects_under(emulator, f"s3://{bucket}/") == objects, f"{bucket} lost objects on destroy"
    for (bucket, key), body in results.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    metadata = kms.describe_key(KeyId=platform["KeyArn"])["KeyMetadata"]
    assert metadata["KeyState"] == "Enabled", "the retained key was scheduled for deletion"
