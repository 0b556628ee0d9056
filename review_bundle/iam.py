"""``iam.md``: every IAM statement, grouped by the role that gets it, then every resource policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from review_bundle.assembly import Assembly, Stack
from review_bundle.template import Renderer, code, friendly_type, references, table

ROLE = "AWS::IAM::Role"
IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
# Resource policies: type -> (property holding the document, property naming what it protects;
# None when the policy is part of the resource itself).
RESOURCE_POLICIES = {
    "AWS::KMS::Key": ("KeyPolicy", None),
    "AWS::S3::BucketPolicy": ("PolicyDocument", "Bucket"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", "Topics"),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", "Queues"),
    "AWS::ECR::Repository": ("RepositoryPolicyText", None),
    "AWS::Events::EventBusPolicy": ("Statement", "EventBusName"),
}


@dataclass
class Statement:
    source: str  # where it is written: "inline policy X", "policy Model/ExecutionRole/DefaultPolicy"
    effect: str
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    principals: str
    conditions: str
    sid: str


@dataclass
class RoleStatements:
    stack: Stack
    logical_id: str
    path: str
    description: str
    trust: list[Statement] = field(default_factory=list)
    managed_policies: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)


def statements_of(render: Renderer, document: Any, source: str) -> list[Statement]:
    """The statements of a policy document (one statement or a list), rendered."""
    if not isinstance(document, dict):
        return []
    raw = document.get("Statement", [])
    raw = raw if isinstance(raw, list) else [raw]
    found = []
    for statement in raw:
        if not isinstance(statement, dict):
            continue
        found.append(
            Statement(
                source=source,
                effect=str(statement.get("Effect", "?")),
                actions=_strings(render, statement.get("Action")),
                not_actions=_strings(render, statement.get("NotAction")),
                resources=_strings(render, statement.get("Resource")) or _strings(render, statement.get("NotResource")),
                principals=principal_text(render.value(statement["Principal"])) if "Principal" in statement else "",
                conditions=render.text(statement["Condition"]) if "Condition" in statement else "",
                sid=str(statement.get("Sid", "")),
            )
        )
    return found


def principal_text(principal: Any) -> str:
    """``{"Service": "sagemaker.amazonaws.com"}`` -> ``service sagemaker.amazonaws.com``."""
    if principal == "*":
        return "anyone (*)"
    if not isinstance(principal, dict):
        return str(principal)
    kinds = {"Service": "service", "AWS": "AWS principal", "Federated": "federated", "CanonicalUser": "canonical user"}
    parts = []
    for kind, value in principal.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append("anyone (*)" if item == "*" else f"{kinds.get(kind, kind)} {item}")
    return ", ".join(parts)


def _strings(render: Renderer, value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [render.text(item) for item in items]


def roles_of(assembly: Assembly, stack: Stack) -> list[RoleStatements]:
    """Every role of ``stack`` with its trust policy and every statement granted to it."""
    render = Renderer(stack, assembly)
    roles: dict[str, RoleStatements] = {}
    for logical_id, role in stack.resources_of_type(ROLE).items():
        properties = role.get("Properties", {})
        entry = RoleStatements(
            stack=stack,
            logical_id=logical_id,
            path=stack.path_of(logical_id),
            description=str(properties.get("Description", "")),
            trust=statements_of(render, properties.get("AssumeRolePolicyDocument"), "trust policy"),
            managed_policies=_strings(render, properties.get("ManagedPolicyArns")),
        )
        for policy in properties.get("Policies", []):
            entry.statements += statements_of(
                render, policy.get("PolicyDocument"), f"inline policy {render.text(policy.get('PolicyName'))}"
            )
        roles[logical_id] = entry
    for logical_id, policy in stack.resources.items():
        if policy.get("Type") not in IDENTITY_POLICIES:
            continue
        properties = policy.get("Properties", {})
        source = f"{friendly_type(policy['Type'])} {stack.path_of(logical_id)}"
        statements = statements_of(render, properties.get("PolicyDocument"), source)
        attached = [role_id for role_id in sorted(references(properties.get("Roles", []))) if role_id in roles]
        for role_id in attached:
            roles[role_id].statements += statements
        others = [render.text(role) for role in properties.get("Roles", []) if not (references(role) & set(roles))]
        others += [f"user {render.text(user)}" for user in properties.get("Users", [])]
        others += [f"group {render.text(group)}" for group in properties.get("Groups", [])]
        for other in others:
            key = f"external:{other}"
            roles.setdefault(
                key,
                RoleStatements(stack, key, f"{other} (defined outside this stack)", "", []),
            ).statements += statements
        if not attached and not others:
            key = f"unattached:{logical_id}"
            roles[key] = RoleStatements(stack, key, f"{source} (attached to no principal)", "", statements=statements)
    return sorted(roles.values(), key=lambda role: role.path)


def resource_policies_of(assembly: Assembly, stack: Stack) -> list[tuple[str, str, list[Statement]]]:
    """``(resource path, kind, statements)`` for every resource policy of ``stack``."""
    render = Renderer(stack, assembly)
    found = []
    for logical_id, resource in sorted(stack.resources.items(), key=lambda item: stack.path_of(item[0])):
        key, target_key = RESOURCE_POLICIES.get(resource.get("Type", ""), (None, None))
        if key is None or key not in resource.get("Properties", {}):
            continue
        properties = resource["Properties"]
        document = properties[key] if key != "Statement" else {"Statement": properties[key]}
        if target_key is None:
            what = stack.path_of(logical_id)
        else:
            target = properties.get(target_key)
            targets = [stack.path_of(ref) for ref in sorted(references(target))]
            what = ", ".join(targets) or render.text(target)
        found.append(
            (what, friendly_type(resource["Type"]), statements_of(render, document, stack.path_of(logical_id)))
        )
    return found


def flags(statement: Statement) -> list[str]:
    """What a reviewer should look at twice."""
    found = []
    if statement.effect == "Allow":
        if any(action == "*" or action.endswith(":*") for action in statement.actions):
            found.append("all actions of a service")
        elif any("*" in action for action in statement.actions):
            found.append("action wildcard")
        if "*" in statement.resources:
            found.append("any resource")
        elif any("*" in resource for resource in statement.resources):
            found.append("resource wildcard")
        if statement.not_actions:
            found.append("NotAction")
        if "anyone (*)" in statement.principals:
            found.append("any principal")
    return found


def iam_report(assembly: Assembly) -> str:
    groups = [(f"Environment `{name}`", assembly.stacks_of(name)) for name in assembly.environments]
    if assembly.other_stacks:
        groups.append(("Stacks outside the environments", assembly.other_stacks))
    total = sum(len(role.statements) for _, stacks in groups for stack in stacks for role in roles_of(assembly, stack))
    lines = [
        "# Permissions (IAM)",
        "",
        "Every permission the templates grant. An IAM *role* is an identity that an AWS service "
        "(SageMaker, Step Functions, CodeBuild, ...) takes on to act; each statement *allows* (or "
        "denies) some *actions* on some *resources*, optionally under *conditions*. "
        "`${...}` stands for a value known only at deploy time, such as the account id or another "
        "resource's name. The *Check* column marks wildcards: each is acknowledged with a reason in "
        "[findings.md](findings.md).",
        "",
        f"{total} statements granted to roles in total. Resource policies (who may use a key, bucket "
        "or topic) follow the roles of each environment.",
        "",
    ]
    for title, stacks in groups:
        lines += [f"## {title}", ""]
        for stack in stacks:
            for role in roles_of(assembly, stack):
                lines += _role(role)
        resource_rows = [
            (what, kind, statement)
            for stack in stacks
            for what, kind, statements in resource_policies_of(assembly, stack)
            for statement in statements
        ]
        if resource_rows:
            lines += [
                f"### Resource policies ({title.lower()})",
                "",
                table(
                    ["Resource", "Kind", "Effect", "Principal", "Actions", "Resources", "Conditions"],
                    [
                        (
                            what,
                            kind,
                            s.effect,
                            s.principals,
                            "<br>".join(s.actions or [f"NOT {a}" for a in s.not_actions]),
                            "<br>".join(s.resources),
                            s.conditions,
                        )
                        for what, kind, s in resource_rows
                    ],
                ),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def _role(role: RoleStatements) -> list[str]:
    trusted = "; ".join(f"{s.principals} ({', '.join(s.actions)})" for s in role.trust) or "n/a"
    lines = [f"### Role {code(role.path)} in {role.stack.stack_name}", ""]
    if role.description:
        lines += [f"{role.description}.", ""]
    lines += [f"- Who can take on this role: {trusted}"]
    if role.managed_policies:
        lines += [f"- AWS managed policies attached: {', '.join(code(arn) for arn in role.managed_policies)}"]
    lines += [f"- Statements: {len(role.statements)}", ""]
    if role.statements:
        rows = [
            (
                index + 1,
                s.effect,
                "<br>".join(s.actions) or "NOT " + ", ".join(s.not_actions),
                "<br>".join(s.resources),
                s.conditions or "-",
                ", ".join(flags(s)) or "-",
                s.source,
            )
            for index, s in enumerate(role.statements)
        ]
        rendered = table(["#", "Effect", "Actions", "Resources", "Conditions", "Check", "Granted by"], rows)
        lines += [rendered, ""]
    return lines
