"""``environments/<environment>.md``: what one environment deploys, model by model and mode by mode."""

from __future__ import annotations

from collections import Counter

from inference_core.modes import registered
from review_bundle.assembly import Assembly, Stack
from review_bundle.modes import (
    BATCH,
    SERVERLESS,
    VARIANT_SETTINGS,
    Batch,
    Endpoint,
    ModelDeployment,
    deployments,
    mode_labels,
    mode_of,
    mode_title,
)
from review_bundle.template import Renderer, code, friendly_type, table


def environment_summary(assembly: Assembly, environment: str) -> str:
    stacks = assembly.stacks_of(environment)
    served = deployments(assembly, environment)
    model_stacks = {deployment.stack.artifact_id for deployment in served}
    lines = [f"# Environment `{environment}`", ""]
    lines += [_where(stacks), ""]
    lines += [
        f"Cost floor: [`cost.md`](../cost.md#{environment}) · Permissions: [`iam.md`](../iam.md) · "
        f"Differences: [`diff.md`](../diff.md) · Diagram source: [`{environment}.dot`](../diagrams/{environment}.dot)",
        "",
        f"![Architecture of {environment}](../diagrams/{environment}.svg)",
        "",
        "## Stacks",
        "",
        "Each stack is deployed as one CloudFormation stack (an all-or-nothing unit of change).",
        "",
        table(
            ["Stack", "Resources", "Termination protection", "Tags"],
            [
                (
                    stack.stack_name,
                    len(stack.resources),
                    "on" if stack.termination_protection else "off (can be deleted)",
                    ", ".join(f"{key}={value}" for key, value in sorted(stack.tags.items())),
                )
                for stack in stacks
            ],
        ),
        "",
        "## Models and modes",
        "",
        table(
            ["Model", "Stack", *(mode.title for mode in registered())],
            [
                (
                    deployment.name,
                    deployment.stack.stack_name,
                    *("yes" if m in deployment.modes else "-" for m in mode_labels()),
                )
                for deployment in served
            ],
        )
        if served
        else "No SageMaker models in this environment.",
        "",
    ]
    for stack in stacks:
        if stack.artifact_id not in model_stacks:
            lines += _shared_stack(assembly, stack)
    for deployment in served:
        lines += _model(assembly, deployment)
    return "\n".join(lines).rstrip() + "\n"


def _where(stacks: list[Stack]) -> str:
    accounts = {stack.account for stack in stacks}
    regions = {stack.region for stack in stacks}
    account = ", ".join(sorted(a for a in accounts if a)) or "the account of the credentials used to deploy"
    region = ", ".join(sorted(r for r in regions if r)) or "the region of the credentials used to deploy"
    if None in regions and len(regions) > 1:
        region += " (some stacks: the deploying credentials' region)"
    return f"Deploys to account: {account}; region: {region}."


def _shared_stack(assembly: Assembly, stack: Stack) -> list[str]:
    render = Renderer(stack, assembly)
    counts = Counter(friendly_type(resource.get("Type", "?")) for resource in stack.resources.values())
    lines = [
        f"## Shared resources: {stack.stack_name}",
        "",
        f"Created once per environment for every model ({', '.join(sorted(counts))}). "
        "Resources marked *retained* stay when the stack is deleted, with their data.",
        "",
        table(
            ["Resource", "Kind", "Kept on delete", "Notable settings"],
            [
                (
                    stack.path_of(logical_id),
                    friendly_type(resource.get("Type", "?")),
                    "retained" if resource.get("DeletionPolicy") == "Retain" else "deleted",
                    _notable(render, resource),
                )
                for logical_id, resource in sorted(stack.resources.items(), key=lambda item: stack.path_of(item[0]))
                if resource.get("Type") not in _POLICY_TYPES
            ],
        ),
        "",
        "Totals: " + ", ".join(f"{count} x {kind}" for kind, count in sorted(counts.items())) + ".",
        "",
    ]
    lines += _outputs(render, stack)
    return lines


_POLICY_TYPES = {"AWS::IAM::Policy", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"}


def _notable(render: Renderer, resource: dict) -> str:
    properties = resource.get("Properties", {})
    kind = resource.get("Type")
    notes = []
    if kind == "AWS::KMS::Key":
        notes.append("rotation on" if properties.get("EnableKeyRotation") else "rotation OFF")
    elif kind == "AWS::S3::Bucket":
        encryption = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [{}])
        algorithm = encryption[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "none")
        notes.append(f"encryption {algorithm}")
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            notes.append("versioned")
        if "LoggingConfiguration" in properties:
            notes.append("access logs on")
        public = properties.get("PublicAccessBlockConfiguration", {})
        if public and all(public.values()):
            notes.append("public access blocked")
    elif kind == "AWS::SNS::Topic":
        notes.append(
            f"encrypted with {render.text(properties['KmsMasterKeyId'])}"
            if "KmsMasterKeyId" in properties
            else "not encrypted"
        )
    elif kind == "AWS::KMS::Alias":
        notes.append(render.text(properties.get("AliasName", "")))
    elif kind == "AWS::Logs::LogGroup":
        notes.append(f"kept {properties.get('RetentionInDays', 'forever')} days")
    return ", ".join(notes)


def _outputs(render: Renderer, stack: Stack) -> list[str]:
    outputs = {key: value for key, value in stack.outputs.items() if "Export" not in value}
    if not outputs:
        return []
    return [
        f"Outputs of {stack.stack_name} (what clients and the `python -m inference_platform` commands read):",
        "",
        table(["Output", "Value"], [(key, render.text(value.get("Value"))) for key, value in sorted(outputs.items())]),
        "",
    ]


def _model(assembly: Assembly, deployment: ModelDeployment) -> list[str]:
    stack = deployment.stack
    render = Renderer(stack, assembly)
    unused = [mode_title(mode).lower() for mode in mode_labels() if mode not in deployment.modes]
    lines = [
        f"## Model `{deployment.name}` ({stack.stack_name})",
        "",
        f"Served as: {', '.join(mode_title(mode).lower() for mode in deployment.modes) or 'nothing yet'}."
        + (f" Not served as: {', '.join(unused)}." if unused else ""),
        "",
    ]
    for path, settings in deployment.models.items():
        lines += [f"### SageMaker model {code(path)}", "", table(["Setting", "Value"], settings), ""]
    for endpoint in deployment.endpoints:
        lines += _endpoint(endpoint)
    for batch in deployment.batches:
        lines += _batch(batch)
    for component in deployment.components:
        lines += [
            f"### Inference component {code(component.name)}",
            "",
            table(["Setting", "Value"], component.settings),
            "",
            "Resources created for it:",
            "",
            _resource_table(component.stack, component.resources),
            "",
        ]
    if deployment.shared_resources:
        lines += [
            "### Resources shared by this model's modes",
            "",
            _resource_table(stack, deployment.shared_resources),
            "",
        ]
    lines += _outputs(render, stack)
    return lines


def _endpoint(endpoint: Endpoint) -> list[str]:
    lines = [
        f"### {mode_title(endpoint.mode)} {code(endpoint.name)}",
        "",
        f"*{mode_of(endpoint.mode).meaning}*",
        "",
    ]
    rows: list[tuple[str, str]] = []
    shares = endpoint.traffic_shares if len(endpoint.variants) > 1 else None
    for variant in endpoint.variants:
        prefix = f"Variant {variant.name}: " if len(endpoint.variants) > 1 else ""
        if shares is not None:
            rows.append((f"{prefix}Share of requests", f"{shares[variant.name]:.0%} (weight {variant.weight:g})"))
        if variant.instance_type is not None:
            rows.append((f"{prefix}Instance type", variant.instance_type))
            rows.append((f"{prefix}Instances at creation", _text(variant.initial_instance_count)))
        for key, value in variant.settings.items():
            shown = value.get("RoutingStrategy", "?") if isinstance(value, dict) else _text(value)
            rows.append((f"{prefix}{VARIANT_SETTINGS[key]}", shown))
        if variant.serverless is not None:
            rows.append((f"{prefix}Memory", f"{_text(variant.memory_mb)} MB"))
            rows.append((f"{prefix}Maximum concurrency", _text(variant.max_concurrency)))
            provisioned = variant.serverless.get("ProvisionedConcurrency")
            rows.append((f"{prefix}Provisioned concurrency (kept warm)", _text(provisioned) if provisioned else "none"))
        if variant.managed_scaling is not None:
            rows.append(
                (
                    f"{prefix}Managed instance scaling",
                    f"{_text(variant.min_instances)} to {_text(variant.max_instances)} instances, following the "
                    "inference components' copies",
                )
            )
        elif not variant.scaling:
            rows.append((f"{prefix}Autoscaling", "none: the count stays as created"))
        for scaling in variant.scaling:
            rows.append((f"{prefix}Autoscaling ({scaling.unit})", scaling.bounds))
            rows += [(f"{prefix}Scaling policy", policy) for policy in scaling.policies]
            rows += [(f"{prefix}Scheduled change", action) for action in scaling.scheduled]
    rows += endpoint.async_settings
    if endpoint.mode != SERVERLESS:
        rows.append(("Data capture", endpoint.data_capture or "off"))
    rows += [("Deployment policy", line) for line in endpoint.deployment]
    if endpoint.logical_id is not None and endpoint.mode != SERVERLESS:
        rows.append(
            (
                "Instance count on update",
                "kept (RetainAllVariantProperties)"
                if endpoint.keeps_on_update("DesiredInstanceCount")
                else "reset to the configured count on every update",
            )
        )
        if len(endpoint.variants) > 1:
            rows.append(
                (
                    "Variant weights on update",
                    "kept (RetainAllVariantProperties): a changed weight in the configuration does not shift traffic"
                    if endpoint.keeps_on_update("DesiredWeight")
                    else "set from the configuration on every update",
                )
            )
    lines += [table(["Setting", "Value"], rows), "", "Resources created for it:", ""]
    lines += [_resource_table(endpoint.stack, endpoint.resources), ""]
    return lines


def _batch(batch: Batch) -> list[str]:
    rows = [("Started", trigger) for trigger in batch.triggers] + batch.settings
    return [
        f"### {mode_title(BATCH)} {code(batch.name)}",
        "",
        f"*{mode_of(BATCH).meaning}*",
        "",
        table(["Setting", "Value"], rows),
        "",
        "Resources created for it:",
        "",
        _resource_table(batch.stack, batch.resources),
        "",
    ]


def _resource_table(stack: Stack, logical_ids: list[str]) -> str:
    return table(
        ["Resource", "Kind", "Logical id"],
        [
            (stack.path_of(logical_id), friendly_type(stack.resources[logical_id].get("Type", "?")), logical_id)
            for logical_id in logical_ids
        ],
    )


def _text(value: object) -> str:
    return "?" if value is None else str(value)
