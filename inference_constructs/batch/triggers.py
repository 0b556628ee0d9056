"""What starts a ``BatchTransformJob`` besides ``run-batch``: an EventBridge schedule and a rule
on uploads under the input path, both through one role that may start this state machine only.

Created in the job construct's scope, under the ids they always had.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam

from inference_constructs import durations
from inference_constructs.batch.permissions import grant_execution_data_key
from inference_constructs.batch.settings import BatchSettings
from inference_core.batch import INPUT_URI, TRIGGER, UPLOAD_TRIGGER

if TYPE_CHECKING:
    from inference_constructs.batch_transform_job import BatchTransformJob


@dataclass(frozen=True)
class Triggers:
    """The rules that start the state machine, and the role they start it with."""

    role: iam.Role
    schedule_rule: events.Rule | None
    upload_rule: events.Rule | None


def create_triggers(job: BatchTransformJob, settings: BatchSettings) -> Triggers:
    """The schedule and upload rules ``settings`` asks for (at least one of them)."""
    role = iam.Role(
        job,
        "TriggerRole",
        assumed_by=iam.ServicePrincipal(
            "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": job.stack.account}}
        ),
        description=f"Lets EventBridge start {job.state_machine_name} only",
    )
    grant_execution_data_key(job, role)

    def target(target_input: events.RuleTargetInput) -> events_targets.SfnStateMachine:
        return events_targets.SfnStateMachine(
            job.state_machine,
            input=target_input,
            role=role,
            retry_attempts=10,
            max_event_age=durations.hours(6),
        )

    schedule_rule = upload_rule = None
    if settings.schedule is not None:
        schedule_rule = events.Rule(
            job,
            "Schedule",
            description=f"Runs {job.state_machine_name} on {settings.schedule} (UTC) over the whole input path",
            schedule=events.Schedule.expression(settings.schedule),
            targets=[target(events.RuleTargetInput.from_object({}))],
        )
    if settings.run_on_upload:
        upload_rule = events.Rule(
            job,
            "Upload",
            description=f"Runs {job.state_machine_name} on each object created under {job.input_prefix}",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [job.bucket_name]},
                    # Zero-byte objects are folder markers, not data.
                    "object": {"key": [{"prefix": job.input_prefix}], "size": [{"numeric": [">", 0]}]},
                },
            ),
            targets=[
                target(
                    events.RuleTargetInput.from_object(
                        {
                            INPUT_URI: f"s3://{job.bucket_name}/{events.EventField.from_path('$.detail.object.key')}",
                            TRIGGER: UPLOAD_TRIGGER,
                        }
                    )
                )
            ],
        )
    return Triggers(role=role, schedule_rule=schedule_rule, upload_rule=upload_rule)
