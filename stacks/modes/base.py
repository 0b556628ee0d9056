"""What the model and monitoring stacks ask of a mode's CDK half: a :class:`ModeUnit`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aws_cdk as cdk
from constructs import Construct

from inference_config.schema import EnvironmentConfig, ModelConfig
from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.inference_model import InferenceModel, ModelServer
from inference_constructs.settings import Settings
from inference_core.modes import Mode
from inference_core.naming import endpoint_name
from inference_core.s3 import data_capture_prefix, model_prefix
from stacks.platform_stack import PlatformResources

SettingsT = TypeVar("SettingsT", bound=Settings)
ConstructT = TypeVar("ConstructT", bound=Construct)


@dataclass(frozen=True)
class ModeContext:
    """What a mode's construct is built from: the model stack, the configs and the platform."""

    stack: cdk.Stack
    environment: EnvironmentConfig
    model: ModelConfig
    platform: PlatformResources
    # Endpoint logs are data: kept unless the environment opts out.
    logs: EndpointLogSettings
    # One description of the model (image, environment, key) for a SageMaker model built from
    # the given artifact (ModelStack.model_props).
    # (model_data, image=None: the model's own image) -> InferenceModel props.
    model_props: Callable[..., dict[str, Any]]

    def endpoint_name(self, mode: Mode) -> str:
        return endpoint_name(self.environment.environment, self.model.name, mode.name)

    def data_capture_prefix(self, mode: Mode) -> str:
        return data_capture_prefix(self.environment.environment, self.model.name, mode.name)

    def model_with_server(self, id: str, *, timeout_seconds: int, workers: int) -> InferenceModel:
        """A SageMaker model of its own for a mode whose limits set the container's server
        timeout and workers (ModelServer), in the environment's network."""
        return InferenceModel(
            self.stack,
            id,
            network=self.environment.network,
            server=ModelServer(timeout_seconds=timeout_seconds, workers=workers),
            **self.model_props(self.model.model_data),
        )

    @property
    def model_prefix(self) -> str:
        return model_prefix(self.environment.environment, self.model.name)


class ModeUnit(ABC, Generic[SettingsT, ConstructT]):
    """The CDK half of one mode; its CDK-free half is :attr:`mode` (inference_core.modes).

    The model stack builds the construct of every mode a model's config has a block for, and
    publishes its outputs; the monitoring stack adds its dashboard row. Construct ids and the
    order of construct creation decide logical ids, so a unit keeps the ids it was given.
    """

    mode: Mode

    @abstractmethod
    def build(self, context: ModeContext, settings: SettingsT) -> ConstructT:
        """The mode's construct(s) in ``context.stack``, from the model's block for this mode."""

    @abstractmethod
    def outputs(self, construct: ConstructT) -> dict[str, str]:
        """The stack outputs, keyed as ``mode.outputs`` lists them (in that order)."""

    @abstractmethod
    def add_to_dashboard(self, dashboard: InferenceDashboard, construct: ConstructT, *, model_name: str) -> None:
        """The mode's row (and its alarms) on the environment's dashboard."""
