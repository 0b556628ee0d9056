"""``SharedEndpoint``: one real-time endpoint whose instances host several models as inference
components (each model's component lives in its own model stack).

The endpoint config names no model: its one production variant gives the instance type, the
managed instance scaling range and the routing strategy, and a config-level execution role
(CreateEndpointConfig's ``ExecutionRoleArn``) lets SageMaker act for the endpoint. Components
are added to the endpoint by name (``AWS::SageMaker::InferenceComponent``'s ``EndpointName``).

Only an endpoint hosting inference components can scale to zero instances: the variant's
``ManagedInstanceScaling.MinInstanceCount`` is 0 and every component's copies scale to 0
(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).
"""

from __future__ import annotations

from typing import Annotated

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from inference_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcard_resources
from inference_constructs.endpoint import EndpointBase, EndpointLogSettings
from inference_constructs.instance_types import check_autoscalable, check_instance_type
from inference_constructs.service_models import minimum
from inference_constructs.settings import Settings
from inference_constructs.variant_settings import check_routing_strategy
from inference_core.naming import SAGEMAKER_NAME

# Where SageMaker writes each component's container logs (one group per component).
COMPONENT_LOG_GROUP_PREFIX = "/aws/sagemaker/InferenceComponents/"


class ManagedInstanceScaling(Settings):
    """How many instances SageMaker keeps: it adds instances when component copies need room and
    removes idle ones (ProductionVariantManagedInstanceScaling)."""

    min_instance_count: int = Field(
        ge=int(minimum("sagemaker", "ManagedInstanceScalingMinInstanceCount")),
        le=1000,
        description="Fewest instances; 0 lets the endpoint scale to zero (its components must scale to zero copies).",
    )
    max_instance_count: int = Field(
        ge=int(minimum("sagemaker", "ManagedInstanceScalingMaxInstanceCount")), le=1000, description="Most instances."
    )

    @model_validator(mode="after")
    def _min_not_above_max(self) -> ManagedInstanceScaling:
        if self.min_instance_count > self.max_instance_count:
            raise ValueError(
                f"min_instance_count ({self.min_instance_count}) is above "
                f"max_instance_count ({self.max_instance_count})"
            )
        return self


class SharedEndpointSettings(Settings):
    """An environment's shared endpoint for inference components."""

    instance_type: Annotated[str, AfterValidator(check_instance_type)] = Field(
        description="Instance type of every instance (not burstable T2/T3, as for autoscaled variants)."
    )
    initial_instance_count: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Instances at creation (at most managed_instance_scaling.max_instance_count).",
    )
    managed_instance_scaling: ManagedInstanceScaling = Field(
        description="The instance range SageMaker scales in as component copies come and go."
    )
    routing_strategy: Annotated[str, AfterValidator(check_routing_strategy)] = Field(
        default="LEAST_OUTSTANDING_REQUESTS",
        description="How requests are spread over a component's copies: LEAST_OUTSTANDING_REQUESTS or RANDOM.",
    )
    variant_name: str = Field(
        default="AllTraffic", pattern=SAGEMAKER_NAME.pattern, description="The production variant's name."
    )

    @model_validator(mode="after")
    def _fits(self) -> SharedEndpointSettings:
        # A precaution, not a rule found in AWS's pages: burstable T2/T3 are refused as Application
        # Auto Scaling refuses them for variants (CDK's own rule, check_autoscalable); no page says
        # whether managed instance scaling takes them. Only a real account can show it.
        check_autoscalable(self.instance_type)
        scaling = self.managed_instance_scaling
        # CreateEndpoint starts InitialInstanceCount instances (at least 1, the ProductionVariant
        # shape): it may sit above a minimum of 0, never above the maximum.
        if self.initial_instance_count > scaling.max_instance_count:
            raise ValueError(
                f"initial_instance_count ({self.initial_instance_count}) is above "
                f"managed_instance_scaling.max_instance_count ({scaling.max_instance_count})"
            )
        return self

    @property
    def scales_to_zero(self) -> bool:
        return self.managed_instance_scaling.min_instance_count == 0


class SharedEndpoint(EndpointBase):
    """The environment's endpoint for inference components.

    :param endpoint_name: Its fixed name (``inference_core.naming.shared_endpoint_name``): model
        stacks address it by this name, so no cross-stack export is needed.
    :param settings: Instance type, managed instance scaling range, routing strategy.
    :param encryption_key: Encrypts the instances' volumes and the endpoint's logs.
    :param logs: The endpoint log group's retention and whether it outlives the endpoint.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        settings: SharedEndpointSettings,
        encryption_key: kms.IKey,
        logs: EndpointLogSettings,
    ) -> None:
        super().__init__(scope, id, endpoint_name=endpoint_name, variant_name=settings.variant_name)
        self.settings = settings
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Execution role of shared endpoint {endpoint_name}: its logs, metrics and key only",
        )
        log_resources = [
            stack.format_arn(
                service="logs", resource="log-group", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
            )
            for name in (
                f"/aws/sagemaker/Endpoints/{endpoint_name}",
                f"/aws/sagemaker/Endpoints/{endpoint_name}:log-stream:*",
                f"{COMPONENT_LOG_GROUP_PREFIX}*",
            )
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=log_resources,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        encryption_key.grant_decrypt(self.role)
        acknowledge_inline_policy(self.role)
        acknowledge_wildcard_resources(
            self.role,
            [*log_resources[1:], "*"],
            "SageMaker names log streams and component log groups at run time; PutMetricData has no resource "
            "type and is confined to SageMaker's namespaces by a condition.",
        )
        scaling = settings.managed_instance_scaling
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            execution_role_arn=self.role.role_arn,
            kms_key_id=self._volume_key_arn(encryption_key, [settings.instance_type]),
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=settings.variant_name,
                    instance_type=settings.instance_type,
                    initial_instance_count=settings.initial_instance_count,
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED",
                        min_instance_count=scaling.min_instance_count,
                        max_instance_count=scaling.max_instance_count,
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy=settings.routing_strategy
                    ),
                )
            ],
        )
        # The config reads the role when it is created: wait for its policy.
        default_policy = self.role.node.try_find_child("DefaultPolicy")
        assert default_policy is not None
        config.node.add_dependency(default_policy)
        # Managed instance scaling, not Application Auto Scaling, sizes this variant: the
        # instance count that SageMaker chose is kept across config updates.
        self._create_endpoint(config, retain_variant_properties=True, encryption_key=encryption_key, logs_settings=logs)
