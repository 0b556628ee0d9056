"""Make CloudFormation values readable: intrinsic functions rendered as text, references
followed across stacks, resource types given plain names, and Markdown that stays a table.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from review_bundle.assembly import Assembly, Stack

# Plain names for the resource types a reviewer meets here; others show their type.
FRIENDLY_TYPES = {
    "AWS::SageMaker::Model": "SageMaker model",
    "AWS::SageMaker::EndpointConfig": "SageMaker endpoint configuration",
    "AWS::SageMaker::Endpoint": "SageMaker endpoint",
    "AWS::ApplicationAutoScaling::ScalableTarget": "Autoscaling target",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "Autoscaling policy",
    "AWS::IAM::Role": "IAM role",
    "AWS::IAM::Policy": "IAM policy",
    "AWS::IAM::ManagedPolicy": "IAM managed policy",
    "AWS::KMS::Key": "KMS key",
    "AWS::KMS::Alias": "KMS key alias",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::S3::BucketPolicy": "S3 bucket policy",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::SNS::TopicPolicy": "SNS topic policy",
    "AWS::SNS::Subscription": "SNS subscription",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::SQS::QueuePolicy": "SQS queue policy",
    "AWS::StepFunctions::StateMachine": "Step Functions state machine",
    "AWS::Events::Rule": "EventBridge rule",
    "AWS::Scheduler::Schedule": "EventBridge schedule",
    "AWS::CloudWatch::Alarm": "CloudWatch alarm",
    "AWS::CloudWatch::Dashboard": "CloudWatch dashboard",
    "AWS::Logs::LogGroup": "CloudWatch log group",
    "AWS::EC2::VPCEndpoint": "VPC endpoint",
    "AWS::EC2::SecurityGroup": "Security group",
    "AWS::CodePipeline::Pipeline": "CodePipeline pipeline",
    "AWS::CodeBuild::Project": "CodeBuild project",
    "AWS::Lambda::Function": "Lambda function",
}

_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")


def friendly_type(resource_type: str) -> str:
    return FRIENDLY_TYPES.get(resource_type, resource_type.removeprefix("AWS::"))


class Renderer:
    """Renders values of one stack's template as text a person can read.

    ``{"Ref": "AWS::Region"}`` becomes ``${AWS::Region}``; a reference to a resource becomes
    ``${<construct path>}`` (``${Realtime/Endpoint.EndpointName}`` for an attribute); an
    import from another stack becomes ``${<stack>:<construct path>.<attribute>}``.
    """

    def __init__(self, stack: Stack, assembly: Assembly | None = None) -> None:
        self.stack = stack
        self.assembly = assembly

    def text(self, value: Any) -> str:
        """Any template value as one line of text."""
        rendered = self.value(value)
        if isinstance(rendered, str):
            return rendered
        return json.dumps(rendered, sort_keys=True)

    def value(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by text."""
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, argument)
        return {key: self.value(item) for key, item in value.items()}

    def _intrinsic(self, key: str, argument: Any) -> str:
        if key == "Ref":
            return f"${{{self._name(argument)}}}"
        if key == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return f"${{{self._name(logical_id)}.{self.text(attribute)}}}"
        if key == "Fn::Join":
            separator, parts = argument
            return self.text(separator).join(self.text(part) for part in parts)
        if key == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            return _PLACEHOLDER.sub(
                lambda match: self._substitution(match.group(1), variables),
                template,
            )
        if key == "Fn::ImportValue":
            return self._import(self.text(argument))
        if key == "Fn::FindInMap":
            return self._find_in_map(argument)
        arguments = ", ".join(self.text(item) for item in (argument if isinstance(argument, list) else [argument]))
        return f"{key.removeprefix('Fn::')}({arguments})"

    def _substitution(self, name: str, variables: dict[str, Any]) -> str:
        if name in variables:
            return self.text(variables[name])
        logical_id, _, attribute = name.partition(".")
        return f"${{{self._name(logical_id)}{'.' + attribute if attribute else ''}}}"

    def _name(self, logical_id: str) -> str:
        return logical_id if logical_id.startswith("AWS::") else self.stack.path_of(logical_id)

    def _import(self, export_name: str) -> str:
        if self.assembly is not None and export_name in self.assembly.exports:
            exporter, output_id = self.assembly.exports[export_name]
            value = Renderer(exporter, self.assembly).text(exporter.outputs[output_id].get("Value"))
            inner = value[2:-1] if value.startswith("${") and value.endswith("}") else value
            return f"${{{exporter.stack_name}:{inner}}}"
        return f"${{import {export_name}}}"

    def _find_in_map(self, argument: list[Any]) -> str:
        name, first, second = argument
        mapping = self.stack.template.get("Mappings", {}).get(name, {})
        if isinstance(first, dict) and first == {"Ref": "AWS::Region"} and self.stack.region:
            first = self.stack.region
        if isinstance(first, str) and isinstance(second, str) and first in mapping:
            return str(mapping[first].get(second, f"{name}[{first}].{second}"))
        return f"${{{name}[{self.text(first)}].{self.text(second)}}}"


def references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) ``value`` refers to, at any depth."""
    found: set[str] = set()
    for key, argument in _intrinsics(value):
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0])
        elif key == "Fn::Sub":
            template = argument if isinstance(argument, str) else argument[0]
            variables = {} if isinstance(argument, str) else argument[1]
            found.update(
                match.group(1).split(".", 1)[0]
                for match in _PLACEHOLDER.finditer(template)
                if match.group(1) not in variables
            )
    return {name for name in found if not name.startswith("AWS::")}


def imports(value: Any) -> set[str]:
    """Export names ``value`` imports from other stacks."""
    return {argument for key, argument in _intrinsics(value) if key == "Fn::ImportValue" and isinstance(argument, str)}


def _intrinsics(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _intrinsics(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" or key.startswith("Fn::"):
                yield key, item
            yield from _intrinsics(item)


def as_int(value: Any) -> int | None:
    """A literal number from a template, or ``None`` when it is a reference."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# --- Markdown ----------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """Text shown as is inside a Markdown table cell; ``<br>`` breaks the line.

    HTML is escaped (finding ids such as ``<AWS::Region>`` would vanish as unknown tags) and
    so is Markdown emphasis (``dev-*:log-stream:*`` would turn italic).
    """
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = html.escape(text, quote=False).replace("&lt;br&gt;", "<br>").replace("\\", "\\\\")
    for character in "*_|`":
        text = text.replace(character, "\\" + character)
    return text.replace("\n", "<br>") or " "


def code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"`{text}`" if "`" not in text else f"``{text}``"


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    headers = list(headers)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def anchor(text: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-")
