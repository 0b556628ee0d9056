"""Batch transform: a state machine running transform jobs on demand, on a schedule or on upload."""

from __future__ import annotations

import aws_cdk as cdk

from inference_constructs.batch_transform_job import BatchSettings, BatchTransformJob
from inference_constructs.dashboard import InferenceDashboard
from inference_core import modes, outputs
from stacks.modes.base import ModeContext, ModeUnit


class BatchUnit(ModeUnit[BatchSettings, BatchTransformJob]):
    mode = modes.BATCH

    def build(self, context: ModeContext, settings: BatchSettings) -> BatchTransformJob:
        # Its own SageMaker model: the container's server timeout and workers follow the job's limits.
        model = context.model_with_server(
            "BatchModel",
            timeout_seconds=settings.model_client.invocations_timeout_seconds,
            workers=settings.max_concurrent_transforms or 1,  # SageMaker's default is 1
        )
        platform = context.platform
        return BatchTransformJob(
            context.stack,
            "Batch",
            model=model,
            settings=settings,
            bucket=platform.batch_bucket,
            key_prefix=context.model_prefix,
            encryption_key=platform.encryption_key,
            notifications_topic=platform.notifications_topic,
            alarms_topic=platform.alarms_topic,
            log_removal_policy=cdk.RemovalPolicy.RETAIN
            if context.environment.retain_stateful_resources
            else cdk.RemovalPolicy.DESTROY,
        )

    def outputs(self, construct: BatchTransformJob) -> dict[str, str]:
        return {
            outputs.BATCH_STATE_MACHINE_ARN: construct.state_machine.state_machine_arn,
            outputs.BATCH_INPUT_PATH: construct.input_path,
            outputs.BATCH_OUTPUT_PATH: construct.output_path,
        }

    def add_to_dashboard(self, dashboard: InferenceDashboard, construct: BatchTransformJob, *, model_name: str) -> None:
        dashboard.add_batch_job(construct, model_name=model_name)
