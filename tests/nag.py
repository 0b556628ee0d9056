"""cdk-nag findings of a synthesized app, acknowledged or not, for tests that audit the acknowledgements."""

from __future__ import annotations

import aws_cdk as cdk

from inference_constructs.compliance import RecordedAcknowledgement, recorded_acknowledgements
from stacks.application import compliance_packs


def raw_findings(app: cdk.App) -> list[tuple[str, str]]:
    """Every finding of every pack, acknowledged or not, as (finding id, construct path)."""
    findings = []
    for pack in compliance_packs(app):
        namespace = pack.name.replace(" ", "-")
        for violation in pack.validate_scope(app).violations:
            for resource in violation.violating_resources:
                findings.append((f"{namespace}::{violation.rule_name}", resource.construct_path or ""))
    return findings


def stale_acknowledgements(app: cdk.App) -> list[RecordedAcknowledgement]:
    """cdk-nag acknowledgements made under ``app`` that match no finding under their scope."""
    findings = raw_findings(app)
    return [
        ack
        for ack in recorded_acknowledgements(app)
        if not ack.finding_id.startswith("checkov::")
        and not any(
            finding == ack.finding_id and (path == ack.path or path.startswith(ack.path + "/"))
            for finding, path in findings
        )
    ]
