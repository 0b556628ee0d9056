"""What a delivery pipeline keeps besides its artifact bucket: the key that encrypts its artifacts
and build logs (``PipelineKey``), and the log group its builds write to (``BuildLogGroup``).

Both are retained by default: the key decrypts every artifact and log the pipeline ever wrote,
and the logs are the record of what was built and deployed. Each keeps its resource as its
``Default`` child, so the logical ids are those the resources have directly under the stack.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from inference_constructs.errors import check_props
from inference_constructs.log_retention import RETENTION_PERIODS, check_log_retention_days
from inference_constructs.platform_key import allow_cloudwatch_logs
from inference_constructs.service_models import check_string


class PipelineKey(Construct):
    """A rotating customer-managed key for pipeline ``pipeline_name``'s artifacts and build logs,
    under alias ``alias/<pipeline_name>/pipeline-artifacts``; CloudWatch Logs may use it to
    encrypt this account's log groups (it does so on the log group owner's behalf).

    :param removal_policy: ``RETAIN`` unless the pipeline and everything it wrote are throwaway.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_name: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        alias = f"alias/{pipeline_name}/pipeline-artifacts"
        named = f"pipeline_name (alias {alias!r})"
        check_props(scope, id, {named: lambda: check_string("kms", "AliasNameType", alias)})
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Default",
            alias=alias,
            description=f"Encrypts the artifacts and build logs of pipeline {pipeline_name}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        allow_cloudwatch_logs(self.key)


class BuildLogGroup(Construct):
    """The log group a pipeline's builds write to, encrypted with ``encryption_key`` (whose policy
    must let CloudWatch Logs use it, as ``PipelineKey``'s does).

    :param retention_days: A period CloudWatch Logs offers (default a year); never "forever".
    :param removal_policy: ``RETAIN`` unless the build record is throwaway.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        retention_days: int = 365,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        check_props(scope, id, {"retention_days": lambda: check_log_retention_days(retention_days)})
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Default",
            encryption_key=encryption_key,
            retention=RETENTION_PERIODS[retention_days],
            removal_policy=removal_policy,
        )
