"""The scaling guard's handler (the function's inline code), run with the event CloudFormation sends.

The handler deregisters exactly the variants an endpoint update would break
(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html) and always
answers CloudFormation through the response URL, also when it fails.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import pytest

REGISTERED = {"InstanceType": "ml.m5.large", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


class ObjectNotFoundException(Exception):
    pass


class FakeAutoScaling:
    """Application Auto Scaling as the handler uses it: deregistering a target that is not
    registered raises ObjectNotFoundException, as the API reference says."""

    def __init__(self, registered: set[str]) -> None:
        self.registered = set(registered)
        self.calls: list[dict[str, str]] = []
        self.exceptions = types.SimpleNamespace(ObjectNotFoundException=ObjectNotFoundException)

    def deregister_scalable_target(self, **request: str) -> None:
        self.calls.append(request)
        if request["ResourceId"] not in self.registered:
            raise ObjectNotFoundException("No scalable target registered")
        self.registered.remove(request["ResourceId"])


@pytest.fixture
def guard(monkeypatch):
    """The handler module with a recording cfnresponse and a fake Application Auto Scaling."""
    responses: list[dict[str, Any]] = []
    cfnresponse = types.ModuleType("cfnresponse")
    cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"

    def send(event, context, status, data, physical_id=None, no_echo=False, reason=None):
        responses.append({"Status": status, "PhysicalResourceId": physical_id, "Reason": reason, "Data": data})

    cfnresponse.send = send
    monkeypatch.setitem(sys.modules, "cfnresponse", cfnresponse)
    sys.modules.pop("inference_constructs.scaling_guard_handler", None)
    module = importlib.import_module("inference_constructs.scaling_guard_handler")
    client = FakeAutoScaling({"endpoint/e/variant/AllTraffic"})
    monkeypatch.setattr(
        module.boto3, "client", lambda service: client if service == "application-autoscaling" else None
    )
    yield module, client, responses
    sys.modules.pop("inference_constructs.scaling_guard_handler", None)


def _event(request_type: str, new: dict, old: dict | None = None) -> dict:
    event = {
        "RequestType": request_type,
        "ResourceProperties": {"ServiceToken": "arn", "EndpointName": "e", **new},
        "ResponseURL": "https://example.invalid/response",
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "Guard",
    }
    if old is not None:
        event["OldResourceProperties"] = {"ServiceToken": "arn", "EndpointName": "e", **old}
        event["PhysicalResourceId"] = "e-scaling-guard"
    return event


@pytest.mark.parametrize(
    ("new_variants", "deregistered"),
    [
        ({"AllTraffic": {**REGISTERED, "InstanceType": "ml.c5.xlarge"}}, True),  # instance type changed
        ({}, True),  # autoscaling dropped
        ({"Renamed": REGISTERED}, True),  # variant renamed
        ({"AllTraffic": REGISTERED}, False),  # bounds or model changes only: nothing to do
    ],
)
def test_update_deregisters_only_the_variants_the_endpoint_update_breaks(guard, new_variants, deregistered):
    module, client, responses = guard
    module.handler(
        _event("Update", {"AutoscaledVariants": new_variants}, {"AutoscaledVariants": {"AllTraffic": REGISTERED}}),
        None,
    )
    expected = [
        {
            "ServiceNamespace": "sagemaker",
            "ResourceId": "endpoint/e/variant/AllTraffic",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        }
    ]
    assert client.calls == (expected if deregistered else [])
    assert responses == [{"Status": "SUCCESS", "PhysicalResourceId": "e-scaling-guard", "Reason": None, "Data": {}}]


def test_a_variant_that_is_not_registered_any_more_is_not_an_error(guard):
    module, client, responses = guard
    client.registered.clear()
    module.handler(
        _event("Update", {"AutoscaledVariants": {}}, {"AutoscaledVariants": {"AllTraffic": REGISTERED}}), None
    )
    assert len(client.calls) == 1
    assert responses[0]["Status"] == "SUCCESS"


@pytest.mark.parametrize("request_type", ["Create", "Delete"])
def test_create_and_delete_change_nothing(guard, request_type):
    module, client, responses = guard
    old = {"AutoscaledVariants": {"AllTraffic": REGISTERED}} if request_type == "Delete" else None
    module.handler(_event(request_type, {"AutoscaledVariants": {"AllTraffic": REGISTERED}}, old), None)
    assert client.calls == []
    assert responses[0]["Status"] == "SUCCESS"


def test_a_new_endpoint_name_leaves_the_old_registration_to_the_endpoint_deletion(guard):
    module, client, _ = guard
    event = _event("Update", {"AutoscaledVariants": {}}, {"AutoscaledVariants": {"AllTraffic": REGISTERED}})
    event["ResourceProperties"]["EndpointName"] = "renamed"
    module.handler(event, None)
    assert client.calls == []


def test_an_api_error_fails_the_resource_with_the_error_as_reason(guard):
    module, client, responses = guard

    def refuse(**request: str) -> None:
        raise RuntimeError("AccessDenied: not authorized to deregister")

    client.deregister_scalable_target = refuse
    module.handler(
        _event("Update", {"AutoscaledVariants": {}}, {"AutoscaledVariants": {"AllTraffic": REGISTERED}}), None
    )
    assert responses == [
        {
            "Status": "FAILED",
            "PhysicalResourceId": "e-scaling-guard",
            "Reason": "RuntimeError: AccessDenied: not authorized to deregister",
            "Data": {},
        }
    ]
