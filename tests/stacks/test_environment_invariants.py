"""Invariants every environment's synthesized stacks must keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ENVIRONMENTS, resources_of_type


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
    for name in ENVIRONMENTS:
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
        (target,) = [
            target
            for logical_id, target in resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").items()
            if target["Properties"]["ResourceId"] == f"endpoint/{name}-iris-async/variant/AllTraffic"
        ]
        assert target["Properties"]["MinCapacity"] == 0, name
        policies = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
        step_policies = [key for key, policy in policies.items() if policy["Properties"]["PolicyType"] == "StepScaling"]
        alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
        (wake,) = [
            alarm for alarm in alarms.values() if alarm["Properties"]["MetricName"] == "HasBacklogWithoutCapacity"
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
    for path, template in templates.items():
        for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
            assert "KmsKeyId" in config["Properties"], path


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


def test_no_template_depends_on_an_account_lookup(synthesized):
    # Lookups would leave context queries in the manifest (and need credentials).
    for name in ENVIRONMENTS:
        nested = synthesized.assembly.get_nested_assembly(f"assembly-{name.capitalize()}")
        manifest = json.loads(Path(nested.directory, "manifest.json").read_text())
        assert "missing" not in manifest, manifest.get("missing")
