"""Invariants every environment's synthesized stacks must keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference_constructs.instance_types import has_local_storage
from tests.conftest import DEPLOYED_ENVIRONMENTS, ENVIRONMENTS, resources_of_type


@pytest.fixture(scope="module")
def templates(synthesized):
    return synthesized.all_templates()


def test_every_environment_has_a_platform_stack_and_one_stack_per_model(synthesized):
    for name in ENVIRONMENTS:
        stage = synthesized.stages[name]
        assert set(stage.model_stacks) == {model.name for model in synthesized.configs[name].models}


def test_prod_runs_at_least_two_instances_so_they_spread_across_zones(synthesized):
    # Async endpoints are exempt: their queue, not a standing fleet, absorbs an instance (or
    # zone) loss, and they scale to zero by design.
    for stack in synthesized.stages["prod"].model_stacks.values():
        template = synthesized.template(stack)
        for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
            if "AsyncInferenceConfig" in config["Properties"]:
                continue
            for variant in config["Properties"]["ProductionVariants"]:
                if "InstanceType" in variant:
                    assert variant["InitialInstanceCount"] >= 2
        for target in resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values():
            if target["Properties"]["ResourceId"].startswith("endpoint/prod-iris-async/"):
                continue
            if target["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount":
                assert target["Properties"]["MinCapacity"] >= 2


def test_every_environment_serves_async_that_scales_to_zero_and_wakes_on_backlog(synthesized):
    for name in DEPLOYED_ENVIRONMENTS:
        template = synthesized.template(synthesized.stages[name].model_stacks["iris"])
        configs = [
            config["Properties"]["AsyncInferenceConfig"]
            for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
            if "AsyncInferenceConfig" in config["Properties"]
        ]
        assert len(configs) == 1, name
        output = configs[0]["OutputConfig"]
        assert {"S3OutputPath", "S3FailurePath", "KmsKeyId"} <= output.keys()
        assert {"SuccessTopic", "ErrorTopic"} <= output["NotificationConfig"].keys()
        ((target_id, target),) = [
            (logical_id, target)
            for logical_id, target in resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").items()
            if target["Properties"]["ResourceId"] == f"endpoint/{name}-iris-async/variant/AllTraffic"
        ]
        assert target["Properties"]["MinCapacity"] == 0, name
        policies = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
        # The async endpoint's own step policy (an inference component of the model has one too).
        step_policies = [
            key
            for key, policy in policies.items()
            if policy["Properties"]["PolicyType"] == "StepScaling"
            and policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
        ]
        alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
        (wake,) = [
            alarm for alarm in alarms.values() if alarm["Properties"].get("MetricName") == "HasBacklogWithoutCapacity"
        ]
        assert wake["Properties"]["AlarmActions"] == [{"Ref": step_policies[0]}] and len(step_policies) == 1, name


def test_every_bucket_is_encrypted_and_tls_only(templates):
    for path, template in templates.items():
        buckets = resources_of_type(template, "AWS::S3::Bucket")
        policies = resources_of_type(template, "AWS::S3::BucketPolicy")
        for logical_id, bucket in buckets.items():
            assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"], (path, logical_id)
            governing = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id}]
            assert governing, f"{path}/{logical_id} has no bucket policy"
            statements = governing[0]["Properties"]["PolicyDocument"]["Statement"]
            assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)


def test_no_full_access_or_admin_policies_anywhere(templates):
    for path, template in templates.items():
        rendered = json.dumps(template)
        assert "FullAccess" not in rendered, path
        assert "AdministratorAccess" not in rendered, path
        for policy in resources_of_type(template, "AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert "*" not in actions and not any(a.endswith(":*") for a in actions), (path, statement)


def test_every_endpoint_config_is_encrypted(templates):
    # Except on instance types with local NVMe storage, which SageMaker encrypts in hardware and
    # where it refuses a volume key (inference_constructs.instance_types.LOCAL_STORAGE_FAMILIES).
    for path, template in templates.items():
        for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
            variants = config["Properties"]["ProductionVariants"]
            local = [v["InstanceType"] for v in variants if has_local_storage(v.get("InstanceType", "ml.none.none"))]
            assert ("KmsKeyId" in config["Properties"]) is not bool(local), (path, local)


def test_models_and_endpoint_configs_have_generated_names(templates):
    for template in templates.values():
        for model in resources_of_type(template, "AWS::SageMaker::Model").values():
            assert "ModelName" not in model["Properties"]
        for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
            assert "EndpointConfigName" not in config["Properties"]


def test_endpoint_names_are_unique_readable_and_per_environment(templates):
    names = [
        endpoint["Properties"]["EndpointName"]
        for template in templates.values()
        for endpoint in resources_of_type(template, "AWS::SageMaker::Endpoint").values()
    ]
    assert len(names) == len(set(names))
    assert "prod-iris-realtime" in names and "dev-iris-realtime" in names
    assert "prod-iris-serverless" in names and "dev-iris-serverless" in names


def test_no_template_depends_on_an_account_lookup(synthesized):
    # Lookups would leave context queries in the manifest (and need credentials).
    for name in ENVIRONMENTS:
        nested = synthesized.assembly.get_nested_assembly(f"assembly-{name.capitalize()}")
        manifest = json.loads(Path(nested.directory, "manifest.json").read_text())
        assert "missing" not in manifest, manifest.get("missing")


def _served_models(template: dict) -> dict[str, set[str]]:
    """For each model's logical id, the kinds of variant ("serverless"/"instances") serving it."""
    served: dict[str, set[str]] = {}
    for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
        for variant in config["Properties"]["ProductionVariants"]:
            if "ModelName" not in variant:
                continue  # a shared endpoint's variant: its models are inference components
            model = variant["ModelName"]["Fn::GetAtt"][0]
            served.setdefault(model, set()).add("serverless" if "ServerlessConfig" in variant else "instances")
    for component in resources_of_type(template, "AWS::SageMaker::InferenceComponent").values():
        served.setdefault(component["Properties"]["Specification"]["ModelName"]["Fn::GetAtt"][0], set()).add(
            "instances"
        )
    return served


def test_every_environment_serves_a_serverless_endpoint_and_publishes_its_name(synthesized):
    for name in DEPLOYED_ENVIRONMENTS:
        # Every model that can be served serverless (the GPU example cannot: serverless is CPU only; nor can
        # multi-model endpoints and serial pipelines).
        serverless = {model.name for model in synthesized.configs[name].models if model.serverless is not None}
        assert serverless, name
        for model_name, stack in synthesized.stages[name].model_stacks.items():
            if model_name not in serverless:
                continue
            template = synthesized.template(stack)
            expected = f"{name}-{model_name}-serverless"
            endpoints = [
                e["Properties"]["EndpointName"]
                for e in resources_of_type(template, "AWS::SageMaker::Endpoint").values()
            ]
            assert expected in endpoints, (name, endpoints)
            assert template["Outputs"]["ServerlessEndpointName"]["Value"] == expected
            serverless_variants = [
                variant
                for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
                for variant in config["Properties"]["ProductionVariants"]
                if "ServerlessConfig" in variant
            ]
            assert len(serverless_variants) == 1, (name, serverless_variants)


def test_only_serverless_models_drop_network_isolation_and_they_say_why(templates):
    for path, template in templates.items():
        served = _served_models(template)
        for logical_id, model in resources_of_type(template, "AWS::SageMaker::Model").items():
            properties = model["Properties"]
            if served.get(logical_id) == {"serverless"}:
                # SageMaker refuses VPC config and network isolation on serverless endpoints.
                assert properties["EnableNetworkIsolation"] is False, (path, logical_id)
                assert "VpcConfig" not in properties, (path, logical_id)
                skips = model["Metadata"]["checkov"]["skip"]
                assert [skip["id"] for skip in skips] == ["CKV_AWS_370"], (path, logical_id)
                assert len(skips[0]["comment"]) >= 30
            else:
                assert properties["EnableNetworkIsolation"] is True, (path, logical_id)
                assert "checkov" not in model.get("Metadata", {}), (path, logical_id)


def test_prod_serverless_model_stays_out_of_the_vpc_the_other_model_runs_in(synthesized):
    assert synthesized.configs["prod"].network is not None
    template = synthesized.template(synthesized.stages["prod"].model_stacks["iris"])
    served = _served_models(template)
    models = resources_of_type(template, "AWS::SageMaker::Model")
    in_vpc = {logical_id for logical_id, model in models.items() if "VpcConfig" in model["Properties"]}
    serverless = {logical_id for logical_id, kinds in served.items() if "serverless" in kinds}
    assert in_vpc and serverless and not in_vpc & serverless


def test_shipped_serverless_capacity_per_environment(synthesized):
    def serverless_config(name: str) -> tuple[dict, list[dict]]:
        template = synthesized.template(synthesized.stages[name].model_stacks["iris"])
        config = next(
            variant["ServerlessConfig"]
            for endpoint_config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
            for variant in endpoint_config["Properties"]["ProductionVariants"]
            if "ServerlessConfig" in variant
        )
        targets = [
            target["Properties"]
            for target in resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
            if target["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
        ]
        return config, targets

    dev, dev_targets = serverless_config("dev")
    assert dev["MemorySizeInMB"] == 2048 and "ProvisionedConcurrency" not in dev and not dev_targets
    prod, prod_targets = serverless_config("prod")
    assert prod["ProvisionedConcurrency"] >= 1
    (target,) = prod_targets
    assert target["ResourceId"] == "endpoint/prod-iris-serverless/variant/AllTraffic"
    assert target["MinCapacity"] <= prod["ProvisionedConcurrency"] <= target["MaxCapacity"] <= prod["MaxConcurrency"]


def test_every_endpoint_logs_to_its_own_encrypted_expiring_log_group(synthesized, templates):
    for path, template in templates.items():
        groups = {
            group["Properties"]["LogGroupName"]: group
            for group in resources_of_type(template, "AWS::Logs::LogGroup").values()
            # Endpoint log groups have literal names; the batch state machine's has a generated suffix.
            if isinstance(group["Properties"].get("LogGroupName"), str)
        }
        environment = synthesized.configs[path.split("/")[0].lower()]
        for logical_id, endpoint in resources_of_type(template, "AWS::SageMaker::Endpoint").items():
            group = groups[f"/aws/sagemaker/Endpoints/{endpoint['Properties']['EndpointName']}"]
            assert "KmsKeyId" in group["Properties"], (path, logical_id)
            assert group["Properties"]["RetentionInDays"] == environment.log_retention_days
            assert group["DeletionPolicy"] == ("Retain" if environment.retain_endpoint_logs else "Delete")


def test_environments_that_are_torn_down_do_not_leave_fixed_name_log_groups_behind(synthesized, templates):
    # A kept /aws/sagemaker/Endpoints/<name> group makes the next deploy of the same environment fail
    # ("log group names must be unique within a Region for an account"): dev, which is torn down and
    # rebuilt, lets them go; the others keep them.
    assert synthesized.configs["dev"].retain_endpoint_logs is False
    assert synthesized.configs["prod"].retain_endpoint_logs is True
    for path, template in templates.items():
        if not path.startswith("Dev/"):
            continue
        for group in resources_of_type(template, "AWS::Logs::LogGroup").values():
            if str(group["Properties"].get("LogGroupName", "")).startswith("/aws/sagemaker/Endpoints/"):
                assert group["DeletionPolicy"] == "Delete", path
