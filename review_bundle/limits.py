"""``limits.md``: each template against CloudFormation's per-stack quotas."""

from __future__ import annotations

from dataclasses import dataclass

from review_bundle.assembly import Assembly, Stack
from review_bundle.template import table

# CloudFormation quotas (AWS CloudFormation User Guide, "CloudFormation quotas").
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_MAPPINGS = 200
MAX_TEMPLATE_BYTES_S3 = 1_000_000  # template uploaded to S3 and passed as TemplateURL
MAX_TEMPLATE_BYTES_INLINE = 51_200  # template passed in the API call itself (TemplateBody)
WARN_AT = 0.8  # flag a stack once it uses 80% of any quota


@dataclass(frozen=True)
class Usage:
    stack: Stack
    resources: int
    outputs: int
    parameters: int
    mappings: int
    template_bytes: int

    @property
    def ratios(self) -> dict[str, float]:
        return {
            "resources": self.resources / MAX_RESOURCES,
            "outputs": self.outputs / MAX_OUTPUTS,
            "parameters": self.parameters / MAX_PARAMETERS,
            "mappings": self.mappings / MAX_MAPPINGS,
            "template size": self.template_bytes / MAX_TEMPLATE_BYTES_S3,
        }

    @property
    def status(self) -> str:
        worst = max(self.ratios.values())
        if worst > 1:
            return "OVER a limit: " + ", ".join(name for name, ratio in self.ratios.items() if ratio > 1)
        if worst >= WARN_AT:
            return "near a limit: " + ", ".join(name for name, ratio in self.ratios.items() if ratio >= WARN_AT)
        return "ok"


def usage(stack: Stack) -> Usage:
    return Usage(
        stack=stack,
        resources=len(stack.resources),
        outputs=len(stack.outputs),
        parameters=len(stack.parameters),
        mappings=len(stack.template.get("Mappings", {})),
        template_bytes=stack.template_bytes,
    )


def limits_report(assembly: Assembly) -> str:
    stacks = [stack for name in assembly.environments for stack in assembly.stacks_of(name)] + assembly.other_stacks
    usages = [usage(stack) for stack in stacks]
    lines = [
        "# CloudFormation limits",
        "",
        "Each stack is one CloudFormation template, and CloudFormation refuses a template over its "
        f"quotas: {MAX_RESOURCES} resources, {MAX_OUTPUTS} outputs, {MAX_PARAMETERS} parameters and "
        f"{MAX_MAPPINGS} mappings per stack, and a template size of {MAX_TEMPLATE_BYTES_S3:,} bytes (1 MB) "
        f"when the template is read from S3 or {MAX_TEMPLATE_BYTES_INLINE:,} bytes when it is sent in the "
        "API call itself.",
        "",
        "**Which size limit applies.** `cdk deploy` uploads every template to the CDK bootstrap bucket "
        "and hands CloudFormation its S3 URL (the `stackTemplateAssetObjectUrl` in the assembly), so the "
        "1 MB limit is the one that counts. The 51,200-byte limit only matters if a template is deployed "
        "some other way with the body inline (for example `aws cloudformation deploy` without "
        "`--s3-bucket`); the last column says whether that would still work.",
        "",
        "Each model has its own stack, so these limits apply per model, not per environment. "
        f"A stack using {int(WARN_AT * 100)}% or more of any quota is flagged.",
        "",
        table(
            [
                "Stack",
                "Environment",
                f"Resources (of {MAX_RESOURCES})",
                f"Outputs (of {MAX_OUTPUTS})",
                f"Parameters (of {MAX_PARAMETERS})",
                f"Mappings (of {MAX_MAPPINGS})",
                "Template bytes (of 1,000,000)",
                "Fits inline (51,200)",
                "Status",
            ],
            [
                (
                    u.stack.stack_name,
                    u.stack.environment or "-",
                    f"{u.resources} ({_percent(u.resources, MAX_RESOURCES)})",
                    f"{u.outputs} ({_percent(u.outputs, MAX_OUTPUTS)})",
                    f"{u.parameters} ({_percent(u.parameters, MAX_PARAMETERS)})",
                    f"{u.mappings} ({_percent(u.mappings, MAX_MAPPINGS)})",
                    f"{u.template_bytes:,} ({_percent(u.template_bytes, MAX_TEMPLATE_BYTES_S3)})",
                    "yes" if u.template_bytes <= MAX_TEMPLATE_BYTES_INLINE else "no (S3 upload needed)",
                    u.status,
                )
                for u in usages
            ],
        ),
        "",
    ]
    if usages:
        largest = max(usages, key=lambda u: max(u.ratios.values()))
        name, ratio = max(largest.ratios.items(), key=lambda item: item[1])
        lines += [
            f"Closest to a limit: {largest.stack.stack_name}, at {ratio:.1%} of its {name} quota.",
            "",
        ]
    return "\n".join(lines)


def _percent(value: int, limit: int) -> str:
    return f"{value / limit:.1%}"
