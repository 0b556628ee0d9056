"""What one instance offers an inference component: vCPUs, memory and accelerator devices.

SageMaker places each copy of an inference component on an instance that has the CPU cores,
memory and accelerators the component asks for (``ComputeResourceRequirements``); a component
that asks for more than one instance of the endpoint's type has can never be placed, and
CreateInferenceComponent leaves it failing. Checking at synth needs each type's figures.

Sources (AWS's EC2 instance type specifications; SageMaker ML instances are EC2 instances):
- general purpose (m4, m5, m5d, m6i, m6g, m7i, m7g):
  https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html - 4 GiB per vCPU;
- compute optimized (c5, c5d, c6i, c6g, c7i, c7g): https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html
  - 2 GiB per vCPU (c4: 1.875 GiB per vCPU, e.g. c4.large 3.75 GiB);
- memory optimized (r5, r5d, r6i, r6g, r7i, r7g): https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html
  - 8 GiB per vCPU;
- accelerated computing (g4dn, g5): https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
  - the per-size table below (vCPUs, GiB, GPUs).

vCPUs come from :func:`inference_constructs.instance_types.vcpus_of`. A type absent from these
tables is not checked for memory or accelerators (the check says so rather than guessing).
The figures are the whole instance: SageMaker keeps some memory for its own agents, so a
component that fits here may still not fit on AWS; one that does not fit here never will.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference_constructs.instance_types import Hardware, family_of, gpus_of, hardware_of, vcpus_of

MIB_PER_GIB = 1024

# GiB of memory per vCPU, by family (the EC2 pages above).
_GIB_PER_VCPU = {
    **dict.fromkeys(("m4", "m5", "m5d", "m6i", "m6id", "m6g", "m6gd", "m7i", "m7g"), 4.0),
    **dict.fromkeys(("c5", "c5d", "c6i", "c6id", "c6g", "c6gd", "c7i", "c7g"), 2.0),
    "c4": 1.875,
    **dict.fromkeys(("r5", "r5d", "r6i", "r6id", "r6g", "r6gd", "r7i", "r7g"), 8.0),
}

# GiB of memory of the accelerated types, by size (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html;
# their GPUs are instance_types.gpus_of): g5 has g4dn's sizes, and two larger ones.
_G4DN_GIB = {"xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256}
_ACCELERATED_GIB = {"g4dn": _G4DN_GIB, "g5": {**_G4DN_GIB, "24xlarge": 384, "48xlarge": 768}}


@dataclass(frozen=True)
class InstanceResources:
    """What one instance of a type has; ``None`` where this module does not know the figure."""

    instance_type: str
    vcpus: int
    memory_mib: int | None
    accelerators: int | None


def resources_of(instance_type: str) -> InstanceResources:
    """The vCPUs, memory (MiB) and accelerator devices of one instance of a validated type."""
    family, size = family_of(instance_type), instance_type.split(".")[2]
    vcpus = vcpus_of(instance_type)
    if family in _ACCELERATED_GIB and size in _ACCELERATED_GIB[family]:
        gib = _ACCELERATED_GIB[family][size]
        return InstanceResources(instance_type, vcpus, gib * MIB_PER_GIB, gpus_of(instance_type))
    if family in _GIB_PER_VCPU:
        # CPU families have no accelerator devices at all.
        return InstanceResources(instance_type, vcpus, int(_GIB_PER_VCPU[family] * vcpus * MIB_PER_GIB), 0)
    hardware = hardware_of(instance_type)
    accelerators = 0 if hardware is Hardware.CPU else gpus_of(instance_type) if hardware is Hardware.GPU else None
    return InstanceResources(instance_type, vcpus, None, accelerators)
