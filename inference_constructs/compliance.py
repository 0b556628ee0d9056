"""cdk-nag acknowledgements: one finding at a time, always with a reason.

Constructs call these helpers from a single ``_acknowledge_findings`` method each, so a
reviewer reads every exception of a construct in one place. Each acknowledgement is also
recorded, so tests can prove it still matches a real finding and stale exceptions fail.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import Construct, IConstruct, IValidation

AWS_SOLUTIONS = "AwsSolutions"
# The regulatory packs share most rule names; they are acknowledged together.
REGULATORY_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


@dataclass(frozen=True)
class RecordedAcknowledgement:
    path: str
    finding_id: str
    reason: str


_RECORDED: weakref.WeakKeyDictionary[IConstruct, list[RecordedAcknowledgement]] = weakref.WeakKeyDictionary()


def acknowledge(scope: Construct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding, ``<pack>::<rule>[<detail>]``, on ``scope`` and below."""
    if "::" not in finding_id.split("[")[0]:
        raise ValueError(f"finding id {finding_id!r} must name its pack, e.g. AwsSolutions::AwsSolutions-S1")
    _check_reason(finding_id, reason)
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))
    _RECORDED.setdefault(scope.node.root, []).append(RecordedAcknowledgement(scope.node.path, finding_id, reason))


def _check_reason(finding_id: str, reason: str) -> None:
    if len(reason) < 30:
        raise ValueError(f"acknowledgement of {finding_id} needs a specific reason, got {reason!r}")


def acknowledge_rule(
    scope: Construct, rule: str, reason: str, packs: Iterable[str] = (AWS_SOLUTIONS, *REGULATORY_PACKS)
) -> None:
    """Acknowledge ``rule`` (e.g. ``S3BucketReplicationEnabled``) in each of ``packs``."""
    for pack in packs:
        acknowledge(scope, f"{pack}::{pack}-{rule}", reason)


# Why this project keeps inline policies (the regulatory packs' IAMNoInlinePolicy): a
# customer-managed policy would be a second, account-wide named object that any principal could
# later be given, without narrowing a single permission.
INLINE_POLICY_REASON = (
    "CDK grants collect this role's least-privilege statements in its own inline policy, scoped "
    "to this construct's resources; an inline policy cannot be attached to any other principal."
)


def acknowledge_inline_policy(scope: Construct, reason: str = INLINE_POLICY_REASON) -> None:
    """The regulatory packs flag inline policies (a role's default policy, an ``iam.Policy``).

    Call this from a construct that owns a role whose grants CDK collects in a default policy,
    or that attaches a policy of its own to a role; give a ``reason`` specific to that policy
    when the default one does not describe it.
    """
    acknowledge_rule(scope, "IAMNoInlinePolicy", reason, packs=REGULATORY_PACKS)


def acknowledge_wildcard_resources(scope: Construct, resources: Iterable[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for each wildcard resource ARN granted under ``scope``.

    cdk-nag names the finding after the resource as written in the template, with
    references shown as ``<AWS::Region>`` or ``<LogicalId.Arn>`` and a value imported from
    another stack as its export name; this renders the same text. Export names exist only
    once synthesis has resolved cross-stack references, so the rendering runs then, as a
    validation of ``scope`` (before the cdk-nag packs read the acknowledgements).
    """
    _check_reason("AwsSolutions-IAM5", reason)
    scope.node.add_validation(_WildcardResourceAcknowledgement(scope, list(resources), reason))


@jsii.implements(IValidation)
class _WildcardResourceAcknowledgement:
    def __init__(self, scope: Construct, resources: list[str], reason: str) -> None:
        self.scope, self.resources, self.reason = scope, resources, reason
        self.done = False

    def validate(self) -> list[str]:
        if not self.done:
            stack = cdk.Stack.of(self.scope)
            for resource in self.resources:
                rendered = _render(stack.resolve(resource))
                acknowledge(self.scope, f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Resource::{rendered}]", self.reason)
            self.done = True
        return []


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::ImportValue" in value:
            return _render(value["Fn::ImportValue"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding id")


def skip_checkov_check(resource: cdk.CfnResource, check_id: str, reason: str) -> None:
    """Skip one checkov check on one resource, with the reason written next to it in the template.

    checkov reads ``Metadata.checkov.skip`` from CloudFormation resources; the reason shows in
    its report as the skip comment, so reviewers see it where the resource is.
    """
    if len(reason) < 30:
        raise ValueError(f"checkov skip of {check_id} needs a specific reason, got {reason!r}")
    existing = resource.get_metadata("checkov") or {"skip": []}
    resource.add_metadata("checkov", {"skip": [*existing["skip"], {"id": check_id, "comment": reason}]})
    _RECORDED.setdefault(resource.node.root, []).append(
        RecordedAcknowledgement(resource.node.path, f"checkov::{check_id}", reason)
    )


def recorded_acknowledgements(root: IConstruct) -> list[RecordedAcknowledgement]:
    """Every acknowledgement made under the app ``root``."""
    return list(_RECORDED.get(root, []))
