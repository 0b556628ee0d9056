"""CloudFormation's per-stack limits, enforced at synth with an error naming the stack.

Resource, output and parameter counts are checked while the app validates, before any
template is written. The template size is only known once written, so it is checked on the
assembly afterwards; :func:`check_template_sizes` reports the stacks over the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from constructs import IValidation, Node

# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
# Templates above 51,200 bytes are uploaded to S3 by the CDK CLI; 1 MB is the hard limit there.
MAX_TEMPLATE_BYTES = 1_000_000


@dataclass(frozen=True)
class StackCounts:
    resources: int
    outputs: int
    parameters: int


def count_elements(stack: cdk.Stack, node: Node | None = None) -> StackCounts:
    """Count the CloudFormation elements that belong to ``stack`` (not to nested stages or stacks).

    ``find_all`` is one call into CDK; asking each element for its stack would be one more per
    element, so that is done only when ``stack`` holds a nested stack or stage at all.
    """
    constructs = (node or stack.node).find_all()
    nested = any(isinstance(construct, cdk.Stack | cdk.Stage) and construct is not stack for construct in constructs)
    resources = outputs = parameters = 0
    for construct in constructs:
        if not isinstance(construct, cdk.CfnElement) or (nested and cdk.Stack.of(construct) is not stack):
            continue
        if isinstance(construct, cdk.CfnResource):
            resources += 1
        elif isinstance(construct, cdk.CfnOutput):
            outputs += 1
        elif isinstance(construct, cdk.CfnParameter):
            parameters += 1
    return StackCounts(resources, outputs, parameters)


@jsii.implements(IValidation)
class _StackLimitsValidation:
    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        node = self._stack.node
        counts = count_elements(self._stack, node)
        problems = []
        for what, count, limit in (
            ("resources", counts.resources, MAX_RESOURCES),
            ("outputs", counts.outputs, MAX_OUTPUTS),
            ("parameters", counts.parameters, MAX_PARAMETERS),
        ):
            if count > limit:
                problems.append(
                    f"stack {node.path} has {count} {what}; CloudFormation allows at most {limit} per stack. "
                    "Split the models over more stacks or environments."
                )
        return problems


def enforce_cloudformation_limits(stack: cdk.Stack) -> None:
    """Make synth fail, before writing templates, when ``stack`` exceeds CloudFormation's counts."""
    stack.node.add_validation(_StackLimitsValidation(stack))


def check_template_sizes(assembly: cdk.cx_api.CloudAssembly) -> list[str]:
    """Problems for every synthesized template larger than CloudFormation accepts."""
    problems = []
    for stack in assembly.stacks_recursively:
        size = Path(stack.template_full_path).stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            problems.append(
                f"stack {stack.hierarchical_id} template is {size:,} bytes; CloudFormation allows at most "
                f"{MAX_TEMPLATE_BYTES:,}. Split the models over more stacks."
            )
    return problems
