"""Large models: Deep Learning Container images, uncompressed models from an S3 prefix, and
the image's accelerator checked against the instance type."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from pydantic import ValidationError

from inference_constructs.dlc_images import DLC_IMAGES, DLC_REGISTRY_ACCOUNTS, SOURCE
from inference_constructs.errors import InvalidPropsError
from inference_constructs.inference_model import InferenceModel, ModelImage, check_model_data
from inference_constructs.instance_types import Accelerator, check_accelerator, gpus_of
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from tests.inference_constructs.helpers import new_key, new_stack

PREFIX = "s3://my-models/llm/llama-3-8b/"
TGI = {"dlc": "huggingface-tgi", "version": "3.3.6"}


def llm_model(stack, image=TGI, model_data=PREFIX) -> InferenceModel:
    return InferenceModel(
        stack,
        "Model",
        name="llm",
        name_prefix="test-llm",
        image=image,
        model_data=model_data,
        encryption_key=new_key(stack),
        environment={"HF_MODEL_ID": "/opt/ml/model"},
    )


@pytest.fixture(scope="module")
def llm_template():
    stack = new_stack()
    llm_model(stack)
    return Template.from_stack(stack)


def _statements(template: Template) -> list[dict]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_s3_prefix_becomes_an_uncompressed_model_data_source(llm_template):
    container = next(iter(llm_template.find_resources("AWS::SageMaker::Model").values()))["Properties"][
        "PrimaryContainer"
    ]
    assert container["ModelDataSource"] == {
        "S3DataSource": {"S3Uri": PREFIX, "S3DataType": "S3Prefix", "CompressionType": "None"}
    }
    assert "ModelDataUrl" not in container
    # A DLC gets the caller's environment and the model server's limits, not the sklearn handler's.
    assert container["Environment"]["HF_MODEL_ID"] == "/opt/ml/model"
    assert "SAGEMAKER_PROGRAM" not in container["Environment"]


def test_role_lists_and_reads_that_prefix_only(llm_template):
    statements = _statements(llm_template)
    listing = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert len(listing) == 1
    assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": ["llm/llama-3-8b/*"]}}
    assert json.dumps(listing[0]["Resource"]).endswith(':s3:::my-models"]]}')
    reads = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert len(reads) == 1 and json.dumps(reads[0]["Resource"]).endswith(':s3:::my-models/llm/llama-3-8b/*"]]}')


def test_dlc_image_resolves_through_its_own_region_mapping(llm_template):
    container = next(iter(llm_template.find_resources("AWS::SageMaker::Model").values()))["Properties"][
        "PrimaryContainer"
    ]
    image = json.dumps(container["Image"])
    assert "SageMakerDlcRegistries" in image
    assert "huggingface-pytorch-tgi-inference:2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04" in image
    mapping = llm_template.to_json()["Mappings"]["SageMakerDlcRegistries"]
    assert mapping["eu-west-1"] == {"account": "763104351884"} and mapping["us-east-1"] == {"account": "763104351884"}
    assert "repository/huggingface-pytorch-tgi-inference" in json.dumps(_statements(llm_template))


def test_concrete_region_gets_the_literal_uri_and_an_unlisted_region_is_refused():
    stack = new_stack(region="eu-west-1")
    llm_model(stack, image={"dlc": "djl-lmi", "version": "0.33.0"})
    template = Template.from_stack(stack)
    assert "Mappings" not in template.to_json()
    assert "763104351884.dkr.ecr.eu-west-1." in json.dumps(template.to_json())
    assert "djl-inference:0.33.0-lmi15.0.0-cu128" in json.dumps(template.to_json())
    with pytest.raises(ValueError, match="no Deep Learning Container registry recorded for region af-south-1"):
        llm_model(new_stack(region="af-south-1"))


def test_the_table_says_where_it_comes_from():
    assert "sagemaker-python-sdk @ a24812666d258d9d19c9a82d0c9385ca0bd3ba01" in SOURCE
    assert {"huggingface-tgi", "djl-lmi", "huggingface-pytorch-gpu"} <= DLC_IMAGES.keys()
    assert DLC_IMAGES["djl-neuronx"].accelerator is Accelerator.NEURON
    assert "eu-west-1" in DLC_REGISTRY_ACCOUNTS


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            {"dlc": "huggingface-tgi", "version": "9.9"},
            "unknown huggingface-tgi image version '9.9'; allowed: 3.3.6, 3.2.3, 2.4.0",
        ),
        ({"dlc": "tgi", "version": "3.3.6"}, "unknown Deep Learning Container 'tgi'; allowed: djl-lmi"),
        ({"dlc": "huggingface-tgi"}, "give the version of the huggingface-tgi Deep Learning Container"),
        ({**TGI, "framework": "sklearn"}, "give either dlc and version, or framework and version"),
        ({**TGI, "accelerator": "neuron"}, "come from its table; remove image.architecture and image.accelerator"),
        (
            {"framework": "sklearn", "version": "1.4-2", "accelerator": "cuda"},
            "the prebuilt framework images run on CPU",
        ),
    ],
)
def test_bad_images_are_refused(image, expected):
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        ModelImage.model_validate(image)


@pytest.mark.parametrize(
    "value", ["s3://my-models/llm", "s3://my-models/", "s3://my-models//x/", "s3://My_Models/llm/"]
)
def test_a_prefix_must_end_with_a_slash_in_a_valid_bucket(value):
    with pytest.raises(ValueError, match="the prefix ends with /"):
        check_model_data(value)


def test_a_prefix_longer_than_the_api_allows_is_refused():
    with pytest.raises(ValueError, match=r"at most 1024 characters \(sagemaker S3ModelUri\)"):
        check_model_data("s3://my-models/" + "a/" * 520)


@pytest.mark.parametrize(
    ("accelerator", "instance_type", "expected"),
    [
        (Accelerator.CUDA, "ml.m5.large", "built for cuda and needs NVIDIA GPUs .* but ml.m5.large has no accelerator"),
        (Accelerator.CUDA, "ml.inf2.xlarge", "but ml.inf2.xlarge has Neuron chips"),
        (
            Accelerator.NEURON,
            "ml.g5.xlarge",
            "needs AWS Inferentia or Trainium chips .* but ml.g5.xlarge has NVIDIA GPUs",
        ),
        (Accelerator.NEURON, "ml.dl1.24xlarge", "has no accelerator"),
    ],
)
def test_accelerator_mismatches_are_refused(accelerator, instance_type, expected):
    with pytest.raises(ValueError, match=expected):
        check_accelerator(accelerator, instance_type)


@pytest.mark.parametrize(
    ("accelerator", "instance_type"),
    [
        (Accelerator.CUDA, "ml.g5.xlarge"),
        (Accelerator.CUDA, "ml.p4d.24xlarge"),
        (Accelerator.NEURON, "ml.inf2.xlarge"),
        (Accelerator.NEURON, "ml.trn1.2xlarge"),
        (Accelerator.CPU, "ml.m5.large"),
        (Accelerator.CPU, "ml.g5.xlarge"),  # runs, with idle GPUs: SageMaker does not refuse it
    ],
)
def test_matching_accelerators_pass(accelerator, instance_type):
    check_accelerator(accelerator, instance_type)


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [
        ("ml.g5.xlarge", 1),
        ("ml.g5.12xlarge", 4),
        ("ml.g5.48xlarge", 8),
        ("ml.g4dn.12xlarge", 4),
        ("ml.p3.8xlarge", 4),
        ("ml.p4d.24xlarge", 8),
        ("ml.p5.48xlarge", 8),
        ("ml.g6e.2xlarge", 1),
        ("ml.m5.large", 0),
        ("ml.inf2.xlarge", 0),
    ],
)
def test_gpus_per_instance_type(instance_type, gpus):
    assert gpus_of(instance_type) == gpus


def test_a_gpu_image_on_a_cpu_endpoint_is_refused_by_the_construct():
    stack = new_stack()
    model = llm_model(stack)
    with pytest.raises(InvalidPropsError, match=r"settings\.instance_type: .*built for cuda"):
        RealtimeEndpoint(
            stack,
            "Realtime",
            model=model,
            encryption_key=model.encryption_key,
            endpoint_name="test-llm-realtime",
            settings={"instance_type": "ml.m5.large"},
        )


def test_a_gpu_image_cannot_back_a_serverless_endpoint():
    from inference_constructs.serverless_endpoint import ServerlessEndpoint

    stack = new_stack()
    model = InferenceModel(
        stack,
        "Model",
        name="llm",
        name_prefix="test-llm",
        image=TGI,
        model_data=PREFIX,
        encryption_key=new_key(stack),
        network_isolation=False,
    )
    with pytest.raises(InvalidPropsError, match=r"image is built for cuda; serverless endpoints run on CPU only"):
        ServerlessEndpoint(
            stack,
            "Serverless",
            model=model,
            encryption_key=model.encryption_key,
            endpoint_name="test-llm-serverless",
            settings={"memory_size_in_mb": 2048, "max_concurrency": 2},
        )
