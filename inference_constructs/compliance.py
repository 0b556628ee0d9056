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
    if len(reason) < 30:
        raise ValueError(f"acknowledgement of {finding_id} needs a specific reason, got {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))
    _RECORDED.setdefault(scope.node.root, []).append(RecordedAcknowledgement(scope.node.path, finding_id, reason))


def acknowledge_rule(
    scope: Construct, rule: str, reason: str, packs: Iterable[str] = (AWS_SOLUTIONS, *REGULATORY_PACKS)
) -> None:
    """Acknowledge ``rule`` (e.g. ``S3BucketReplicationEnabled``) in each of ``packs``."""
    for pack in packs:
        acknowledge(scope, f"{pack}::{pack}-{rule}", reason)


def acknowledge_inline_policy(role: Construct) -> None:
    """The regulatory packs flag the inline default policy CDK grants write to.

    Call this from a construct that owns a role whose grants CDK collects in a default policy.
    """
    acknowledge_rule(
        role,
        "IAMNoInlinePolicy",
        "CDK grants collect this role's least-privilege statements in its own inline policy, scoped "
        "to this construct's resources; an inline policy cannot be attached to any other principal.",
        packs=REGULATORY_PACKS,
    )


def acknowledge_wildcard_resources(scope: Construct, resources: Iterable[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for each wildcard resource ARN granted under ``scope``.

    cdk-nag names the finding after the resource as written in the template, with
    references shown as ``<AWS::Region>`` or ``<LogicalId.Arn>``; this renders the same text.
    """
    stack = cdk.Stack.of(scope)
    for resource in resources:
        rendered = _render(stack.resolve(resource))
        acknowledge(scope, f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Resource::{rendered}]", reason)


def acknowledge_cross_stack_wildcard_resources(scope: Construct, resources: Iterable[str], reason: str) -> None:
    """Like :func:`acknowledge_wildcard_resources`, for ARNs built on another stack's resources.

    cdk-nag names such a finding after the ``Fn::ImportValue`` CDK writes at synth time, whose
    export name is only known once CDK has resolved cross-stack references. Construct
    validations run right after that, so the acknowledgement is rendered and made there.
    """
    scope.node.add_validation(_AcknowledgeOnceReferencesResolve(scope, list(resources), reason))


@jsii.implements(IValidation)
class _AcknowledgeOnceReferencesResolve:
    def __init__(self, scope: Construct, resources: list[str], reason: str) -> None:
        self.scope, self.resources, self.reason = scope, resources, reason
        self.done = False

    def validate(self) -> list[str]:
        if not self.done:  # an app may be synthesized more than once
            acknowledge_wildcard_resources(self.scope, self.resources, self.reason)
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


def recorded_acknowledgements(root: IConstruct) -> list[RecordedAcknowledgement]:
    """Every acknowledgement made under the app ``root``."""
    return list(_RECORDED.get(root, []))
