"""The platform stack: key, buckets and topics, secure and retained by default."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import resources_of_type


@pytest.fixture(scope="module")
def prod_platform(synthesized):
    return Template.from_json(synthesized.template(synthesized.stages["prod"].platform))


def test_one_rotating_customer_managed_key_retained(prod_platform):
    prod_platform.resource_count_is("AWS::KMS::Key", 1)
    prod_platform.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like({"EnableKeyRotation": True}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    prod_platform.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/prod/sagemaker-inference"})


def test_key_policy_lets_logs_and_alarm_publishers_use_it(prod_platform):
    prod_platform.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Sid": "AllowCloudWatchLogs", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}}
                        ),
                        # AWS's published statement, with no condition CloudWatch does not send:
                        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
                        {
                            "Sid": "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        },
                    ]
                )
            }
        },
    )


def topic_policy_statements(template: Template, display_name: str) -> list[dict]:
    (topic_id,) = template.find_resources("AWS::SNS::Topic", {"Properties": {"DisplayName": display_name}})
    (policy,) = [
        policy
        for policy in template.find_resources("AWS::SNS::TopicPolicy").values()
        if policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_only_this_accounts_alarms_may_publish_to_the_alarm_topic(prod_platform):
    statements = topic_policy_statements(prod_platform, "prod inference alarms")
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":alarm:*"
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_the_notifications_topic_takes_no_service_publishers(prod_platform):
    # Batch runs publish through their state machine's role (IAM); no service needs the topic policy.
    statements = topic_policy_statements(prod_platform, "prod inference notifications")
    assert [s["Effect"] for s in statements] == ["Deny"]


def test_each_configured_subscriber_is_subscribed(prod_platform, shipped_configs):
    notifications = shipped_configs["prod"].notifications
    subscriptions = prod_platform.find_resources("AWS::SNS::Subscription")
    expected = {
        (subscriber.protocol, subscriber.endpoint)
        for subscriber in (*notifications.alarm_subscribers, *notifications.notification_subscribers)
    }
    assert {(s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions.values()} == expected
    assert len(notifications.alarm_subscribers) >= 1


def test_four_data_buckets_and_an_access_log_bucket(prod_platform):
    prod_platform.resource_count_is("AWS::S3::Bucket", 5)
    prod_platform.resource_count_is("AWS::S3::BucketPolicy", 5)


def test_data_buckets_are_kms_encrypted_versioned_private_logged_and_retained(prod_platform):
    buckets = prod_platform.find_resources(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        Match.object_like(
                            {
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": Match.any_value(),
                                }
                            }
                        )
                    ]
                }
            }
        },
    )
    assert len(buckets) == 4
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert bucket["DeletionPolicy"] == "Retain"
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "DestinationBucketName" in properties["LoggingConfiguration"]
        assert "BucketName" not in properties  # generated: bucket names are global


def test_every_bucket_policy_denies_plain_http(prod_platform):
    for policy in resources_of_type(prod_platform.to_json(), "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_topics_are_encrypted_and_tls_only(prod_platform):
    prod_platform.resource_count_is("AWS::SNS::Topic", 2)
    prod_platform.all_resources_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    prod_platform.resource_count_is("AWS::SNS::TopicPolicy", 2)
    prod_platform.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_outputs_name_the_shared_resources(prod_platform):
    outputs = prod_platform.to_json()["Outputs"]
    for name in (
        "AsyncBucketName",
        "BatchBucketName",
        "DataCaptureBucketName",
        "NotificationsTopicArn",
        "AlarmsTopicArn",
    ):
        assert name in outputs


def test_termination_protection_follows_config(synthesized):
    assert synthesized.stages["prod"].platform.termination_protection is True
    assert synthesized.stages["staging"].platform.termination_protection is True
    assert synthesized.stages["dev"].platform.termination_protection is False


def test_opting_out_of_retention_is_explicit(shipped_configs, tmp_path):
    from stacks.platform_stack import PlatformStack
    from tests.conftest import new_app

    app = new_app(tmp_path)
    config = shipped_configs["dev"].model_copy(update={"retain_stateful_resources": False})
    template = Template.from_stack(PlatformStack(app, "Platform", config=config))
    template.all_resources("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    template.all_resources("AWS::KMS::Key", {"DeletionPolicy": "Delete"})


def test_prod_creates_the_shared_vpc_endpoints_for_its_models(synthesized, prod_platform):
    network = synthesized.configs["prod"].network
    assert network is not None and network.create_vpc_endpoints
    endpoints = prod_platform.find_resources("AWS::EC2::VPCEndpoint")
    # Prod serves async, so SNS too.
    assert sorted(_service(endpoint) for endpoint in endpoints.values()) == ["s3", "sagemaker.runtime", "sns"]
    for endpoint in endpoints.values():
        assert endpoint["Properties"]["VpcId"] == network.vpc_id
    prod_platform.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "RouteTableIds": [subnet.route_table_id for subnet in network.subnets]},
    )
    prod_platform.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"SourceSecurityGroupId": network.security_group_ids[0]})]},
    )
    assert "VpcEndpointSecurityGroupId" in prod_platform.to_json()["Outputs"]


def test_environments_without_the_option_create_no_network_resources(synthesized):
    for name in ("dev", "staging"):
        template = synthesized.template(synthesized.stages[name].platform)
        assert not resources_of_type(template, "AWS::EC2::VPCEndpoint"), name
        assert not resources_of_type(template, "AWS::EC2::SecurityGroup"), name
        assert "VpcEndpointSecurityGroupId" not in template["Outputs"], name


def _service(endpoint: dict) -> str:
    """``sagemaker.runtime`` from ``com.amazonaws.<region>.sagemaker.runtime``, literal or joined."""
    name = endpoint["Properties"]["ServiceName"]
    if isinstance(name, dict):
        name = "".join(part if isinstance(part, str) else "<region>" for part in name["Fn::Join"][1])
    return name.split(".", 3)[3]
