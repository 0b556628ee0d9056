"""``NetworkSettings``: the VPC placement of models, given as ids (never looked up at synth)."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from inference_constructs.settings import Settings


class Subnet(Settings):
    """A private subnet and its Availability Zone (stated, since nothing is looked up)."""

    id: str = Field(pattern=r"^subnet-[0-9a-f]{8,17}$", description="e.g. subnet-0abc1234def567890")
    availability_zone: str = Field(
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9][a-z]$", description="e.g. eu-west-1a"
    )
    route_table_id: str | None = Field(
        default=None,
        pattern=r"^rtb-[0-9a-f]{8,17}$",
        description="The subnet's route table, e.g. rtb-0abc1234def567890; needed with create_vpc_endpoints "
        "(the S3 gateway endpoint adds a route to it).",
    )


class NetworkSettings(Settings):
    """Run models inside a VPC: instances get network interfaces in these subnets.

    SageMaker spreads instances across the subnets' zones, so at least two zones are required.
    Serverless endpoints cannot run in a VPC; they get a VPC-less model.
    """

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="The VPC, e.g. vpc-0abc1234def567890.")
    subnets: tuple[Subnet, ...] = Field(
        min_length=2, max_length=16, description="Private subnets, across at least 2 Availability Zones."
    )
    security_group_ids: tuple[str, ...] = Field(
        min_length=1, max_length=5, description="Security groups (sg-...) for the model instances."
    )
    create_vpc_endpoints: bool = Field(
        default=False,
        description="Create the S3 gateway endpoint and the SageMaker Runtime interface endpoint (and SNS, for "
        "async) in the VPC; every subnet must then name its route_table_id.",
    )

    interface_endpoint_client_cidrs: tuple[str, ...] = Field(
        default=(),
        max_length=20,
        description="Address ranges (e.g. the VPC's CIDR) whose clients may also use the interface endpoints. "
        "Private DNS sends every SageMaker Runtime (and SNS) call in the VPC through them, so any other "
        "workload in the VPC calling those services must be admitted here or by its security group.",
    )

    @field_validator("interface_endpoint_client_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not a CIDR block such as 10.0.0.0/16 ({error})") from None
            if network.version != 4:
                raise ValueError(f"{cidr!r}: security group rules here take IPv4 ranges")
        return value

    @model_validator(mode="after")
    def _spread(self) -> NetworkSettings:
        zones = {subnet.availability_zone for subnet in self.subnets}
        if len(zones) < 2:
            raise ValueError(f"subnets must span at least 2 Availability Zones, got {sorted(zones)}")
        ids = [subnet.id for subnet in self.subnets]
        if len(ids) != len(set(ids)):
            raise ValueError(f"subnet ids must be unique, got {ids}")
        for group in self.security_group_ids:
            if not group.startswith("sg-") or not 11 <= len(group) <= 20:
                raise ValueError(f"security group id {group!r} must look like sg-0123456789abcdef0")
        if self.create_vpc_endpoints:
            missing = [subnet.id for subnet in self.subnets if subnet.route_table_id is None]
            if missing:
                raise ValueError(
                    f"create_vpc_endpoints needs route_table_id on every subnet (the S3 gateway endpoint adds a "
                    f"route to each subnet's route table); missing on {', '.join(missing)}"
                )
        return self

    @property
    def subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.subnets]

    @property
    def availability_zones(self) -> set[str]:
        return {subnet.availability_zone for subnet in self.subnets}
