"""``VpcEndpoints``: private paths to the AWS services that SageMaker models placed in a VPC use.

What a VPC-placed, network-isolated model needs, and why (see SECURITY.md and docs/deploying.md):

- **S3 gateway endpoint** (free; a route in each subnet's route table). When a model has a VPC
  config, SageMaker downloads the model artifact, and for async endpoints reads requests and
  writes results and failures, and for data capture writes captured data, through the model's
  network interfaces in these subnets, even with network isolation on (the container itself
  still cannot reach anything). Without internet access, that traffic needs this endpoint.
- **SageMaker Runtime interface endpoint**: for callers *inside* the VPC that invoke endpoints
  (``InvokeEndpoint``, ``InvokeEndpointAsync``) without internet access. The models themselves
  never call it.
- **SNS interface endpoint** (only when an async endpoint is served): the async machinery on
  the instances publishes the success and error notifications. AWS does not document whether
  that traffic leaves through the model's network interfaces, so the endpoint keeps it private
  either way.

Not needed: ECR (SageMaker pulls the serving image itself: the container's RepositoryAccessMode
is the default ``Platform``; only ``Vpc``, for a private registry in the VPC, pulls through it),
CloudWatch Logs and metrics (SageMaker ships the container's logs and the endpoint metrics), STS
(SageMaker assumes the execution role), KMS (S3, SNS and CloudWatch Logs call KMS themselves).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from inference_constructs.errors import ProblemCollector
from inference_constructs.network import NetworkSettings

HTTPS = 443


class VpcEndpoints(Construct):
    """Endpoints for a VPC given by id (imported, never looked up) and one security group for the
    interface endpoints that admits HTTPS from the configured security groups only.

    Endpoint policies are left at their default (full access): a gateway endpoint serves every
    workload in its route tables and private DNS sends every SageMaker Runtime call in the VPC
    through the interface endpoint, so a narrower policy would break other workloads sharing
    the VPC. Who may read a bucket or invoke an endpoint stays decided by IAM and bucket policies.

    :param network: The VPC, its subnets (each with its route table) and the security groups
        allowed to reach the interface endpoints.
    :param notifications: Also create the SNS interface endpoint (async endpoints publish
        their results and failures to SNS topics).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: NetworkSettings | Mapping[str, Any],
        notifications: bool = False,
    ) -> None:
        super().__init__(scope, id)
        problems = ProblemCollector()
        checked = problems.validate(NetworkSettings, network, "network")
        if isinstance(checked, NetworkSettings):
            for index, subnet in enumerate(checked.subnets):
                problems.check(
                    subnet.route_table_id is not None,
                    f"network.subnets[{index}].route_table_id: required for the S3 gateway endpoint, which adds "
                    f"a route to the route table of subnet {subnet.id} (e.g. rtb-0123456789abcdef0)",
                )
        problems.raise_if_any(self.node.path)
        assert isinstance(checked, NetworkSettings)
        self.network = checked

        self.vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc", vpc_id=checked.vpc_id, availability_zones=sorted(checked.availability_zones)
        )
        self.subnets = [
            ec2.Subnet.from_subnet_attributes(
                self,
                f"Subnet{index}",
                subnet_id=subnet.id,
                availability_zone=subnet.availability_zone,
                route_table_id=subnet.route_table_id,
            )
            for index, subnet in enumerate(checked.subnets)
        ]
        # An interface endpoint takes one subnet per Availability Zone (CreateVpcEndpoint refuses
        # two in one zone): the first configured subnet of each zone.
        first_in_zone: dict[str, ec2.ISubnet] = {}
        for subnet, settings in zip(self.subnets, checked.subnets, strict=True):
            first_in_zone.setdefault(settings.availability_zone, subnet)
        self.interface_subnets = list(first_in_zone.values())
        self.security_group = self._security_group(checked)

        self.s3 = ec2.GatewayVpcEndpoint(
            self,
            "S3",
            vpc=self.vpc,
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnets=self.subnets)],
        )
        self.sagemaker_runtime = self._interface(
            "SageMakerRuntime", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME
        )
        self.sns = self._interface("Sns", ec2.InterfaceVpcEndpointAwsService.SNS) if notifications else None

    def _security_group(self, network: NetworkSettings) -> ec2.SecurityGroup:
        """The interface endpoints' group: HTTPS in from the model security groups and the listed clients."""
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints of the SageMaker inference platform: HTTPS from the model security groups",
            # Interface endpoints only answer; they never open connections.
            allow_all_outbound=False,
        )
        for group in network.security_group_ids:
            security_group.add_ingress_rule(
                ec2.Peer.security_group_id(group), ec2.Port.tcp(HTTPS), f"HTTPS from security group {group}"
            )
        # Private DNS makes every call to these services in the VPC resolve to the endpoints
        # (CreateVpcEndpoint, PrivateDnsEnabled), so other workloads in the VPC are admitted here.
        for cidr in network.interface_endpoint_client_cidrs:
            security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(HTTPS), f"HTTPS from {cidr}")
        return security_group

    def _interface(self, id: str, service: ec2.InterfaceVpcEndpointAwsService) -> ec2.InterfaceVpcEndpoint:
        return ec2.InterfaceVpcEndpoint(
            self,
            id,
            vpc=self.vpc,
            service=service,
            subnets=ec2.SubnetSelection(subnets=self.interface_subnets),
            security_groups=[self.security_group],
            # The SDKs' default hostnames resolve to the endpoint inside the VPC.
            private_dns_enabled=True,
            # Not open to the whole VPC: only the security group rules above admit traffic.
            open=False,
        )
