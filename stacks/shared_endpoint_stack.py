"""The environment's shared endpoint for inference components, in a stack of its own.

Why its own stack and not the platform stack: the platform stack holds the environment's data
(key, buckets) and changes rarely; an instance type or scaling range change of the shared
endpoint should touch neither it nor any model stack. Why not a model stack: several models'
components run on it, and a model's change must still touch one stack (its own).

Model stacks add their components to it by its fixed name (``inference_core.naming.
shared_endpoint_name``), after it through a stack dependency: nothing is exported, so a model
stack leaving or joining can never strand an export (the deadlock a platform export once caused).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inference_config.schema import EnvironmentConfig
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.shared_endpoint import SharedEndpoint, SharedEndpointSettings
from inference_core.naming import shared_endpoint_name
from stacks.platform_stack import PlatformResources


class SharedEndpointStack(cdk.Stack):
    """:class:`SharedEndpoint` named after the environment, encrypted with the platform key."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: EnvironmentConfig,
        settings: SharedEndpointSettings,
        platform: PlatformResources,
        **kwargs: object,
    ) -> None:
        super().__init__(
            scope,
            id,
            description=f"SageMaker shared endpoint for inference components ({environment.environment})",
            **kwargs,  # type: ignore[arg-type]
        )
        self.endpoint = SharedEndpoint(
            self,
            "SharedEndpoint",
            endpoint_name=shared_endpoint_name(environment.environment),
            settings=settings,
            encryption_key=platform.encryption_key,
            logs=EndpointLogSettings(
                retention_days=environment.log_retention_days, retain_on_delete=environment.retain_endpoint_logs
            ),
        )
