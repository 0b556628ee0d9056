"""The SageMaker ML instance types, and what each one is: hardware, CPU architecture, vCPUs,
whether it is burstable and whether its storage is local.

Which types exist is AWS's word, not ours: hosting types are the ``ProductionVariantInstanceType``
enum of SageMaker's service model and batch types the ``TransformInstanceType`` enum, both read
from botocore. A typo (``ml.m5.larg``) or a type SageMaker does not offer for the mode fails at
synth time instead of ten minutes into a CloudFormation update.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum
from functools import cache

from inference_constructs import service_models


class Hardware(StrEnum):
    CPU = "cpu"
    GPU = "gpu"
    ACCELERATOR = "accelerator"  # AWS Inferentia / Trainium / Gaudi


class Architecture(StrEnum):
    X86_64 = "x86_64"
    ARM64 = "arm64"


class Accelerator(StrEnum):
    """What an image's code runs its model on: the CPU alone, NVIDIA GPUs through CUDA, or AWS
    Inferentia/Trainium chips through the Neuron SDK."""

    CPU = "cpu"
    CUDA = "cuda"
    NEURON = "neuron"


class InstanceUse(StrEnum):
    """Where an instance type is used; each draws on its own enum of the SageMaker model."""

    HOSTING = "ProductionVariantInstanceType"  # real-time and async endpoint variants
    TRANSFORM = "TransformInstanceType"  # batch transform jobs


_INSTANCE_TYPE = re.compile(r"^ml\.(?P<family>[a-z0-9]+)\.(?P<size>[a-z0-9]+)$")
# GPU families are P and G; accelerators are Inferentia (inf), Trainium (trn) and Gaudi (dl1).
_GPU_FAMILY = re.compile(r"^[pg]\d")
_ACCELERATOR_FAMILY = re.compile(r"^(inf|trn|dl)\d")
# Inferentia (inf1, inf2) and Trainium (trn1, trn1n, trn2) run Neuron code; dl1 (Habana Gaudi) does not.
_NEURON_FAMILY = re.compile(r"^(inf|trn)\d")
# AWS Graviton families carry a "g" right after the generation digit (c6g, m6gd, r7g...);
# g4dn/g5 are GPU families whose "g" comes first.
_GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+g[a-z]*$")
# Burstable performance (T) families.
_BURSTABLE_FAMILY = re.compile(r"^t\d")

# Families whose instances carry local NVMe storage. SageMaker encrypts those volumes with a
# hardware module and refuses a volume KMS key for them (VolumeKmsKeyId, KmsKeyId of an
# endpoint config): "You can't request a VolumeKmsKeyId when using an instance type with
# local storage" (https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html).
LOCAL_STORAGE_FAMILIES = frozenset(
    {"m5d", "m6id", "c5d", "c6id", "r5d", "r6id", "m6gd", "c6gd", "r6gd"}
    | {"g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "trn1", "trn1n", "trn2", "dl1"}
)

# vCPUs by size, as EC2 sizes them (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html
# and the pages for the other families): large = 2, xlarge = 4, Nxlarge = 4N, medium = 1.
_SIZE_VCPUS = {"medium": 1, "large": 2, "xlarge": 4}
_XLARGE = re.compile(r"^(?P<factor>\d+)xlarge$")
# The types whose vCPUs differ from that rule (same EC2 pages: t2.medium has 2 vCPUs, c4.8xlarge 36).
_VCPU_EXCEPTIONS = {"ml.t2.medium": 2, "ml.c4.8xlarge": 36}


# NVIDIA GPUs per instance, from EC2's accelerated computing specifications
# (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html, "Accelerators" tables; SageMaker's
# ml.<type> is the EC2 type): every size of the P and G families not listed here has one GPU
# (g4dn.xlarge-16xlarge, g5/g6/g6e.xlarge-16xlarge, p2.xlarge, p3.2xlarge). CloudWatch reports
# SageMaker's GPUUtilization and GPUMemoryUtilization as 100% per GPU, summed over the GPUs.
_MULTI_GPU = {
    "ml.g4dn.12xlarge": 4,
    **{
        f"ml.{family}.{size}": gpus
        for family in ("g5", "g6", "g6e")
        for size, gpus in (("12xlarge", 4), ("24xlarge", 4), ("48xlarge", 8))
    },
    "ml.p2.8xlarge": 8,
    "ml.p2.16xlarge": 16,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    "ml.p4d.24xlarge": 8,
    "ml.p4de.24xlarge": 8,
    "ml.p5.48xlarge": 8,
    "ml.p5e.48xlarge": 8,
}


@cache
def offered(use: InstanceUse) -> frozenset[str]:
    """Every instance type SageMaker offers for ``use``, from its service model."""
    return service_models.enum("sagemaker", use.value)


def check_instance_type(value: str, use: InstanceUse = InstanceUse.HOSTING) -> str:
    """Return ``value`` if SageMaker offers it for ``use``, else raise ValueError naming the
    closest types it does offer."""
    if not _INSTANCE_TYPE.fullmatch(value):
        raise ValueError("expected an instance type of the form ml.<family>.<size>, e.g. ml.m5.large")
    types = offered(use)
    if value not in types:
        close = difflib.get_close_matches(value, sorted(types), n=4, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = "hosting (real-time and async endpoints)" if use is InstanceUse.HOSTING else "batch transform"
        raise ValueError(
            f"{value!r} is not an instance type SageMaker offers for {where} (botocore's sagemaker model, "
            f"{use.value}){hint}"
        )
    return value


def family_of(instance_type: str) -> str:
    return instance_type.split(".")[1]


def hardware_of(instance_type: str) -> Hardware:
    """The hardware kind of a validated instance type."""
    family = family_of(instance_type)
    if _GPU_FAMILY.match(family):
        return Hardware.GPU
    if _ACCELERATOR_FAMILY.match(family):
        return Hardware.ACCELERATOR
    return Hardware.CPU


def accelerator_of(instance_type: str) -> Accelerator | None:
    """What code an instance type's accelerator runs: CUDA on NVIDIA GPUs (the P and G families),
    Neuron on Inferentia/Trainium, None on CPU-only types and on Gaudi (dl1)."""
    hardware = hardware_of(instance_type)
    if hardware is Hardware.GPU:
        return Accelerator.CUDA
    if _NEURON_FAMILY.match(family_of(instance_type)):
        return Accelerator.NEURON
    return None


def gpus_of(instance_type: str) -> int:
    """NVIDIA GPUs of a validated instance type (0 on other types)."""
    if hardware_of(instance_type) is not Hardware.GPU:
        return 0
    return _MULTI_GPU.get(instance_type, 1)


def architecture_of(instance_type: str) -> Architecture:
    """The CPU architecture of a validated instance type: Graviton families are arm64."""
    return Architecture.ARM64 if _GRAVITON_FAMILY.fullmatch(family_of(instance_type)) else Architecture.X86_64


def is_burstable(instance_type: str) -> bool:
    """Whether a validated instance type is burstable (T2/T3), which autoscaling refuses."""
    return bool(_BURSTABLE_FAMILY.match(family_of(instance_type)))


def has_local_storage(instance_type: str) -> bool:
    """Whether a validated instance type's storage is local (hardware-encrypted, no KMS key)."""
    return family_of(instance_type) in LOCAL_STORAGE_FAMILIES


def vcpus_of(instance_type: str) -> int:
    """The vCPU count of a validated instance type: CloudWatch's ``CPUUtilization`` for SageMaker
    instances is the sum over vCPUs, 100% each."""
    if instance_type in _VCPU_EXCEPTIONS:
        return _VCPU_EXCEPTIONS[instance_type]
    size = instance_type.split(".")[2]
    if size in _SIZE_VCPUS:
        return _SIZE_VCPUS[size]
    match = _XLARGE.fullmatch(size)
    if match is None:
        raise ValueError(f"no vCPU count known for {instance_type!r}")
    return 4 * int(match["factor"])


def check_architecture(image_architecture: Architecture, instance_type: str) -> None:
    """Raise ValueError when an image built for ``image_architecture`` cannot run on
    ``instance_type``: a container runs only on the CPU architecture it was built for, and
    Graviton (``ml.c6g``, ``ml.m6g``, ``ml.r6g``, ...) instances are arm64
    (https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-deploy-models.html#deploy-models-graviton)."""
    needed = architecture_of(instance_type)
    if needed is not image_architecture:
        raise ValueError(
            f"{instance_type} runs {needed} images but the model's image is {image_architecture}; "
            f"use an {image_architecture} instance type, or an image built for {needed} "
            "(image.architecture with image.uri or image.dockerfile)"
        )


def check_accelerator(image_accelerator: Accelerator, instance_type: str) -> None:
    """Raise ValueError when an image built for ``image_accelerator`` cannot run on ``instance_type``.

    A CUDA image needs NVIDIA GPUs (the P and G families) and a Neuron image Inferentia or
    Trainium chips (inf1, inf2, trn1...): without them the container fails at start-up and
    the endpoint never passes its health check (the accelerated families are listed on
    https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html). A CPU image runs on any type
    (on a GPU type it leaves the GPUs idle, which SageMaker does not refuse).
    """
    if image_accelerator is Accelerator.CPU:
        return
    has = accelerator_of(instance_type)
    if has is image_accelerator:
        return
    needs = (
        "NVIDIA GPUs (e.g. ml.g5.xlarge, ml.g6.xlarge, ml.p4d.24xlarge)"
        if image_accelerator is Accelerator.CUDA
        else ("AWS Inferentia or Trainium chips (e.g. ml.inf2.xlarge, ml.trn1.2xlarge)")
    )
    offers = {None: "no accelerator", Accelerator.CUDA: "NVIDIA GPUs", Accelerator.NEURON: "Neuron chips"}[has]
    raise ValueError(
        f"the model's image is built for {image_accelerator} and needs {needs}, but {instance_type} has {offers}; "
        f"use an instance type with {needs.split(' (')[0]}, or an image built for the instance type"
    )


def check_autoscalable(instance_type: str) -> str:
    """Raise ValueError for instance types Application Auto Scaling will not register as a
    SageMaker variant's scalable target: burstable T2/T3. AWS's own CDK module refuses the
    same ("AutoScaling not supported for burstable instance types like ml.t2.medium",
    aws-cdk packages/@aws-cdk/aws-sagemaker-alpha/lib/endpoint.ts)."""
    if is_burstable(instance_type):
        raise ValueError(
            f"autoscaling is not supported on burstable instance type {instance_type}: Application Auto Scaling "
            "refuses to register T2/T3 variants and the stack would roll back; use a non-burstable type such as "
            "ml.m5.large, or remove autoscaling"
        )
    return instance_type
