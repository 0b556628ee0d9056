"""The bundle on a hand-made assembly with every mode: serverless, async, batch, deployment policy.

Main serves real-time only so far; these fixtures follow what CDK synthesizes for the other
modes, so the bundle is proven to read them by resource types and properties alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from review_bundle.assembly import Assembly
from review_bundle.bundle import write_bundle
from review_bundle.cost import DEFAULT_PRICES, PriceTable, cost_floor
from review_bundle.diagram import environment_dot
from review_bundle.modes import ASYNC, BATCH, REALTIME, SERVERLESS, deployments
from tests.review_bundle.fixture_assembly import SIZES, UNUSED_ACKNOWLEDGEMENT, write_fixture_assembly
from tests.review_bundle.test_shipped_bundle import section


@pytest.fixture(scope="module")
def assembly_dir(tmp_path_factory) -> Path:
    return write_fixture_assembly(tmp_path_factory.mktemp("fixture") / "cdk.out")


@pytest.fixture(scope="module")
def bundle(assembly_dir, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("review")
    written = write_bundle(assembly_dir, output)
    assert not written.warnings, written.warnings
    return output


@pytest.fixture(scope="module")
def prod(bundle) -> str:
    return (bundle / "environments" / "prod.md").read_text()


def test_modes_are_recognised_from_resource_types_and_properties(assembly_dir):
    (fraud,) = deployments(Assembly.load(assembly_dir), "prod")
    assert fraud.name == "fraud"
    assert fraud.modes == [REALTIME, SERVERLESS, ASYNC, BATCH]
    assert [endpoint.name for endpoint in fraud.endpoints] == [
        "prod-fraud-realtime",
        "prod-fraud-serverless",
        "prod-fraud-async",
    ]


def test_serverless_memory_concurrency_and_its_autoscaling(prod):
    serverless = section(prod, "### Serverless endpoint `prod-fraud-serverless`")
    assert "| Memory | 4096 MB |" in serverless
    assert "| Maximum concurrency | 20 |" in serverless
    assert "| Provisioned concurrency (kept warm) | 2 |" in serverless
    assert "| Autoscaling (provisioned concurrency) | 2 to 20 provisioned concurrency |" in serverless
    assert "SageMakerVariantProvisionedConcurrencyUtilization at 0.7" in serverless
    assert "Data capture" not in serverless and "Instance count on update" not in serverless


def test_async_paths_topics_and_scale_to_zero(prod):
    endpoint = section(prod, "### Asynchronous endpoint `prod-fraud-async`")
    assert "| Results written to | s3://${Prod-Platform:AsyncInference/Bucket}/prod/fraud/output/ |" in endpoint
    assert "| Failures written to | s3://${Prod-Platform:AsyncInference/Bucket}/prod/fraud/failure/ |" in endpoint
    assert "| Success notifications (SNS) | ${Prod-Platform:Notifications/Topic} |" in endpoint
    assert "| Error notifications (SNS) | ${Async/ErrorTopic/Topic} |" in endpoint
    assert "| Concurrent requests per instance | 2 |" in endpoint
    assert "| Autoscaling (instances) | 0 to 4 instances |" in endpoint
    assert "keep ApproximateBacklogSizePerInstance (AWS/SageMaker, Average) at 5" in endpoint
    assert "step scaling when HasBacklogWithoutCapacity &gt;= 1: add 1" in endpoint
    assert "| Async/WakeUpAlarm | CloudWatch alarm |" in endpoint  # the alarm belongs to the mode


def test_batch_schedule_triggers_and_limits(prod):
    batch = section(prod, "### Batch transform `Batch/StateMachine`")
    assert "| Started | on schedule cron(0 2 \\* \\* ? \\*) |" in batch
    assert (
        "| Started | on event Object Created in bucket ${Prod-Platform:AsyncInference/Bucket} under batch/input/ |"
        in batch
    )
    assert "| Instance type | ml.m5.xlarge |" in batch
    assert "| Instances per job | 2 |" in batch
    assert "| Largest payload (MB) | 6 |" in batch
    assert "| Concurrent requests per instance | 4 |" in batch
    assert "| Job name | from the execution input: $$.Execution.Name |" in batch
    assert "| Execution timeout (s) | 172800 |" in batch
    assert "| Retried on | SageMaker.AmazonSageMakerException up to 3 times |" in batch


def test_deployment_policy_of_the_realtime_endpoint(prod):
    realtime = section(prod, "### Real-time endpoint `prod-fraud-realtime`")
    assert "| Deployment policy | blue/green, canary: 10% of capacity first, then the rest after 600 s |" in realtime
    assert "| Deployment policy | automatic rollback when any of these alarms fires: ${Realtime/Alarm5xx} |" in realtime
    assert "| Deployment policy | old instances kept 300 s after the shift |" in realtime
    serverless = section(prod, "### Serverless endpoint `prod-fraud-serverless`")
    assert "| Deployment policy | not set: SageMaker's default update" in serverless


def test_async_and_batch_cost_nothing_idle_and_provisioned_concurrency_is_measured(assembly_dir, bundle):
    prices = PriceTable.load()
    floor = cost_floor(Assembly.load(assembly_dir), "prod", prices)
    by_mode = {line.mode: line for line in floor.lines}
    price = prices.regions["us-east-1"].real_time_inference_per_instance_hour[SIZES["prod"]["realtime_type"]]
    assert by_mode[REALTIME].monthly == pytest.approx(SIZES["prod"]["realtime_min"] * price * 730)
    assert by_mode[ASYNC].monthly == 0 and by_mode[ASYNC].note == "scales to zero when idle"
    assert by_mode[BATCH].monthly == 0
    gb_seconds = SIZES["prod"]["provisioned"] * SIZES["prod"]["memory"] / 1024 * 730 * 3600
    assert f"{gb_seconds:,.0f} GB-s/month" in by_mode[SERVERLESS].capacity
    assert by_mode[SERVERLESS].monthly is None and not floor.complete  # no price in the table: said so
    cost = (bundle / "cost.md").read_text()
    assert "plus the unpriced items above" in cost
    assert "Costs nothing while idle: prod-fraud-async (async), Batch/StateMachine (batch)." in cost


def test_provisioned_concurrency_is_priced_when_the_table_has_a_price(assembly_dir, tmp_path):
    table = yaml.safe_load(DEFAULT_PRICES.read_text())
    table["regions"]["us-east-1"]["serverless_provisioned_concurrency_per_gb_second"] = 0.000001
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(table))
    floor = cost_floor(Assembly.load(assembly_dir), "dev", PriceTable.load(path))
    serverless = next(line for line in floor.lines if line.mode == SERVERLESS)
    gb_seconds = SIZES["dev"]["provisioned"] * SIZES["dev"]["memory"] / 1024 * 730 * 3600
    assert serverless.monthly == pytest.approx(gb_seconds * 0.000001)
    assert floor.complete


def test_an_instance_type_without_a_price_is_reported_not_guessed(assembly_dir, tmp_path):
    table = yaml.safe_load(DEFAULT_PRICES.read_text())
    del table["regions"]["us-east-1"]["real_time_inference_per_instance_hour"]["ml.m5.large"]
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(table))
    floor = cost_floor(Assembly.load(assembly_dir), "prod", PriceTable.load(path))
    realtime = next(line for line in floor.lines if line.mode == REALTIME)
    assert realtime.monthly is None and realtime.note == "no price for ml.m5.large in prices.yaml"


def test_a_broken_price_table_is_refused_with_the_field(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text("as_of: yesterday\nsource: AWS pricing page\n")
    with pytest.raises(ValueError, match=r"invalid price table: as_of: .*checked_against_source: Field required"):
        PriceTable.load(path)


def test_open_findings_reasons_and_unused_acknowledgements(bundle):
    findings = (bundle / "findings.md").read_text()
    assert "**1 open finding(s)**, 2 acknowledged" in findings
    prod = section(findings, "## Environment `prod`")
    assert "| AwsSolutions-SQS3 | Prod/ModelFraud/Async/DeadLetters/Resource |" in section(prod, "### AwsSolutions")
    assert "A reason long enough to be specific." in findings
    unused = section(findings, "## Acknowledgements that matched no finding")
    assert UNUSED_ACKNOWLEDGEMENT in unused and "Dev/ModelFraud/Async/ErrorTopic" in unused
    assert "IAM5" not in unused


def test_diff_compares_mode_settings(bundle):
    diff = (bundle / "diff.md").read_text()
    added = section(diff, "### What `prod` has that `dev` does not")
    assert (
        "| ModelFraud | Serverless/EndpointConfig | "
        "ProductionVariants[AllTraffic].ServerlessConfig.MemorySizeInMB | 2048 | 4096 |" in added
    )
    assert "| ModelFraud | Async/ScalableTarget | MaxCapacity | 2 | 4 |" in added
    assert "(stack) | region | (from the deploying credentials) | eu-west-1 |" in added


def test_iam_groups_statements_by_role_with_their_source(bundle):
    iam = (bundle / "iam.md").read_text()
    batch_role = section(iam, "### Role `Batch/StateMachine/Role` in Prod-ModelFraud")
    assert "service states.amazonaws.com (sts:AssumeRole)" in batch_role
    assert "sagemaker:CreateTransformJob<br>sagemaker:DescribeTransformJob" in batch_role
    assert "| iam:PassRole | ${Model/Role.Arn} |" in batch_role
    model_role = section(iam, "### Role `Model/Role` in Prod-ModelFraud")
    assert "| kms:Decrypt | ${Prod-Platform:PlatformKey/Key.Arn} |" in model_role
    assert "resource wildcard" in model_role


def test_diagram_draws_each_mode_in_its_own_box_with_labelled_arrows(assembly_dir):
    dot = environment_dot(Assembly.load(assembly_dir), "prod")
    for group in (
        "Real-time endpoint prod-fraud-realtime",
        "Serverless endpoint prod-fraud-serverless",
        "Asynchronous endpoint prod-fraud-async",
        "Batch transform Batch/StateMachine",
        "Model (shared by its modes)",
    ):
        assert f'label="{group}"' in dot
    for label in ("scales", "configured by", "serves", "notifies", "writes failures to, writes results to", "starts"):
        assert f'label="{label}"' in dot, label
    assert "4096 MB, up to 20 at once" in dot and "0 to 4 instances" in dot
