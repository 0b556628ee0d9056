"""Run moto's server with the few fixes the round trip needs (moto 5.2.5).

Each patch names the moto behaviour it covers; delete it when moto fixes that behaviour.
"""

from __future__ import annotations

import json
import re
import sys
from graphlib import TopologicalSorter
from typing import Any

# The version pinned in requirements.txt; a different one must be re-checked patch by patch.
MOTO_VERSION = "5.2.5"


def _kms_key_tags_from_cloudformation() -> None:
    # moto's AWS::KMS::Key handler (1) passes CloudFormation's {Key, Value} tags to a tagger that
    # expects KMS's {TagKey, TagValue}: any tagged key fails with KeyError('TagKey'), reported as
    # "Fn::GetAtt references undefined resource"; (2) stores the KeyPolicy object as is, where the
    # KMS API expects JSON text: DescribeKey and every other policy-checked call then fail with 500.
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__

    def create(cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if properties.get("Tags"):
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties["Tags"]]
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return original(cls, resource_name, cloudformation_json, *args, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create)


def _sagemaker_endpoint_name_from_cloudformation() -> None:
    # moto's AWS::SageMaker::Endpoint handler ignores the EndpointName property and names the
    # endpoint after the logical id, so the stable name the stack publishes would not resolve.
    # Updates keep whatever name the endpoint was created with, so only creation needs this.
    from moto.sagemaker.models import FakeEndpoint

    original = FakeEndpoint.create_from_cloudformation_json.__func__

    def create(cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
        name = cloudformation_json.get("Properties", {}).get("EndpointName") or resource_name
        return original(cls, name, cloudformation_json, *args, **kwargs)

    FakeEndpoint.create_from_cloudformation_json = classmethod(create)


def _sagemaker_models_with_containers_from_cloudformation() -> None:
    # moto's AWS::SageMaker::Model handler reads PrimaryContainer unconditionally: a model that
    # lists Containers instead (a serial inference pipeline; AWS takes one or the other) fails
    # with KeyError. moto's CreateModel takes both as optional, so a missing one becomes None.
    from moto.sagemaker.models import Model

    original = Model.create_from_cloudformation_json.__func__

    def create(cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if "Containers" in properties and "PrimaryContainer" not in properties:
            cloudformation_json = {**cloudformation_json, "Properties": {**properties, "PrimaryContainer": None}}
        return original(cls, resource_name, cloudformation_json, *args, **kwargs)

    Model.create_from_cloudformation_json = classmethod(create)


def _use_previous_value_of_defaulted_parameters() -> None:
    # On update, the CDK CLI passes UsePreviousValue for the BootstrapVersion parameter. moto looks
    # the previous value up among the parameters *passed* at creation only; one that took its
    # default (every CDK stack's BootstrapVersion) raises KeyError and fails the update with a 500.
    # Dropping such a parameter lets moto resolve its default again, which is the previous value.
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend._resolve_update_parameters

    def resolve(self: Any, instance: Any, incoming_params: list[dict[str, Any]]) -> dict[str, str]:
        kept = [
            parameter
            for parameter in incoming_params
            if not parameter.get("UsePreviousValue") or parameter["ParameterKey"] in instance.parameters
        ]
        return original(self, instance, kept)

    CloudFormationBackend._resolve_update_parameters = resolve


def _referenced_logical_ids(node: Any) -> set[str]:
    """Logical ids a template fragment points at through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= _referenced_logical_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _referenced_logical_ids(item)
    return found


def _update_resources_whose_references_changed() -> None:
    # On a stack update moto re-creates only resources whose template text changed. A resource that
    # only *refers* to a replaced one (an EndpointConfig's ModelName: !GetAtt Model.ModelName) keeps
    # pointing at the deleted old resource, where CloudFormation would update or replace it too.
    # This adds every transitive dependant of a modified resource to the update, in dependency order.
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap.build_resource_diff

    def build_resource_diff(self: Any, other_template: dict[str, Any], parameters: Any = None) -> dict[str, Any]:
        actions = original(self, other_template, parameters)
        new, old = other_template["Resources"], self._resource_json_map
        references = {name: _referenced_logical_ids(body) & set(new) for name, body in new.items()}
        modified = set(actions["Modify"])
        while dependants := {
            name for name in new if name in old and name not in modified and references[name] & modified
        }:
            modified |= dependants
        # Dependencies first (CloudFormation forbids reference cycles).
        actions["Modify"] = list(
            TopologicalSorter({name: references[name] & modified for name in modified}).static_order()
        )
        return actions

    ResourceMap.build_resource_diff = build_resource_diff


def _run_state_machines_created_by_cloudformation() -> None:
    # moto runs state machine definitions only with its documented "execute_state_machine" setting,
    # and then serves the Step Functions API from a second backend, while its
    # AWS::StepFunctions::StateMachine handler keeps writing to the first: the deployed machine would
    # be "does not exist". Switch the setting on and point the handler at the executing backend.
    from moto.core.config import default_user_config
    from moto.stepfunctions import models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    models.stepfunctions_backends = stepfunctions_parser_backends


def _sagemaker_sync_integrations() -> None:
    # moto's state machine interpreter supports no ".sync" integration for SageMaker: a
    # createTransformJob.sync task fails with "Unsupported .sync callback procedure" before it calls
    # CreateTransformJob. This runs the call, then waits on DescribeTransformJob as Step Functions does.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported import (
        StateTaskServiceUnsupported,
    )
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    class SageMakerTask(StateTaskServiceUnsupported):
        def __init__(self) -> None:
            StateTaskServiceCallback.__init__(
                self, supported_integration_patterns={ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
            )

        def _build_sync_resolver(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> Any:
            if self._get_boto_service_action() != "create_transform_job":
                return super()._build_sync_resolver(
                    env, resource_runtime_part, normalised_parameters, state_credentials
                )
            client = boto_client_for(
                service="sagemaker", region=resource_runtime_part.region, state_credentials=state_credentials
            )
            name = normalised_parameters["TransformJobName"]

            def resolve() -> dict | None:
                job = client.describe_transform_job(TransformJobName=name)
                job.pop("ResponseMetadata", None)
                status = job["TransformJobStatus"]
                if status in ("Failed", "Stopped"):
                    raise RuntimeError(f"transform job {name} {status}: {job.get('FailureReason', '')}")
                if status != "Completed":
                    return None
                _write_transform_output(job, resource_runtime_part.region, state_credentials)
                # Step Functions hands timestamps on as epoch milliseconds.
                return json.loads(json.dumps(job, default=lambda value: int(value.timestamp() * 1000)))

            return resolve

    original = state_task_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        return SageMakerTask() if service_name == "sagemaker" else original(service_name)

    state_task_factory.state_task_service_for = state_task_service_for


def _write_transform_output(job: dict[str, Any], region: str, state_credentials: Any) -> None:
    # moto's transform jobs complete without running a model or writing any output. Like a model
    # answering one label per line (AssembleWith: Line), this writes a canned label for each input
    # line at the key SageMaker uses, <output path>/<input key below the input prefix>.out, so the
    # clients that read batch results (run-batch, smoke) have results to read.
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    s3 = boto_client_for(service="s3", region=region, state_credentials=state_credentials)
    source = job["TransformInput"]["DataSource"]["S3DataSource"]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        return
    input_bucket, _, input_prefix = source["S3Uri"].removeprefix("s3://").partition("/")
    output_bucket, _, output_prefix = job["TransformOutput"]["S3OutputPath"].removeprefix("s3://").partition("/")
    listing = s3.list_objects_v2(Bucket=input_bucket, Prefix=input_prefix).get("Contents", [])
    for item in listing:
        body = s3.get_object(Bucket=input_bucket, Key=item["Key"])["Body"].read().decode("utf-8", "replace")
        records = [line for line in body.splitlines() if line.strip()]
        relative = item["Key"][len(input_prefix) :].lstrip("/") or item["Key"].rsplit("/", 1)[-1]
        key = f"{output_prefix.rstrip('/')}/{relative}.out".lstrip("/")
        s3.put_object(Bucket=output_bucket, Key=key, Body="".join("setosa\n" for _ in records).encode())


def _s3_bucket_notifications_without_lambda() -> None:
    # CDK configures S3 bucket notifications (`event_bridge_enabled=True` included) through a
    # Custom::S3BucketNotifications resource backed by a Lambda function. moto runs Lambda code only
    # in Docker, which is not available here: the resource never completes and the deploy hangs.
    # Apply the EventBridge setting the handler would apply and complete the resource; any other
    # notification kind fails the deploy loudly instead of hanging.
    from moto.cloudformation.custom_model import CustomModel
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    original = CustomModel.create_from_cloudformation_json.__func__

    def create(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        if kwargs.get("ResourceType") != "Custom::S3BucketNotifications":
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json["Properties"]
        configuration = properties.get("NotificationConfiguration") or {}
        unsupported = sorted(set(configuration) - {"EventBridgeConfiguration"})
        if unsupported:
            raise NotImplementedError(f"moto_workarounds: bucket notifications {unsupported} are not emulated")
        s3_backends[account_id][get_partition(region_name)].put_bucket_notification_configuration(
            properties["BucketName"], configuration
        )
        resource = CustomModel(region_name, "applied-without-lambda", kwargs["LogicalId"], resource_name)
        resource.set_data({})
        return resource

    CustomModel.create_from_cloudformation_json = classmethod(create)


def _inference_component_endpoints_and_scaling() -> None:
    # moto (1) requires a ModelName in every production variant, where an endpoint config for
    # inference components names none (its models are the components: CreateEndpointConfig in
    # botocore's sagemaker model has ModelName optional in ProductionVariant); and (2) knows no
    # sagemaker:inference-component:DesiredCopyCount dimension, which Application Auto Scaling
    # accepts (the ScalableDimension enum of botocore's application-autoscaling model).
    from moto.applicationautoscaling import models as scaling
    from moto.sagemaker.models import SageMakerModelBackend

    original_validate = SageMakerModelBackend.validate_production_variants

    def validate(self: Any, production_variants: list[dict[str, Any]]) -> None:
        original_validate(self, [variant for variant in production_variants if "ModelName" in variant])

    SageMakerModelBackend.validate_production_variants = validate
    original_valid = scaling._target_params_are_valid

    def valid(namespace: str, r_id: str, dimension: str) -> bool:
        if (namespace, dimension) == ("sagemaker", "sagemaker:inference-component:DesiredCopyCount") and re.fullmatch(
            r"inference-component/[a-zA-Z0-9](-*[a-zA-Z0-9])*", r_id or ""
        ):
            return True
        return original_valid(namespace, r_id, dimension)

    scaling._target_params_are_valid = valid


def _sagemaker_instance_types_from_botocore() -> None:
    # moto 5.2.5 checks endpoint variants against an old hard-coded list of instance types
    # without ml.g5, ml.g6, ml.p4d, ml.inf2 ... which SageMaker offers; check them against the
    # ProductionVariantInstanceType enum of botocore's sagemaker model instead, as AWS does.
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpointConfig

    from inference_constructs.instance_types import InstanceUse, offered

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in offered(InstanceUse.HOSTING):
            raise ValidationError(
                message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: Member must "
                "satisfy enum value set (ProductionVariantInstanceType)"
            )

    FakeEndpointConfig.validate_instance_type = validate_instance_type


def apply() -> None:
    _inference_component_endpoints_and_scaling()
    _s3_bucket_notifications_without_lambda()
    _run_state_machines_created_by_cloudformation()
    _sagemaker_sync_integrations()
    _update_resources_whose_references_changed()
    _use_previous_value_of_defaulted_parameters()
    _kms_key_tags_from_cloudformation()
    _sagemaker_endpoint_name_from_cloudformation()
    _sagemaker_models_with_containers_from_cloudformation()
    _sagemaker_instance_types_from_botocore()


if __name__ == "__main__":
    import moto

    if moto.__version__ != MOTO_VERSION:
        sys.exit(f"these workarounds were written for moto {MOTO_VERSION}, not {moto.__version__}: re-check each one")
    apply()
    # Then the rules AWS enforces and moto does not (some extend the patches above).
    from tests.e2e import emulator_rules

    emulator_rules.apply()
    from moto.server import main

    main(sys.argv[1:])
