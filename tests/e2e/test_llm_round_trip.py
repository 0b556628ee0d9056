"""A large language model on a GPU, deployed by the real CDK CLI on moto: a Hugging Face TGI
Deep Learning Container serving an uncompressed model from an S3 prefix on ml.g5.2xlarge, with
the start-up, download and routing settings large models need.

The shipped dev environment has no GPU model (no GPU cost in dev), so this module deploys its
own ``dev`` environment from a temporary config directory, on an emulator of its own. moto does
not run the container, load the model or stream tokens: what it shows is that CloudFormation
creates the model and endpoint with the properties the template holds (the image resolved
through the region mapping, the S3 prefix, the variant settings), that the execution role holds
the prefix grants, and that the stacks deploy and destroy cleanly. The emulator refuses what
SageMaker refuses for these properties (tests/e2e/emulator_rules.py, rule 6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from inference_constructs.dlc_images import DLC_IMAGES, DLC_REGISTRY_ACCOUNTS
from inference_core.naming import model_stack_name, stage_name
from tests.e2e.conftest import ENVIRONMENT, REGION, CdkCli, Emulator
from tests.e2e.test_deploy_round_trip import (
    _deploy,
    literal_mismatches,
    outputs_of,
    physical_ids,
    status_of,
    template_of,
)

pytestmark = pytest.mark.e2e

PREFIX = "s3://e2e-llm-models/llm/tiny-llama/"
LLM = {
    "name": "llm",
    "image": {"dlc": "huggingface-tgi", "version": "3.3.6"},
    "model_data": PREFIX,
    "environment": {"HF_MODEL_ID": "/opt/ml/model", "SM_NUM_GPUS": "1"},
    "realtime": {
        "instance_type": "ml.g5.2xlarge",
        "container_startup_health_check_timeout_seconds": 900,
        "model_data_download_timeout_seconds": 1200,
        "routing_strategy": "LEAST_OUTSTANDING_REQUESTS",
    },
}


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config")
    config = {"environment": ENVIRONMENT, "retain_endpoint_logs": False, "models": [LLM]}
    (directory / f"{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(config))
    return directory


@pytest.fixture(scope="module")
def deployed(cdk: CdkCli, emulator: Emulator, config_dir: Path) -> str:
    cdk("bootstrap", f"aws://{emulator.client('sts').get_caller_identity()['Account']}/{REGION}", limit=180)
    _deploy(cdk, config_dir)
    return model_stack_name(ENVIRONMENT, "llm")


def test_the_gpu_model_stack_deploys(deployed: str, emulator: Emulator):
    assert status_of(emulator, deployed) == "CREATE_COMPLETE"
    outputs = outputs_of(emulator, deployed)
    assert outputs["RealtimeEndpointName"] == "dev-llm-realtime"
    assert outputs["RealtimeResponseStreaming"] == "text-generation"


def test_the_model_runs_the_dlc_image_of_the_region_from_the_s3_prefix(deployed: str, emulator: Emulator):
    sagemaker = emulator.client("sagemaker")
    (name,) = {
        physical.split("/")[-1] for physical in physical_ids(emulator, deployed, "AWS::SageMaker::Model").values()
    }
    container = sagemaker.describe_model(ModelName=name)["PrimaryContainer"]
    tag = DLC_IMAGES["huggingface-tgi"].tags["3.3.6"]
    account = DLC_REGISTRY_ACCOUNTS[REGION]
    assert container["Image"] == f"{account}.dkr.ecr.{REGION}.amazonaws.com/huggingface-pytorch-tgi-inference:{tag}"
    assert container["ModelDataSource"] == {
        "S3DataSource": {"S3Uri": PREFIX, "S3DataType": "S3Prefix", "CompressionType": "None"}
    }
    assert "ModelDataUrl" not in container
    assert container["Environment"]["HF_MODEL_ID"] == "/opt/ml/model"


def test_the_endpoint_config_carries_the_variant_settings(deployed: str, emulator: Emulator):
    sagemaker = emulator.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="dev-llm-realtime")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g5.2xlarge"
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 900
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert "VolumeSizeInGB" not in variant  # local NVMe storage
    resources = template_of(emulator, deployed)["Resources"]
    (template_config,) = [r for r in resources.values() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    assert literal_mismatches(template_config["Properties"]["ProductionVariants"], config["ProductionVariants"]) == []


def test_the_role_lists_and_reads_the_prefix_only(deployed: str, emulator: Emulator):
    iam = emulator.client("iam")
    documents = []
    for role in physical_ids(emulator, deployed, "AWS::IAM::Role").values():
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            documents.append(json.dumps(iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]))
    rendered = " ".join(documents)
    assert "arn:aws:s3:::e2e-llm-models/llm/tiny-llama/*" in rendered
    assert '"s3:prefix": ["llm/tiny-llama/*"]' in rendered or '"s3:prefix": "llm/tiny-llama/*"' in rendered


def test_destroy_removes_the_stacks(deployed: str, cdk: CdkCli, emulator: Emulator, config_dir: Path):
    cdk("destroy", f"{stage_name(ENVIRONMENT)}/*", "--force", limit=300, config_dir=str(config_dir))
    stacks = emulator.client("cloudformation").list_stacks()["StackSummaries"]
    live = [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    assert deployed not in live
    assert emulator.client("sagemaker").list_endpoints()["Endpoints"] == []
