"""Rules AWS enforces at deploy, on update or at run time, checked against synthesized templates.

cdk-nag, checkov and cfn-lint check good practice and the CloudFormation schema; the local
emulator checks almost nothing. These are the rules a real account enforces that none of
them sees: each names the AWS page (or AWS's own source code) it comes from, and
``tests/aws_rules`` shows each one catching a template that breaks it.

Rules read templates only (no CDK, no account), so they run over any cloud assembly:
``python -m aws_rules cdk.out``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aws_rules.templates import (
    Resource,
    Templates,
    actions_match,
    as_list,
    as_text,
    at_shortest,
    is_absent_at_deploy,
    service_principals,
    statements,
)
from inference_constructs import service_models
from inference_constructs.instance_types import has_local_storage, is_burstable

VARIANT_RESOURCE_ID = re.compile(r"^endpoint/(?P<endpoint>[^/]+)/variant/(?P<variant>[^/]+)$")
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass(frozen=True)
class Finding:
    """What a rule's check reports: a resource (or, for a role named as text, a name) and why."""

    stack: str
    logical_id: str
    message: str

    @classmethod
    def at(cls, resource: Resource, message: str) -> Finding:
        return cls(resource.stack, resource.logical_id, message)


@dataclass(frozen=True)
class Violation:
    """A finding with the id of the rule it breaks (the id is written once, where the rule is declared)."""

    rule: str
    stack: str
    logical_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.stack} {self.logical_id}: {self.message}"


Check = Callable[[Templates], Iterator[Finding]]

# When AWS enforces a rule: the call CloudFormation makes for the resource is refused and the
# deploy rolls back; or the template deploys and a later change to it is refused (or undoes
# something); or it deploys and works until what it sets up runs (a permission denied, a
# notification dropped, a retry that never matches).
AT_DEPLOY = "at deploy"
ON_A_LATER_UPDATE = "on a later update"
AT_RUN_TIME = "at run time"
WHEN = (AT_DEPLOY, ON_A_LATER_UPDATE, AT_RUN_TIME)


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    source: str  # the AWS page or AWS source code the rule comes from
    when: str  # one of WHEN
    check: Check


RULES: list[Rule] = []


def rule(id: str, summary: str, source: str, *, when: str) -> Callable[[Check], Check]:
    if when not in WHEN:
        raise ValueError(f"rule {id}: when must be one of {', '.join(WHEN)}, not {when!r}")

    def register(check: Check) -> Check:
        RULES.append(Rule(id, summary, source, when, check))
        return check

    return register


def check_all(templates: Templates, when: Collection[str] = WHEN) -> list[Violation]:
    """Every violation of the rules AWS enforces ``when`` (by default, all of them). A deploy-time
    finding on a resource with a ``Condition`` is left out: the resource may never be created."""
    return [
        Violation(each.id, finding.stack, finding.logical_id, finding.message)
        for each in RULES
        if each.when in when
        for finding in each.check(templates)
        if not (each.when == AT_DEPLOY and templates.is_conditional(finding.stack, finding.logical_id))
    ]


# --- helpers ------------------------------------------------------------------------------


def _variant_instance_types(templates: Templates, target: Resource) -> list[str]:
    """The instance types a SageMaker variant scalable target's variant runs on."""
    match = VARIANT_RESOURCE_ID.fullmatch(str(target.properties.get("ResourceId", "")))
    if match is None:
        return []
    found = []
    for endpoint in templates.resources("AWS::SageMaker::Endpoint", stack=target.stack):
        if endpoint.properties.get("EndpointName") != match["endpoint"]:
            continue
        config = templates.referenced(endpoint.stack, endpoint.properties.get("EndpointConfigName"))
        if config is None:
            continue
        for variant in config.properties.get("ProductionVariants", []):
            # A type given by an intrinsic function (a parameter) is known only at deploy.
            if variant.get("VariantName") == match["variant"] and isinstance(variant.get("InstanceType"), str):
                found.append(variant["InstanceType"])
    return found


def _alarm_topics(templates: Templates) -> Iterator[tuple[Resource, Resource]]:
    """(alarm, SNS topic) for every topic an alarm notifies."""
    for alarm in templates.resources("AWS::CloudWatch::Alarm"):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for action in alarm.properties.get(key, []):
                topic = templates.referenced(alarm.stack, action)
                if topic is not None and topic.type == "AWS::SNS::Topic":
                    yield alarm, topic


def _is(templates: Templates, stack: str, value: Any, resource: Resource) -> bool:
    """Whether ``value`` (a ``Ref``, an ``Fn::GetAtt``, or an import of either) names ``resource``."""
    found = templates.referenced(stack, value)
    return found is not None and (found.stack, found.logical_id) == (resource.stack, resource.logical_id)


def _topic_policies(templates: Templates, topic: Resource) -> list[Resource]:
    return [
        policy
        for policy in templates.resources("AWS::SNS::TopicPolicy", stack=topic.stack)
        if any(_is(templates, policy.stack, each, topic) for each in as_list(policy.properties.get("Topics", [])))
    ]


# --- the rules ----------------------------------------------------------------------------


@rule(
    "burstable-autoscaling",
    "No Application Auto Scaling scalable target on a variant of burstable (T2/T3) instances: registration "
    "fails and the stack rolls back.",
    "aws-cdk packages/@aws-cdk/aws-sagemaker-alpha/lib/endpoint.ts ('AutoScaling not supported for burstable "
    "instance types like ml.t2.medium'); aws-controllers-k8s/community#1633",
    when=AT_DEPLOY,
)
def _burstable_autoscaling(templates: Templates) -> Iterator[Finding]:
    for target in templates.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        for instance_type in _variant_instance_types(templates, target):
            if is_burstable(instance_type):
                yield Finding.at(
                    target,
                    f"scales a variant of burstable {instance_type}",
                )


@rule(
    "alarm-topic-accepts-cloudwatch",
    "A topic that alarms notify, if it has a topic policy, lets cloudwatch.amazonaws.com publish: a topic "
    "policy replaces SNS's default one, and CloudWatch publishes as its service principal.",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html; "
    "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html",
    when=AT_RUN_TIME,
)
def _alarm_topic_accepts_cloudwatch(templates: Templates) -> Iterator[Finding]:
    seen = set()
    for _alarm, topic in _alarm_topics(templates):
        if (topic.stack, topic.logical_id) in seen:
            continue
        seen.add((topic.stack, topic.logical_id))
        policies = _topic_policies(templates, topic)
        if not policies:
            continue  # SNS's default policy applies
        allowed = any(
            statement.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com" in service_principals(statement)
            and actions_match(as_list(statement.get("Action", [])), "sns:Publish")
            for policy in policies
            for statement in statements(policy.properties.get("PolicyDocument", {}))
        )
        if not allowed:
            yield Finding.at(
                topic,
                "alarms notify this topic, but its topic policy does not allow cloudwatch.amazonaws.com sns:Publish",
            )


# What publishing to an encrypted topic takes of its key (AWS's published key policy statement for
# services publishing to encrypted topics; a role publishing through IAM needs the same).
PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@rule(
    "alarm-topic-key-accepts-cloudwatch",
    "The KMS key of a topic that alarms notify lets cloudwatch.amazonaws.com use it (kms:Decrypt, "
    "kms:GenerateDataKey*), with no condition CloudWatch does not send.",
    "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services",
    when=AT_RUN_TIME,
)
def _alarm_topic_key_accepts_cloudwatch(templates: Templates) -> Iterator[Finding]:
    seen = set()
    for _alarm, topic in _alarm_topics(templates):
        key = templates.referenced(topic.stack, topic.properties.get("KmsMasterKeyId"))
        if key is None or key.type != "AWS::KMS::Key" or (key.stack, key.logical_id) in seen:
            continue
        seen.add((key.stack, key.logical_id))
        allowed = any(
            statement.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com" in service_principals(statement)
            and all(actions_match(as_list(statement.get("Action", [])), action) for action in PUBLISHER_KEY_ACTIONS)
            and not statement.get("Condition")
            for statement in statements(key.properties.get("KeyPolicy", {}))
        )
        if not allowed:
            yield Finding.at(
                key,
                "alarms notify a topic encrypted with this key, but its policy does not let cloudwatch.amazonaws.com "
                "use it without conditions",
            )


# What the createTransformJob.sync integration calls, as CDK's own task construct grants it
# (aws-cdk-lib aws-stepfunctions-tasks SageMakerCreateTransformJob; a test keeps the two equal).
TRANSFORM_JOB_SYNC_ACTIONS = (
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopTransformJob",
    "sagemaker:AddTags",
    "sagemaker:ListTags",
    "iam:PassRole",
    "events:PutTargets",
    "events:PutRule",
    "events:DescribeRule",
)


def _definition_text(state_machine: Resource) -> str:
    definition = state_machine.properties.get("DefinitionString", "")
    if isinstance(definition, dict) and "Fn::Join" in definition:
        return "".join(part for part in definition["Fn::Join"][1] if isinstance(part, str))
    return str(definition)


def _role_statements(templates: Templates, role: Resource) -> list[Mapping[str, Any]]:
    """The Allow statements of ``role``: its inline policies, the policies attached to it, and the
    managed policies of its template it holds (``ManagedPolicyArns``) or that name it (``Roles``)."""
    documents = [inline.get("PolicyDocument", {}) for inline in _inline_policies(role)]
    held = as_list(role.properties.get("ManagedPolicyArns", []))
    for policy in templates.resources(stack=role.stack):
        if policy.type not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        names_role = any(
            _is(templates, policy.stack, each, role) for each in as_list(policy.properties.get("Roles", []))
        )
        held_by_role = policy.type == "AWS::IAM::ManagedPolicy" and any(
            _is(templates, role.stack, each, policy) for each in held
        )
        if names_role or held_by_role:
            documents.append(policy.properties.get("PolicyDocument", {}))
    return [
        statement
        for document in documents
        for statement in statements(document)
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow"
    ]


def _inline_policies(role: Resource) -> list[Mapping[str, Any]]:
    """A role's inline policies (none known when an intrinsic function makes the list)."""
    policies = as_list(role.properties.get("Policies", []))
    return [policy for policy in policies if isinstance(policy, Mapping) and not is_absent_at_deploy(policy)]


def _grants_role(templates: Templates, stack: str, document: Any, role: Resource) -> list[Mapping[str, Any]]:
    """The Allow statements of a resource policy (a key's or a topic's) that name ``role`` as principal;
    one without a Resource covers the policy's own resource."""
    found = []
    for statement in statements(document if isinstance(document, Mapping) else {}):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        names = as_list(principal.get("AWS", [])) if isinstance(principal, Mapping) else []
        if any(_is(templates, stack, name, role) for name in names):
            found.append(statement if "Resource" in statement else {**statement, "Resource": "*"})
    return found


def _role_actions(templates: Templates, state_machine: Resource) -> list[str]:
    role = templates.referenced(state_machine.stack, state_machine.properties.get("RoleArn"))
    if role is None:
        return []
    return [
        action for statement in _role_statements(templates, role) for action in as_list(statement.get("Action", []))
    ]


def _names_aws_managed_key(key: str) -> bool:
    """An AWS managed key's alias or alias ARN (``alias/aws/sns``), whose policy lets the account's
    principals use it through the service."""
    return key.startswith("alias/aws/") or ":alias/aws/" in key


def _same_resource(templates: Templates, stack: str, one: Any, other: Any) -> bool:
    """Whether two template values name the same resource: equal, or referring to one resource
    (a ``Ref``, an ``Fn::GetAtt``, or an import of either)."""
    if one == other:
        return True
    first, second = templates.referenced(stack, one), templates.referenced(stack, other)
    return (
        first is not None
        and second is not None
        and (first.stack, first.logical_id)
        == (
            second.stack,
            second.logical_id,
        )
    )


def _allows(templates: Templates, stack: str, granted: list[Mapping[str, Any]], action: str, resource: Any) -> bool:
    return any(
        actions_match(as_list(statement.get("Action", [])), action)
        and any(
            each == "*" or _same_resource(templates, stack, each, resource)
            for each in as_list(statement.get("Resource", []))
        )
        for statement in granted
    )


@rule(
    "async-notifications-can-be-published",
    "The role of an asynchronous endpoint's model may publish to the endpoint's success and error topics "
    "(sns:Publish) and use each topic's KMS key (kms:GenerateDataKey, kms:Decrypt): otherwise SageMaker writes "
    "the results and no notification is ever delivered.",
    'https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html ("your IAM role '
    'must have sns:Publish permissions"); https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html',
    when=AT_RUN_TIME,
)
def _async_notifications_can_be_published(templates: Templates) -> Iterator[Finding]:
    for config in templates.resources("AWS::SageMaker::EndpointConfig"):
        output = (config.properties.get("AsyncInferenceConfig") or {}).get("OutputConfig") or {}
        notification = output.get("NotificationConfig") or {}
        topics = [notification[kind] for kind in ("SuccessTopic", "ErrorTopic") if kind in notification]
        for variant in as_list(config.properties.get("ProductionVariants", [])) if topics else []:
            model = (
                templates.referenced(config.stack, variant.get("ModelName")) if isinstance(variant, Mapping) else None
            )
            role = templates.referenced(model.stack, model.properties.get("ExecutionRoleArn")) if model else None
            if role is None:
                continue  # a role made elsewhere: its policies are not in these templates
            granted = _role_statements(templates, role)
            for topic in topics:
                shown = json.dumps(topic)
                found = templates.referenced(config.stack, topic)
                by_topic = [
                    statement
                    for policy in (_topic_policies(templates, found) if found else [])
                    for statement in _grants_role(
                        templates, policy.stack, policy.properties.get("PolicyDocument"), role
                    )
                ]
                if not _allows(templates, config.stack, granted + by_topic, "sns:Publish", topic):
                    yield Finding.at(role, f"may not sns:Publish to {shown}, which {config.logical_id} notifies")
                key = found.properties.get("KmsMasterKeyId") if found and found.type == "AWS::SNS::Topic" else None
                # An AWS managed key (alias/aws/sns) lets the account's principals use it through SNS.
                key_text = at_shortest(key)
                if key is None or (isinstance(key_text, str) and _names_aws_managed_key(key_text)):
                    continue
                key_resource = templates.referenced(found.stack, key) if found else None
                by_key = (
                    _grants_role(templates, key_resource.stack, key_resource.properties.get("KeyPolicy"), role)
                    if key_resource is not None and key_resource.type == "AWS::KMS::Key"
                    else []
                )
                missing = [
                    action
                    for action in PUBLISHER_KEY_ACTIONS
                    if not _allows(templates, found.stack, granted + by_key, action, key)
                ]
                if missing:
                    yield Finding.at(
                        role,
                        f"may not {', '.join(missing)} with the key of {shown}, which {config.logical_id} notifies",
                    )


@rule(
    "transform-job-integration-permissions",
    "A state machine running createTransformJob.sync may make every call the integration makes, "
    "sagemaker:AddTags among them (the integration tags each job).",
    "https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html; aws-cdk-lib "
    "aws-stepfunctions-tasks/lib/sagemaker/create-transform-job.ts",
    when=AT_RUN_TIME,
)
def _transform_job_integration_permissions(templates: Templates) -> Iterator[Finding]:
    for machine in templates.resources("AWS::StepFunctions::StateMachine"):
        if "sagemaker:createTransformJob.sync" not in _definition_text(machine):
            continue
        granted = _role_actions(templates, machine)
        missing = [action for action in TRANSFORM_JOB_SYNC_ACTIONS if not actions_match(granted, action)]
        if missing:
            yield Finding.at(
                machine,
                f"its role lacks {', '.join(missing)}",
            )


SAGEMAKER_ERROR = re.compile(r"SageMaker\.[A-Za-z]+")


@rule(
    "sagemaker-retry-error-names",
    "Retry and Catch name only errors the SageMaker integration raises: any other name never matches, so the "
    "retry never happens.",
    "https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html (AWS's example retries "
    "SageMaker.AmazonSageMakerException and SageMaker.ResourceLimitExceededException); botocore's sagemaker "
    "model for each operation's error codes",
    when=AT_RUN_TIME,
)
def _sagemaker_retry_error_names(templates: Templates) -> Iterator[Finding]:
    allowed = service_models.sagemaker_integration_errors("CreateTransformJob")
    for machine in templates.resources("AWS::StepFunctions::StateMachine"):
        text = _definition_text(machine)
        for name in sorted(set(SAGEMAKER_ERROR.findall(text)) - allowed):
            yield Finding.at(
                machine,
                f"names {name}, which the SageMaker integration never raises (it raises {', '.join(sorted(allowed))})",
            )


@rule(
    "scheduled-bounds-restored",
    "A scheduled action that moves a scalable target's min or max away from its configured value is paired "
    "with one that sets it back: nothing else reverts it.",
    "https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html",
    when=AT_RUN_TIME,
)
def _scheduled_bounds_restored(templates: Templates) -> Iterator[Finding]:
    for target in templates.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        actions = [action.get("ScalableTargetAction", {}) for action in target.properties.get("ScheduledActions", [])]
        for bound in ("MinCapacity", "MaxCapacity"):
            configured = target.properties.get(bound)
            changed = [action[bound] for action in actions if bound in action and action[bound] != configured]
            if changed and not any(action.get(bound) == configured for action in actions):
                yield Finding.at(
                    target,
                    f"scheduled actions set {bound} to {changed} and none sets it back to {configured}",
                )


@rule(
    "instance-variants-scale-to-zero-only-async",
    "A real-time endpoint's instance variant never scales to zero instances (MinCapacity 0, or a scheduled "
    "MinCapacity 0): only asynchronous endpoints and inference components can.",
    "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html",
    when=AT_RUN_TIME,
)
def _scale_to_zero_only_async(templates: Templates) -> Iterator[Finding]:
    for target in templates.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        if target.properties.get("ScalableDimension") != VARIANT_DIMENSION:
            continue
        minimums = [target.properties.get("MinCapacity")] + [
            action.get("ScalableTargetAction", {}).get("MinCapacity")
            for action in target.properties.get("ScheduledActions", [])
        ]
        if 0 not in minimums or _is_async_variant(templates, target):
            continue
        yield Finding.at(
            target,
            "a real-time variant is given a minimum of 0 instances",
        )


def _is_async_variant(templates: Templates, target: Resource) -> bool:
    match = VARIANT_RESOURCE_ID.fullmatch(str(target.properties.get("ResourceId", "")))
    if match is None:
        return False
    for endpoint in templates.resources("AWS::SageMaker::Endpoint", stack=target.stack):
        if endpoint.properties.get("EndpointName") == match["endpoint"]:
            config = templates.referenced(endpoint.stack, endpoint.properties.get("EndpointConfigName"))
            return config is not None and "AsyncInferenceConfig" in config.properties
    return False


@rule(
    "no-volume-key-on-local-storage",
    "An endpoint config whose variants use instance types with local NVMe storage sets no KmsKeyId: "
    "CreateEndpointConfig refuses it.",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html (KmsKeyId); "
    "https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html",
    when=AT_DEPLOY,
)
def _no_volume_key_on_local_storage(templates: Templates) -> Iterator[Finding]:
    for config in templates.resources("AWS::SageMaker::EndpointConfig"):
        if "KmsKeyId" not in config.properties:
            continue
        variants = [
            *config.properties.get("ProductionVariants", []),
            *config.properties.get("ShadowProductionVariants", []),
        ]
        local = sorted(
            {
                v["InstanceType"]
                for v in variants
                if isinstance(v.get("InstanceType"), str) and has_local_storage(v["InstanceType"])
            }
        )
        if local:
            yield Finding.at(
                config,
                f"sets KmsKeyId with local-storage instance types {', '.join(local)}",
            )


@rule(
    "datapoints-within-evaluation-periods",
    "An alarm's DatapointsToAlarm is at most its EvaluationPeriods.",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
    when=AT_DEPLOY,
)
def _datapoints_within_periods(templates: Templates) -> Iterator[Finding]:
    for alarm in templates.resources("AWS::CloudWatch::Alarm"):
        datapoints = alarm.properties.get("DatapointsToAlarm")
        periods = alarm.properties.get("EvaluationPeriods")
        if isinstance(datapoints, int) and isinstance(periods, int) and datapoints > periods:
            yield Finding.at(
                alarm,
                f"DatapointsToAlarm {datapoints} is above EvaluationPeriods {periods}",
            )


# PutMetricAlarm's Period (API reference): "Valid values are 10, 20, 30, and any multiple of 60";
# its total evaluation period: "Period multiplied by EvaluationPeriods can't be more than 604,800
# seconds. For alarms with a period of less than one hour (3,600 seconds), the total evaluation
# period can't be longer than one day (86,400 seconds)." (The pinned botocore's copy of that text is
# older: 10 and 30, one day.) A metric of a metric-math alarm takes its period from MetricStat,
# whose documentation also allows 1 and 5 for high-resolution metrics; those are not refused here.
ALARM_SUB_MINUTE_PERIODS = (10, 20, 30)
METRIC_STAT_SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)
ONE_HOUR, ONE_DAY, SEVEN_DAYS = 3_600, 86_400, 604_800


def _alarm_periods(alarm: Resource) -> tuple[list[Any], tuple[int, ...]]:
    """The period of an alarm on one metric, or of each metric and expression of a metric-math
    alarm, and the sub-minute periods they may take."""
    if "Period" in alarm.properties:
        return [alarm.properties["Period"]], ALARM_SUB_MINUTE_PERIODS
    periods = [
        query["MetricStat"].get("Period") if isinstance(query.get("MetricStat"), Mapping) else query.get("Period")
        for query in as_list(alarm.properties.get("Metrics", []))
        if isinstance(query, Mapping) and ("MetricStat" in query or "Period" in query)
    ]
    return periods, METRIC_STAT_SUB_MINUTE_PERIODS


@rule(
    "alarm-periods-cloudwatch-accepts",
    "An alarm's period is 10, 20, 30 or a multiple of 60 seconds (a metric-math alarm's metrics also 1 or 5), "
    "and its period times EvaluationPeriods is at most one day (periods under an hour) or seven days.",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (Period, "
    "EvaluationPeriods); https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html",
    when=AT_DEPLOY,
)
def _alarm_periods_accepted(templates: Templates) -> Iterator[Finding]:
    for alarm in templates.resources("AWS::CloudWatch::Alarm"):
        found, sub_minute = _alarm_periods(alarm)
        periods = [period for period in found if isinstance(period, int)]
        every_period_known = len(periods) == len(found)
        for period in sorted(set(periods)):
            if period not in sub_minute and (period <= 0 or period % 60):
                allowed = ", ".join(map(str, sub_minute))
                yield Finding.at(alarm, f"period {period} s is not {allowed} or a multiple of 60")
        evaluation = alarm.properties.get("EvaluationPeriods")
        if periods and every_period_known and isinstance(evaluation, int):
            # Reported only when certain: the shortest period against the most the longest allows.
            shortest, longest = min(periods), max(periods)
            limit = ONE_DAY if longest < ONE_HOUR else SEVEN_DAYS
            if shortest > 0 and shortest * evaluation > limit:
                yield Finding.at(
                    alarm,
                    f"evaluates {evaluation} periods of {shortest} s ({shortest * evaluation:,} s); "
                    f"CloudWatch allows {limit:,} s for this period",
                )


@rule(
    "autoscaled-endpoints-retain-variant-properties",
    "An endpoint whose variants autoscale keeps their instance counts through config updates "
    "(RetainAllVariantProperties): otherwise every deploy resets each variant to its initial count.",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html (RetainAllVariantProperties)",
    when=ON_A_LATER_UPDATE,
)
def _autoscaled_endpoints_retain(templates: Templates) -> Iterator[Finding]:
    scaled = {
        (target.stack, match["endpoint"])
        for target in templates.resources("AWS::ApplicationAutoScaling::ScalableTarget")
        # Instance counts only: a serverless variant's provisioned concurrency is not retained.
        if target.properties.get("ScalableDimension") == VARIANT_DIMENSION
        and (match := VARIANT_RESOURCE_ID.fullmatch(str(target.properties.get("ResourceId", ""))))
    }
    for endpoint in templates.resources("AWS::SageMaker::Endpoint"):
        name = endpoint.properties.get("EndpointName")
        # A name made by an intrinsic function is no variant target's literal resource id.
        if (
            isinstance(name, str)
            and (endpoint.stack, name) in scaled
            and not endpoint.properties.get("RetainAllVariantProperties")
        ):
            yield Finding.at(
                endpoint,
                "its variants autoscale but RetainAllVariantProperties is not set",
            )


@rule(
    "autoscaled-variants-deregistered-before-endpoint-updates",
    "An instance-count scalable target's endpoint waits for a scaling guard that knows the variant and its "
    "instance type (it deregisters the variant before an update that changes either), and the target and its "
    "policies are retained on removal and replacement: SageMaker refuses to update a registered variant's "
    "instance type or remove it, and cleanup of a re-keyed target would deregister the new registration.",
    "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html; "
    "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html",
    when=ON_A_LATER_UPDATE,
)
def _autoscaled_variants_deregistered_first(templates: Templates) -> Iterator[Finding]:
    for target in templates.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        match = VARIANT_RESOURCE_ID.fullmatch(str(target.properties.get("ResourceId", "")))
        if match is None or target.properties.get("ScalableDimension") != VARIANT_DIMENSION:
            continue
        retained = [target] + [
            policy
            for policy in templates.resources("AWS::ApplicationAutoScaling::ScalingPolicy", stack=target.stack)
            if _is(templates, policy.stack, policy.properties.get("ScalingTargetId"), target)
        ]
        for resource in retained:
            if resource.raw.get("DeletionPolicy") != "Retain" or resource.raw.get("UpdateReplacePolicy") != "Retain":
                yield Finding.at(resource, "not retained on removal and replacement")
        registration = {
            "InstanceType": next(iter(_variant_instance_types(templates, target)), None),
            "ScalableDimension": VARIANT_DIMENSION,
        }
        for endpoint in templates.resources("AWS::SageMaker::Endpoint", stack=target.stack):
            if endpoint.properties.get("EndpointName") != match["endpoint"]:
                continue
            guards = [
                guard
                for logical_id in as_list(endpoint.raw.get("DependsOn", []))
                if (guard := templates.get(endpoint.stack, logical_id)) is not None
                and guard.type == "Custom::ScalingRegistrationGuard"
                and guard.properties.get("EndpointName") == match["endpoint"]
                and (guard.properties.get("AutoscaledVariants") or {}).get(match["variant"]) == registration
            ]
            if not guards:
                yield Finding.at(
                    endpoint,
                    f"waits for no scaling guard that deregisters variant {match['variant']} "
                    f"({registration['InstanceType']}) before an update",
                )


@rule(
    "replaced-resources-have-generated-names",
    "SageMaker models and endpoint configs carry no fixed name: every property change replaces them, and "
    "CloudFormation creates the replacement before deleting the old one, under the same name.",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpointconfig.html "
    "(every property: Update requires Replacement)",
    when=ON_A_LATER_UPDATE,
)
def _generated_names(templates: Templates) -> Iterator[Finding]:
    for resource_type, name in (
        ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"),
        ("AWS::SageMaker::Model", "ModelName"),
    ):
        for resource in templates.resources(resource_type):
            if name in resource.properties:
                yield Finding.at(
                    resource,
                    f"sets {name}, so its next replacement fails with 'already exists'",
                )


@rule(
    "serial-pipeline-containers",
    "A model that lists Containers (a serial inference pipeline) has at most ContainerDefinitionList's maximum, "
    "a ContainerHostname on every container or on none, and at most 32 KB of environment in all its containers.",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html (ContainerHostname, "
    "Environment); botocore's sagemaker service model, shape ContainerDefinitionList",
    when=AT_DEPLOY,
)
def _serial_pipeline_containers(templates: Templates) -> Iterator[Finding]:
    limit = service_models.max_items("sagemaker", "ContainerDefinitionList")
    for model in templates.resources("AWS::SageMaker::Model"):
        containers = [c for c in as_list(model.properties.get("Containers")) if isinstance(c, dict)]
        if not containers:
            continue
        if len(containers) > limit:
            yield Finding.at(model, f"lists {len(containers)} containers; CreateModel takes at most {limit}")
        named = [c for c in containers if "ContainerHostname" in c]
        if named and len(named) != len(containers):
            yield Finding.at(
                model,
                f"{len(named)} of its {len(containers)} containers have a ContainerHostname: all or none",
            )
        # Counted at the least each value can be (a reference at its shortest): 32 KB is a hard limit.
        environments = [at_shortest(container.get("Environment") or {}) for container in containers]
        size = sum(
            len(str(key).encode()) + len((value if isinstance(value, str) else as_text(value)).encode())
            for environment in environments
            if isinstance(environment, Mapping)
            for key, value in environment.items()
        )
        if size > 32 * 1024:
            yield Finding.at(model, f"its containers' environments take {size} bytes; CreateModel allows 32 KB")


# Fields CloudFormation hands to an AWS API as they are: (resource type, path to the values, service,
# shape of that API's model; a path step "[]" walks every item of a list). The API refuses a string
# its shape does not allow (length, pattern) and a list with more or fewer items than its shape
# takes, and CloudFormation's own schema checks few of them: a rule description listing many model
# package groups passes cfn-lint and fails PutRule. A property that is a JSON object in the template
# (an event pattern) reaches the API as its compact JSON text.
API_FIELDS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("AWS::SageMaker::Endpoint", ("EndpointName",), "sagemaker", "EndpointName"),
    ("AWS::SageMaker::InferenceComponent", ("InferenceComponentName",), "sagemaker", "InferenceComponentName"),
    ("AWS::Events::Rule", ("Name",), "events", "RuleName"),
    ("AWS::Events::Rule", ("Description",), "events", "RuleDescription"),
    ("AWS::Events::Rule", ("EventPattern",), "events", "EventPattern"),
    ("AWS::IAM::Role", ("RoleName",), "iam", "roleNameType"),
    ("AWS::IAM::Role", ("Description",), "iam", "roleDescriptionType"),
    ("AWS::IAM::Policy", ("PolicyName",), "iam", "policyNameType"),
    ("AWS::IAM::ManagedPolicy", ("Description",), "iam", "policyDescriptionType"),
    ("AWS::CloudWatch::Alarm", ("AlarmName",), "cloudwatch", "AlarmName"),
    ("AWS::CloudWatch::Alarm", ("AlarmDescription",), "cloudwatch", "AlarmDescription"),
    ("AWS::CloudWatch::CompositeAlarm", ("AlarmName",), "cloudwatch", "AlarmName"),
    ("AWS::CloudWatch::CompositeAlarm", ("AlarmDescription",), "cloudwatch", "AlarmDescription"),
    ("AWS::CloudWatch::CompositeAlarm", ("AlarmRule",), "cloudwatch", "AlarmRule"),
    ("AWS::KMS::Key", ("Description",), "kms", "DescriptionType"),
    ("AWS::KMS::Alias", ("AliasName",), "kms", "AliasNameType"),
    ("AWS::Lambda::Function", ("FunctionName",), "lambda", "FunctionName"),
    ("AWS::Lambda::Function", ("Description",), "lambda", "Description"),
    ("AWS::StepFunctions::StateMachine", ("StateMachineName",), "stepfunctions", "Name"),
    ("AWS::Logs::LogGroup", ("LogGroupName",), "logs", "LogGroupName"),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", ("PolicyName",), "application-autoscaling", "PolicyName"),
    ("AWS::CodeBuild::Project", ("Name",), "codebuild", "ProjectName"),
    ("AWS::CodeBuild::Project", ("Description",), "codebuild", "ProjectDescription"),
    ("AWS::CodePipeline::Pipeline", ("Name",), "codepipeline", "PipelineName"),
    ("AWS::CloudWatch::Alarm", ("AlarmActions",), "cloudwatch", "ResourceList"),
    ("AWS::CloudWatch::Alarm", ("OKActions",), "cloudwatch", "ResourceList"),
    ("AWS::CloudWatch::Alarm", ("InsufficientDataActions",), "cloudwatch", "ResourceList"),
    ("AWS::CloudWatch::Alarm", ("Dimensions",), "cloudwatch", "Dimensions"),
    ("AWS::CloudWatch::Alarm", ("Metrics", "[]", "Expression"), "cloudwatch", "MetricExpression"),
    ("AWS::CloudWatch::Alarm", ("Metrics", "[]", "MetricStat", "Metric", "Dimensions"), "cloudwatch", "Dimensions"),
    ("AWS::SageMaker::EndpointConfig", ("ProductionVariants",), "sagemaker", "ProductionVariantList"),
)


def _as_sent(value: Any) -> str | None:
    """The text the API receives for a template value, or None while it holds an intrinsic
    function (its text is known only at deploy)."""
    if isinstance(value, str):
        return value
    text = as_text(value)
    if isinstance(value, (dict, list)) and '"Ref"' not in text and '"Fn::' not in text:
        return text
    return None


@rule(
    "fields-fit-aws-api-shapes",
    "Names, descriptions, event patterns and lists fit the API field CloudFormation passes them to (endpoint and "
    "component names, rule descriptions and patterns, role descriptions, alarm names, descriptions, actions and "
    "expressions, an endpoint config's variants...): the service refuses a string longer, shorter or other than "
    "its shape allows, and a list with more or fewer items.",
    "botocore's sagemaker, events, iam, cloudwatch, kms, lambda, stepfunctions, logs, application-autoscaling, "
    "codebuild and codepipeline service models (string shapes: min, max, pattern; list shapes: min, max)",
    when=AT_DEPLOY,
)
def _fields_fit_shapes(templates: Templates) -> Iterator[Finding]:
    for resource_type, path, service, shape_name in API_FIELDS:
        api_shape = service_models.shape(service, shape_name)
        field = ".".join(step for step in path if step != "[]")
        for resource in templates.resources(resource_type):
            for value in _values_at(resource.properties, path):
                problem = (
                    _list_problem(value, api_shape.metadata, service, shape_name)
                    if api_shape.type_name == "list"
                    else _string_problem(value, service, shape_name)
                )
                if problem is not None:
                    yield Finding.at(resource, f"{field} {problem}")


def _string_problem(value: Any, service: str, shape_name: str) -> str | None:
    text = _as_sent(value)
    if text is None:
        return None
    try:
        service_models.check_string(service, shape_name, text)
    except ValueError as error:
        shown = text if len(text) <= 80 else f"{text[:77]}..."
        return f"{shown!r} {error}"
    return None


def _list_problem(value: Any, metadata: Mapping[str, Any], service: str, shape_name: str) -> str | None:
    # A list made by an intrinsic function (Fn::If, a parameter) has a length known only at deploy,
    # and an item that may resolve to AWS::NoValue may vanish: too many only counting the items
    # certain to stay, too few only counting every item that may.
    if not isinstance(value, list):
        return None
    low, high = metadata.get("min", 0), metadata.get("max")
    certain = [item for item in value if not is_absent_at_deploy(item)]
    possible = [item for item in value if item != {"Ref": "AWS::NoValue"}]
    if high is not None and len(certain) > high:
        return f"has {len(certain)} items; {service} {shape_name} takes at most {high}"
    if len(possible) < low:
        return f"has {len(possible)} items; {service} {shape_name} takes at least {low}"
    return None


# IAM's fixed character limits, which it counts without white space (not adjustable):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (IAM and AWS STS
# character limits). CDK moves what overflows a Role's default policy into managed policies
# (aws-iam Role.splitLargePolicy); the policies built as JSON here, and a role's other
# policies, are nobody's to split.
ROLE_INLINE_POLICIES_MAX_CHARACTERS = 10_240
MANAGED_POLICY_MAX_CHARACTERS = 6_144


def _policy_characters(document: Any) -> int:
    """The fewest characters IAM can count in ``document`` (no white space, references at their
    shortest; a document given as JSON text is counted as the document it holds)."""
    shortest = at_shortest(document)
    if shortest is None:
        return 0
    if isinstance(shortest, str):  # JSON text (an Fn::Join of it too): counted as the text it is
        return sum(not character.isspace() for character in shortest)
    return sum(not character.isspace() for character in as_text(shortest))


@rule(
    "iam-policies-within-character-limits",
    f"A role's inline policies together stay within IAM's {ROLE_INLINE_POLICIES_MAX_CHARACTERS:,} characters and each "
    f"managed policy within {MANAGED_POLICY_MAX_CHARACTERS:,} (white space not counted): IAM refuses the policy "
    "that crosses the limit and the stack rolls back. References are counted at their shortest, so only a policy "
    "certain to cross it is reported.",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (IAM and AWS STS character limits)",
    when=AT_DEPLOY,
)
def _iam_policy_sizes(templates: Templates) -> Iterator[Finding]:
    # (stack, a role's logical id or, for a role named as text, "named " and its name) -> the fewest
    # characters of the inline policies it holds. A role given by another function (an import) is
    # not followed.
    inline: dict[tuple[str, str], int] = {}
    for resource in templates.resources():
        if resource.type == "AWS::IAM::Role":
            documents = [policy.get("PolicyDocument") for policy in _inline_policies(resource)]
            key = (resource.stack, resource.logical_id)
            inline[key] = inline.get(key, 0) + sum(_policy_characters(document) for document in documents)
        elif resource.type == "AWS::IAM::Policy":
            size = _policy_characters(resource.properties.get("PolicyDocument"))
            for role in as_list(resource.properties.get("Roles", [])):
                if isinstance(role, Mapping) and isinstance(role.get("Ref"), str):
                    key = (resource.stack, role["Ref"])
                elif isinstance(role, str):
                    key = (resource.stack, f"named {role}")
                else:
                    continue
                inline[key] = inline.get(key, 0) + size
        elif resource.type == "AWS::IAM::ManagedPolicy":
            size = _policy_characters(resource.properties.get("PolicyDocument"))
            if size > MANAGED_POLICY_MAX_CHARACTERS:
                yield Finding.at(
                    resource,
                    f"its document takes at least {size:,} characters; a managed policy may take "
                    f"{MANAGED_POLICY_MAX_CHARACTERS:,}",
                )
    for (stack, role), size in inline.items():
        if size > ROLE_INLINE_POLICIES_MAX_CHARACTERS:
            yield Finding(
                stack,
                role,
                f"its inline policies take at least {size:,} characters together; a role's may take "
                f"{ROLE_INLINE_POLICIES_MAX_CHARACTERS:,}",
            )


# Template values that must be members of an enum of AWS's API models: (resource type, path to
# the values, service, enum shape). A path step "[]" walks every item of a list.
ENUM_FIELDS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "AWS::SageMaker::EndpointConfig",
        ("ProductionVariants", "[]", "InstanceType"),
        "sagemaker",
        "ProductionVariantInstanceType",
    ),
    (
        "AWS::SageMaker::EndpointConfig",
        ("ShadowProductionVariants", "[]", "InstanceType"),
        "sagemaker",
        "ProductionVariantInstanceType",
    ),
    (
        "AWS::SageMaker::EndpointConfig",
        ("DataCaptureConfig", "CaptureOptions", "[]", "CaptureMode"),
        "sagemaker",
        "CaptureMode",
    ),
    (
        "AWS::SageMaker::EndpointConfig",
        ("AsyncInferenceConfig", "OutputConfig", "NotificationConfig", "IncludeInferenceResponseIn", "[]"),
        "sagemaker",
        "AsyncNotificationTopicTypes",
    ),
    (
        "AWS::SageMaker::Endpoint",
        ("ExcludeRetainedVariantProperties", "[]", "VariantPropertyType"),
        "sagemaker",
        "VariantPropertyType",
    ),
    (
        "AWS::SageMaker::Endpoint",
        ("DeploymentConfig", "BlueGreenUpdatePolicy", "TrafficRoutingConfiguration", "Type"),
        "sagemaker",
        "TrafficRoutingConfigType",
    ),
    (
        "AWS::ApplicationAutoScaling::ScalableTarget",
        ("ScalableDimension",),
        "application-autoscaling",
        "ScalableDimension",
    ),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", ("PolicyType",), "application-autoscaling", "PolicyType"),
    (
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        ("TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification", "PredefinedMetricType"),
        "application-autoscaling",
        "MetricType",
    ),
    ("AWS::CloudWatch::Alarm", ("ComparisonOperator",), "cloudwatch", "ComparisonOperator"),
)


def _values_at(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield value
        return
    step, rest = path[0], path[1:]
    if step == "[]":
        for item in value if isinstance(value, list) else []:
            yield from _values_at(item, rest)
    elif isinstance(value, dict) and step in value:
        yield from _values_at(value[step], rest)


@rule(
    "values-in-aws-enums",
    "Enumerated values (instance types, capture modes, traffic routing, scalable dimensions, policy and "
    "metric types, comparison operators...) are members of the API's enum; CloudFormation passes them through "
    "and the service refuses the call.",
    "botocore's sagemaker, application-autoscaling and cloudwatch service models (enum shapes)",
    when=AT_DEPLOY,
)
def _values_in_enums(templates: Templates) -> Iterator[Finding]:
    for resource_type, path, service, shape_name in ENUM_FIELDS:
        allowed = service_models.enum(service, shape_name)
        for resource in templates.resources(resource_type):
            field = ".".join(step for step in path if step != "[]")
            for value in _values_at(resource.properties, path):
                if isinstance(value, str) and value not in allowed:
                    yield Finding.at(resource, f"{field} is {value!r}, not one of {service} {shape_name}")
