"""A custom resource that deregisters an endpoint's autoscaled variants before an update that
SageMaker would refuse while they are registered.

SageMaker refuses UpdateEndpoint when it changes the instance type of a variant registered as an
Application Auto Scaling scalable target, or removes such a variant: "deregister the variant as a
scalable target ... After you update the endpoint, you can register the updated variant as a
scalable target" (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html).

CloudFormation alone cannot order that. The scalable target must depend on the endpoint (it can
only be registered once the endpoint exists), and CloudFormation deletes removed or replaced
resources only in its cleanup phase, after every update: a target under a new logical id is
created after the endpoint update, but the old one is deregistered only after it, so the update
fails first. This guard runs before the endpoint update (the endpoint depends on it) and
deregisters exactly the variants the update would break; the endpoint keys its scalable target
(and so its policies) by instance type, so a type change registers a fresh target after the
update, and retains the old logical resources, whose cleanup then calls nothing (see
:meth:`inference_constructs.endpoint.InstanceBackedEndpoint._scalable_target`).

Not chosen: refusing instance type changes at synth (one deploy can do it); managing the whole
registration in a custom resource (cdk-nag, the template rules and the review bundle read the
native scaling resources).
"""

from __future__ import annotations

import functools
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from inference_constructs import durations
from inference_constructs.compliance import (
    REGULATORY_PACKS,
    acknowledge_rule,
    acknowledge_wildcard_resources,
    skip_checkov_check,
)
from inference_constructs.log_retention import log_retention

RESOURCE_TYPE = "Custom::ScalingRegistrationGuard"
# CloudFormation's inline code (Code.ZipFile) for Python functions: at most 4096 bytes, and the
# only form that gets the cfnresponse module
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-lambda-function-code-cfnresponsemodule.html).
HANDLER_SOURCE = (Path(__file__).parent / "scaling_guard_handler.py").read_text()
MAX_INLINE_CODE_BYTES = 4096
# The newest Python runtime CDK knows (cdk-nag AwsSolutions-L1 asks for the latest).
RUNTIME = lambda_.Runtime.PYTHON_3_14


@functools.cache
def _shared() -> tuple[iam.ServicePrincipal, lambda_.Code]:
    """What every guard passes alike, created once per process (two jsii round trips per
    guard otherwise): both are immutable values CDK only reads."""
    return iam.ServicePrincipal("lambda.amazonaws.com"), lambda_.Code.from_inline(HANDLER_SOURCE)


class ScalingRegistrationGuard(Construct):
    """Deregisters, on update, the variants of ``endpoint_name`` whose registration the update breaks.

    The endpoint tells it which variants it registers (:meth:`register`); none by default.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        encryption_key: kms.IKey,
        log_retention_days: int,
        retain_logs: bool,
    ) -> None:
        super().__init__(scope, id)
        if len(HANDLER_SOURCE.encode()) > MAX_INLINE_CODE_BYTES:
            raise ValueError(f"the guard's handler is over CloudFormation's {MAX_INLINE_CODE_BYTES}-byte inline limit")
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            encryption_key=encryption_key,
            retention=log_retention(log_retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN if retain_logs else cdk.RemovalPolicy.DESTROY,
        )
        lambda_principal, code = _shared()
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=lambda_principal,
            description=f"Deregisters {endpoint_name}'s autoscaled variants before updates SageMaker refuses otherwise",
        )
        self.log_group.grant_write(self.role)
        scalable_targets, target_tracking_alarms = self._allow_deregistration(endpoint_name)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            handler="index.handler",
            code=code,
            role=self.role,
            timeout=durations.minutes(2),
            log_group=self.log_group,
            description=f"Deregisters {endpoint_name}'s autoscaled variants before an update that needs it",
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={"EndpointName": endpoint_name, "AutoscaledVariants": {}},
        )
        self._registrations: dict[str, dict[str, str]] = {}
        self._acknowledge_findings(scalable_targets, target_tracking_alarms)

    def _allow_deregistration(self, endpoint_name: str) -> tuple[str, str]:
        """Let the role deregister the endpoint's scalable targets; returns the two wildcard ARNs."""
        stack = cdk.Stack.of(self)
        # Scalable target ARNs end in an id Application Auto Scaling generates at registration,
        # so no ARN naming this endpoint exists at synth: the account's targets in this region.
        scalable_targets = stack.format_arn(
            service="application-autoscaling", resource="scalable-target", resource_name="*"
        )
        # add_to_policy, not add_to_principal_policy: its result is a plain bool, where the
        # other's result struct costs two more jsii round trips to read back.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["application-autoscaling:DeregisterScalableTarget"], resources=[scalable_targets]
            )
        )
        # Deregistering deletes the target tracking policies and, with them, the alarms
        # Application Auto Scaling made for them, named TargetTracking-<resource id>-...
        target_tracking_alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"TargetTracking-endpoint/{endpoint_name}/variant/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"], resources=[target_tracking_alarms]
            )
        )
        return scalable_targets, target_tracking_alarms

    def register(self, variant_name: str, *, instance_type: str, scalable_dimension: str) -> None:
        """Record that ``variant_name`` on ``instance_type`` is registered for autoscaling."""
        self._registrations[variant_name] = {"InstanceType": instance_type, "ScalableDimension": scalable_dimension}
        resource = self.resource.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        resource.add_property_override("AutoscaledVariants", dict(self._registrations))

    def _acknowledge_findings(self, scalable_targets: str, target_tracking_alarms: str) -> None:
        function = self.function.node.default_child
        assert isinstance(function, cdk.CfnResource)
        acknowledge_wildcard_resources(
            self.role,
            [scalable_targets],
            "DeregisterScalableTarget is authorized on the scalable-target ARN, whose last part is an id "
            "Application Auto Scaling generates at registration; the function only deregisters "
            "endpoint/<this endpoint>/variant/<variant> resource ids taken from its own properties.",
        )
        acknowledge_wildcard_resources(
            self.role,
            [target_tracking_alarms],
            "The alarms of target tracking policies get names Application Auto Scaling generates, "
            "prefixed with the variant's resource id; the wildcard is limited to this endpoint's variants.",
        )
        acknowledge_rule(
            self.role,
            "IAMNoInlinePolicy",
            "The guard function's own inline policy: one deregistration action and its alarms for this "
            "endpoint, and writing to its own log group; it cannot be attached to any other principal.",
            packs=REGULATORY_PACKS,
        )
        # (rule, the packs that have it, the checkov check saying the same, why it does not apply)
        for rule, packs, checkov_check, reason in (
            (
                "LambdaConcurrency",
                ("HIPAA.Security", "NIST.800.53.R5"),
                "CKV_AWS_115",
                "Reserved concurrency comes out of the account's unreserved pool, which AWS keeps at 10 or more: "
                "in a new account with a limit of 10 any reservation fails the deploy. CloudFormation invokes "
                "this function once per stack operation.",
            ),
            (
                "LambdaDLQ",
                ("HIPAA.Security", "NIST.800.53.R5"),
                "CKV_AWS_116",
                "A custom resource handler reports every outcome, failures included, to CloudFormation through "
                "the response URL; the stack operation fails on a failed or missing response, so a DLQ adds nothing.",
            ),
            (
                "LambdaInsideVPC",
                REGULATORY_PACKS,
                "CKV_AWS_117",
                "The function calls only the Application Auto Scaling API and CloudFormation's S3 response URL; "
                "it reads no data, so a VPC would add endpoints or a NAT gateway without protecting anything.",
            ),
        ):
            acknowledge_rule(self.function, rule, reason, packs=packs)
            skip_checkov_check(function, checkov_check, reason)
