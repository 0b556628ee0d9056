"""AWS Deep Learning Container (DLC) images for large models, by name and version, resolved per
region at deploy time like the framework images (a CloudFormation mapping, never a lookup).

The table is AWS's own: the SageMaker Python SDK's image URI configuration,
``sagemaker-core/src/sagemaker/core/image_uri_config/`` in github.com/aws/sagemaker-python-sdk,
read at commit a24812666d258d9d19c9a82d0c9385ca0bd3ba01 (2026-08-21; the files last changed in
2d1730cf192956d476e1c20002c55ece0c382fdc, 2026-07-20) on 2026-11-30:

- ``huggingface-llm.json``: Hugging Face Text Generation Inference (TGI), repository
  ``huggingface-pytorch-tgi-inference``, tag ``<tag_prefix>-gpu-<py>-<container_version>``;
- ``djl-lmi.json``: Large Model Inference (LMI, DJL Serving with vLLM/TensorRT-LLM), repository
  ``djl-inference``, tag ``<tag_prefix>``; ``djl-neuronx.json``: its Inferentia/Trainium build;
- ``huggingface.json`` (``inference``, ``pytorch2.6.0``): Hugging Face inference for PyTorch,
  repository ``huggingface-pytorch-inference``, tag
  ``2.6.0-transformers<version>-<gpu|cpu>-py312-<container_version>``.

The tags are composed as the SDK's ``image_uris._format_tag`` does. The registries are the same
account in every region below for every entry (the SDK lists more regions, with other accounts
for a few; only regions all entries share are kept). A few versions of each, on purpose: add a
version by reading the same files again and recording the commit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.framework_images import ResolvedImage, check_listed_version, registry_image, registry_mapping
from inference_constructs.instance_types import Accelerator
from inference_constructs.stack_values import stack_values

SOURCE = (
    "github.com/aws/sagemaker-python-sdk @ a24812666d258d9d19c9a82d0c9385ca0bd3ba01, "
    "sagemaker-core/src/sagemaker/core/image_uri_config/, read 2026-11-30"
)

# Region -> DLC registry account: the "registries" of every entry below agree on these.
DLC_REGISTRY_ACCOUNTS: dict[str, str] = {
    region: "763104351884"
    for region in (
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-2",
    )
}


@dataclass(frozen=True)
class DeepLearningContainer:
    repository: str
    accelerator: Accelerator
    tags: dict[str, str]  # version -> image tag
    source_file: str
    description: str
    # Serves text generation with a streamed response (TGI and LMI: "stream": true in the request).
    streams_text: bool = False


DLC_IMAGES: dict[str, DeepLearningContainer] = {
    "huggingface-tgi": DeepLearningContainer(
        repository="huggingface-pytorch-tgi-inference",
        accelerator=Accelerator.CUDA,
        tags={
            "3.3.6": "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04",
            "3.2.3": "2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04",
            "2.4.0": "2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04-v2.2",
        },
        source_file="huggingface-llm.json",
        description="Hugging Face Text Generation Inference (TGI) for LLMs on NVIDIA GPUs",
        streams_text=True,
    ),
    "djl-lmi": DeepLearningContainer(
        repository="djl-inference",
        accelerator=Accelerator.CUDA,
        tags={
            "0.36.0": "0.36.0-lmi27.0.0-cu130",
            "0.35.0": "0.35.0-lmi17.0.0-cu128",
            "0.33.0": "0.33.0-lmi15.0.0-cu128",
        },
        source_file="djl-lmi.json",
        description="Large Model Inference (DJL Serving: vLLM, TensorRT-LLM) on NVIDIA GPUs",
        streams_text=True,
    ),
    "djl-neuronx": DeepLearningContainer(
        repository="djl-inference",
        accelerator=Accelerator.NEURON,
        tags={"0.29.0": "0.29.0-neuronx-sdk2.19.1"},
        source_file="djl-neuronx.json",
        description="Large Model Inference (DJL Serving, transformers-neuronx) on Inferentia2/Trainium",
        streams_text=True,
    ),
    "huggingface-pytorch-gpu": DeepLearningContainer(
        repository="huggingface-pytorch-inference",
        accelerator=Accelerator.CUDA,
        tags={
            "4.51.3": "2.6.0-transformers4.51.3-gpu-py312-cu124-ubuntu22.04",
            "4.49.0": "2.6.0-transformers4.49.0-gpu-py312-cu124-ubuntu22.04",
        },
        source_file="huggingface.json",
        description="Hugging Face inference for PyTorch (transformers version) on NVIDIA GPUs",
    ),
    "huggingface-pytorch-cpu": DeepLearningContainer(
        repository="huggingface-pytorch-inference",
        accelerator=Accelerator.CPU,
        tags={
            "4.51.3": "2.6.0-transformers4.51.3-cpu-py312-ubuntu22.04",
            "4.49.0": "2.6.0-transformers4.49.0-cpu-py312-ubuntu22.04",
        },
        source_file="huggingface.json",
        description="Hugging Face inference for PyTorch (transformers version) on CPU",
    ),
}

_MAPPING_ID = "SageMakerDlcRegistries"


def check_dlc_version(name: str, version: str) -> None:
    """Raise ValueError unless ``name``/``version`` is a Deep Learning Container of the table."""
    check_listed_version("Deep Learning Container", name, version, {key: spec.tags for key, spec in DLC_IMAGES.items()})


def dlc_image(scope: Construct, name: str, version: str) -> ResolvedImage:
    """The URI of a Deep Learning Container image for the stack's region (a token if env-agnostic)."""
    check_dlc_version(name, version)
    spec = DLC_IMAGES[name]
    values = stack_values(scope)
    if not cdk.Token.is_unresolved(values.region) and values.region not in DLC_REGISTRY_ACCOUNTS:
        raise ValueError(
            f"no Deep Learning Container registry recorded for region {values.region}; the table "
            f"(inference_constructs/dlc_images.py, from {SOURCE}) has {', '.join(sorted(DLC_REGISTRY_ACCOUNTS))}"
        )
    mapping = registry_mapping(values, _MAPPING_ID, DLC_REGISTRY_ACCOUNTS)
    return registry_image(values, mapping, spec.repository, spec.tags[version])
