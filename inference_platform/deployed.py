"""Find a deployed environment's resources from its CloudFormation stack outputs.

Clients never guess resource names: the stacks publish what callers need as outputs, and
this module reads them. ``AWS_ENDPOINT_URL`` (boto3) points it at an emulator in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from inference_core.naming import MODEL_TAG, model_stack_name, model_stack_name_prefix, platform_stack_name


class NotDeployedError(RuntimeError):
    """The environment or model has no deployed stack (or lacks an expected output)."""


@dataclass
class DeployedEnvironment:
    """Outputs of one environment's stacks, read with one boto3 session."""

    environment: str
    session: boto3.Session

    @classmethod
    def connect(cls, environment: str, *, region: str | None = None, profile: str | None = None) -> DeployedEnvironment:
        return cls(environment, boto3.Session(region_name=region, profile_name=profile))

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def _outputs(self, stack_name: str) -> dict[str, str]:
        cloudformation = self.client("cloudformation")
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except cloudformation.exceptions.ClientError as error:
            raise NotDeployedError(f"stack {stack_name} is not deployed ({error})") from None
        return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

    def platform_outputs(self) -> dict[str, str]:
        return self._outputs(platform_stack_name(self.environment))

    def model_outputs(self, model: str) -> dict[str, str]:
        return self._outputs(model_stack_name(self.environment, model))

    def models(self) -> list[str]:
        """Names of the models deployed in this environment (from their stacks' tags)."""
        prefix = model_stack_name_prefix(self.environment)
        paginator = self.client("cloudformation").get_paginator("describe_stacks")
        names = []
        for page in paginator.paginate():
            for stack in page["Stacks"]:
                tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}
                if stack["StackName"].startswith(prefix) and MODEL_TAG in tags:
                    names.append(tags[MODEL_TAG])
        return sorted(names)

    def model_outputs_with(self, model: str, *keys: str) -> dict[str, str]:
        """The model stack's outputs, which must include ``keys`` (the outputs of one mode)."""
        outputs = self.model_outputs(model)
        for key in keys:
            if key not in outputs:
                stack = model_stack_name(self.environment, model)
                raise NotDeployedError(f"stack {stack} has no output {key}; is that mode configured and deployed?")
        return outputs
