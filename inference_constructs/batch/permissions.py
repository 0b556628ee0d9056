"""Who may do what around a ``BatchTransformJob``: the state machine's role (its statements
derived from CDK's own task), the model role's access to the batch data, the key grants for
execution data, and the cdk-nag acknowledgements of those roles.

Everything is created in the job construct's scope, under the ids it always had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from inference_constructs.batch.definition import task_policies
from inference_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcard_resources
from inference_constructs.policy_json import document, statement

if TYPE_CHECKING:
    from inference_constructs.batch_transform_job import BatchTransformJob

# Names for the integration's other statements, by service (a new one from CDK goes in unnamed).
_INTEGRATION_SIDS = {"iam": "PassTheModelRoleToSageMaker", "events": "TrackJobsForTheSyncIntegration"}


def _is_sagemaker(action: str) -> bool:
    return action.startswith("sagemaker:")


def state_machine_role(job: BatchTransformJob) -> iam.Role:
    """The role the state machine runs as, assumable by this state machine only."""
    return iam.Role(
        job,
        "StateMachineRole",
        assumed_by=iam.ServicePrincipal(
            "states.amazonaws.com",
            conditions={
                "ArnLike": {"aws:SourceArn": job.state_machine_arn},
                "StringEquals": {"aws:SourceAccount": job.stack.account},
            },
        ),
        description=f"Runs batch transform jobs {job.job_name_prefix}-* of model {job.model.name_prefix} only",
    )


def grant_state_machine_role(job: BatchTransformJob, topic_arn: str) -> iam.Policy:
    """Everything the state machine's role may do, written out statement by statement.

    The first statement creates the role's ``DefaultPolicy`` through ``addToPolicy``, so the
    role keeps it as its own (a later grant to the role adds to it); the others go into it in
    one ``addStatements`` call rather than an ``addToPolicy`` each. The role is complete here:
    the state machine gets it ``withoutPolicyUpdates``.
    """
    stack = job.stack
    key_arn = job.key_arn
    statements = [
        *_integration_statements(job),
        *_key_statements(job, key_arn),
        statement("PublishOutcomes", ["sns:Publish"], [topic_arn]),
        # Publishing to the KMS-encrypted notifications topic.
        statement(
            "PublishToEncryptedTopic",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [key_arn],
            {"StringEquals": {"kms:ViaService": f"sns.{stack.region}.{stack.url_suffix}"}},
        ),
        *_UNSCOPED_STATEMENTS,
    ]
    first, *rest = [iam.PolicyStatement.from_json(rendered) for rendered in statements]
    job.role.add_to_policy(first)
    policy = job.role.node.find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy)
    policy.add_statements(*rest)
    return policy


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _key_statements(job: BatchTransformJob, key_arn: str) -> list[dict[str, Any]]:
    """The platform key: for the jobs' volumes, the execution data and the execution logs."""
    logs_arns = job.stack.format_arn(service="logs", resource="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
    return [
        statement("EncryptJobVolumes", ["kms:CreateGrant"], [key_arn], {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        statement("DescribeThePlatformKey", ["kms:DescribeKey"], [key_arn]),
        statement(
            "EncryptExecutionData",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [key_arn],
            {"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": job.state_machine_arn}},
        ),
        statement(
            "EncryptExecutionLogs",
            ["kms:GenerateDataKey"],
            [key_arn],
            {"StringEquals": {"kms:EncryptionContext:SourceArn": logs_arns}},
        ),
    ]


# CloudWatch Logs delivery and X-Ray have no resource-level permissions.
_UNSCOPED_STATEMENTS = (
    statement(
        "DeliverExecutionLogs",
        [
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:UpdateLogDelivery",
        ],
        ["*"],
    ),
    statement(
        "TraceExecutions",
        ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        ["*"],
    ),
)


def _integration_statements(job: BatchTransformJob) -> list[dict[str, Any]]:
    """What the ``createTransformJob.sync`` integration needs, taken from CDK's own task
    construct (its generated policy is AWS's statement of what the integration calls, e.g.
    ``sagemaker:AddTags`` for the tags it puts on every job), with the SageMaker actions
    narrowed from ``transform-job/*`` and ``*`` to this construct's job names."""
    # Read in one call, as a document, rather than a call per statement and field.
    generated = iam.PolicyDocument(statements=task_policies(job.transform_task)).to_json()["Statement"]
    on_jobs = sorted(
        {action for rendered in generated for action in _as_list(rendered["Action"]) if _is_sagemaker(action)}
    )
    statements = [statement("OwnTransformJobs", on_jobs, [job.transform_job_arns])]
    for rendered in generated:
        actions = [action for action in _as_list(rendered["Action"]) if not _is_sagemaker(action)]
        if actions:
            statements.append(
                statement(
                    _INTEGRATION_SIDS.get(actions[0].split(":")[0]),
                    actions,
                    _as_list(rendered["Resource"]),
                    rendered.get("Condition"),
                )
            )
    return statements


def _transform_logs_arn(job: BatchTransformJob) -> str:
    return job.stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/TransformJobs",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def grant_model_data_access(job: BatchTransformJob) -> tuple[iam.Policy, list[str]]:
    """What the model's execution role needs to run this construct's transform jobs, and the
    wildcard resources among them (acknowledged for cdk-nag)."""
    transform_logs = _transform_logs_arn(job)
    # What Bucket.arnForObjects returns (<bucket ARN>/<key pattern>), without a call each.
    bucket_arn = job.bucket.bucket_arn
    input_objects = f"{bucket_arn}/{job.input_prefix}*"
    output_objects = f"{bucket_arn}/{job.output_prefix}*"
    policy = iam.Policy(
        job,
        "ModelRoleDataAccess",
        roles=[job.model.role],
        document=document(
            [
                statement(
                    "ListTheInputPath",
                    ["s3:ListBucket"],
                    [bucket_arn],
                    {"StringLike": {"s3:prefix": [f"{job.input_prefix}*"]}},
                ),
                statement("ReadTheInputPath", ["s3:GetObject"], [input_objects]),
                statement("WriteTheOutputPath", ["s3:PutObject", "s3:AbortMultipartUpload"], [output_objects]),
                statement(
                    "UseThePlatformKeyForBatchData",
                    ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    [job.key_arn],
                ),
                # The transform jobs' log group is shared by every job of the account; the
                # model's own policy scopes its log streams to this model's job names.
                statement(
                    "CreateTheTransformJobsLogGroup",
                    ["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                    [transform_logs, f"{transform_logs}:*"],
                ),
            ]
        ),
    )
    return policy, [input_objects, output_objects, f"{transform_logs}:*"]


def grant_execution_data_key(job: BatchTransformJob, grantee: iam.IGrantable) -> None:
    """Starting and reading executions of a state machine encrypted with a customer-managed
    key needs that key, for this state machine only."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resource_arns=[job.key_arn],
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
        job.model_data_wildcards,
        "Transform jobs read input objects and write output objects whose names are chosen per run; access is "
        "confined to this model's input and output prefixes, and to the shared TransformJobs log group.",
    )
    if job.trigger_role is not None:
        acknowledge_inline_policy(job.trigger_role)
