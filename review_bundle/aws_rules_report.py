"""``aws-rules.md``: the rules AWS enforces that were checked over the templates, and what broke them."""

from __future__ import annotations

from pathlib import Path

from aws_rules.rules import RULES, Violation, check_all
from aws_rules.templates import Templates
from review_bundle.template import table


def aws_rules_violations(cdk_out: Path) -> list[Violation]:
    return check_all(Templates.from_directory(cdk_out))


def aws_rules_report(cdk_out: Path) -> str:
    violations = aws_rules_violations(cdk_out)
    lines = [
        "# AWS's own rules, checked over the templates",
        "",
        "cdk-nag, checkov and cfn-lint check good practice and the template schema. These are rules a real "
        "AWS account enforces at deploy, on update or at run time that none of them sees (a topic CloudWatch "
        "may not publish to, a permission a service integration needs, an update SageMaker refuses...). "
        "Each names the AWS page or source it comes from; `make synth` fails on any violation "
        "(`python -m aws_rules cdk.out`).",
        "",
        f"**{len(violations)} violation(s)** of {len(RULES)} rules.",
        "",
    ]
    if violations:
        lines += [
            table(
                ["Rule", "Template", "Resource", "What"],
                [(v.rule, v.stack, v.logical_id, v.message) for v in violations],
            ),
            "",
        ]
    lines += [
        "## The rules",
        "",
        table(
            ["Rule", "What AWS enforces", "When", "Source"],
            [(rule.id, rule.summary, rule.when, rule.source) for rule in RULES],
        ),
        "",
    ]
    return "\n".join(lines)
