"""cdk-nag acknowledgements: one finding at a time, always with a reason.

Constructs call these helpers from a single ``_acknowledge_findings`` method each, so a
reviewer reads every exception of a construct in one place. Each acknowledgement is also
recorded, so tests can prove it still matches a real finding and stale exceptions fail.

Every call into CDK here is a round trip to the jsii Node.js process, and acknowledgements
are made for nearly every resource, so they are kept few: the findings of one helper call
go to CDK in one ``acknowledge`` call (CDK records them one metadata entry per finding, in
order, exactly as separate calls would), and the construct paths of the record are only
read when a test or report asks for them.
"""

from __future__ import annotations

import itertools
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


# A scope's jsii object id -> the scope and its acknowledgements as (order made, finding id,
# reason). Keyed by the id jsii gives the construct (one Node object, however many Python proxies
# stand for it): reading a scope's node and root to file it under its app cost two round trips per
# scope at synth; the records of an app are gathered only when a test or report asks for them.
_RECORDED: dict[str, tuple[IConstruct, list[tuple[int, str, str]]]] = {}
_ORDER = itertools.count()
# A scope's jsii object id -> its Validations, fetched once however many helper calls acknowledge on it.
_VALIDATIONS: dict[str, cdk.Validations] = {}
# A resource's jsii object id -> its checkov skips (all made through skip_checkov_check).
_CHECKOV_SKIPS: dict[str, list[dict[str, str]]] = {}
# A stack's jsii object id -> the validation that makes its wildcard acknowledgements.
_WILDCARDS: dict[str, _WildcardResourceAcknowledgements] = {}


def _jsii_id(construct: IConstruct) -> str:
    return construct.__jsii_ref__.ref  # type: ignore[attr-defined]


def _record(scope: IConstruct, findings: list[tuple[str, str]]) -> None:
    _, records = _RECORDED.setdefault(_jsii_id(scope), (scope, []))
    records.extend((next(_ORDER), finding_id, reason) for finding_id, reason in findings)


def _acknowledge_all(scope: Construct, findings: list[tuple[str, str]]) -> None:
    """Acknowledge ``(finding_id, reason)`` pairs on ``scope`` in one call into CDK."""
    for finding_id, reason in findings:
        if "::" not in finding_id.split("[")[0]:
            raise ValueError(f"finding id {finding_id!r} must name its pack, e.g. AwsSolutions::AwsSolutions-S1")
        _check_reason(finding_id, reason)
    key = _jsii_id(scope)
    if key not in _VALIDATIONS:
        _VALIDATIONS[key] = cdk.Validations.of(scope)
    _VALIDATIONS[key].acknowledge(*(cdk.Acknowledgment(id=id_, reason=reason) for id_, reason in findings))
    _record(scope, findings)


def acknowledge(scope: Construct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding, ``<pack>::<rule>[<detail>]``, on ``scope`` and below."""
    _acknowledge_all(scope, [(finding_id, reason)])


def _check_reason(finding_id: str, reason: str) -> None:
    if len(reason) < 30:
        raise ValueError(f"acknowledgement of {finding_id} needs a specific reason, got {reason!r}")


def acknowledge_rule(
    scope: Construct, rule: str, reason: str, packs: Iterable[str] = (AWS_SOLUTIONS, *REGULATORY_PACKS)
) -> None:
    """Acknowledge ``rule`` (e.g. ``S3BucketReplicationEnabled``) in each of ``packs``."""
    _acknowledge_all(scope, [(f"{pack}::{pack}-{rule}", reason) for pack in packs])


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
    validation (before the cdk-nag packs read the acknowledgements): one per stack, which
    renders every pending resource of that stack in one call, rather than one per helper call.
    """
    _check_reason("AwsSolutions-IAM5", reason)
    stack = cdk.Stack.of(scope)
    key = _jsii_id(stack)
    if key not in _WILDCARDS:
        _WILDCARDS[key] = _WildcardResourceAcknowledgements(stack)
        stack.node.add_validation(_WILDCARDS[key])
    _WILDCARDS[key].pending.append((scope, list(resources), reason))


@jsii.implements(IValidation)
class _WildcardResourceAcknowledgements:
    """The wildcard acknowledgements of one stack, rendered and made when the stack validates."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack
        self.pending: list[tuple[Construct, list[str], str]] = []

    def validate(self) -> list[str]:
        # Taken, not read: a pending acknowledgement is made once.
        made, self.pending = self.pending, []
        if not made:
            return []
        rendered = iter(self.stack.resolve([resource for _, resources, _ in made for resource in resources]))
        by_scope: dict[str, tuple[Construct, list[tuple[str, str]]]] = {}
        for scope, resources, reason in made:
            _, findings = by_scope.setdefault(_jsii_id(scope), (scope, []))
            findings.extend(
                (f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Resource::{_render(next(rendered))}]", reason)
                for _ in resources
            )
        for scope, findings in by_scope.values():
            _acknowledge_all(scope, findings)
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
    # The skips made so far are kept here, so adding one is one call into CDK, not a read and a write.
    skips = _CHECKOV_SKIPS.setdefault(_jsii_id(resource), [])
    skips.append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", {"skip": list(skips)})
    _record(resource, [(f"checkov::{check_id}", reason)])


def recorded_acknowledgements(root: IConstruct) -> list[RecordedAcknowledgement]:
    """Every acknowledgement made under the app ``root``, in the order they were made."""
    if not _RECORDED:
        return []
    # One round trip for the tree, one per path.
    records = sorted(
        (
            (order, scope, finding_id, reason)
            for construct in [root, *root.node.find_all()]
            for scope, made in [_RECORDED.get(_jsii_id(construct), (construct, []))]
            for order, finding_id, reason in made
        ),
        key=lambda record: record[0],
    )
    paths: dict[int, str] = {}
    for _, construct, _, _ in records:
        if id(construct) not in paths:
            paths[id(construct)] = construct.node.path
    return [
        RecordedAcknowledgement(paths[id(construct)], finding_id, reason)
        for _, construct, finding_id, reason in records
    ]
