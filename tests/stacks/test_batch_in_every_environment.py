"""Every shipped environment runs batch transform: a triggered state machine, notified, scoped."""

from __future__ import annotations

import pytest

from tests.conftest import DEPLOYED_ENVIRONMENTS, dumps, resources_of_type


@pytest.fixture(scope="module", params=DEPLOYED_ENVIRONMENTS)
def environment(request, synthesized):
    stage = synthesized.stages[request.param]
    return (
        request.param,
        synthesized.template(stage.platform),
        synthesized.template(stage.model_stacks["iris"]),
    )


def _definition(machine: dict) -> str:
    return "".join(
        part if isinstance(part, str) else dumps(part) for part in machine["DefinitionString"]["Fn::Join"][1]
    )


def test_a_batch_state_machine_runs_transform_jobs_and_publishes_outcomes(environment):
    name, _, model = environment
    (machine,) = [m["Properties"] for m in resources_of_type(model, "AWS::StepFunctions::StateMachine").values()]
    assert machine["StateMachineName"] == f"{name}-iris-batch-transform"
    definition = _definition(machine)
    assert ":states:::sagemaker:createTransformJob.sync" in definition
    assert '"NotifyFailure"' in definition and '"NotifySuccess"' in definition
    # The failure and success messages go to the platform's notifications topic.
    assert definition.count("ExportsOutputRefNotificationsTopic") == 2


def test_every_environment_starts_runs_on_a_schedule_or_on_upload(environment, synthesized):
    name, _, model = environment
    rules = [rule["Properties"] for rule in resources_of_type(model, "AWS::Events::Rule").values()]
    assert rules, f"{name} has no batch trigger"
    machine_id = next(iter(resources_of_type(model, "AWS::StepFunctions::StateMachine")))
    for rule in rules:
        assert rule["Targets"][0]["Arn"] == {"Ref": machine_id}
    settings = synthesized.configs[name].models[0].batch
    assert any("ScheduleExpression" in rule for rule in rules) == (settings.schedule is not None)
    assert any("EventPattern" in rule for rule in rules) == settings.run_on_upload


def test_roles_are_scoped_and_never_full_access(environment):
    name, _, model = environment
    assert "AmazonSageMakerFullAccess" not in dumps(model)
    policies = {key: value for key, value in resources_of_type(model, "AWS::IAM::Policy").items()}
    (machine_policy,) = [p for key, p in policies.items() if key.startswith("BatchStateMachineRoleDefaultPolicy")]
    jobs = next(
        s for s in machine_policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "OwnTransformJobs"
    )
    assert dumps(jobs["Resource"]).endswith(f':transform-job/{name}-iris-*"]]}}')


def test_failed_runs_alarm_to_the_platform_alarm_topic(environment):
    _, _, model = environment
    alarms = [alarm["Properties"] for alarm in resources_of_type(model, "AWS::CloudWatch::Alarm").values()]
    # Metric-math alarms (the real-time 4XX rate) have no single MetricName or Namespace.
    assert {alarm.get("MetricName") for alarm in alarms} >= {"ExecutionsFailed", "ExecutionsTimedOut"}
    for alarm in alarms:
        if alarm.get("Namespace") == "AWS/States":
            assert "ExportsOutputRefAlarmsTopic" in dumps(alarm["AlarmActions"])


def test_clients_find_the_state_machine_and_paths_in_the_outputs(environment):
    name, _, model = environment
    outputs = model["Outputs"]
    assert {"BatchStateMachineArn", "BatchInputPath", "BatchOutputPath"} <= set(outputs)
    assert dumps(outputs["BatchInputPath"]["Value"]).endswith(f'"/{name}/iris/input/"]]}}')
    assert dumps(outputs["BatchOutputPath"]["Value"]).endswith(f'"/{name}/iris/output/"]]}}')


def test_the_batch_bucket_sends_events_to_eventbridge_without_a_custom_resource(environment):
    _, platform, model = environment
    flagged = [
        bucket_id
        for bucket_id, bucket in resources_of_type(platform, "AWS::S3::Bucket").items()
        if bucket["Properties"].get("NotificationConfiguration")
        == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    ]
    assert len(flagged) == 1 and flagged[0].startswith("BatchTransform")
    for template in (platform, model):
        assert not resources_of_type(template, "Custom::S3BucketNotifications")
        # The only functions are the endpoints' scaling guards (inference_constructs/scaling_guard.py).
        functions = resources_of_type(template, "AWS::Lambda::Function")
        assert all("ScalingGuard" in logical_id for logical_id in functions), sorted(functions)
