"""The inference modes, each described once: the CDK-free half of a mode.

A mode is a unit. Its CDK-free half is a :class:`Mode` here: its name (endpoint names and
data-capture folders end with it), its config block, the stack outputs it publishes, how the
smoke tests invoke it, how the review bundle recognises it in a synthesized template and how
it is named to a reader. Its CDK half (how its construct is built from config, its outputs'
values, its dashboard row) is a unit in ``stacks/modes/``, registered under the same name.

Everything that handles "every mode" iterates over :data:`REGISTRY` (read through
:func:`registered`, so a test can register a toy mode): the config schema's ``modes``, the
model stack, the dashboard, the smoke tests and the review bundle. docs/adding-a-mode.md says
which files a new mode touches.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inference_core import outputs

# CloudFormation resource types a mode is recognised by in a template.
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
INFERENCE_COMPONENT = "AWS::SageMaker::InferenceComponent"


class Invocation(StrEnum):
    """The ways a deployed mode is called; each is one client (inference_platform) and one smoke check."""

    # InvokeEndpoint with the request in the body (real-time, serverless).
    ENDPOINT = "endpoint"
    # InvokeEndpoint on a shared endpoint, naming the model's InferenceComponentName.
    COMPONENT = "component"
    # The request uploaded to S3, InvokeEndpointAsync, the result read from S3 (async_client).
    ASYNC = "async"
    # A Step Functions execution running a transform job over an S3 prefix (batch_client).
    BATCH = "batch"


Recogniser = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Mode:
    """One inference mode, as the clients, smoke tests and review bundle know it.

    :param name: Endpoint names and data-capture folders end with it (``prod-iris-realtime``).
    :param label: How a reader calls it (the review bundle's tables): ``real-time``.
    :param title: A heading: ``Real-time endpoint``.
    :param meaning: One sentence telling a reviewer what the mode is.
    :param outputs: The model stack outputs it publishes, the first saying it is deployed.
    :param client_outputs: The other outputs its client (and smoke check) needs: a stack with the
        first output but without these is broken.
    :param invocation: How a client (and the smoke tests) calls it.
    :param optional_outputs: Outputs it publishes only for some models (real-time: response
        streaming, for text-generation images).
    :param resource_type: The CloudFormation type the review bundle recognises it by.
    :param recognises: Given a resource of ``resource_type``, whether it is this mode.
    :param colour: Its box's fill in the review bundle's diagrams.
    :param catch_all: Asked after the other modes of its resource type: it takes what they left
        (real-time takes every endpoint configuration that is neither async nor serverless).
    """

    name: str
    label: str
    title: str
    meaning: str
    outputs: tuple[str, ...]
    invocation: Invocation
    resource_type: str
    recognises: Recogniser
    colour: str
    client_outputs: tuple[str, ...] = ()
    catch_all: bool = False
    optional_outputs: tuple[str, ...] = ()

    @property
    def config_key(self) -> str:
        """Its block in a model's config (``models[].async``)."""
        return self.name

    @property
    def field(self) -> str:
        """Its ModelConfig field: ``async`` is a Python keyword, so that field is ``async_``."""
        return f"{self.name}_" if keyword.iskeyword(self.name) else self.name

    @property
    def marker_output(self) -> str:
        """The output whose presence says the mode is deployed."""
        return self.outputs[0]

    @property
    def is_endpoint(self) -> bool:
        return self.resource_type == ENDPOINT_CONFIG


def _variants(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(config.get("Properties", {}).get("ProductionVariants", []))


def _is_async(config: Mapping[str, Any]) -> bool:
    return bool(config.get("Properties", {}).get("AsyncInferenceConfig"))


def _is_serverless(config: Mapping[str, Any]) -> bool:
    return any(variant.get("ServerlessConfig") for variant in _variants(config))


def _hosts_components(config: Mapping[str, Any]) -> bool:
    # A shared endpoint's config names no model in its variants (its models are inference
    # components, AWS::SageMaker::InferenceComponent, in the model stacks) and gives SageMaker a
    # config-level execution role instead.
    variants = _variants(config)
    has_role = bool(config.get("Properties", {}).get("ExecutionRoleArn"))
    return has_role and bool(variants) and not any(variant.get("ModelName") for variant in variants)


def _runs_transform_jobs(machine: Mapping[str, Any]) -> bool:
    # The definition is a string (with Fn::Join parts) or an object; either way the task's
    # resource ARN names the service integration.
    return "sagemaker:createTransformJob" in json.dumps(machine.get("Properties", {}))


SERVERLESS = Mode(
    name="serverless",
    label="serverless",
    title="Serverless endpoint",
    meaning="capacity SageMaker starts on demand (4 MB, 60 s); idle is free unless concurrency is provisioned",
    outputs=(outputs.SERVERLESS_ENDPOINT_NAME,),
    invocation=Invocation.ENDPOINT,
    resource_type=ENDPOINT_CONFIG,
    recognises=_is_serverless,
    colour="#f0f9ff",
)
ASYNC = Mode(
    name="async",
    label="async",
    title="Asynchronous endpoint",
    meaning="a queue in front of instances (1 GB, 1 hour); results land in S3 and can scale to zero",
    outputs=(
        outputs.ASYNC_ENDPOINT_NAME,
        outputs.ASYNC_INPUT_PATH,
        outputs.ASYNC_OUTPUT_PATH,
        outputs.ASYNC_FAILURE_PATH,
        outputs.ASYNC_SUCCESS_TOPIC_ARN,
        outputs.ASYNC_ERROR_TOPIC_ARN,
        outputs.ASYNC_INVOCATION_TIMEOUT_SECONDS,
    ),
    invocation=Invocation.ASYNC,
    client_outputs=(outputs.ASYNC_INPUT_PATH, outputs.ASYNC_OUTPUT_PATH, outputs.ASYNC_FAILURE_PATH),
    resource_type=ENDPOINT_CONFIG,
    recognises=_is_async,
    colour="#f5f3ff",
)
REALTIME = Mode(
    name="realtime",
    label="real-time",
    title="Real-time endpoint",
    meaning="always-on instances answering requests of up to 6 MB within 60 s",
    outputs=(outputs.REALTIME_ENDPOINT_NAME,),
    optional_outputs=(outputs.REALTIME_RESPONSE_STREAMING,),
    invocation=Invocation.ENDPOINT,
    resource_type=ENDPOINT_CONFIG,
    recognises=lambda _config: True,
    catch_all=True,
    colour="#fff7ed",
)
BATCH = Mode(
    name="batch",
    label="batch",
    title="Batch transform",
    meaning="jobs that read a whole data set from S3 and write predictions back; nothing runs between jobs",
    outputs=(outputs.BATCH_STATE_MACHINE_ARN, outputs.BATCH_INPUT_PATH, outputs.BATCH_OUTPUT_PATH),
    invocation=Invocation.BATCH,
    client_outputs=(outputs.BATCH_INPUT_PATH, outputs.BATCH_OUTPUT_PATH),
    resource_type=STATE_MACHINE,
    recognises=_runs_transform_jobs,
    colour="#f0fdf4",
)
COMPONENT = Mode(
    name="component",
    label="inference component",
    title="Inference components (shared endpoint)",
    meaning="a model's share (CPU, memory, copies) of an environment's shared real-time endpoint (6 MB, 60 s); "
    "copies scale on their own, and the endpoint can scale to zero instances",
    outputs=(outputs.COMPONENT_NAME, outputs.COMPONENT_ENDPOINT_NAME),
    invocation=Invocation.COMPONENT,
    client_outputs=(outputs.COMPONENT_ENDPOINT_NAME,),
    # Recognised by the shared endpoint's config; the components themselves are listed with their
    # model (review_bundle.modes, by INFERENCE_COMPONENT).
    resource_type=ENDPOINT_CONFIG,
    recognises=_hosts_components,
    colour="#fdf2f8",
)

# Every mode, in the order the config reference, stacks, dashboard, smoke report and review
# bundle list them. Read it through registered(), which a test may patch to add a toy mode.
REGISTRY: tuple[Mode, ...] = (REALTIME, SERVERLESS, ASYNC, BATCH, COMPONENT)


def registered() -> tuple[Mode, ...]:
    return REGISTRY


def named(name: str) -> Mode:
    for mode in registered():
        if mode.name == name:
            return mode
    raise KeyError(f"no mode named {name!r}; the modes are {', '.join(mode.name for mode in registered())}")


def recognise(resource_type: str, resource: Mapping[str, Any]) -> Mode | None:
    """The mode a template resource belongs to, or None (catch-all modes asked last)."""
    candidates = sorted(
        (mode for mode in registered() if mode.resource_type == resource_type), key=lambda mode: mode.catch_all
    )
    return next((mode for mode in candidates if mode.recognises(resource)), None)
