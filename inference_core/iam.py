"""The IAM actions each client of a deployed environment needs, by what they act on.

The pipeline's smoke-test role is granted :data:`SMOKE_TESTS` (stacks/pipeline_stack.py), and
tests/stacks/test_smoke_role_permissions.py records every call the smoke tests make and holds it
to this list. The other lists tell an operator what to grant a caller of ``python -m
inference_platform``. Action names are IAM's, from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ClientActions:
    """Actions grouped by the resources they act on (one policy statement per group)."""

    stacks: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    # Objects in the async and batch buckets, and the buckets themselves: without s3:ListBucket
    # S3 answers AccessDenied for an object not written yet, which reads as a real denial.
    objects: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    # The platform key encrypts every bucket: writing needs a data key, reading needs Decrypt.
    platform_key: tuple[str, ...] = ()
    state_machines: tuple[str, ...] = ()
    executions: tuple[str, ...] = ()
    transform_jobs: tuple[str, ...] = ()

    def all(self) -> frozenset[str]:
        return frozenset(action for group in fields(self) for action in getattr(self, group.name))


# Every client finds what it calls in the stack outputs (inference_platform.deployed).
_READ_OUTPUTS = ("cloudformation:DescribeStacks",)

INVOKE_ENDPOINT = ClientActions(stacks=_READ_OUTPUTS, endpoints=("sagemaker:InvokeEndpoint",))
STREAM_CLIENT = ClientActions(stacks=_READ_OUTPUTS, endpoints=("sagemaker:InvokeEndpointWithResponseStream",))
ASYNC_CLIENT = ClientActions(
    stacks=_READ_OUTPUTS,
    endpoints=("sagemaker:InvokeEndpointAsync",),
    objects=("s3:GetObject", "s3:PutObject"),
    buckets=("s3:ListBucket",),
    platform_key=("kms:Decrypt", "kms:GenerateDataKey"),
)
BATCH_CLIENT = ClientActions(
    stacks=_READ_OUTPUTS,
    objects=("s3:PutObject",),
    buckets=("s3:ListBucket",),  # lists what the run wrote
    platform_key=("kms:GenerateDataKey",),
    state_machines=("states:StartExecution",),
    executions=("states:DescribeExecution", "states:GetExecutionHistory"),
    transform_jobs=("sagemaker:DescribeTransformJob",),  # progress reports only; optional
)
# The smoke tests invoke every mode through the clients above, but follow a batch run by its
# status alone (no history, no transform job), stop a run that outlives their timeout, and read
# the object the run wrote.
SMOKE_TESTS = ClientActions(
    stacks=_READ_OUTPUTS,
    endpoints=(
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
        "sagemaker:InvokeEndpointWithResponseStream",  # text-generation endpoints are checked streaming
    ),
    objects=("s3:GetObject", "s3:PutObject"),
    buckets=("s3:ListBucket",),
    platform_key=("kms:Decrypt", "kms:GenerateDataKey"),
    state_machines=("states:StartExecution",),
    executions=("states:DescribeExecution", "states:StopExecution"),
)
