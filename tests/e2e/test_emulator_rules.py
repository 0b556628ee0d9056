"""The emulator refuses what AWS refuses (tests/e2e/emulator_rules.py), shown on the shapes that broke.

Each test deploys, with plain CloudFormation calls, the shape this project shipped before issue 14
and performs the change that fails on AWS; the emulator must refuse it as AWS does. The round
trip (test_deploy_round_trip.py) then shows the shipped stacks making the same changes cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from inference_constructs.model_approval import DESCRIPTION_PREFIX, approval_description
from tests.e2e.conftest import ACCOUNT, Emulator

pytestmark = pytest.mark.e2e

ENDPOINT = "rules-old-shape"
VARIANT_RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def _old_shape(instance_type: str) -> str:
    """An autoscaled endpoint as the stacks built it before issue 14: one scalable target that
    depends on the endpoint, nothing that deregisters it before an endpoint update."""
    role = f"arn:aws:iam::{ACCOUNT}:role/rules-sagemaker"
    return json.dumps(
        {
            "Resources": {
                "Model": {
                    "Type": "AWS::SageMaker::Model",
                    "Properties": {
                        "ExecutionRoleArn": role,
                        "PrimaryContainer": {"Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/rules:1"},
                    },
                },
                "Config": {
                    "Type": "AWS::SageMaker::EndpointConfig",
                    "Properties": {
                        "ProductionVariants": [
                            {
                                "VariantName": "AllTraffic",
                                "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                                "InstanceType": instance_type,
                                "InitialInstanceCount": 1,
                                "InitialVariantWeight": 1,
                            }
                        ]
                    },
                },
                "Endpoint": {
                    "Type": "AWS::SageMaker::Endpoint",
                    "Properties": {
                        "EndpointName": ENDPOINT,
                        "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                    },
                },
                "ScalableTarget": {
                    "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                    "DependsOn": ["Endpoint"],
                    "Properties": {
                        "ServiceNamespace": "sagemaker",
                        "ResourceId": VARIANT_RESOURCE,
                        "ScalableDimension": DIMENSION,
                        "MinCapacity": 1,
                        "MaxCapacity": 2,
                        "RoleARN": role,
                    },
                },
                "Invocations": {
                    "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                    "Properties": {
                        "PolicyName": "rules-invocations",
                        "PolicyType": "TargetTrackingScaling",
                        "ScalingTargetId": {"Ref": "ScalableTarget"},
                        "TargetTrackingScalingPolicyConfiguration": {
                            "TargetValue": 100,
                            "PredefinedMetricSpecification": {
                                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                            },
                        },
                    },
                },
            }
        }
    )


def _exporter(value: str | None) -> str:
    resources = {"Topic": {"Type": "AWS::SNS::Topic"}}
    outputs = {"Value": {"Value": value, "Export": {"Name": "rules-exporter:Value"}}} if value else {}
    return json.dumps({"Resources": resources, "Outputs": outputs})


IMPORTER = json.dumps(
    {
        "Resources": {
            "Parameter": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "rules-imported",
                    "Type": "String",
                    "Value": {"Fn::ImportValue": "rules-exporter:Value"},
                },
            }
        }
    }
)


@pytest.fixture(scope="module")
def cloudformation(emulator: Emulator) -> Iterator:
    yield emulator.client("cloudformation")


def test_an_instance_type_change_of_a_registered_variant_is_refused(emulator: Emulator, cloudformation):
    scaling = emulator.client("application-autoscaling")
    cloudformation.create_stack(StackName="rules-scaling", TemplateBody=_old_shape("ml.m5.large"))
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [target["ResourceId"] for target in targets] == [VARIANT_RESOURCE]
    policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=VARIANT_RESOURCE)
    assert [policy["PolicyName"] for policy in policies["ScalingPolicies"]] == ["rules-invocations"]

    with pytest.raises(ClientError, match=r"variant\(s\) \['AllTraffic'\] are registered Application Auto Scaling"):
        cloudformation.update_stack(StackName="rules-scaling", TemplateBody=_old_shape("ml.c5.large"))

    # A change that keeps the instance type (here, the capacity bounds) is allowed.
    same_type = json.loads(_old_shape("ml.m5.large"))
    same_type["Resources"]["ScalableTarget"]["Properties"]["MaxCapacity"] = 3
    cloudformation.update_stack(StackName="rules-scaling", TemplateBody=json.dumps(same_type))
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert target["MaxCapacity"] == 3


def test_deregistering_deletes_the_policies_and_deleting_the_endpoint_deregisters(emulator: Emulator):
    scaling, sagemaker = emulator.client("application-autoscaling"), emulator.client("sagemaker")
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[VARIANT_RESOURCE])[
        "ScalableTargets"
    ]
    sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    assert not scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert not scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    with pytest.raises(ClientError) as error:
        scaling.deregister_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=VARIANT_RESOURCE, ScalableDimension=DIMENSION
        )
    assert error.value.response["Error"]["Code"] == "ObjectNotFoundException"


def test_an_export_another_stack_imports_cannot_be_removed_changed_or_deleted(cloudformation):
    cloudformation.create_stack(StackName="rules-exporter", TemplateBody=_exporter("one"))
    cloudformation.create_stack(StackName="rules-importer", TemplateBody=IMPORTER)

    with pytest.raises(
        ClientError, match="Export rules-exporter:Value cannot be deleted as it is in use by rules-importer"
    ):
        cloudformation.update_stack(StackName="rules-exporter", TemplateBody=_exporter(None))
    with pytest.raises(
        ClientError, match="Export rules-exporter:Value cannot be updated as it is in use by rules-importer"
    ):
        cloudformation.update_stack(StackName="rules-exporter", TemplateBody=_exporter("two"))
    with pytest.raises(
        ClientError, match="Export rules-exporter:Value cannot be deleted as it is in use by rules-importer"
    ):
        cloudformation.delete_stack(StackName="rules-exporter")

    # Once nothing imports it, the export may go.
    cloudformation.delete_stack(StackName="rules-importer")
    cloudformation.update_stack(StackName="rules-exporter", TemplateBody=_exporter(None))
    assert not [e for e in cloudformation.list_exports()["Exports"] if e["Name"] == "rules-exporter:Value"]
    cloudformation.delete_stack(StackName="rules-exporter")


SHARED = "rules-shared"


def _shared_endpoint_and_component(memory_mib: int, shared: str = SHARED, endpoint: str | None = None) -> str:
    """A shared endpoint ``shared`` (a config naming no model) and one inference component on
    ``endpoint`` (the shared one unless given), with its scalable copies."""
    role = f"arn:aws:iam::{ACCOUNT}:role/rules-sagemaker"
    return json.dumps(
        {
            "Resources": {
                "Model": {
                    "Type": "AWS::SageMaker::Model",
                    "Properties": {
                        "ExecutionRoleArn": role,
                        "PrimaryContainer": {"Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/rules:1"},
                    },
                },
                "Config": {
                    "Type": "AWS::SageMaker::EndpointConfig",
                    "Properties": {
                        "ExecutionRoleArn": role,
                        "ProductionVariants": [
                            {
                                "VariantName": "AllTraffic",
                                "InstanceType": "ml.m5.large",
                                "InitialInstanceCount": 1,
                                "ManagedInstanceScaling": {
                                    "Status": "ENABLED",
                                    "MinInstanceCount": 0,
                                    "MaxInstanceCount": 1,
                                },
                            }
                        ],
                    },
                },
                "Endpoint": {
                    "Type": "AWS::SageMaker::Endpoint",
                    "Properties": {
                        "EndpointName": shared,
                        "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                    },
                },
                "Component": {
                    "Type": "AWS::SageMaker::InferenceComponent",
                    "DependsOn": ["Endpoint"],
                    "Properties": {
                        "InferenceComponentName": "rules-component",
                        "EndpointName": endpoint or shared,
                        "VariantName": "AllTraffic",
                        "Specification": {
                            "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                            "ComputeResourceRequirements": {"MinMemoryRequiredInMb": memory_mib},
                        },
                        "RuntimeConfig": {"CopyCount": 1},
                    },
                },
                "Copies": {
                    "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                    "DependsOn": ["Component"],
                    "Properties": {
                        "ServiceNamespace": "sagemaker",
                        "ResourceId": "inference-component/rules-component",
                        "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                        "MinCapacity": 0,
                        "MaxCapacity": 2,
                        "RoleARN": role,
                    },
                },
            }
        }
    )


def test_an_inference_component_must_fit_an_instance_of_an_existing_endpoint(emulator: Emulator, cloudformation):
    with pytest.raises(ClientError, match=r"MinMemoryRequiredInMb is more than the 8192 MiB of ml\.m5\.large"):
        cloudformation.create_stack(
            StackName="rules-component-big", TemplateBody=_shared_endpoint_and_component(9000, "rules-shared-big")
        )
    with pytest.raises(ClientError, match="Could not find endpoint 'rules-nowhere'"):
        cloudformation.create_stack(
            StackName="rules-component-lost",
            TemplateBody=_shared_endpoint_and_component(1024, "rules-shared-lost", endpoint="rules-nowhere"),
        )


def test_an_inference_component_deploys_and_its_copies_register(emulator: Emulator, cloudformation):
    cloudformation.create_stack(StackName="rules-component", TemplateBody=_shared_endpoint_and_component(1024))
    (summary,) = [
        resource
        for resource in cloudformation.list_stack_resources(StackName="rules-component")["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::SageMaker::InferenceComponent"
    ]
    assert summary["PhysicalResourceId"].endswith(":inference-component/rules-component")
    scaling = emulator.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["inference-component/rules-component"]
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 2)
    cloudformation.delete_stack(StackName="rules-component")
    assert not scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["inference-component/rules-component"]
    )["ScalableTargets"]


AB_ENDPOINT = "rules-ab"


def _ab_shape(weights: tuple[float, float], *, follow_config: list[str]) -> str:
    """An endpoint with two weighted variants that retains its variant properties on update,
    except the property types in ``follow_config``."""
    template = json.loads(_old_shape("ml.m5.large"))
    resources = {name: template["Resources"][name] for name in ("Model", "Config", "Endpoint")}
    (first,) = resources["Config"]["Properties"]["ProductionVariants"]
    resources["Config"]["Properties"]["ProductionVariants"] = [
        {**first, "InitialVariantWeight": weights[0]},
        {**first, "VariantName": "Challenger", "InitialVariantWeight": weights[1]},
    ]
    resources["Endpoint"]["Properties"].update(
        EndpointName=AB_ENDPOINT,
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=[{"VariantPropertyType": kind} for kind in follow_config],
    )
    return json.dumps({"Resources": resources})


def _weights(sagemaker) -> dict[str, float]:
    variants = sagemaker.describe_endpoint(EndpointName=AB_ENDPOINT)["ProductionVariants"]
    return {variant["VariantName"]: variant["DesiredWeight"] for variant in variants}


def test_retained_weights_are_kept_through_an_update_unless_excluded(emulator: Emulator, cloudformation):
    sagemaker = emulator.client("sagemaker")
    cloudformation.create_stack(StackName="rules-ab", TemplateBody=_ab_shape((0.9, 0.1), follow_config=[]))
    assert _weights(sagemaker) == {"AllTraffic": 0.9, "Challenger": 0.1}
    # Traffic shifted outside CloudFormation, then a deploy with other configured weights.
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=AB_ENDPOINT,
        DesiredWeightsAndCapacities=[
            {"VariantName": "AllTraffic", "DesiredWeight": 0.5},
            {"VariantName": "Challenger", "DesiredWeight": 0.5},
        ],
    )
    cloudformation.update_stack(StackName="rules-ab", TemplateBody=_ab_shape((0.8, 0.2), follow_config=[]))
    assert _weights(sagemaker) == {"AllTraffic": 0.5, "Challenger": 0.5}, "retained weights were overwritten"
    # With DesiredWeight excluded from retention, the configured weights apply.
    cloudformation.update_stack(
        StackName="rules-ab", TemplateBody=_ab_shape((0.7, 0.3), follow_config=["DesiredWeight"])
    )
    assert _weights(sagemaker) == {"AllTraffic": 0.7, "Challenger": 0.3}
    cloudformation.delete_stack(StackName="rules-ab")


def test_production_variant_names_are_unique_and_at_most_ten(emulator: Emulator):
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_model(
        ModelName="rules-variants",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/rules-sagemaker",
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/rules:1"},
    )
    variant = {"ModelName": "rules-variants", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    with pytest.raises(ClientError, match=r"variant names must be unique; duplicated: \['A'\]"):
        sagemaker.create_endpoint_config(
            EndpointConfigName="rules-duplicates",
            ProductionVariants=[{**variant, "VariantName": "A"}, {**variant, "VariantName": "A"}],
        )
    with pytest.raises(ClientError, match="takes 1 to 10 production variants; got 11"):
        sagemaker.create_endpoint_config(
            EndpointConfigName="rules-eleven",
            ProductionVariants=[{**variant, "VariantName": f"V{index}"} for index in range(11)],
        )


def test_an_uncompressed_model_prefix_without_a_trailing_slash_is_refused(emulator: Emulator):
    sagemaker = emulator.client("sagemaker")
    container = {
        "Image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.7.0",
        "ModelDataSource": {
            "S3DataSource": {"S3Uri": "s3://models/llm", "S3DataType": "S3Prefix", "CompressionType": "None"}
        },
    }
    role = f"arn:aws:iam::{ACCOUNT}:role/rules-sagemaker"
    with pytest.raises(ClientError, match=r"S3Uri 's3://models/llm' is an S3Prefix and must end with '/'"):
        sagemaker.create_model(ModelName="rules-prefix", ExecutionRoleArn=role, PrimaryContainer=container)
    container["ModelDataSource"]["S3DataSource"]["S3Uri"] = "s3://models/llm/"
    sagemaker.create_model(ModelName="rules-prefix", ExecutionRoleArn=role, PrimaryContainer=container)


def test_a_volume_size_on_local_nvme_storage_is_refused_and_current_gpu_types_are_offered(emulator: Emulator):
    sagemaker = emulator.client("sagemaker")
    variant = {"VariantName": "AllTraffic", "ModelName": "rules-prefix", "InitialInstanceCount": 1}
    with pytest.raises(
        ClientError, match=r"VolumeSizeInGB is not supported for variants \['AllTraffic \(ml.g5.2xlarge\)'\]"
    ):
        sagemaker.create_endpoint_config(
            EndpointConfigName="rules-nvme",
            ProductionVariants=[{**variant, "InstanceType": "ml.g5.2xlarge", "VolumeSizeInGB": 100}],
        )
    # moto's own list lacks ml.g5 (the workaround checks botocore's enum); an EBS-backed GPU takes a volume.
    sagemaker.create_endpoint_config(
        EndpointConfigName="rules-g5", ProductionVariants=[{**variant, "InstanceType": "ml.g5.2xlarge"}]
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="rules-p3",
        ProductionVariants=[{**variant, "InstanceType": "ml.p3.2xlarge", "VolumeSizeInGB": 100}],
    )
    with pytest.raises(ClientError, match="ProductionVariantInstanceType"):
        sagemaker.create_endpoint_config(
            EndpointConfigName="rules-typo", ProductionVariants=[{**variant, "InstanceType": "ml.g5.huge"}]
        )


def _approval_rule(description: str) -> str:
    pattern = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
    rule = {"Type": "AWS::Events::Rule", "Properties": {"Description": description, "EventPattern": pattern}}
    return json.dumps({"Resources": {"ModelApproved": rule}})


def test_a_template_that_breaks_an_aws_rule_is_refused(cloudformation):
    # The approval rule's description as the pipeline stack wrote it before ModelApprovalTrigger:
    # every group by name, here nine of SageMaker's longest, 629 characters where PutRule takes 512.
    groups = [f"{index:02d}-{'g' * 60}" for index in range(9)]
    old = DESCRIPTION_PREFIX + ", ".join(groups)
    with pytest.raises(ClientError, match=r"AWS refuses this template: fields-fit-aws-api-shapes: rules-approval "):
        cloudformation.create_stack(StackName="rules-approval", TemplateBody=_approval_rule(old))
    with pytest.raises(ClientError, match="fields-fit-aws-api-shapes"):
        cloudformation.create_change_set(
            StackName="rules-approval",
            ChangeSetName="old",
            ChangeSetType="CREATE",
            TemplateBody=_approval_rule(old),
        )
    # What the construct writes for the same groups is taken, and so is an update to it.
    cloudformation.create_stack(StackName="rules-approval", TemplateBody=_approval_rule(approval_description(groups)))
    with pytest.raises(ClientError, match="fields-fit-aws-api-shapes"):
        cloudformation.update_stack(StackName="rules-approval", TemplateBody=_approval_rule(old))
