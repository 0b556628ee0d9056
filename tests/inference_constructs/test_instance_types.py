"""The instance-type table: AWS's own list from botocore, and what each type is."""

from __future__ import annotations

import pytest

from inference_constructs.instance_types import (
    Architecture,
    Hardware,
    InstanceUse,
    architecture_of,
    check_architecture,
    check_instance_type,
    hardware_of,
    is_burstable,
    offered,
    vcpus_of,
)

EVERY_TYPE = sorted(offered(InstanceUse.HOSTING) | offered(InstanceUse.TRANSFORM))


def test_the_lists_are_botocores_enums():
    assert len(offered(InstanceUse.HOSTING)) >= 200  # 213 in botocore 1.35.99
    assert "ml.m5.large" in offered(InstanceUse.HOSTING) and "ml.m5.large" in offered(InstanceUse.TRANSFORM)
    # Batch transform offers no burstable instances; hosting does.
    assert "ml.t2.medium" in offered(InstanceUse.HOSTING)
    assert not any(is_burstable(t) for t in offered(InstanceUse.TRANSFORM))


@pytest.mark.parametrize(
    ("value", "use", "message"),
    [
        ("m5.large", InstanceUse.HOSTING, "ml.<family>.<size>"),
        ("ml.m5.larg", InstanceUse.HOSTING, "did you mean ml.m5.large"),
        ("ml.p4d.xlarge", InstanceUse.HOSTING, "is not an instance type SageMaker offers for hosting"),
        ("ml.t2.medium", InstanceUse.TRANSFORM, "is not an instance type SageMaker offers for batch transform"),
    ],
)
def test_types_sagemaker_does_not_offer_are_refused(value, use, message):
    with pytest.raises(ValueError, match=message):
        check_instance_type(value, use)


def test_every_offered_type_has_a_vcpu_count():
    # CPU targets and alarms are rendered per vCPU: a type without a count could not be used.
    counts = {t: vcpus_of(t) for t in EVERY_TYPE}
    assert all(count >= 1 for count in counts.values())


@pytest.mark.parametrize(
    ("instance_type", "vcpus"),
    # EC2's published figures (docs.aws.amazon.com/ec2/latest/instancetypes): the size rule and its exceptions.
    [
        ("ml.t2.medium", 2),
        ("ml.t2.large", 2),
        ("ml.m5.large", 2),
        ("ml.m5.xlarge", 4),
        ("ml.c5.9xlarge", 36),
        ("ml.c4.8xlarge", 36),
        ("ml.m4.10xlarge", 40),
        ("ml.p4d.24xlarge", 96),
        ("ml.g5.48xlarge", 192),
    ],
)
def test_vcpus(instance_type, vcpus):
    assert vcpus_of(instance_type) == vcpus


def test_every_offered_family_is_classified():
    assert hardware_of("ml.g5.xlarge") is Hardware.GPU and hardware_of("ml.p3.2xlarge") is Hardware.GPU
    assert (
        hardware_of("ml.inf2.xlarge") is Hardware.ACCELERATOR and hardware_of("ml.trn1.2xlarge") is Hardware.ACCELERATOR
    )
    assert hardware_of("ml.m5.large") is Hardware.CPU and hardware_of("ml.c6g.large") is Hardware.CPU
    graviton = sorted({t.split(".")[1] for t in EVERY_TYPE if architecture_of(t) is Architecture.ARM64})
    assert graviton == ["c6g", "c6gd", "c6gn", "c7g", "m6g", "m6gd", "r6g", "r6gd"]


def test_an_image_runs_only_on_its_own_architecture():
    check_architecture(Architecture.ARM64, "ml.c7g.large")
    check_architecture(Architecture.X86_64, "ml.g4dn.xlarge")
    with pytest.raises(ValueError, match=r"ml\.m6g\.large runs arm64 images but the model's image is x86_64"):
        check_architecture(Architecture.X86_64, "ml.m6g.large")
