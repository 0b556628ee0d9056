"""Rules AWS enforces that moto 5.2.5 does not: the emulator of the round trip refuses what AWS refuses.

``moto_workarounds`` fixes moto where it fails what AWS accepts; this module makes it fail
what AWS refuses, so that a deploy the round trip accepts would also deploy on AWS. Each rule
names the AWS page it comes from. The error texts follow AWS's where AWS documents or is known to
print them (CloudFormation's export and custom resource messages); the SageMaker refusal text is
ours, as its exact wording is not published.

1. CloudFormation's update order: resources are created and updated in dependency order
   (references and ``DependsOn``), and removed resources are deleted only in the cleanup phase
   afterwards, in reverse dependency order, except those with ``DeletionPolicy: Retain``
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html,
   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
   moto deletes removed resources first, ignoring ``Retain``, then adds, then modifies; and it
   deletes a stack's resources in no particular order. Here a stack is deleted dependants first.
2. Application Auto Scaling in CloudFormation: moto skips ``AWS::ApplicationAutoScaling::*``.
   Scalable targets (with their scheduled actions) and scaling policies are registered through
   moto's Application Auto Scaling backend; a policy needs a registered target, and deregistering a
   target deletes its policies and scheduled actions
   (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html);
   deregistering an unregistered target is ``ObjectNotFoundException``.
3. SageMaker refuses an endpoint update that changes the instance type of, or removes, a variant
   registered as a scalable target (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html),
   and deleting an endpoint deregisters its variants
   (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html). moto's
   CloudFormation replaces the endpoint on update (delete and create); here it is updated in place.
4. CloudFormation refuses to delete or change an export another stack imports, and to delete a
   stack whose exports are imported
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html).
   moto never checks, and keeps a stack's exports as they were at creation.
6. Inference components: moto has no ``AWS::SageMaker::InferenceComponent``. Here one is
   created, updated in place and deleted through CloudFormation, and refused as SageMaker refuses
   it: its endpoint must exist, with a variant of its ``VariantName`` that names no model (an
   endpoint config for inference components has no ``ModelName``:
   https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-deploy-models.html), its
   model must exist, and each copy must fit one instance of the variant's type
   (``ComputeResourceRequirements`` against the EC2 figures in
   ``inference_constructs.instance_resources``). Its scalable target (``inference-component/<name>``)
   registers only while the component exists.
5. Lambda-backed custom resources: moto runs Lambda code only in Docker. A custom resource whose
   function has inline Python code (``Code.ZipFile``) runs its handler in this process, with the
   event CloudFormation sends (Create, Update with the old properties, Delete), the function's
   environment and the emulator as endpoint; the handler answers through ``cfnresponse`` to the
   response URL, and a FAILED answer (or none) fails the stack operation
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
6. SageMaker's model and variant rules for large models, which moto stores without checking:
   an uncompressed model's ``S3Uri`` with ``S3DataType: S3Prefix`` is a key prefix, which "always
   ends with a forward slash" (botocore's S3ModelDataSource documentation;
   https://docs.aws.amazon.com/sagemaker/latest/dg/large-model-inference-uncompressed.html); and
   ``VolumeSizeInGB`` cannot be asked of an instance type whose storage is local NVMe
   (https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html).
7. Production variants: CreateEndpointConfig takes 1 to 10 production variants with unique names
   (botocore's ProductionVariantList; "VariantName ... must be unique",
   https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html). moto
   takes any number and any names.
8. An endpoint update with ``RetainAllVariantProperties`` keeps each remaining variant's current
   instance count and weight, except the property types listed in
   ``ExcludeRetainedVariantProperties``, which come from the new config
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-sagemaker-endpoint-variantproperty.html).
   moto ignores both properties and always takes the new config's.
9. The rules of ``aws_rules`` that AWS enforces at deploy (each citing its AWS source), on every
   JSON template CloudFormation is given: a stack created or updated, or a change set made, whose
   template breaks one is refused here, naming the rule. On AWS the same template fails when the
   offending resource is created or updated (a rule description over PutRule's 512 characters, an
   IAM policy over its size limit, an alarm period CloudWatch does not take); moto creates it.
   The rules AWS enforces on a later update or at run time are not applied here: AWS deploys such
   a template (the rules above, and the round trip, show what happens next). Other live stacks
   take part, so rules across stacks see what they reference; only the changed stack's
   violations refuse it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Iterator
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

SCALING_NAMESPACE = "sagemaker"
SCALING_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html"


# 1. CloudFormation's update order ---------------------------------------------------------------


def _depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def _dependencies(resources: dict[str, Any], among: set[str]) -> dict[str, set[str]]:
    from tests.e2e.moto_workarounds import _referenced_logical_ids

    return {
        name: (_referenced_logical_ids(resources[name]) | _depends_on(resources[name])) & among - {name}
        for name in among
    }


def _cloudformation_update_order() -> None:
    from moto.cloudformation.parsing import ResourceMap, parse_and_update_resource

    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        actions = self.build_resource_diff(template, parameters)
        old = self._resource_json_map
        removed = {name: old[name] for name in actions["Remove"]}
        self._template = template
        if parameters:
            self.input_parameters = parameters
        self.load_mapping()
        self.load_parameters()
        self.load_conditions()
        self._resource_json_map = new = template["Resources"]
        added = set(actions["Add"])
        for name in TopologicalSorter(_dependencies(new, added | set(actions["Modify"]))).static_order():
            if name in added:
                _ = self[name]  # moto creates a resource when it is first looked up
            else:
                self._parsed_resources[name] = parse_and_update_resource(
                    name, new[name], self, account_id=self._account_id, region_name=self._region_name
                )
        # Cleanup: dependants before what they depend on; retained resources leave the stack only.
        for name in reversed(list(TopologicalSorter(_dependencies(removed, set(removed))).static_order())):
            resource = self._parsed_resources.pop(name, None)
            if resource is not None and removed[name].get("DeletionPolicy") != "Retain":
                self._delete_resource(resource, removed[name])

    def delete(self: Any) -> None:
        # Stack deletion: dependants first (a custom resource before its function), retained
        # resources left alone. What fails is tried again once the rest is gone, as moto does.
        resources = self._resource_json_map
        order = reversed(list(TopologicalSorter(_dependencies(resources, set(resources))).static_order()))
        pending = [
            name
            for name in order
            if resources[name].get("DeletionPolicy") != "Retain"
            and self._parsed_resources.get(name) is not None
            and not isinstance(self._parsed_resources.get(name), str)
        ]
        for _ in range(3):
            failed, errors = [], []
            for name in pending:
                try:
                    self._delete_resource(self._parsed_resources[name], resources[name])
                except Exception as error:  # retried below, raised if it persists
                    failed.append(name)
                    errors.append(error)
                else:
                    self._parsed_resources.pop(name)
            if not failed:
                return
            pending = failed
        raise errors[0]

    ResourceMap.update = update
    ResourceMap.delete = delete


# 2. Application Auto Scaling in CloudFormation ------------------------------------------------


def _scaling_backend(account_id: str, region_name: str) -> Any:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    return applicationautoscaling_backends[account_id][region_name]


def _object_not_found(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ObjectNotFoundException", message)


def _deregistering_deletes_policies_and_scheduled_actions() -> None:
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend

    def deregister(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        if not self._scalable_target_exists(r_id, dimension):
            raise _object_not_found(
                f"No scalable target registered for service namespace: {namespace}, resource ID: {r_id}, "
                f"scalable dimension: {dimension}"
            )
        del self.targets[dimension][r_id]
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                namespace,
                r_id,
                dimension,
            ):
                del self.policies[key]
        self.scheduled_actions = [
            action
            for action in self.scheduled_actions
            if (action.service_namespace, action.resource_id, action.scalable_dimension) != (namespace, r_id, dimension)
        ]

    ApplicationAutoscalingBackend.deregister_scalable_target = deregister


def _registered(account_id: str, region_name: str, namespace: str, resource_id: str, dimension: str) -> bool:
    return _scaling_backend(account_id, region_name)._scalable_target_exists(resource_id, dimension)


def _application_autoscaling_resources() -> None:
    from moto.core.common_models import CloudFormationModel

    class CfnScalableTarget(CloudFormationModel):
        """AWS::ApplicationAutoScaling::ScalableTarget; Ref is ``resource id|dimension|namespace``."""

        def __init__(self, properties: dict[str, Any]) -> None:
            self.properties = properties

        @property
        def key(self) -> tuple[str, str, str]:
            p = self.properties
            return p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"]

        @property
        def physical_resource_id(self) -> str:
            namespace, resource_id, dimension = self.key
            return f"{resource_id}|{dimension}|{namespace}"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApplicationAutoScaling::ScalableTarget"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        def register(self, account_id: str, region_name: str) -> None:
            backend = _scaling_backend(account_id, region_name)
            namespace, resource_id, dimension = self.key
            p = self.properties
            backend.register_scalable_target(
                namespace,
                resource_id,
                dimension,
                int(p["MinCapacity"]),
                int(p["MaxCapacity"]),
                p.get("RoleARN", ""),
                p.get("SuspendedState"),
            )
            for action in p.get("ScheduledActions", []):
                backend.put_scheduled_action(
                    namespace,
                    action["Schedule"],
                    action.get("Timezone"),
                    action["ScheduledActionName"],
                    resource_id,
                    dimension,
                    action.get("StartTime"),
                    action.get("EndTime"),
                    action.get("ScalableTargetAction"),
                )

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> CfnScalableTarget:
            target = cls(cloudformation_json["Properties"])
            target.register(account_id, region_name)
            return target

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[misc]
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> CfnScalableTarget:
            target = cls(cloudformation_json["Properties"])
            if target.key == original_resource.key and not _registered(account_id, region_name, *target.key):
                # CloudFormation's handler reads the target before updating it.
                raise _object_not_found(f"scalable target {target.physical_resource_id} is not registered")
            target.register(account_id, region_name)
            if target.key != original_resource.key and cloudformation_json.get("UpdateReplacePolicy") != "Retain":
                original_resource.delete(account_id, region_name)  # replaced: the old one goes
            return target

        def delete(self, account_id: str, region_name: str) -> None:
            _scaling_backend(account_id, region_name).deregister_scalable_target(*self.key)

    class CfnScalingPolicy(CloudFormationModel):
        """AWS::ApplicationAutoScaling::ScalingPolicy; Ref is the policy ARN."""

        def __init__(self, properties: dict[str, Any], arn: str) -> None:
            self.properties, self.arn = properties, arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApplicationAutoScaling::ScalingPolicy"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn

        @staticmethod
        def target_of(properties: dict[str, Any]) -> tuple[str, str, str]:
            if "ScalingTargetId" in properties:
                resource_id, dimension, namespace = properties["ScalingTargetId"].split("|")
                return namespace, resource_id, dimension
            return properties["ServiceNamespace"], properties["ResourceId"], properties["ScalableDimension"]

        @classmethod
        def put(cls, properties: dict[str, Any], account_id: str, region_name: str) -> CfnScalingPolicy:
            namespace, resource_id, dimension = cls.target_of(properties)
            if not _registered(account_id, region_name, namespace, resource_id, dimension):
                raise _object_not_found(f"No scalable target registered for {namespace} {resource_id} {dimension}")
            policy = _scaling_backend(account_id, region_name).put_scaling_policy(
                properties["PolicyName"],
                namespace,
                resource_id,
                dimension,
                properties.get("StepScalingPolicyConfiguration")
                or properties.get("TargetTrackingScalingPolicyConfiguration"),
                properties["PolicyType"],
            )
            return cls(properties, policy.policy_arn)

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> CfnScalingPolicy:
            return cls.put(cloudformation_json["Properties"], account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[misc]
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> CfnScalingPolicy:
            return cls.put(cloudformation_json["Properties"], account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            namespace, resource_id, dimension = self.target_of(self.properties)
            _scaling_backend(account_id, region_name).delete_scaling_policy(
                self.properties["PolicyName"], namespace, resource_id, dimension
            )

    from moto.cloudformation import parsing

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    assert {"AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy"} <= set(
        parsing.get_model_map()
    )


# 3. SageMaker endpoint updates and deletions with registered variants --------------------------

# (account, region, endpoint name) -> variant name -> instance type, as last deployed.
_ENDPOINT_VARIANTS: dict[tuple[str, str, str], dict[str, str | None]] = {}


def _variants_of(config: dict[str, Any]) -> dict[str, str | None]:
    return {variant["VariantName"]: variant.get("InstanceType") for variant in config["ProductionVariants"]}


def _registered_variants(account_id: str, region_name: str, endpoint_name: str) -> list[str]:
    prefix = f"endpoint/{endpoint_name}/variant/"
    targets = _scaling_backend(account_id, region_name).describe_scalable_targets(SCALING_NAMESPACE, None, None)
    return sorted(
        target.resource_id.removeprefix(prefix) for target in targets if target.resource_id.startswith(prefix)
    )


# (what ExcludeRetainedVariantProperties names, the DescribeEndpoint fields it governs)
_RETAINED_FIELDS = {
    "DesiredInstanceCount": ("CurrentInstanceCount", "DesiredInstanceCount"),
    "DesiredWeight": ("CurrentWeight", "DesiredWeight"),
}


def _retained(old: list[dict[str, Any]], new: list[dict[str, Any]], properties: dict[str, Any]) -> list[dict[str, Any]]:
    """Rule 8: the variants after an update, keeping what RetainAllVariantProperties retains."""
    if str(properties.get("RetainAllVariantProperties")).lower() != "true":
        return new
    excluded = {item["VariantPropertyType"] for item in properties.get("ExcludeRetainedVariantProperties") or []}
    current = {variant["VariantName"]: variant for variant in old}
    for variant in new:
        kept = current.get(variant["VariantName"])
        for kind, fields in _RETAINED_FIELDS.items():
            if kept is not None and kind not in excluded:
                variant.update({field: kept[field] for field in fields if field in kept})
    return new


def _production_variant_rules() -> None:
    """Rule 7: CreateEndpointConfig's limits on production variants."""
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    from inference_constructs.service_models import max_items

    original = SageMakerModelBackend.validate_production_variants
    limit = max_items("sagemaker", "ProductionVariantList")

    def validate(self: Any, production_variants: list[dict[str, Any]]) -> None:
        names = [variant["VariantName"] for variant in production_variants]
        if not 1 <= len(names) <= limit:
            raise ValidationError(
                message=f"CreateEndpointConfig takes 1 to {limit} production variants; got {len(names)}"
            )
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValidationError(
                message=f"CreateEndpointConfig: variant names must be unique; duplicated: {duplicated}"
            )
        original(self, production_variants)

    SageMakerModelBackend.validate_production_variants = validate


def _sagemaker_endpoint_rules() -> None:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend, sagemaker_backends

    original_create = FakeEndpoint.create_from_cloudformation_json.__func__

    def create(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kw: Any
    ) -> Any:
        endpoint = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        config = sagemaker_backends[account_id][region_name].describe_endpoint_config(endpoint.endpoint_config_name)
        _ENDPOINT_VARIANTS[(account_id, region_name, endpoint.endpoint_name)] = _variants_of(config)
        return endpoint

    def update(
        cls: type,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        backend = sagemaker_backends[account_id][region_name]
        name = original_resource.endpoint_name
        config = backend.describe_endpoint_config(cloudformation_json["Properties"]["EndpointConfigName"])
        old, new = _ENDPOINT_VARIANTS.get((account_id, region_name, name), {}), _variants_of(config)
        blocked = [
            variant
            for variant in _registered_variants(account_id, region_name, name)
            if variant not in new or new[variant] != old.get(variant)
        ]
        if blocked:
            raise ValidationError(
                message=f"UpdateEndpoint {name}: variant(s) {blocked} are registered Application Auto Scaling "
                "targets and the update would change their instance type or remove them; deregister them "
                f"first ({SCALING_DOC})"
            )
        # SageMaker updates the endpoint in place (moto would delete and re-create it).
        original_resource.endpoint_config_name = config["EndpointConfigName"]
        original_resource.production_variants = _retained(
            original_resource.production_variants,
            original_resource._process_production_variants(config["ProductionVariants"]),
            cloudformation_json["Properties"],
        )
        original_resource.data_capture_config = config["DataCaptureConfig"]
        _ENDPOINT_VARIANTS[(account_id, region_name, name)] = new
        return original_resource

    FakeEndpoint.create_from_cloudformation_json = classmethod(create)
    FakeEndpoint.update_from_cloudformation_json = classmethod(update)
    original_delete = SageMakerModelBackend.delete_endpoint

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        original_delete(self, endpoint_name)
        scaling = _scaling_backend(self.account_id, self.region_name)
        for variant in _registered_variants(self.account_id, self.region_name, endpoint_name):
            for target in scaling.describe_scalable_targets(
                SCALING_NAMESPACE, [f"endpoint/{endpoint_name}/variant/{variant}"], None
            ):
                scaling.deregister_scalable_target(SCALING_NAMESPACE, target.resource_id, target.scalable_dimension)
        _ENDPOINT_VARIANTS.pop((self.account_id, self.region_name, endpoint_name), None)

    SageMakerModelBackend.delete_endpoint = delete_endpoint


# 4. Exports in use ----------------------------------------------------------------------------


def _import_names(node: Any) -> set[str]:
    """Export names a template imports (CDK writes them as literal strings)."""
    if isinstance(node, dict):
        found = {node["Fn::ImportValue"]} if isinstance(node.get("Fn::ImportValue"), str) else set()
        return found.union(*(_import_names(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_import_names(value) for value in node))
    return set()


def _importers(backend: Any, exporting_stack: Any) -> dict[str, list[str]]:
    """Export name -> the other live stacks importing it."""
    users: dict[str, list[str]] = {}
    for stack in backend.stacks.values():
        if stack.stack_id != exporting_stack.stack_id and not stack.status.startswith("DELETE"):
            for name in _import_names(stack.template_dict):
                users.setdefault(name, []).append(stack.name)
    return users


def _exports_in_use() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original_update, original_delete = CloudFormationBackend.update_stack, CloudFormationBackend.delete_stack

    def update_stack(self: Any, name: str, template: str, *args: Any, **kwargs: Any) -> Any:
        stack = self.get_stack(name)
        before = {export.name: export.value for export in stack.exports}
        users = _importers(self, stack)
        try:
            outputs = json.loads(template).get("Outputs", {})
        except ValueError:  # a YAML template (CDK's bootstrap stack): checked after the update below
            outputs = {name: {"Export": {"Name": name}} for name in before}
        kept = {output["Export"]["Name"] for output in outputs.values() if "Export" in output}
        for export_name in sorted(set(before) - kept):
            if export_name in users:
                raise ValidationError(
                    message=f"Export {export_name} cannot be deleted as it is in use by {', '.join(users[export_name])}"
                )
        updated = original_update(self, name, template, *args, **kwargs)
        after = {export.name: export.value for export in updated.exports}
        for export_name in sorted(set(before) - set(after)):
            if export_name in users:
                raise ValidationError(
                    message=f"Export {export_name} cannot be deleted as it is in use by {', '.join(users[export_name])}"
                )
        for export_name in sorted(set(before) & set(after)):
            if before[export_name] != after[export_name] and export_name in users:
                raise ValidationError(
                    message=f"Export {export_name} cannot be updated as it is in use by {', '.join(users[export_name])}"
                )
        # moto keeps the exports a stack had at creation; keep its table in step with the stack.
        for export_name in set(before) - set(after):
            self.exports.pop(export_name, None)
        for export in updated.exports:
            self.exports[export.name] = export
        return updated

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        for stack in list(self.stacks.values()):
            if name_or_stack_id in (stack.stack_id, stack.name):
                users = _importers(self, stack)
                for export in stack.exports:
                    if export.name in users:
                        raise ValidationError(
                            message=f"Export {export.name} cannot be deleted as it is in use by "
                            f"{', '.join(users[export.name])}"
                        )
        original_delete(self, name_or_stack_id)

    CloudFormationBackend.update_stack = update_stack
    CloudFormationBackend.delete_stack = delete_stack


# 5. Lambda-backed custom resources run in process ---------------------------------------------

# cfnresponse answers by RequestId, as the emulator's response URL received them.
_RESPONSES: dict[str, dict[str, Any]] = {}
# The handler runs with the function's environment: one at a time.
_ENVIRONMENT_LOCK = threading.Lock()


@contextlib.contextmanager
def _lambda_environment(region_name: str, variables: dict[str, str]) -> Iterator[None]:
    port = os.environ.get("MOTO_PORT", "5000")
    overrides = {
        "AWS_REGION": region_name,
        "AWS_DEFAULT_REGION": region_name,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": f"http://localhost:{port}",
        **variables,
    }
    with _ENVIRONMENT_LOCK:
        saved = {key: os.environ.get(key) for key in overrides}
        os.environ.update(overrides)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class _Context:
    """The part of Lambda's context object cfnresponse reads."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.log_stream_name = f"{function_name}/in-process"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _invoke_inline_handler(function: Any, event: dict[str, Any], region_name: str) -> dict[str, Any]:
    """Run ``function``'s inline Python handler on ``event``; the response it sent CloudFormation."""
    if not str(function.run_time).startswith("python"):
        raise NotImplementedError(f"emulator_rules: custom resources backed by {function.run_time} are not emulated")
    module_name, _, attribute = function.handler.rpartition(".")
    with tempfile.TemporaryDirectory() as directory:
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(directory)
        sys.path.insert(0, directory)
        try:
            spec = importlib.util.spec_from_file_location(
                f"custom_resource_{uuid.uuid4().hex}", Path(directory) / f"{module_name}.py"
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            variables = dict(getattr(function, "environment_vars", None) or {})
            with _lambda_environment(region_name, variables):
                spec.loader.exec_module(module)
                getattr(module, attribute)(event, _Context(function.function_name))
        finally:
            sys.path.remove(directory)
            sys.modules.pop("cfnresponse", None)
    response = _RESPONSES.pop(event["RequestId"], None)
    if response is None:
        raise RuntimeError(
            f"custom resource {event['LogicalResourceId']}: the handler sent no response "
            "(CloudFormation would wait for one until the operation times out)"
        )
    if response.get("Status") != "SUCCESS":
        raise RuntimeError(
            f"Received response status [FAILED] from custom resource. Message returned: {response.get('Reason')}"
        )
    return response


def _custom_resources_in_process() -> None:
    from moto import settings
    from moto.awslambda.utils import get_backend as get_lambda_backend
    from moto.cloudformation import cloudformation_backends
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.responses import CloudFormationResponse

    def record_response(self: Any) -> tuple[int, dict[str, int], str]:
        # Only recorded: the resource that sent the request applies it when its handler returns
        # (moto's own handling would look the stack up, and create its pending resources, again).
        body = json.loads(self.body)
        _RESPONSES[body["RequestId"]] = body
        return 200, {"status": 200}, json.dumps("{}")

    CloudFormationResponse.process_cfn_response = record_response

    def send(resource: Any, request_type: str, properties: dict[str, Any], old: dict[str, Any] | None) -> None:
        function = get_lambda_backend(resource.account_id, resource.region_name).get_function(
            properties["ServiceToken"]
        )
        event = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": f"http://localhost:{settings.moto_server_port()}/cloudformation_{resource.region_name}"
            f"/cfnresponse?stack={resource.stack_id}",
            "StackId": resource.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": resource.logical_id,
            "ResourceType": resource.resource_type,
            "ResourceProperties": properties,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = resource.resource_name
        if old is not None:
            event["OldResourceProperties"] = old
        response = _invoke_inline_handler(function, event, resource.region_name)
        resource.set_data(response.get("Data") or {})
        resource.resource_name = response.get("PhysicalResourceId") or resource.resource_name

    previous_create = CustomModel.create_from_cloudformation_json.__func__

    def create(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        if kwargs.get("ResourceType") == "Custom::S3BucketNotifications":
            return previous_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        resource = CustomModel(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)
        resource.account_id, resource.stack_id, resource.resource_type = (
            account_id,
            kwargs["StackId"],
            kwargs["ResourceType"],
        )
        resource.properties = cloudformation_json["Properties"]
        cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"]).add_custom_resource(resource)
        send(resource, "Create", resource.properties, None)
        return resource

    def update(
        cls: type,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        if not hasattr(original_resource, "properties"):
            raise NotImplementedError(f"emulator_rules: updating {original_resource.logical_id} is not emulated")
        properties = cloudformation_json["Properties"]
        send(original_resource, "Update", properties, original_resource.properties)
        original_resource.properties = properties
        return original_resource

    def delete(self: Any, account_id: str, region_name: str) -> None:
        if hasattr(self, "properties"):
            send(self, "Delete", self.properties, None)

    CustomModel.create_from_cloudformation_json = classmethod(create)
    CustomModel.update_from_cloudformation_json = classmethod(update)
    CustomModel.delete = delete


# 6. Inference components ----------------------------------------------------------------------

# (account, region) -> component name -> its CloudFormation properties.
_COMPONENTS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def _component_problems(properties: dict[str, Any], account_id: str, region_name: str) -> list[str]:
    from moto.sagemaker.models import sagemaker_backends

    from inference_constructs.instance_resources import resources_of

    backend = sagemaker_backends[account_id][region_name]
    endpoint_name = properties["EndpointName"]
    try:
        endpoint = backend.describe_endpoint(endpoint_name)
    except Exception:  # moto's ValidationError: no such endpoint
        return [f"Could not find endpoint {endpoint_name!r}"]
    config = backend.describe_endpoint_config(endpoint["EndpointConfigName"])
    variants = {variant["VariantName"]: variant for variant in config["ProductionVariants"]}
    variant = variants.get(properties.get("VariantName") or next(iter(variants)))
    if variant is None:
        return [f"endpoint {endpoint_name} has no variant {properties.get('VariantName')!r}"]
    problems = []
    if variant.get("ModelName"):
        problems.append(
            f"endpoint {endpoint_name}'s variant serves model {variant['ModelName']}: it cannot host components"
        )
    specification = properties.get("Specification", {})
    if specification.get("ModelName") not in backend._models:
        problems.append(f"Could not find model {specification.get('ModelName')!r}")
    have = resources_of(variant["InstanceType"])
    asked = specification.get("ComputeResourceRequirements", {})
    if float(asked.get("NumberOfCpuCoresRequired", 0)) > have.vcpus:
        problems.append(f"NumberOfCpuCoresRequired is more than the {have.vcpus} vCPUs of {variant['InstanceType']}")
    if have.memory_mib is not None and int(asked.get("MinMemoryRequiredInMb", 0)) > have.memory_mib:
        problems.append(f"MinMemoryRequiredInMb is more than the {have.memory_mib} MiB of {variant['InstanceType']}")
    if have.accelerators is not None and float(asked.get("NumberOfAcceleratorDevicesRequired", 0)) > have.accelerators:
        problems.append(f"NumberOfAcceleratorDevicesRequired is more than {variant['InstanceType']} has")
    return problems


def _inference_components() -> None:
    from moto.core.common_models import CloudFormationModel
    from moto.sagemaker.exceptions import ValidationError

    class CfnInferenceComponent(CloudFormationModel):
        """AWS::SageMaker::InferenceComponent; Ref is its ARN."""

        def __init__(self, properties: dict[str, Any], name: str, account_id: str, region_name: str) -> None:
            self.properties, self.name = properties, name
            self.arn = f"arn:aws:sagemaker:{region_name}:{account_id}:inference-component/{name}"

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SageMaker::InferenceComponent"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("InferenceComponentArn", "InferenceComponentName")

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.arn if attribute_name == "InferenceComponentArn" else self.name

        @staticmethod
        def put(properties: dict[str, Any], name: str, account_id: str, region_name: str) -> CfnInferenceComponent:
            problems = _component_problems(properties, account_id, region_name)
            if problems:
                raise ValidationError(message=f"inference component {name}: {'; '.join(problems)}")
            _COMPONENTS.setdefault((account_id, region_name), {})[name] = properties
            return CfnInferenceComponent(properties, name, account_id, region_name)

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> CfnInferenceComponent:
            properties = cloudformation_json["Properties"]
            name = properties.get("InferenceComponentName") or resource_name
            if name in _COMPONENTS.get((account_id, region_name), {}):
                raise ValidationError(message=f"Cannot create already existing inference component {name!r}")
            return cls.put(properties, name, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[misc]
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> CfnInferenceComponent:
            # Every property updates in place (the resource schema has no create-only property).
            properties = cloudformation_json["Properties"]
            name = properties.get("InferenceComponentName") or original_resource.name
            if name != original_resource.name:
                _COMPONENTS.get((account_id, region_name), {}).pop(original_resource.name, None)
            return cls.put(properties, name, account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            _COMPONENTS.get((account_id, region_name), {}).pop(self.name, None)

    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend

    original_register = ApplicationAutoscalingBackend.register_scalable_target

    def register(self: Any, namespace: str, r_id: str, dimension: str, *args: Any, **kwargs: Any) -> Any:
        if r_id.startswith("inference-component/") and r_id.removeprefix("inference-component/") not in _COMPONENTS.get(
            (self.account_id, self.region_name), {}
        ):
            raise _object_not_found(f"inference component {r_id.removeprefix('inference-component/')} does not exist")
        return original_register(self, namespace, r_id, dimension, *args, **kwargs)

    ApplicationAutoscalingBackend.register_scalable_target = register
    from moto.cloudformation import parsing

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    assert "AWS::SageMaker::InferenceComponent" in parsing.get_model_map()


# 6. Large-model rules of CreateModel and CreateEndpointConfig --------------------------------


def _prefix_problems(containers: list[dict[str, Any]]) -> list[str]:
    sources = [container.get("ModelDataSource", {}).get("S3DataSource", {}) for container in containers]
    return [
        f"S3Uri {source['S3Uri']!r} is an S3Prefix and must end with '/'"
        for source in sources
        if source.get("S3DataType") == "S3Prefix" and not str(source.get("S3Uri", "")).endswith("/")
    ]


def _sagemaker_large_model_rules() -> None:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    from inference_constructs.instance_types import has_local_storage

    original_model, original_config = SageMakerModelBackend.create_model, SageMakerModelBackend.create_endpoint_config

    def create_model(
        self: Any, model_name: str, execution_role_arn: str, primary_container: Any, *a: Any, **kw: Any
    ) -> Any:
        containers = [primary_container or {}, *(kw.get("containers") or (a[1] if len(a) > 1 else None) or [])]
        problems = _prefix_problems(containers)
        if problems:
            raise ValidationError(message=f"CreateModel {model_name}: {'; '.join(problems)}")
        return original_model(self, model_name, execution_role_arn, primary_container, *a, **kw)

    def create_endpoint_config(
        self: Any, endpoint_config_name: str, production_variants: Any, *a: Any, **kw: Any
    ) -> Any:
        refused = [
            f"{variant['VariantName']} ({variant['InstanceType']})"
            for variant in production_variants
            if "VolumeSizeInGB" in variant and has_local_storage(variant.get("InstanceType", "ml.none.none"))
        ]
        if refused:
            raise ValidationError(
                message=f"CreateEndpointConfig {endpoint_config_name}: VolumeSizeInGB is not supported for variants "
                f"{refused}, whose instance types have local NVMe storage"
            )
        return original_config(self, endpoint_config_name, production_variants, *a, **kw)

    SageMakerModelBackend.create_model = create_model
    SageMakerModelBackend.create_endpoint_config = create_endpoint_config


# 9. The template rules of aws_rules -----------------------------------------------------------


def _template_violations(backend: Any, stack_name: str, template: str) -> list[str]:
    """What ``aws_rules`` finds in ``template`` as stack ``stack_name``, beside the other live stacks."""
    from aws_rules.rules import AT_DEPLOY, check_all
    from aws_rules.templates import Templates

    try:
        proposed = json.loads(template)
    except ValueError:  # YAML: CDK's bootstrap template, AWS's own
        return []
    templates = {
        stack.name: stack.template_dict
        for stack in backend.stacks.values()
        if not stack.status.startswith("DELETE") and isinstance(stack.template_dict, dict)
    }
    templates[stack_name] = proposed
    found = check_all(Templates(templates), when=(AT_DEPLOY,))
    return [str(violation) for violation in found if violation.stack == stack_name]


def _template_rules() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original_create = CloudFormationBackend.create_stack
    original_update = CloudFormationBackend.update_stack
    original_change_set = CloudFormationBackend.create_change_set

    def refuse_broken(backend: Any, stack_name: str, template: str) -> None:
        violations = _template_violations(backend, stack_name, template)
        if violations:
            raise ValidationError(message=f"AWS refuses this template: {'; '.join(violations)}")

    def create_stack(self: Any, name: str, template: str, *args: Any, **kwargs: Any) -> Any:
        refuse_broken(self, name, template)
        return original_create(self, name, template, *args, **kwargs)

    def update_stack(self: Any, name: str, template: str, *args: Any, **kwargs: Any) -> Any:
        refuse_broken(self, self.get_stack(name).name, template)
        return original_update(self, name, template, *args, **kwargs)

    def create_change_set(
        self: Any, stack_name: str, change_set_name: str, template: str, *args: Any, **kwargs: Any
    ) -> Any:
        refuse_broken(self, stack_name, template)
        return original_change_set(self, stack_name, change_set_name, template, *args, **kwargs)

    CloudFormationBackend.create_stack = create_stack
    CloudFormationBackend.update_stack = update_stack
    CloudFormationBackend.create_change_set = create_change_set


def apply() -> None:
    """Apply every rule (after ``moto_workarounds.apply``, whose patches some of these extend)."""
    _cloudformation_update_order()
    _deregistering_deletes_policies_and_scheduled_actions()
    _application_autoscaling_resources()
    _sagemaker_endpoint_rules()
    _production_variant_rules()
    _exports_in_use()
    _custom_resources_in_process()
    _inference_components()
    _sagemaker_large_model_rules()
    _template_rules()
