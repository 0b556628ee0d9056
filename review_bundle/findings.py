"""``findings.md``: every cdk-nag finding, open or acknowledged, with the acknowledgement's reason.

Sources, both written by ``cdk synth``:
- ``cdk.out/validation-report.json``: the report of the validation plugins (the cdk-nag
  packs) with each finding (``violations``) or acknowledged finding (``suppressedViolations``,
  with ``reason`` and where it was acknowledged);
- the stacks' metadata, where ``Validations.of(scope).acknowledge(...)`` records each
  acknowledgement as ``aws:cdk:acknowledged-rules`` on its construct; an acknowledgement
  found there but matching no finding in the report is listed as unused.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from review_bundle.assembly import Assembly, Stack
from review_bundle.template import table

OUTSIDE = "outside the environments"


@dataclass(frozen=True)
class Finding:
    pack: str
    rule: str  # e.g. "AwsSolutions-IAM5[Resource::*]"
    description: str
    construct_path: str
    acknowledged: bool
    reason: str
    acknowledged_at: str


def findings(assembly: Assembly) -> list[Finding]:
    report = assembly.validation_report or {}
    found = []
    for plugin in report.get("pluginReports", []):
        pack = str(plugin.get("pluginName", "?"))
        for kind, acknowledged in (("violations", False), ("suppressedViolations", True)):
            for violation in plugin.get(kind, []):
                for construct in violation.get("violatingConstructs", []):
                    found.append(
                        Finding(
                            pack=pack,
                            rule=str(violation.get("ruleName", "?")),
                            description=str(violation.get("description", "")),
                            construct_path=str(construct.get("constructPath", "?")),
                            acknowledged=acknowledged,
                            reason=str(violation.get("reason", "")),
                            acknowledged_at=str(violation.get("acknowledgedAt", "")),
                        )
                    )
    return sorted(found, key=lambda f: (f.pack, f.acknowledged, f.rule, f.construct_path))


def stack_of_path(assembly: Assembly, construct_path: str) -> Stack | None:
    candidates = [
        stack
        for stack in assembly.stacks
        if construct_path == stack.display_name or construct_path.startswith(stack.display_name + "/")
    ]
    return max(candidates, key=lambda stack: len(stack.display_name), default=None)


def unused_acknowledgements(assembly: Assembly, found: list[Finding]) -> list[tuple[str, str, str]]:
    """Acknowledgements recorded on constructs that no finding in the report used."""
    used = {(f"{f.pack}::{f.rule}", f.acknowledged_at) for f in found if f.acknowledged}
    unused = []
    for stack in assembly.stacks:
        for path, identifier, reason in stack.acknowledgements():
            if (identifier, path) not in used:
                unused.append((path, identifier, reason))
    return sorted(set(unused))


def findings_report(assembly: Assembly) -> str:
    lines = [
        "# Compliance findings (cdk-nag)",
        "",
        "cdk-nag checks the synthesized infrastructure against rule packs: AWS Solutions (AWS's own "
        "best practices), HIPAA Security, NIST 800-53 rev. 5 and PCI DSS 3.2.1. Every finding must be "
        "either fixed or *acknowledged*: a developer states, for that exact finding on that exact "
        "resource, why it is acceptable. An open (unacknowledged) finding fails `make synth`.",
        "",
        "A rule id such as `AwsSolutions-IAM5[Resource::*]` names the pack, the rule and the detail "
        "found (here: a permission on any resource). The resource is shown as its construct path: "
        "`<stage>/<stack>/<construct>/...`, the same names as in the other files of this bundle.",
        "",
    ]
    if assembly.validation_report is None:
        lines += [
            "**cdk-nag did not run** when this assembly was synthesized (there is no "
            "`validation-report.json` in it), so the findings are unknown. The acknowledgements "
            "recorded in the templates' metadata are listed below.",
            "",
        ]
        rows = [
            (path, identifier, reason)
            for stack in assembly.stacks
            for path, identifier, reason in stack.acknowledgements()
        ]
        lines += [table(["Acknowledged at", "Finding", "Reason"], sorted(rows)), ""]
        return "\n".join(lines)
    found = findings(assembly)
    by_group: dict[str, list[Finding]] = defaultdict(list)
    for finding in found:
        stack = stack_of_path(assembly, finding.construct_path)
        by_group[stack.environment if stack and stack.environment else OUTSIDE].append(finding)
    groups = [name for name in assembly.environments if name in by_group] + ([OUTSIDE] if OUTSIDE in by_group else [])
    packs = sorted({finding.pack for finding in found}) or [
        str(plugin.get("pluginName")) for plugin in assembly.validation_report.get("pluginReports", [])
    ]
    open_count = sum(1 for finding in found if not finding.acknowledged)
    lines += [
        f"**{open_count} open finding(s)**, {len(found) - open_count} acknowledged, across "
        f"{len(packs)} packs ({', '.join(packs)}).",
        "",
        "## Totals",
        "",
        table(
            ["Where", *[f"{pack} (open / acknowledged)" for pack in packs]],
            [
                (
                    group,
                    *(
                        f"{_count(by_group[group], pack, False)} / {_count(by_group[group], pack, True)}"
                        for pack in packs
                    ),
                )
                for group in groups
            ],
        ),
        "",
    ]
    for group in groups:
        title = f"Environment `{group}`" if group != OUTSIDE else "Stacks outside the environments"
        lines += [f"## {title}", ""]
        for pack in packs:
            items = [finding for finding in by_group[group] if finding.pack == pack]
            if not items:
                continue
            lines += [f"### {pack}", ""]
            opened = [finding for finding in items if not finding.acknowledged]
            if opened:
                lines += [
                    "**Open (not acknowledged):**",
                    "",
                    table(
                        ["Rule", "Resource", "What the rule checks"],
                        [(f.rule, f.construct_path, f.description) for f in opened],
                    ),
                    "",
                ]
            acknowledged = [finding for finding in items if finding.acknowledged]
            if acknowledged:
                descriptions = {finding.rule.split("[")[0]: finding.description for finding in acknowledged}
                lines += [
                    table(
                        ["Rule", "Resource", "Why it is acceptable", "Acknowledged at"],
                        [(f.rule, f.construct_path, f.reason, f.acknowledged_at) for f in acknowledged],
                    ),
                    "",
                    "What these rules check:",
                    "",
                ]
                lines += [f"- `{rule}`: {text}" for rule, text in sorted(descriptions.items())]
                lines += [""]
    unused = unused_acknowledgements(assembly, found)
    lines += ["## Acknowledgements that matched no finding", ""]
    if unused:
        lines += [
            "These exceptions are recorded but nothing needed them; they should be removed.",
            "",
            table(["Acknowledged at", "Finding", "Reason"], unused),
            "",
        ]
    else:
        lines += ["None: every acknowledgement in the templates is used by a finding above.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _count(items: list[Finding], pack: str, acknowledged: bool) -> int:
    return Counter((f.pack, f.acknowledged) for f in items)[(pack, acknowledged)]
