"""Each AWS rule catches a template that breaks it, passes one that keeps it, and the shipped
environments keep them all."""

from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Template

from aws_rules.__main__ import main
from aws_rules.rules import AT_DEPLOY, RULES, TRANSFORM_JOB_SYNC_ACTIONS, WHEN, check_all, rule
from aws_rules.templates import Templates, as_list, at_shortest
from inference_constructs import service_models
from tests.conftest import ENVIRONMENTS

ENDPOINT = "dev-iris-realtime"


def variant_stack(
    instance_type: str = "ml.m5.large", *, min_capacity: int = 1, scheduled=(), retain=True, asynchronous=False
) -> dict:
    config = {"ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": instance_type}]}
    if asynchronous:
        config["AsyncInferenceConfig"] = {"OutputConfig": {}}
    endpoint = {"EndpointName": ENDPOINT, "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}
    if retain:
        endpoint["RetainAllVariantProperties"] = True
    registration = {"InstanceType": instance_type, "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
    guard = {"EndpointName": ENDPOINT, "AutoscaledVariants": {"AllTraffic": registration}}
    return {
        "Resources": {
            "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": config},
            "Guard": {"Type": "Custom::ScalingRegistrationGuard", "Properties": guard},
            "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": endpoint, "DependsOn": ["Guard"]},
            "Target": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "MinCapacity": min_capacity,
                    "MaxCapacity": 4,
                    "ScheduledActions": [
                        {"ScheduledActionName": f"a{index}", "ScalableTargetAction": action}
                        for index, action in enumerate(scheduled)
                    ],
                },
            },
        }
    }


def alarm_stacks(*, topic_policy_allows_cloudwatch: bool, key_condition: dict | None) -> dict[str, dict]:
    """A platform stack exporting an encrypted topic and a model stack whose alarm notifies it."""
    key_statement = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    if key_condition:
        key_statement["Condition"] = key_condition
    policy_statements = [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]
    if topic_policy_allows_cloudwatch:
        policy_statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": {"Ref": "Topic"},
            }
        )
    platform = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [key_statement]}}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
            "Policy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": {"Statement": policy_statements}},
            },
        },
        "Outputs": {"TopicOut": {"Value": {"Ref": "Topic"}, "Export": {"Name": "Platform:Topic"}}},
    }
    model = {
        "Resources": {
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"AlarmActions": [{"Fn::ImportValue": "Platform:Topic"}], "EvaluationPeriods": 1},
            }
        }
    }
    return {"platform": platform, "model": model}


def state_machine_stack(actions: list[str], error_names: list[str]) -> dict:
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
                "Retry": [{"ErrorEquals": [name]} for name in error_names],
                "End": True,
            }
        },
    }
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "RolePolicy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]},
                },
            },
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "DefinitionString": {"Fn::Join": ["", [json.dumps(definition)]]},
                },
            },
        }
    }


def violated(templates: dict[str, dict]) -> list[str]:
    return sorted({violation.rule for violation in check_all(Templates(templates))})


# --- each rule catches the broken case and passes the fixed one ------------------------------


def test_autoscaling_a_burstable_variant():
    assert violated({"s": variant_stack("ml.t2.medium")}) == ["burstable-autoscaling"]
    assert violated({"s": variant_stack("ml.m5.large")}) == []


def test_alarm_topic_policy_without_cloudwatch():
    broken = alarm_stacks(topic_policy_allows_cloudwatch=False, key_condition=None)
    assert violated(broken) == ["alarm-topic-accepts-cloudwatch"]
    assert violated(alarm_stacks(topic_policy_allows_cloudwatch=True, key_condition=None)) == []


def test_alarm_topic_key_with_a_condition_cloudwatch_does_not_send():
    broken = alarm_stacks(
        topic_policy_allows_cloudwatch=True, key_condition={"StringEquals": {"aws:SourceAccount": "123456789012"}}
    )
    assert violated(broken) == ["alarm-topic-key-accepts-cloudwatch"]


def test_transform_job_role_without_add_tags():
    without = [action for action in TRANSFORM_JOB_SYNC_ACTIONS if action != "sagemaker:AddTags"]
    (violation,) = check_all(Templates({"s": state_machine_stack(without, [])}))
    assert violation.rule == "transform-job-integration-permissions"
    assert "sagemaker:AddTags" in violation.message
    assert violated({"s": state_machine_stack(list(TRANSFORM_JOB_SYNC_ACTIONS), [])}) == []


@pytest.mark.parametrize("name", ["SageMaker.ResourceLimitExceeded", "SageMaker.ThrottlingException"])
def test_retrying_an_error_name_the_integration_never_raises(name):
    actions = list(TRANSFORM_JOB_SYNC_ACTIONS)
    assert violated({"s": state_machine_stack(actions, [name])}) == ["sagemaker-retry-error-names"]
    fixed = ["SageMaker.ResourceLimitExceededException", "SageMaker.AmazonSageMakerException", "States.ALL"]
    assert violated({"s": state_machine_stack(actions, fixed)}) == []


def test_a_lowered_bound_that_nothing_restores():
    assert violated({"s": variant_stack(scheduled=[{"MaxCapacity": 1}])}) == ["scheduled-bounds-restored"]
    assert violated({"s": variant_stack(scheduled=[{"MaxCapacity": 1}, {"MaxCapacity": 4}])}) == []


def test_a_real_time_variant_scheduled_to_zero():
    scheduled = [{"MinCapacity": 0}, {"MinCapacity": 1}]
    assert violated({"s": variant_stack(scheduled=scheduled)}) == ["instance-variants-scale-to-zero-only-async"]
    assert violated({"s": variant_stack(min_capacity=0, asynchronous=True)}) == []


def test_a_volume_key_on_local_storage():
    stack = variant_stack("ml.g5.xlarge")
    stack["Resources"]["Config"]["Properties"]["KmsKeyId"] = "arn:aws:kms:eu-west-1:123456789012:key/x"
    assert violated({"s": stack}) == ["no-volume-key-on-local-storage"]


def alarm_of(period: object, evaluation_periods: int = 1, *, math: tuple[object, ...] = ()) -> dict:
    """An alarm on one metric of ``period``, or, given ``math``, a metric-math alarm on metrics of those periods."""
    properties: dict = {"EvaluationPeriods": evaluation_periods}
    if math:
        metric = {"Namespace": "AWS/SageMaker", "MetricName": "Invocations"}
        properties["Metrics"] = [
            {"Id": f"m{n}", "MetricStat": {"Metric": metric, "Period": each, "Stat": "Sum"}, "ReturnData": False}
            for n, each in enumerate(math)
        ] + [{"Id": "e1", "Expression": "m0 * 2"}]
    else:
        properties["Period"] = period
    return {"Resources": {"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}}}


@pytest.mark.parametrize(
    "alarm",
    [
        alarm_of(45),
        alarm_of(5),  # 1 and 5 only for the metrics of a metric-math alarm (MetricStat)
        alarm_of(None, math=(90,)),
        alarm_of(0),
        alarm_of(60, 1_441),  # 86,460 s: a period under an hour may look back one day
        alarm_of(3_600, 169),  # 608,400 s: seven days at most
        alarm_of(None, 200, math=(3_600, 7_200)),  # even the shortest looks back 720,000 s
    ],
)
def test_alarm_periods_cloudwatch_refuses(alarm):
    assert violated({"s": alarm}) == ["alarm-periods-cloudwatch-accepts"]


@pytest.mark.parametrize(
    "alarm",
    [
        alarm_of(10),
        alarm_of(20),
        alarm_of(30),
        alarm_of(None, math=(120,)),
        alarm_of(None, math=(1, 5)),
        alarm_of(60, 1_440),
        alarm_of(3_600, 168),
        # A period made at deploy may be long: the look-back is judged only when every period is known.
        alarm_of(None, 200, math=({"Ref": "Period"}, 3_600)),
        alarm_of(None, 2_000, math=({"Ref": "Period"}, 60)),
    ],
)
def test_alarm_periods_cloudwatch_takes(alarm):
    assert violated({"s": alarm}) == []


def test_more_datapoints_than_periods():
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"EvaluationPeriods": 2, "DatapointsToAlarm": 3}}
    assert violated({"s": {"Resources": {"Alarm": alarm}}}) == ["datapoints-within-evaluation-periods"]


def test_an_autoscaled_endpoint_that_does_not_retain_its_counts():
    assert violated({"s": variant_stack(retain=False)}) == ["autoscaled-endpoints-retain-variant-properties"]


@pytest.mark.parametrize("breakage", ["no guard", "guard on the old instance type", "target not retained"])
def test_an_autoscaled_variant_that_an_instance_type_change_would_leave_registered(breakage):
    stack = variant_stack()
    resources = stack["Resources"]
    if breakage == "no guard":
        del resources["Endpoint"]["DependsOn"]
    elif breakage == "guard on the old instance type":
        resources["Guard"]["Properties"]["AutoscaledVariants"]["AllTraffic"]["InstanceType"] = "ml.c5.large"
    else:
        del resources["Target"]["DeletionPolicy"]
    assert violated({"s": stack}) == ["autoscaled-variants-deregistered-before-endpoint-updates"]


def test_a_scaling_policy_that_is_not_retained():
    stack = variant_stack()
    stack["Resources"]["Policy"] = {
        "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "Properties": {"ScalingTargetId": {"Ref": "Target"}, "PolicyType": "TargetTrackingScaling"},
    }
    assert violated({"s": stack}) == ["autoscaled-variants-deregistered-before-endpoint-updates"]
    stack["Resources"]["Policy"].update({"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    assert violated({"s": stack}) == []


def test_fixed_names_on_replaced_resources():
    stack = variant_stack()
    stack["Resources"]["Config"]["Properties"]["EndpointConfigName"] = "fixed"
    assert violated({"s": stack}) == ["replaced-resources-have-generated-names"]


def one_resource(resource_type: str, properties: dict) -> dict:
    return {"Resources": {"It": {"Type": resource_type, "Properties": properties}}}


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        ("AWS::SageMaker::Endpoint", {"EndpointName": "a" * 64}),
        ("AWS::SageMaker::Endpoint", {"EndpointName": "dev_iris"}),
        ("AWS::Events::Rule", {"Description": "d" * 513}),
        # An object in the template, compact JSON at the API: 4,097 characters.
        ("AWS::Events::Rule", {"EventPattern": {"detail": {"ModelPackageGroupName": ["g" * 4056]}}}),
        ("AWS::IAM::Role", {"Description": "Lets SageMaker \u2192 read the model"}),  # outside IAM's characters
        ("AWS::CloudWatch::Alarm", {"AlarmName": "n" * 256}),
        ("AWS::CloudWatch::Alarm", {"AlarmDescription": "d" * 1025}),
        ("AWS::Lambda::Function", {"Description": "d" * 257}),
        ("AWS::StepFunctions::StateMachine", {"StateMachineName": "s" * 81}),
        ("AWS::CloudWatch::Alarm", {"AlarmActions": [f"arn:aws:sns:eu-west-1:111111111111:t{n}" for n in range(6)]}),
        ("AWS::CloudWatch::Alarm", {"Metrics": [{"Id": "e", "Expression": "m" * 2049}]}),
        ("AWS::SageMaker::EndpointConfig", {"ProductionVariants": [{"VariantName": f"v{n}"} for n in range(11)]}),
        ("AWS::SageMaker::EndpointConfig", {"ProductionVariants": []}),
    ],
)
def test_a_field_its_api_refuses(resource_type, properties):
    assert violated({"s": one_resource(resource_type, properties)}) == ["fields-fit-aws-api-shapes"]


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        ("AWS::SageMaker::Endpoint", {"EndpointName": "a" * 63}),
        ("AWS::Events::Rule", {"Description": "d" * 512}),
        ("AWS::Events::Rule", {"EventPattern": {"detail": {"ModelPackageGroupName": ["g" * 4055]}}}),
        ("AWS::IAM::Role", {"Description": "Lets SageMaker read the model (caf\u00e9)"}),
        # Known only at deploy: not judged.
        ("AWS::Events::Rule", {"EventPattern": {"detail": {"bucket": {"name": [{"Ref": "Bucket"}]}}}}),
        ("AWS::SageMaker::Endpoint", {"EndpointName": {"Fn::Join": ["-", ["a" * 64, "b"]]}}),
        ("AWS::CloudWatch::Alarm", {"AlarmActions": [{"Ref": "Topic"}] * 5}),
        ("AWS::CloudWatch::Alarm", {"Metrics": [{"Id": "e", "Expression": "m" * 2048}]}),
        ("AWS::SageMaker::EndpointConfig", {"ProductionVariants": [{"VariantName": f"v{n}"} for n in range(10)]}),
        ("AWS::SageMaker::EndpointConfig", {"ProductionVariants": {"Fn::If": ["Big", [], []]}}),
        # AWS counts a character as one, not as the six of its JSON escape.
        ("AWS::Events::Rule", {"EventPattern": {"detail": {"name": ["\u00e9" * 4_000]}}}),
        # Items that may vanish (AWS::NoValue, an Fn::If) are not counted toward the most.
        (
            "AWS::CloudWatch::Alarm",
            {"AlarmActions": ["a"] * 5 + [{"Ref": "AWS::NoValue"}, {"Fn::If": ["C", "b", "c"]}]},
        ),
    ],
)
def test_a_field_its_api_takes(resource_type, properties):
    assert violated({"s": one_resource(resource_type, properties)}) == []


def test_a_resource_created_only_under_a_condition_is_not_refused_at_deploy():
    # The rules do not evaluate conditions: the resource may never be created.
    stack = one_resource("AWS::Events::Rule", {"Description": "d" * 513})
    assert violated({"s": stack}) == ["fields-fit-aws-api-shapes"]
    stack["Resources"]["It"]["Condition"] = "InProduction"
    assert violated({"s": stack}) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("Config", "ProductionVariants", 0, "InstanceType"), "ml.m5.huge"),
        (("Target", "ScalableDimension"), "sagemaker:variant:DesiredCount"),
    ],
)
def test_values_outside_the_apis_enums(path, value):
    stack = variant_stack()
    target = stack["Resources"][path[0]]["Properties"]
    for step in path[1:-1]:
        target = target[step]
    target[path[-1]] = value
    assert "values-in-aws-enums" in violated({"s": stack})


def role_with_policies(*documents: dict | str, inline: tuple[dict, ...] = ()) -> dict:
    resources: dict = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [{"PolicyName": f"i{index}", "PolicyDocument": d} for index, d in enumerate(inline)]
            },
        }
    }
    for index, document in enumerate(documents):
        resources[f"Policy{index}"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyName": f"p{index}", "PolicyDocument": document, "Roles": [{"Ref": "Role"}]},
        }
    return {"Resources": resources}


def managed_policy(document: dict) -> dict:
    return {"Resources": {"Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}}}


def policy_of(characters: int, resource: object = None, fill: str = "a") -> dict:
    """A policy document of exactly ``characters`` characters as IAM counts them (no white space)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ""}]}
    padding = characters - len(json.dumps(document, separators=(",", ":")))
    document["Statement"][0]["Resource"] = resource if resource is not None else fill * padding
    return document


@pytest.mark.parametrize(
    "stack",
    [
        role_with_policies(policy_of(10_241)),
        role_with_policies(json.dumps(policy_of(10_241))),
        # Together: two policies of the role, or a policy and the role's own inline one.
        role_with_policies(policy_of(6_000), policy_of(4_241)),
        role_with_policies(policy_of(6_000), inline=(policy_of(4_241),)),
        {
            "Resources": {
                "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": policy_of(6_145)}}
            }
        },
    ],
)
def test_policies_iam_refuses_for_their_size(stack):
    assert violated({"s": stack}) == ["iam-policies-within-character-limits"]


@pytest.mark.parametrize(
    "stack",
    [
        role_with_policies(policy_of(10_240)),
        role_with_policies(policy_of(6_000), policy_of(4_240)),
        {
            "Resources": {
                "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": policy_of(6_144)}}
            }
        },
        # IAM counts no white space.
        role_with_policies(policy_of(10_000, resource="a" * 9_000 + " " * 2_000)),
        # A reference resolves to at least nothing: only what is certain is counted.
        role_with_policies(policy_of(10_000, resource=[{"Fn::GetAtt": ["Bucket", "Arn"]}] * 500)),
        # IAM takes Latin-1 characters in policies, each one character.
        role_with_policies(policy_of(10_240, fill="\u00e9")),
        # A document given as JSON text counts as the document it holds, joined or not.
        role_with_policies(json.dumps(policy_of(10_240))),
        role_with_policies({"Fn::Join": ["", [json.dumps(policy_of(10_240))]]}),
        # Inline policies made by an intrinsic function are not known.
        {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": {"Fn::If": ["C", [], []]}}}}},
        # A policy attached to a role named "Role" as text is not this template's role Role.
        {
            "Resources": {
                **role_with_policies(inline=(policy_of(6_000),))["Resources"],
                "Other": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"PolicyName": "o", "PolicyDocument": policy_of(6_000), "Roles": ["Role"]},
                },
            }
        },
    ],
)
def test_policies_iam_takes(stack):
    assert violated({"s": stack}) == []


def test_references_count_at_their_shortest():
    arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Bucket"}, "/*"]]}
    assert at_shortest(arn) == "arn:aws:s3:::/*"
    assert at_shortest({"Resource": [arn, {"Fn::ImportValue": "Export"}], "Sid": "A"}) == {
        "Resource": ["arn:aws:s3:::/*", ""],
        "Sid": "A",
    }
    assert at_shortest({"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}) == ""
    assert at_shortest({"Ref": "AWS::URLSuffix"}) == "c2s.ic.gov"  # aws-iso's, the shortest
    # What may resolve to AWS::NoValue vanishes, key and all.
    conditional = {"Fn::If": ["Big", "x" * 100, {"Ref": "AWS::NoValue"}]}
    assert at_shortest({"A": {"Ref": "AWS::NoValue"}, "B": [1, conditional], "C": conditional}) == {"B": [1]}


def test_cdk_splits_a_roles_default_policy_and_a_policy_written_as_json_is_judged():
    # What a Role's grants add past 10,000 characters, CDK moves into managed policies of at most
    # 6,000 (aws-iam Role.splitLargePolicy); the same statements as one L1 policy are nobody's to split.
    stack = cdk.Stack(cdk.App(), "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    arns = [f"arn:aws:s3:::bucket-{index:03d}-{'x' * 40}/*" for index in range(300)]
    for arn in arns:
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[arn]))
    template = Template.from_stack(stack).to_json()
    assert any(r["Type"] == "AWS::IAM::ManagedPolicy" for r in template["Resources"].values())
    assert violated({"s": template}) == []
    as_json = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": arns}]}
    assert violated({"s": role_with_policies(as_json)}) == ["iam-policies-within-character-limits"]


def pipeline_model(containers: list[dict]) -> dict:
    return {"Resources": {"Model": {"Type": "AWS::SageMaker::Model", "Properties": {"Containers": containers}}}}


@pytest.mark.parametrize(
    "containers",
    [
        [{"Image": "a", "ContainerHostname": "step1"}, {"Image": "b"}],  # one hostname, not all
        [{"Image": "a"}] * 16,  # more than ContainerDefinitionList takes
        [{"Image": "a", "Environment": {"A": "x" * 17_000}}, {"Image": "b", "Environment": {"B": "y" * 17_000}}],
    ],
)
def test_a_serial_pipeline_that_createmodel_refuses(containers):
    assert violated({"s": pipeline_model(containers)}) == ["serial-pipeline-containers"]


def test_a_serial_pipeline_with_every_hostname_or_none():
    assert (
        violated(
            {
                "s": pipeline_model(
                    [{"Image": "a", "ContainerHostname": "step1"}, {"Image": "b", "ContainerHostname": "model"}]
                )
            }
        )
        == []
    )
    assert violated({"s": pipeline_model([{"Image": "a"}, {"Image": "b"}])}) == []


def test_every_rule_has_a_test_above_and_cites_its_source():
    tested = {
        "burstable-autoscaling",
        "alarm-topic-accepts-cloudwatch",
        "alarm-topic-key-accepts-cloudwatch",
        "transform-job-integration-permissions",
        "sagemaker-retry-error-names",
        "scheduled-bounds-restored",
        "instance-variants-scale-to-zero-only-async",
        "no-volume-key-on-local-storage",
        "datapoints-within-evaluation-periods",
        "alarm-periods-cloudwatch-accepts",
        "autoscaled-endpoints-retain-variant-properties",
        "autoscaled-variants-deregistered-before-endpoint-updates",
        "replaced-resources-have-generated-names",
        "fields-fit-aws-api-shapes",
        "iam-policies-within-character-limits",
        "async-notifications-can-be-published",
        "values-in-aws-enums",
        "serial-pipeline-containers",
    }
    assert {each.id for each in RULES} == tested
    for each in RULES:
        assert "docs.aws.amazon.com" in each.source or "aws-cdk" in each.source or "botocore" in each.source
        assert each.when in WHEN


def test_a_rule_says_when_aws_enforces_it_and_the_checks_can_be_limited_to_then():
    with pytest.raises(ValueError, match="rule probe: when must be one of at deploy, on a later update, at run time"):
        rule("probe", "summary", "botocore", when="sometime")
    # A fixed config name fails only when the config is next replaced; a burstable scalable target at deploy.
    stack = variant_stack("ml.t2.medium")
    stack["Resources"]["Config"]["Properties"]["EndpointConfigName"] = "fixed"
    everything = {violation.rule for violation in check_all(Templates({"s": stack}))}
    assert {"burstable-autoscaling", "replaced-resources-have-generated-names"} <= everything
    at_deploy = {violation.rule for violation in check_all(Templates({"s": stack}), when=(AT_DEPLOY,))}
    assert at_deploy == {"burstable-autoscaling"}


# --- where the rules' knowledge comes from ----------------------------------------------------


def test_transform_job_actions_are_the_ones_cdk_grants_for_the_integration():
    stack = cdk.Stack(cdk.App(), "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    task = tasks.SageMakerCreateTransformJob(
        stack,
        "Task",
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        transform_job_name="job",
        model_name="model",
        role=role,
        transform_input=tasks.TransformInput(
            transform_data_source=tasks.TransformDataSource(
                s3_data_source=tasks.TransformS3DataSource(s3_uri="s3://bucket/in/")
            )
        ),
        transform_output=tasks.TransformOutput(s3_output_path="s3://bucket/out/"),
    )
    generated = {action for statement in task._task_policies for action in statement.actions}
    assert generated == set(TRANSFORM_JOB_SYNC_ACTIONS)


def test_raisable_error_names_come_from_the_operations_model():
    assert service_models.sagemaker_integration_errors("CreateTransformJob") == {
        "SageMaker.AmazonSageMakerException",
        "SageMaker.ResourceInUseException",
        "SageMaker.ResourceLimitExceededException",
        "SageMaker.ResourceNotFoundException",
    }


# --- the shipped environments -----------------------------------------------------------------


def test_every_shipped_environment_keeps_every_rule(synthesized):
    templates = Templates(synthesized.all_templates())
    assert [str(violation) for violation in check_all(templates)] == []
    stacks = {name.split("/")[0].lower() for name in templates.templates}
    assert stacks == set(ENVIRONMENTS)


def _async_model_stack(templates: dict[str, dict]) -> str:
    """A shipped model stack that serves the model asynchronously, with notification topics."""
    for name, template in templates.items():
        for resource in template["Resources"].values():
            output = resource.get("Properties", {}).get("AsyncInferenceConfig", {}).get("OutputConfig", {})
            if resource["Type"] == "AWS::SageMaker::EndpointConfig" and "NotificationConfig" in output:
                return name
    raise AssertionError("no shipped model stack notifies from an asynchronous endpoint")


def _drop_grants(template: dict, action: str) -> None:
    """Take every statement granting ``action`` out of the template's policies."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [s for s in document["Statement"] if action not in as_list(s["Action"])]


@pytest.mark.parametrize("dropped", ["sns:Publish", "kms:GenerateDataKey"])
def test_an_async_model_role_that_cannot_publish_its_notifications(synthesized, dropped):
    templates = copy.deepcopy(synthesized.all_templates())
    name = _async_model_stack(templates)
    assert violated(templates) == []
    _drop_grants(templates[name], dropped)
    assert violated(templates) == ["async-notifications-can-be-published"]
    messages = [str(v) for v in check_all(Templates(templates)) if v.rule == "async-notifications-can-be-published"]
    assert messages and all(name in message and "AsyncModelExecutionRole" in message for message in messages)
    assert all(dropped in message for message in messages)


def test_a_topic_on_the_aws_managed_key_needs_no_key_grant(synthesized):
    templates = copy.deepcopy(synthesized.all_templates())
    name = _async_model_stack(templates)
    _drop_grants(templates[name], "kms:GenerateDataKey")
    for resource in templates[name]["Resources"].values():
        if resource["Type"] == "AWS::SNS::Topic":
            resource["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
    assert violated(templates) == []


ROLE_ARN = {"Fn::GetAtt": ["Role", "Arn"]}
KEY_ARN = {"Fn::GetAtt": ["Key", "Arn"]}
PUBLISH = {"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}
USE_KEY = {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY_ARN}


def async_stack(*, policy=(), managed=None, held=None, key_policy=(), topic_policy=(), key=None) -> dict:
    """An async endpoint whose model's role holds ``policy`` (an AWS::IAM::Policy), ``managed``
    (a managed policy naming the role) or ``held`` (one in the role's ManagedPolicyArns); its
    success topic is encrypted with ``key`` (the template's own key by default)."""
    document = lambda found: {"Version": "2012-10-17", "Statement": list(found)}  # noqa: E731
    resources: dict = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": document(key_policy)}},
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": key or KEY_ARN},
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Model": {"Type": "AWS::SageMaker::Model", "Properties": {"ExecutionRoleArn": ROLE_ARN}},
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {"VariantName": "AllTraffic", "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}}
                ],
                "AsyncInferenceConfig": {"OutputConfig": {"NotificationConfig": {"SuccessTopic": {"Ref": "Topic"}}}},
            },
        },
    }
    if policy:
        resources["Policy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyDocument": document(policy), "Roles": [{"Ref": "Role"}]},
        }
    if managed:
        resources["Managed"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": document(managed), "Roles": [{"Ref": "Role"}]},
        }
    if held:
        resources["Held"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document(held)}}
        resources["Role"]["Properties"]["ManagedPolicyArns"] = [{"Ref": "Held"}]
    if topic_policy:
        resources["TopicPolicy"] = {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": document(topic_policy)},
        }
    return {"Resources": resources}


def by_role(statement: dict) -> dict:
    """``statement`` in a resource policy, naming the role as its principal."""
    return {**statement, "Principal": {"AWS": ROLE_ARN}}


@pytest.mark.parametrize(
    ("stack", "missing"),
    [
        (async_stack(), ["sns:Publish", "kms:Decrypt, kms:GenerateDataKey"]),
        (async_stack(policy=[PUBLISH]), ["kms:Decrypt, kms:GenerateDataKey"]),
        (async_stack(policy=[USE_KEY]), ["sns:Publish"]),
        # A statement naming another resource grants nothing here.
        (async_stack(policy=[{**PUBLISH, "Resource": {"Ref": "Other"}}, USE_KEY]), ["sns:Publish"]),
        # A topic policy statement naming the role for another topic grants nothing on this one.
        (
            async_stack(policy=[USE_KEY], topic_policy=[by_role({**PUBLISH, "Resource": {"Ref": "Other"}})]),
            ["sns:Publish"],
        ),
    ],
)
def test_an_async_role_that_may_not_publish_its_notifications(stack, missing):
    found = [v.message for v in check_all(Templates({"s": stack})) if v.rule == "async-notifications-can-be-published"]
    assert [message.split(" to ")[0].split(" with ")[0].removeprefix("may not ") for message in found] == missing


@pytest.mark.parametrize(
    "stack",
    [
        async_stack(policy=[PUBLISH, USE_KEY]),
        async_stack(policy=[{**PUBLISH, "Resource": "*"}, {**USE_KEY, "Resource": "*"}]),
        # Grants from a managed policy naming the role, or one the role holds.
        async_stack(managed=[PUBLISH, USE_KEY]),
        async_stack(held=[PUBLISH], policy=[USE_KEY]),
        # Grants from the key's and the topic's own policies, naming the role.
        async_stack(policy=[PUBLISH], key_policy=[by_role(USE_KEY)]),
        async_stack(policy=[USE_KEY], topic_policy=[by_role(PUBLISH)]),
        # An AWS managed key, by alias or alias ARN, needs no grant.
        async_stack(policy=[PUBLISH], key="alias/aws/sns"),
        async_stack(policy=[PUBLISH], key="arn:aws:kms:eu-west-1:111111111111:alias/aws/sns"),
        async_stack(
            policy=[PUBLISH],
            key={
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":kms:", {"Ref": "AWS::Region"}, ":alias/aws/sns"]]
            },
        ),
        # A statement the rule cannot read in a key policy is passed over.
        async_stack(policy=[PUBLISH], key_policy=["not a statement", {"Effect": "Allow"}, by_role(USE_KEY)]),
    ],
)
def test_an_async_role_that_may_publish_its_notifications(stack):
    assert violated({"s": stack}) == []


def _made_at_deploy(value, depth: int, target: int):
    """``value`` with its literals at nesting ``target`` made by intrinsic functions instead."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::")):
        return value
    if isinstance(value, dict):
        return {key: _made_at_deploy(item, depth + 1, target) for key, item in value.items()}
    if isinstance(value, list):
        return [_made_at_deploy(item, depth + 1, target) for item in value]
    if depth != target:
        return value
    return {"Fn::Join": ["", [value]]} if isinstance(value, str) else {"Ref": "Parameter"}


@pytest.mark.parametrize("depth", range(6))
def test_values_known_only_at_deploy_are_judged_without_failing(synthesized, depth):
    # A template may take any value from a parameter or another resource (a Ref, an Fn::Join): no
    # rule fails on one (TypeError and AttributeError before), and a deploy-time rule, which says
    # what AWS certainly refuses, reports nothing it cannot read. (The shipped templates break none,
    # so anything reported here would come from a value made at deploy.) The rules of later updates
    # and of run time ask the template to show the safe arrangement, so they may report one.
    templates = copy.deepcopy(synthesized.all_templates())
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            resource["Properties"] = _made_at_deploy(resource.get("Properties", {}), -1, depth)
    assert [str(violation) for violation in check_all(Templates(templates), when=(AT_DEPLOY,))] == []
    assert {violation.rule for violation in check_all(Templates(templates))} <= {
        each.id for each in RULES if each.when != AT_DEPLOY
    }


def test_the_command_line_reports_violations_and_fails(tmp_path, capsys):
    broken = copy.deepcopy(variant_stack("ml.t2.medium"))
    (tmp_path / "Dev.template.json").write_text(json.dumps(broken))
    assert main([str(tmp_path)]) == 1
    assert "burstable-autoscaling: Dev.template.json Target" in capsys.readouterr().out
    (tmp_path / "Dev.template.json").write_text(json.dumps(variant_stack()))
    assert main([str(tmp_path)]) == 0
