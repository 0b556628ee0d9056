"""Read a synthesized CDK cloud assembly (``cdk.out/``): its stacks, templates and nag report.

A cloud assembly is a directory with a ``manifest.json`` listing artifacts: CloudFormation
stacks (template file, tags, target account/region, metadata) and nested assemblies, one
per CDK stage (``assembly-Prod/``), which have their own manifest. Nothing here knows the
project's stacks: stacks are grouped into environments by their ``environment`` tag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from inference_core.naming import ENVIRONMENT_TAG, MODEL_TAG

STACK = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
VALIDATION_REPORT = "validation-report.json"
# Environments in the order changes travel through them; others follow alphabetically.
PROMOTION_ORDER = ("sandbox", "dev", "development", "test", "qa", "staging", "preprod", "prod", "production")


class AssemblyError(RuntimeError):
    """The directory is not a readable cloud assembly (run `make synth` first)."""


@dataclass
class Stack:
    """One CloudFormation stack of the assembly."""

    artifact_id: str
    display_name: str  # construct path, e.g. "Prod/ModelIris" or "Pipeline/Prod/ModelIris"
    stack_name: str  # the CloudFormation name, e.g. "Prod-ModelIris"
    template_path: Path
    target: str  # "aws://<account>/<region>", with unknown-account / unknown-region when agnostic
    tags: dict[str, str]
    termination_protection: bool
    metadata: dict[str, list[dict[str, Any]]] = field(repr=False)

    @cached_property
    def template(self) -> dict[str, Any]:
        return json.loads(self.template_path.read_text())

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Outputs", {})

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Parameters", {})

    @property
    def template_bytes(self) -> int:
        """The size CloudFormation sees: the CLI uploads the file as written."""
        return self.template_path.stat().st_size

    @property
    def environment(self) -> str | None:
        return self.tags.get(ENVIRONMENT_TAG)

    @property
    def model(self) -> str | None:
        return self.tags.get(MODEL_TAG)

    @property
    def account(self) -> str | None:
        account = self.target.removeprefix("aws://").split("/")[0]
        return None if not account or account.startswith("unknown") else account

    @property
    def region(self) -> str | None:
        parts = self.target.removeprefix("aws://").split("/")
        region = parts[1] if len(parts) > 1 else ""
        return None if not region or region.startswith("unknown") else region

    @property
    def short_name(self) -> str:
        """The stack's id inside its stage, e.g. ``ModelIris`` (the same in every environment)."""
        return self.display_name.rsplit("/", 1)[-1]

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value.get("Type") == resource_type}

    @cached_property
    def construct_paths(self) -> dict[str, str]:
        """Logical id -> construct path inside the stack (``Realtime/Endpoint``).

        From the assembly metadata (always written), else the template's ``aws:cdk:path``
        (written by the CLI only); CDK's ``/Resource`` and ``/Default`` leaf ids are dropped.
        """
        paths: dict[str, str] = {}
        prefix = f"/{self.display_name}/"
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                    paths[entry["data"]] = _tidy(path.removeprefix(prefix))
        for logical_id, resource in self.resources.items():
            cdk_path = resource.get("Metadata", {}).get("aws:cdk:path")
            if logical_id not in paths and isinstance(cdk_path, str):
                paths[logical_id] = _tidy(cdk_path.removeprefix(prefix[1:]))
        return paths

    def path_of(self, logical_id: str) -> str:
        return self.construct_paths.get(logical_id, logical_id)

    def acknowledgements(self) -> list[tuple[str, str, str]]:
        """``(construct path, finding id, reason)`` recorded in this stack's metadata."""
        found = []
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules" and isinstance(entry.get("data"), dict):
                    for finding, reason in entry["data"].items():
                        found.append((path.lstrip("/"), finding, str(reason)))
        return found


def _tidy(path: str) -> str:
    for leaf in ("/Resource", "/Default"):
        path = path.removesuffix(leaf)
    return path


@dataclass
class Assembly:
    """Every stack of a cloud assembly, nested stage assemblies included."""

    directory: Path
    stacks: list[Stack]
    validation_report: dict[str, Any] | None

    @classmethod
    def load(cls, directory: Path | str) -> Assembly:
        directory = Path(directory)
        if not (directory / "manifest.json").is_file():
            raise AssemblyError(f"{directory}/manifest.json not found: run `make synth` first")
        stacks: list[Stack] = []
        _collect(directory, stacks)
        report_file = directory / VALIDATION_REPORT
        report = json.loads(report_file.read_text()) if report_file.is_file() else None
        return cls(directory=directory, stacks=stacks, validation_report=report)

    @property
    def environments(self) -> list[str]:
        """Environment names (the stacks' ``environment`` tag), in promotion order."""
        names = {stack.environment for stack in self.stacks if stack.environment}
        return sorted(names, key=environment_sort_key)

    def stacks_of(self, environment: str) -> list[Stack]:
        return sorted(
            (stack for stack in self.stacks if stack.environment == environment),
            key=lambda stack: (stack.model is not None, stack.display_name),
        )

    @property
    def other_stacks(self) -> list[Stack]:
        """Stacks outside any environment, such as the delivery pipeline."""
        return [stack for stack in self.stacks if not stack.environment]

    def stack_by_name(self, stack_name: str) -> Stack | None:
        return next((stack for stack in self.stacks if stack.stack_name == stack_name), None)

    @cached_property
    def exports(self) -> dict[str, tuple[Stack, str]]:
        """Export name -> (exporting stack, output id), to follow cross-stack references."""
        found = {}
        for stack in self.stacks:
            for output_id, output in stack.outputs.items():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    found[name] = (stack, output_id)
        return found


def environment_sort_key(name: str) -> tuple[int, str]:
    return (PROMOTION_ORDER.index(name) if name in PROMOTION_ORDER else len(PROMOTION_ORDER), name)


def _collect(directory: Path, stacks: list[Stack]) -> None:
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        properties = artifact.get("properties", {})
        if artifact.get("type") == NESTED_ASSEMBLY:
            _collect(directory / properties["directoryName"], stacks)
        elif artifact.get("type") == STACK:
            metadata = dict(artifact.get("metadata", {}))
            extra = artifact.get("additionalMetadataFile")
            if extra and (directory / extra).is_file():
                metadata.update(json.loads((directory / extra).read_text()))
            stacks.append(
                Stack(
                    artifact_id=artifact_id,
                    display_name=artifact.get("displayName", artifact_id),
                    stack_name=properties.get("stackName", artifact_id),
                    template_path=directory / properties["templateFile"],
                    target=artifact.get("environment", "aws://unknown-account/unknown-region"),
                    tags=dict(properties.get("tags", {})),
                    termination_protection=bool(properties.get("terminationProtection", False)),
                    metadata=metadata,
                )
            )
