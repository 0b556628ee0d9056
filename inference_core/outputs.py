"""Stack output keys: the stacks publish these, the clients read them (never guessing names)."""

from __future__ import annotations

# Platform stack.
MODEL_ARTIFACTS_BUCKET_NAME = "ModelArtifactsBucketName"
ASYNC_BUCKET_NAME = "AsyncBucketName"
BATCH_BUCKET_NAME = "BatchBucketName"
DATA_CAPTURE_BUCKET_NAME = "DataCaptureBucketName"
NOTIFICATIONS_TOPIC_ARN = "NotificationsTopicArn"
ALARMS_TOPIC_ARN = "AlarmsTopicArn"
KEY_ARN = "KeyArn"
VPC_ENDPOINT_SECURITY_GROUP_ID = "VpcEndpointSecurityGroupId"

# Model stack, real-time and serverless.
REALTIME_ENDPOINT_NAME = "RealtimeEndpointName"
SERVERLESS_ENDPOINT_NAME = "ServerlessEndpointName"
# Present (value "text-generation") when the real-time endpoint's image streams generated text
# (InvokeEndpointWithResponseStream): the streaming client and the smoke test look for it.
REALTIME_RESPONSE_STREAMING = "RealtimeResponseStreaming"

# Model stack, inference component: the component, and the shared endpoint it runs on.
COMPONENT_NAME = "InferenceComponentName"
COMPONENT_ENDPOINT_NAME = "InferenceComponentEndpointName"

# Model stack, asynchronous.
ASYNC_ENDPOINT_NAME = "AsyncEndpointName"
ASYNC_INPUT_PATH = "AsyncInputPath"
ASYNC_OUTPUT_PATH = "AsyncOutputPath"
ASYNC_FAILURE_PATH = "AsyncFailurePath"
ASYNC_SUCCESS_TOPIC_ARN = "AsyncSuccessTopicArn"
ASYNC_ERROR_TOPIC_ARN = "AsyncErrorTopicArn"
# Clients pass it with each request: SageMaker takes the timeout per invocation.
ASYNC_INVOCATION_TIMEOUT_SECONDS = "AsyncInvocationTimeoutSeconds"

# Model stack, batch transform.
BATCH_STATE_MACHINE_ARN = "BatchStateMachineArn"
BATCH_INPUT_PATH = "BatchInputPath"
BATCH_OUTPUT_PATH = "BatchOutputPath"
