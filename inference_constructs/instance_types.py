"""The SageMaker ML instance types this project knows, and what kind of hardware each is.

Validation uses this table to reject typos (``ml.m5.larg``) and hardware a mode cannot
use (a GPU on a serverless endpoint) at synth time, instead of at deploy time ten
minutes into a CloudFormation update.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Hardware(StrEnum):
    CPU = "cpu"
    GPU = "gpu"
    ACCELERATOR = "accelerator"  # AWS Inferentia / Trainium


# Instance families offered for SageMaker hosting and batch transform.
INSTANCE_FAMILIES: dict[str, Hardware] = {
    **{
        family: Hardware.CPU
        for family in (
            "t2",
            "t3",
            "m4",
            "m5",
            "m5d",
            "m6i",
            "m6id",
            "m7i",
            "c4",
            "c5",
            "c5d",
            "c6i",
            "c6id",
            "c7i",
            "r5",
            "r5d",
            "r6i",
            "r6id",
            "r7i",
            "m6g",
            "m6gd",
            "c6g",
            "c6gd",
            "c6gn",
            "c7g",
            "r6g",
            "r6gd",
            "r7g",
            "r8g",
            "x1",
        )
    },
    **{family: Hardware.GPU for family in ("p2", "p3", "p4d", "p4de", "p5", "g4dn", "g5", "g6", "g6e")},
    **{family: Hardware.ACCELERATOR for family in ("inf1", "inf2", "trn1")},
}

SIZES = (
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "9xlarge",
    "12xlarge",
    "16xlarge",
    "18xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
)

_INSTANCE_TYPE = re.compile(r"^ml\.(?P<family>[a-z0-9]+)\.(?P<size>[a-z0-9]+)$")


def check_instance_type(value: str) -> str:
    """Return ``value`` if it is a known ``ml.<family>.<size>`` type, else raise ValueError."""
    match = _INSTANCE_TYPE.fullmatch(value)
    if not match:
        raise ValueError("expected an instance type of the form ml.<family>.<size>, e.g. ml.m5.large")
    if match["family"] not in INSTANCE_FAMILIES:
        families = ", ".join(sorted(INSTANCE_FAMILIES))
        raise ValueError(f"unknown instance family {match['family']!r}; known families: {families}")
    if match["size"] not in SIZES:
        raise ValueError(f"unknown instance size {match['size']!r}; known sizes: {', '.join(SIZES)}")
    return value


# Families whose instances carry local NVMe storage. SageMaker encrypts those volumes with a
# hardware module and refuses a volume KMS key for them (VolumeKmsKeyId, KmsKeyId of an
# endpoint config): "You can't request a VolumeKmsKeyId when using an instance type with local storage".
LOCAL_STORAGE_FAMILIES = frozenset(
    {"m5d", "m6id", "c5d", "c6id", "r5d", "r6id", "m6gd", "c6gd", "r6gd"}
    | {"g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5", "trn1"}
)


def has_local_storage(instance_type: str) -> bool:
    """Whether a validated instance type's storage is local (hardware-encrypted, no KMS key)."""
    return instance_type.split(".")[1] in LOCAL_STORAGE_FAMILIES


def hardware_of(instance_type: str) -> Hardware:
    """The hardware kind of a validated instance type."""
    family = instance_type.split(".")[1]
    return INSTANCE_FAMILIES[family]
