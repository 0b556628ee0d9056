"""Reading synthesized CloudFormation templates: resources by type, references, and exports.

The rules look at templates as CloudFormation will see them, so they need the few intrinsic
functions CDK writes: ``Ref``, ``Fn::GetAtt`` and, across stacks, ``Fn::ImportValue``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Template = Mapping[str, Any]


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    raw: Mapping[str, Any]


class Templates:
    """Every template of one assembly (or one environment), keyed by a stack name."""

    def __init__(self, templates: Mapping[str, Template]) -> None:
        self.templates = dict(templates)
        self._exports: dict[str, tuple[str, Any]] = {}
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    self._exports[name] = (stack, output["Value"])

    @classmethod
    def from_directory(cls, directory: Path) -> Templates:
        """Every ``*.template.json`` under ``directory`` (a cdk.out), keyed by file name."""
        return cls(
            {
                str(path.relative_to(directory)): json.loads(path.read_text())
                for path in directory.rglob("*.template.json")
            }
        )

    def resources(self, resource_type: str | None = None, *, stack: str | None = None) -> Iterator[Resource]:
        """Every resource (of ``resource_type``; of one ``stack``'s template)."""
        templates = self.templates.items() if stack is None else [(stack, self.templates.get(stack, {}))]
        for name, template in templates:
            for logical_id, resource in template.get("Resources", {}).items():
                if resource_type is None or resource["Type"] == resource_type:
                    yield Resource(name, logical_id, resource["Type"], resource.get("Properties", {}), resource)

    def get(self, stack: str, logical_id: str) -> Resource | None:
        resource = self.templates[stack].get("Resources", {}).get(logical_id)
        if resource is None:
            return None
        return Resource(stack, logical_id, resource["Type"], resource.get("Properties", {}), resource)

    def is_conditional(self, stack: str, logical_id: str) -> bool:
        """Whether the resource is created only under a ``Condition`` (which the rules do not evaluate)."""
        resource = self.templates.get(stack, {}).get("Resources", {}).get(logical_id)
        return isinstance(resource, Mapping) and "Condition" in resource

    def referenced(self, stack: str, value: Any) -> Resource | None:
        """The resource ``value`` points at (``Ref``, ``Fn::GetAtt``, or an import of either from
        another stack), if any."""
        if isinstance(value, Mapping):
            if "Ref" in value:
                return self.get(stack, value["Ref"])
            if "Fn::GetAtt" in value:
                return self.get(stack, value["Fn::GetAtt"][0])
            if "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
                exported = self._exports.get(value["Fn::ImportValue"])
                if exported is not None:
                    return self.referenced(*exported)
        return None


# The shortest text each pseudo parameter resolves to: the shortest partition ("aws"), region
# ("us-east-1" and others of nine characters) and URL suffix ("c2s.ic.gov", aws-iso); account
# ids are 12 digits. Any other reference resolves to at least nothing.
SHORTEST_PSEUDO_VALUES = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "0" * 12,
    "AWS::URLSuffix": "c2s.ic.gov",
}
# What a property, map entry or list item resolving to AWS::NoValue becomes: nothing at all. An
# Fn::If may resolve to it, so one counts as absent too (the least it can be).
_ABSENT = object()


def is_absent_at_deploy(value: Any) -> bool:
    """Whether ``value`` may vanish from the template CloudFormation acts on (``AWS::NoValue``,
    or an ``Fn::If`` that may choose it)."""
    return isinstance(value, Mapping) and (value == {"Ref": "AWS::NoValue"} or set(value) == {"Fn::If"})


def at_shortest(value: Any) -> Any:
    """``value`` with every reference resolved to the shortest text it can take at deploy: pseudo
    parameters at their shortest, any other reference (a resource's name or ARN, an import) as
    nothing, and what may resolve to ``AWS::NoValue`` left out. A length measured on it is a lower
    bound, so a rule judging one never refuses a template that AWS would take."""
    shortest = _shortest(value)
    return "" if shortest is _ABSENT else shortest


def _shortest(value: Any) -> Any:
    if is_absent_at_deploy(value):
        return _ABSENT
    if isinstance(value, Mapping) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return SHORTEST_PSEUDO_VALUES.get(argument, "") if isinstance(argument, str) else ""
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            if isinstance(separator, str) and isinstance(parts, list):
                resolved = [_shortest(part) for part in parts]
                return separator.join(part if isinstance(part, str) else "" for part in resolved)
            return ""
        if isinstance(function, str) and function.startswith("Fn::"):
            return ""
    if isinstance(value, Mapping):
        items = ((key, _shortest(item)) for key, item in value.items())
        return {key: item for key, item in items if item is not _ABSENT}
    if isinstance(value, list):
        return [item for item in map(_shortest, value) if item is not _ABSENT]
    return value


def as_text(value: Any) -> str:
    """JSON text as an API receives it: compact, and with every character as itself (a JSON
    escape such as ``\\u00e9`` would count six characters where AWS counts one)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def statements(policy_document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = policy_document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def service_principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    return as_list(principal.get("Service", [])) if isinstance(principal, Mapping) else []


def actions_match(granted: list[str], action: str) -> bool:
    """Whether an IAM action is among ``granted`` (with ``*`` wildcards, case-insensitive); an action
    made by an intrinsic function is not known to match."""
    return any(isinstance(pattern, str) and fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in granted)
