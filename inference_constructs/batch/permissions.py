"""Who may do what around a ``BatchTransformJob``: the state machine's role (its statements
derived from CDK's own task), the model role's access to the batch data, the key grants for
execution data, and the cdk-nag acknowledgements of those roles.

Everything is created in the job construct's scope, under the ids it always had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from inference_constructs.batch.definition import task_policies
from inference_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcard_resources

if TYPE_CHECKING:
    from inference_constructs.batch_transform_job import BatchTransformJob

# Names for the integration's other statements, by service (a new one from CDK goes in unnamed).
_INTEGRATION_SIDS = {"iam": "PassTheModelRoleToSageMaker", "events": "TrackJobsForTheSyncIntegration"}


def _is_sagemaker(action: str) -> bool:
    return action.startswith("sagemaker:")


def state_machine_role(job: BatchTransformJob) -> iam.Role:
    """The role the state machine runs as, assumable by this state machine only."""
    stack = cdk.Stack.of(job)
    return iam.Role(
        job,
        "StateMachineRole",
        assumed_by=iam.ServicePrincipal(
            "states.amazonaws.com",
            conditions={
                "ArnLike": {"aws:SourceArn": job.state_machine_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        ),
        description=f"Runs batch transform jobs {job.job_name_prefix}-* of model {job.model.name_prefix} only",
    )


def grant_state_machine_role(job: BatchTransformJob, topic: sns.ITopic) -> None:
    """Everything the state machine's role may do, written out statement by statement."""
    stack = cdk.Stack.of(job)
    statements = [
        *_integration_statements(job),
        *_key_statements(job),
        iam.PolicyStatement(sid="PublishOutcomes", actions=["sns:Publish"], resources=[topic.topic_arn]),
        # Publishing to the KMS-encrypted notifications topic.
        iam.PolicyStatement(
            sid="PublishToEncryptedTopic",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[job.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{stack.region}.{stack.url_suffix}"}},
        ),
        *_unscoped_statements(),
    ]
    for statement in statements:
        job.role.add_to_policy(statement)


def _key_statements(job: BatchTransformJob) -> list[iam.PolicyStatement]:
    """The platform key: for the jobs' volumes, the execution data and the execution logs."""
    key_arn = job.encryption_key.key_arn
    logs_arns = cdk.Stack.of(job).format_arn(service="logs", resource="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
    return [
        iam.PolicyStatement(
            sid="EncryptJobVolumes",
            actions=["kms:CreateGrant"],
            resources=[key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        iam.PolicyStatement(sid="DescribeThePlatformKey", actions=["kms:DescribeKey"], resources=[key_arn]),
        iam.PolicyStatement(
            sid="EncryptExecutionData",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": job.state_machine_arn}},
        ),
        iam.PolicyStatement(
            sid="EncryptExecutionLogs",
            actions=["kms:GenerateDataKey"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": logs_arns}},
        ),
    ]


def _unscoped_statements() -> list[iam.PolicyStatement]:
    """CloudWatch Logs delivery and X-Ray have no resource-level permissions."""
    return [
        iam.PolicyStatement(
            sid="DeliverExecutionLogs",
            actions=[
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="TraceExecutions",
            actions=[
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ],
            resources=["*"],
        ),
    ]


def _integration_statements(job: BatchTransformJob) -> list[iam.PolicyStatement]:
    """What the ``createTransformJob.sync`` integration needs, taken from CDK's own task
    construct (its generated policy is AWS's statement of what the integration calls, e.g.
    ``sagemaker:AddTags`` for the tags it puts on every job), with the SageMaker actions
    narrowed from ``transform-job/*`` and ``*`` to this construct's job names."""
    generated = task_policies(job.transform_task)
    on_jobs = sorted({action for statement in generated for action in statement.actions if _is_sagemaker(action)})
    statements = [iam.PolicyStatement(sid="OwnTransformJobs", actions=on_jobs, resources=[job.transform_job_arns])]
    for statement in generated:
        actions = [action for action in statement.actions if not _is_sagemaker(action)]
        if actions:
            statements.append(
                iam.PolicyStatement(
                    sid=_INTEGRATION_SIDS.get(actions[0].split(":")[0]),
                    actions=actions,
                    resources=list(statement.resources),
                    conditions=statement.conditions or None,
                )
            )
    return statements


def _transform_logs_arn(job: BatchTransformJob) -> str:
    return cdk.Stack.of(job).format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/TransformJobs",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def _model_wildcard_resources(job: BatchTransformJob) -> list[str]:
    """The wildcard resources of the model role's data access (acknowledged for cdk-nag)."""
    return [
        job.bucket.arn_for_objects(f"{job.input_prefix}*"),
        job.bucket.arn_for_objects(f"{job.output_prefix}*"),
        f"{_transform_logs_arn(job)}:*",
    ]


def grant_model_data_access(job: BatchTransformJob) -> iam.Policy:
    """What the model's execution role needs to run this construct's transform jobs."""
    transform_logs = _transform_logs_arn(job)
    return iam.Policy(
        job,
        "ModelRoleDataAccess",
        roles=[job.model.role],
        statements=[
            iam.PolicyStatement(
                sid="ListTheInputPath",
                actions=["s3:ListBucket"],
                resources=[job.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{job.input_prefix}*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadTheInputPath",
                actions=["s3:GetObject"],
                resources=[job.bucket.arn_for_objects(f"{job.input_prefix}*")],
            ),
            iam.PolicyStatement(
                sid="WriteTheOutputPath",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[job.bucket.arn_for_objects(f"{job.output_prefix}*")],
            ),
            iam.PolicyStatement(
                sid="UseThePlatformKeyForBatchData",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[job.encryption_key.key_arn],
            ),
            # The transform jobs' log group is shared by every job of the account; the
            # model's own policy scopes its log streams to this model's job names.
            iam.PolicyStatement(
                sid="CreateTheTransformJobsLogGroup",
                actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                resources=[transform_logs, f"{transform_logs}:*"],
            ),
        ],
    )


def grant_execution_data_key(job: BatchTransformJob, grantee: iam.IGrantable) -> None:
    """Starting and reading executions of a state machine encrypted with a customer-managed
    key needs that key, for this state machine only."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resource_arns=[job.encryption_key.key_arn],
        conditions={"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": job.state_machine_arn}},
    )


def acknowledge_findings(job: BatchTransformJob) -> None:
    """Every cdk-nag exception for this construct, with its reason."""
    acknowledge_inline_policy(job.role)
    acknowledge_inline_policy(job.model_data_access)
    acknowledge_wildcard_resources(
        job.role,
        [job.transform_job_arns],
        "Transform job names end in a hash computed per execution, so they are unknown at deploy time; the "
        f"wildcard is confined to job names starting with {job.job_name_prefix}-.",
    )
    acknowledge_wildcard_resources(
        job.role,
        ["*"],
        "CloudWatch Logs vended-log delivery (CreateLogDelivery and related) and X-Ray tracing calls have no "
        "resource-level permissions; every other statement of this role names its resources.",
    )
    # The bucket usually lives in the platform stack: its ARN is an import here.
    acknowledge_wildcard_resources(
        job.model_data_access,
        _model_wildcard_resources(job),
        "Transform jobs read input objects and write output objects whose names are chosen per run; access is "
        "confined to this model's input and output prefixes, and to the shared TransformJobs log group.",
    )
    if job.trigger_role is not None:
        acknowledge_inline_policy(job.trigger_role)
