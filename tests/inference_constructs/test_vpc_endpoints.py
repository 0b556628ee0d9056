from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from inference_constructs.errors import InvalidPropsError
from inference_constructs.vpc_endpoints import VpcEndpoints
from tests.inference_constructs.helpers import new_stack


def _subnet(number: int, zone: str, route_table: str) -> dict:
    return {"id": f"subnet-012345678{number}", "availability_zone": zone, "route_table_id": route_table}


NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnets": [
        _subnet(0, "eu-west-1a", "rtb-0123456789abcdefa"),
        _subnet(1, "eu-west-1b", "rtb-0123456789abcdefb"),
        # A second subnet in zone b, sharing its route table.
        _subnet(2, "eu-west-1b", "rtb-0123456789abcdefb"),
    ],
    "security_group_ids": ["sg-0123456789abcdef0", "sg-0123456789abcdef1"],
}


@pytest.fixture(scope="module")
def with_notifications():
    stack = new_stack(region="eu-west-1")
    endpoints = VpcEndpoints(stack, "Endpoints", network=NETWORK, notifications=True)
    return endpoints, Template.from_stack(stack), stack.get_logical_id(endpoints.security_group.node.default_child)


def _interface_endpoint(template: Template, service: str) -> dict:
    found = [
        resource["Properties"]
        for resource in template.find_resources("AWS::EC2::VPCEndpoint").values()
        if resource["Properties"]["ServiceName"] == f"com.amazonaws.eu-west-1.{service}"
    ]
    assert len(found) == 1, service
    return found[0]


def test_vpc_and_subnets_are_imported_not_created(with_notifications):
    _, template, _ = with_notifications
    for resource_type in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::NatGateway"):
        template.resource_count_is(resource_type, 0)


def test_s3_gateway_endpoint_routes_every_subnets_route_table_once(with_notifications):
    _, template, _ = with_notifications
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            # CDK names the S3 gateway service by the deploy-time region even in a pinned stack.
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
            "VpcEndpointType": "Gateway",
            "VpcId": "vpc-0123456789abcdef0",
            "RouteTableIds": ["rtb-0123456789abcdefa", "rtb-0123456789abcdefb"],
        },
    )


@pytest.mark.parametrize("service", ["sagemaker.runtime", "sns"])
def test_interface_endpoints_are_private_one_subnet_per_zone_behind_the_security_group(with_notifications, service):
    _, template, security_group = with_notifications
    endpoint = _interface_endpoint(template, service)
    assert endpoint["VpcEndpointType"] == "Interface"
    assert endpoint["PrivateDnsEnabled"] is True
    assert endpoint["VpcId"] == "vpc-0123456789abcdef0"
    # CreateVpcEndpoint refuses two subnets in one zone: the first of zone b is taken.
    assert endpoint["SubnetIds"] == ["subnet-0123456780", "subnet-0123456781"]
    assert endpoint["SecurityGroupIds"] == [{"Fn::GetAtt": [security_group, "GroupId"]}]
    assert "PolicyDocument" not in endpoint


def test_security_group_admits_https_from_the_configured_groups_only_and_opens_nothing_outbound(
    with_notifications,
):
    _, template, _ = with_notifications
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert sorted(rule["SourceSecurityGroupId"] for rule in ingress) == NETWORK["security_group_ids"]
    for rule in ingress:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
        assert "CidrIp" not in rule and rule["Description"].startswith("HTTPS from security group sg-")
    # Only CDK's placeholder rule, which matches no traffic: nothing may go out.
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert egress["CidrIp"] == "255.255.255.255/32" and egress["Description"] == "Disallow all traffic"


def test_sns_endpoint_only_when_notifications_are_asked_for():
    stack = new_stack(region="eu-west-1")
    endpoints = VpcEndpoints(stack, "Endpoints", network=NETWORK)
    template = Template.from_stack(stack)
    assert endpoints.sns is None
    endpoints_found = template.find_resources("AWS::EC2::VPCEndpoint").values()
    kinds = sorted(resource["Properties"]["VpcEndpointType"] for resource in endpoints_found)
    assert kinds == ["Gateway", "Interface"]
    _interface_endpoint(template, "sagemaker.runtime")


def test_environment_agnostic_stack_names_services_by_the_deploy_time_region():
    stack = new_stack()
    VpcEndpoints(stack, "Endpoints", network=NETWORK)
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".sagemaker.runtime"]]}},
    )


def test_every_subnet_needs_its_route_table():
    network = {
        **NETWORK,
        "subnets": [
            {"id": "subnet-0123456789abcdef0", "availability_zone": "eu-west-1a"},
            {"id": "subnet-0123456789abcdef1", "availability_zone": "eu-west-1b", "route_table_id": "rtb-01234567"},
        ],
    }
    with pytest.raises(InvalidPropsError) as error:
        VpcEndpoints(new_stack(), "Endpoints", network=network)
    (problem,) = error.value.problems
    assert problem.startswith("network.subnets[0].route_table_id: required for the S3 gateway endpoint")
    assert "subnet-0123456789abcdef0" in problem


def test_invalid_network_props_are_reported_together():
    network = {**NETWORK, "vpc_id": "vpc-nope", "security_group_ids": []}
    with pytest.raises(InvalidPropsError) as error:
        VpcEndpoints(new_stack(), "Endpoints", network=network)
    assert [problem.split(":")[0] for problem in error.value.problems] == [
        "network.vpc_id",
        "network.security_group_ids",
    ]


def test_other_clients_in_the_vpc_are_admitted_only_when_named():
    # Private DNS sends every SageMaker Runtime and SNS call in the VPC through these endpoints,
    # so other workloads there need a way in: the named ranges, on HTTPS only.
    stack = new_stack(region="eu-west-1")
    network = {**NETWORK, "interface_endpoint_client_cidrs": ["10.20.0.0/16"]}
    endpoints = VpcEndpoints(stack, "Endpoints", network=network)
    (group,) = Template.from_stack(stack).find_resources("AWS::EC2::SecurityGroup").values()
    by_source = {
        rule.get("CidrIp", rule.get("SourceSecurityGroupId")): rule
        for rule in group["Properties"]["SecurityGroupIngress"]
    }
    assert by_source["10.20.0.0/16"]["FromPort"] == 443 and by_source["10.20.0.0/16"]["ToPort"] == 443
    assert len(by_source) == 3  # the two model security groups and the range
    assert endpoints.network.interface_endpoint_client_cidrs == ("10.20.0.0/16",)


@pytest.mark.parametrize(("cidr", "message"), [("10.20.0.1/16", "is not a CIDR block"), ("fd00::/8", "IPv4")])
def test_client_ranges_must_be_ipv4_cidr_blocks(cidr, message):
    with pytest.raises(InvalidPropsError, match=message):
        VpcEndpoints(new_stack(), "Endpoints", network={**NETWORK, "interface_endpoint_client_cidrs": [cidr]})
