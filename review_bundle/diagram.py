"""``diagrams/<environment>.svg``: an architecture diagram generated from the synthesized templates.

The layout is Graphviz's ``dot``, run as WebAssembly by ``@viz-js/viz`` from the repository's
pinned npm packages (``render_svg.mjs``): no Graphviz binary, no network. Each stack is a box,
each mode a box inside its model's stack; an arrow means "refers to" (uses, writes to, is
encrypted with). Policies, aliases, alarms and other plumbing are left out of the picture
and listed in the environment's summary instead.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference_core.modes import registered
from review_bundle.assembly import Assembly, Stack
from review_bundle.modes import ASYNC, BATCH, deployments, endpoint_mode, mode_title
from review_bundle.template import Renderer, friendly_type, imports, references

RENDERER = Path(__file__).with_name("render_svg.mjs")
DRAWN_TYPES = {
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::StepFunctions::StateMachine",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::Lambda::Function",
    "AWS::EC2::VPCEndpoint",
    "AWS::CodePipeline::Pipeline",
    "AWS::CodeBuild::Project",
    "AWS::CloudWatch::Dashboard",
}
# Fill colours by family, so a reader can tell compute from storage at a glance.
COLOURS = {
    "SageMaker": "#fde4cf",
    "ApplicationAutoScaling": "#dbeafe",
    "IAM": "#fee2e2",
    "KMS": "#fee2e2",
    "S3": "#dcfce7",
    "SNS": "#fce7f3",
    "SQS": "#fce7f3",
    "StepFunctions": "#ede9fe",
    "Events": "#ede9fe",
    "Scheduler": "#ede9fe",
}
# Arrow labels, by the property holding the reference.
EDGE_LABELS = {
    "KmsKeyId": "encrypted with",
    "KmsMasterKeyId": "encrypted with",
    "KMSMasterKeyID": "encrypted with",
    "VolumeKmsKeyId": "encrypted with",
    "ExecutionRoleArn": "runs as",
    "RoleArn": "runs as",
    "ModelName": "serves",
    "EndpointConfigName": "configured by",
    "SuccessTopic": "notifies",
    "ErrorTopic": "notifies",
    "S3OutputPath": "writes results to",
    "S3FailurePath": "writes failures to",
    "DestinationS3Uri": "captures data to",
    "DestinationBucketName": "access logs to",
    "S3Uri": "reads",
    "Arn": "starts",
    "AlarmActions": "alerts",
}
GENERIC_LEAVES = ("Bucket", "Topic", "Key", "Queue", "Resource", "Default", "Role", "StateMachine", "Rule")


@dataclass(frozen=True)
class Node:
    key: str  # "<stack artifact id>.<logical id>"
    kind: str
    label: str
    colour: str


def _key(stack: Stack, logical_id: str) -> str:
    return f"{stack.artifact_id}.{logical_id}"


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def environment_dot(assembly: Assembly, environment: str) -> str:
    stacks = assembly.stacks_of(environment)
    served = {deployment.stack.artifact_id: deployment for deployment in deployments(assembly, environment)}
    title = (
        f"Environment {environment}, drawn from the synthesized templates\n"
        "An arrow points from a resource to what it uses; dashed red: encrypted with the KMS key"
    )
    lines = [
        "digraph architecture {",
        f"  graph [label={quote(title)}, "
        'labelloc=t, fontsize=16, fontname="Helvetica", rankdir=LR, nodesep=0.35, ranksep=0.8, '
        "newrank=true, compound=true, pad=0.3];",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.2,0.08"];',
        '  edge [color="#555555", arrowsize=0.7, fontname="Helvetica"];',
    ]
    drawn: dict[str, Node] = {}
    for stack in stacks:
        render = Renderer(stack, assembly)
        deployment = served.get(stack.artifact_id)
        title = f"{stack.stack_name}: model {deployment.name}" if deployment else f"{stack.stack_name}: shared"
        lines += [f"  subgraph {quote('cluster_' + stack.artifact_id)} {{", f"    label={quote(title)};"]
        lines += ['    style="rounded"; color="#888888"; fontsize=13;']
        groups: dict[str, list[str]] = {}
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") not in DRAWN_TYPES:
                continue
            node = Node(
                _key(stack, logical_id),
                resource["Type"],
                _label(stack, render, logical_id, resource),
                _colour(resource),
            )
            drawn[node.key] = node
            groups.setdefault(_group(stack, logical_id, deployment), []).append(node.key)
        for group, keys in sorted(groups.items()):
            indent = "    "
            if group:
                lines += [
                    f"    subgraph {quote('cluster_' + stack.artifact_id + '_' + group)} {{",
                    f'      label={quote(group)}; style="rounded,filled"; '
                    f'fillcolor={quote(_group_colour(group))}; color="#bbbbbb";',
                ]
                indent = "      "
            for key in keys:
                node = drawn[key]
                lines.append(f"{indent}{quote(key)} [label={quote(node.label)}, fillcolor={quote(node.colour)}];")
            if group:
                lines.append("    }")
        lines.append("  }")
    edges: dict[tuple[str, str], set[str]] = {}
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            source = _key(stack, logical_id)
            if source not in drawn:
                continue
            for target, label in _labelled_references(assembly, stack, resource.get("Properties", {})):
                if target in drawn and target != source:
                    edges.setdefault((source, target), set()).update([label] if label else [])
    for deployment in served.values():
        for endpoint in deployment.endpoints:
            for variant in endpoint.variants:
                for scaling in variant.scaling:
                    source = _key(deployment.stack, scaling.logical_id)
                    target = _key(deployment.stack, endpoint.logical_id or endpoint.config_id)
                    if source in drawn and target in drawn:
                        edges.setdefault((source, target), set()).add("scales")
    for (source, target), labels in sorted(edges.items()):
        attributes = [f"label={quote(', '.join(sorted(labels)))}"] if labels else []
        if drawn[target].kind == "AWS::KMS::Key":
            # Many resources point at the one encryption key: dashed red arrows keep them apart.
            attributes = ["style=dashed", 'color="#b91c1c"']
        attributes.append('fontsize=9, fontcolor="#444444"')
        lines.append(f"  {quote(source)} -> {quote(target)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _labelled_references(assembly: Assembly, stack: Stack, value: Any, key: str = "") -> list[tuple[str, str]]:
    """``(node key, arrow label)`` for each resource ``value`` refers to, in this stack or, through
    an import, in another one; the label comes from the property holding the reference."""
    if isinstance(value, list):
        return [found for item in value for found in _labelled_references(assembly, stack, item, key)]
    if not isinstance(value, dict):
        return []
    if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
        label = EDGE_LABELS.get(key, "")
        found = [(_key(stack, target), label) for target in sorted(references(value))]
        for export in sorted(imports(value)):
            if export in assembly.exports:
                exporter, output_id = assembly.exports[export]
                targets = references(exporter.outputs[output_id].get("Value"))
                found += [(_key(exporter, target), label) for target in sorted(targets)]
        return found
    return [found for child, item in value.items() for found in _labelled_references(assembly, stack, item, child)]


def _group(stack: Stack, logical_id: str, deployment: Any) -> str:
    if deployment is None:
        return ""
    for endpoint in deployment.endpoints:
        if logical_id in endpoint.resources:
            return f"{mode_title(endpoint.mode)} {endpoint.name}"
    for batch in deployment.batches:
        if logical_id in batch.resources:
            return f"{mode_title(BATCH)} {batch.name}"
    return "Model (shared by its modes)"


def _group_colour(group: str) -> str:
    for mode in registered():
        if group.startswith(mode.title):
            return mode.colour
    return "#fafafa"


def _colour(resource: dict[str, Any]) -> str:
    family = str(resource.get("Type", "")).split("::")[1] if "::" in str(resource.get("Type", "")) else ""
    return COLOURS.get(family, "#f3f4f6")


def _name(stack: Stack, logical_id: str) -> str:
    parts = stack.path_of(logical_id).split("/")
    while len(parts) > 1 and parts[-1] in GENERIC_LEAVES:
        parts.pop()
    return "/".join(parts)


def _label(stack: Stack, render: Renderer, logical_id: str, resource: dict[str, Any]) -> str:
    kind = resource.get("Type", "")
    properties = resource.get("Properties", {})
    lines = [friendly_type(kind)]
    if kind == "AWS::SageMaker::Endpoint":
        lines.append(render.text(properties.get("EndpointName", _name(stack, logical_id))))
    elif kind == "AWS::SageMaker::EndpointConfig":
        lines.append(_name(stack, logical_id))
        mode = endpoint_mode(resource)
        for variant in properties.get("ProductionVariants", []):
            if "ServerlessConfig" in variant:
                serverless = variant["ServerlessConfig"]
                lines.append(
                    f"{serverless.get('MemorySizeInMB', '?')} MB, up to {serverless.get('MaxConcurrency', '?')} at once"
                )
            elif "InstanceType" in variant:
                lines.append(f"{render.text(variant['InstanceType'])} x {variant.get('InitialInstanceCount', '?')}")
        if mode == ASYNC:
            lines.append("results to S3, notifications to SNS")
    elif kind == "AWS::ApplicationAutoScaling::ScalableTarget":
        unit = "concurrency" if "ProvisionedConcurrency" in str(properties.get("ScalableDimension")) else "instances"
        lines.append(f"{properties.get('MinCapacity', '?')} to {properties.get('MaxCapacity', '?')} {unit}")
    elif kind == "AWS::SageMaker::Model":
        containers = (
            [properties["PrimaryContainer"]] if "PrimaryContainer" in properties else properties.get("Containers", [])
        )
        if len(containers) > 1:
            lines.append(f"serial pipeline of {len(containers)}:")
        for index, container in enumerate(containers, start=1):
            image = render.text(container.get("Image", "?")).rsplit("/", 1)[-1]
            lines.append(f"{index}. {image}" if len(containers) > 1 else image)
            if container.get("Mode") == "MultiModel":
                lines += ["multi-model endpoint, models under", render.text(container.get("ModelDataUrl", "?"))]
        lines.append("network isolated" if properties.get("EnableNetworkIsolation") is True else "network access")
        if properties.get("VpcConfig"):
            lines.append(f"in a VPC, {len(properties['VpcConfig'].get('Subnets', []))} subnets")
    elif kind == "AWS::KMS::Key":
        aliases = [
            render.text(alias.get("Properties", {}).get("AliasName"))
            for alias in stack.resources_of_type("AWS::KMS::Alias").values()
            if logical_id in references(alias.get("Properties", {}).get("TargetKeyId"))
        ]
        lines += aliases or [_name(stack, logical_id)]
        lines.append("rotation on" if properties.get("EnableKeyRotation") is True else "rotation off")
    elif kind in ("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
        lines.append(_name(stack, logical_id))
        if "ScheduleExpression" in properties:
            lines.append(render.text(properties["ScheduleExpression"]))
        elif "EventPattern" in properties:
            lines.append("on " + ", ".join(map(str, properties["EventPattern"].get("detail-type", ["event"]))))
    else:
        lines.append(_name(stack, logical_id))
    return "\n".join(_shorten(line) for line in lines)


def _shorten(line: str, width: int = 48) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def render_svg(dot: str) -> str:
    """SVG of ``dot``; raises ``RuntimeError`` when Node.js or the renderer is missing."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is not installed; it renders the diagrams (and runs the CDK CLI)")
    result = subprocess.run(  # noqa: S603 - fixed script, DOT on stdin
        [node, str(RENDERER)], input=dot, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"diagram rendering failed (run `npm ci`?): {result.stderr.strip()[:500]}")
    return result.stdout


def pipeline_dots(assembly: Assembly) -> list[Path]:
    """The pipeline graphs CDK Pipelines writes next to the assembly (``<PipelineStack>.dot``)."""
    return sorted(assembly.directory.glob("*.dot"))
