"""Deregister an endpoint's scalable targets that its next UpdateEndpoint would otherwise break.

SageMaker refuses UpdateEndpoint when it changes the instance type of, or removes, a variant
registered with Application Auto Scaling; the variant must be deregistered first and registered
again after the update (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html).
The endpoint depends on this custom resource, so CloudFormation runs its Update before it
updates the endpoint; the new registration is a new resource created after the endpoint.

Properties: EndpointName and AutoscaledVariants (variant name -> {InstanceType, ScalableDimension}).
On Update, each variant autoscaled under the old properties whose instance type (or dimension)
changed, or that is gone or no longer autoscaled, is deregistered (which also deletes its policies and scheduled
actions). Create and Delete change nothing: deleting an endpoint deregisters its variants
(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html).

This file is the function's inline code (CloudFormation's ZipFile, at most 4096 bytes), so it
uses only the Lambda Python runtime: boto3 and the cfnresponse module CloudFormation adds.
"""

from typing import Any

import boto3
import cfnresponse


def variants_to_deregister(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Variants registered under ``old`` properties that an update to ``new`` would break."""
    if old.get("EndpointName") != new.get("EndpointName"):
        return []  # a new endpoint: deleting the old one deregisters its variants
    kept = new.get("AutoscaledVariants") or {}
    registered = old.get("AutoscaledVariants") or {}
    return sorted(name for name, registration in registered.items() if kept.get(name) != registration)


def handler(event: dict[str, Any], context: Any) -> None:
    properties = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or f"{properties['EndpointName']}-scaling-guard"
    try:
        if event["RequestType"] == "Update":
            old = event["OldResourceProperties"]
            client = boto3.client("application-autoscaling")
            for variant in variants_to_deregister(old, properties):
                try:
                    client.deregister_scalable_target(
                        ServiceNamespace="sagemaker",
                        ResourceId=f"endpoint/{old['EndpointName']}/variant/{variant}",
                        ScalableDimension=old["AutoscaledVariants"][variant]["ScalableDimension"],
                    )
                except client.exceptions.ObjectNotFoundException:
                    pass  # not registered (any more): nothing stands in the update's way
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, physical_id)
    except Exception as error:
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, physical_id, reason=f"{type(error).__name__}: {error}")
