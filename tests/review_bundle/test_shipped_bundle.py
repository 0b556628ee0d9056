"""The review bundle of the shipped app: its content checked against the synthesized templates."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from aws_rules.rules import RULES
from review_bundle.__main__ import main
from review_bundle.assembly import Assembly
from review_bundle.aws_rules_report import aws_rules_report
from review_bundle.bundle import write_bundle
from review_bundle.cost import PriceTable, cost_floor
from review_bundle.limits import MAX_RESOURCES
from review_bundle.modes import COMPONENT
from review_bundle.template import cell
from tests.conftest import CONFIG_DIR, ENVIRONMENTS
from tests.shared_assembly import run_app

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def assembly_dir(shipped_cdk_out) -> Path:
    return shipped_cdk_out


@pytest.fixture(scope="module")
def bundle(assembly_dir, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("review")
    written = write_bundle(assembly_dir, output)
    assert not written.warnings, written.warnings
    return output


def read(bundle: Path, name: str) -> str:
    return (bundle / name).read_text()


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    match = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[: match.start()] if match else rest


def test_bundle_has_an_index_and_every_part(bundle):
    index = read(bundle, "index.md")
    for environment in ENVIRONMENTS:
        assert (bundle / "environments" / f"{environment}.md").is_file()
        assert (bundle / "diagrams" / f"{environment}.svg").is_file()
        assert f"[{environment}](environments/{environment}.md)" in index
    for name in ("iam.md", "findings.md", "diff.md", "limits.md", "cost.md"):
        assert (bundle / name).is_file()
        assert name in index
    # Written for someone who has never used CDK: the index says what the words mean.
    assert "synthesizes" in index and "*stack*" in index and "construct path" in index


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_summary_lists_instance_types_counts_and_scaling_bounds(bundle, shipped_configs, environment):
    summary = read(bundle, f"environments/{environment}.md")
    for model in shipped_configs[environment].models:
        realtime = model.realtime
        if realtime is None:
            continue  # dev's second model is an inference component only
        endpoint = section(summary, f"### Real-time endpoint `{environment}-{model.name}-realtime`")
        assert "| Deployment policy |" in endpoint
        if realtime.container_startup_health_check_timeout_seconds is not None:
            timeout = realtime.container_startup_health_check_timeout_seconds
            assert f"| Start-up health check timeout (s) | {timeout} |" in endpoint
        if realtime.routing_strategy is not None:
            assert f"| Routing | {cell(realtime.routing_strategy)} |" in endpoint
        # With weighted variants, each row names its variant and its share of requests.
        variants = [realtime, *realtime.variants]
        total = sum(variant.initial_variant_weight for variant in variants)
        for variant in variants:
            prefix = f"Variant {variant.variant_name}: " if realtime.variants else ""
            assert f"| {prefix}Instance type | {variant.instance_type} |" in endpoint
            assert f"| {prefix}Instances at creation | {variant.initial_instance_count} |" in endpoint
            if realtime.variants:
                share = f"{variant.initial_variant_weight / total:.0%} (weight {variant.initial_variant_weight:g})"
                assert f"| {prefix}Share of requests | {share} |" in endpoint
            scaling = variant.autoscaling
            if scaling is None:
                assert f"| {prefix}Autoscaling | none: the count stays as created |" in endpoint
                continue
            bounds = f"{scaling.min_capacity} to {scaling.max_capacity} instances"
            assert f"| {prefix}Autoscaling (instances) | {bounds} |" in endpoint
            assert f"SageMakerVariantInvocationsPerInstance at {scaling.target_invocations_per_instance}" in endpoint
            for action in scaling.scheduled_actions:
                assert f"| {prefix}Scheduled change | {action.name}: {cell(action.schedule)}" in endpoint
        if any(variant.autoscaling is not None for variant in variants):
            assert "| Instance count on update | kept (RetainAllVariantProperties) |" in endpoint
        if realtime.variants:
            assert "| Variant weights on update | set from the configuration on every update |" in endpoint
    served = next(line for line in summary.splitlines() if line.startswith("Served as: "))
    titles = {
        "realtime": "real-time endpoint",
        "serverless": "serverless endpoint",
        "async": "asynchronous endpoint",
        "batch": "batch transform",
        "component": "inference components (shared endpoint)",
    }
    for model in shipped_configs[environment].models:
        for mode in model.modes:
            assert titles[mode] in served, (mode, served)


def test_summary_shows_the_network_placement_and_platform(bundle, shipped_configs):
    prod = read(bundle, "environments/prod.md")
    for subnet in shipped_configs["prod"].network.subnet_ids:
        assert subnet in prod
    assert "| PlatformKey/Key | KMS key | retained | rotation on |" in prod
    assert "Deploys to account: the account of the credentials used to deploy; region: eu-west-1." in prod
    assert "![Architecture of prod](../diagrams/prod.svg)" in prod


def test_every_iam_statement_appears_under_its_role(bundle, assembly_dir):
    iam = read(bundle, "iam.md")
    assembly = Assembly.load(assembly_dir)
    checked = 0
    for stack in assembly.stacks:
        per_role: dict[str, int] = {}
        for policy in stack.resources_of_type("AWS::IAM::Policy").values():
            for role_ref in policy["Properties"]["Roles"]:
                role_path = stack.path_of(role_ref["Ref"])
                role_section = section(iam, f"### Role `{role_path}` in {stack.stack_name}")
                statements = policy["Properties"]["PolicyDocument"]["Statement"]
                per_role[role_path] = per_role.get(role_path, 0) + len(statements)
                for statement in statements:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert "<br>".join(cell(action) for action in actions) in role_section, (role_path, actions)
                    checked += 1
        for role_path, count in per_role.items():
            role_section = section(iam, f"### Role `{role_path}` in {stack.stack_name}")
            assert f"- Statements: {count}" in role_section, role_path
    assert checked == sum(
        len(policy["Properties"]["PolicyDocument"]["Statement"])
        for stack in assembly.stacks
        for policy in stack.resources_of_type("AWS::IAM::Policy").values()
    )
    assert f"{checked} statements granted to roles in total" in iam
    assert "| 3 | Allow | ecr:GetAuthorizationToken | \\* | - | any resource |" in iam


def test_every_nag_finding_appears_with_its_reason(bundle, assembly_dir):
    findings = read(bundle, "findings.md")
    report = json.loads((assembly_dir / "validation-report.json").read_text())
    rows = 0
    for plugin in report["pluginReports"]:
        assert not plugin["violations"]
        for violation in plugin["suppressedViolations"]:
            for construct in violation["violatingConstructs"]:
                rule, path, reason = violation["ruleName"], construct["constructPath"], violation["reason"]
                row = f"| {cell(rule)} | {cell(path)} | {cell(reason)} |"
                assert row in findings
                rows += 1
    assert f"**0 open finding(s)**, {rows} acknowledged" in findings
    assert "None: every acknowledgement in the templates is used by a finding above." in findings
    assert "&lt;AWS::Partition&gt;" in findings  # finding ids keep their <...> parts visible


def test_cost_floor_is_minimum_capacity_times_the_dated_price(bundle, assembly_dir, shipped_configs):
    prices = PriceTable.load()
    assert prices.source.startswith("AWS, Amazon SageMaker AI pricing page") and prices.as_of.year >= 2026
    table = prices.regions[prices.default_region].real_time_inference_per_instance_hour
    assembly = Assembly.load(assembly_dir)
    cost = read(bundle, "cost.md")
    for environment, config in shipped_configs.items():
        expected = (
            sum(
                # A real-time variant bills its autoscaling minimum, or its fixed count; weighted variants too.
                (variant.autoscaling.min_capacity if variant.autoscaling else variant.initial_instance_count)
                * table[variant.instance_type]
                * 730
                for model in config.models
                if model.realtime is not None
                for variant in (model.realtime, *model.realtime.variants)
            )
            + sum(  # a shared endpoint bills its managed instance scaling minimum (0 when it scales to zero)
                shared.managed_instance_scaling.min_instance_count * table[shared.instance_type] * 730
                for shared in [config.shared_endpoint]
                if shared is not None
            )
            + sum(  # async endpoints bill their minimum, which is 0 when they scale to zero
                model.async_.autoscaling.min_capacity * table[model.async_.instance_type] * 730
                for model in config.models
                if model.async_ is not None
            )
        )
        floor = cost_floor(assembly, environment, prices)
        # Provisioned serverless concurrency has a cost the price table does not hold: shown as unpriced.
        provisioned = any(m.serverless and m.serverless.provisioned_concurrency for m in config.models)
        assert floor.complete is not provisioned and floor.total == pytest.approx(expected)
        assert f"**Floor for {environment}: {expected:,.2f} USD per month**" in cost
    assert f"as of {prices.as_of}" in cost
    assert "estimate for eu-west-1" in cost  # prod's region is not in the table: said, not hidden


def test_limits_table_counts_each_template(bundle, assembly_dir):
    limits = read(bundle, "limits.md")
    for stack in Assembly.load(assembly_dir).stacks:
        resources = len(stack.resources)
        size = stack.template_path.stat().st_size
        row = f"| {stack.stack_name} | {stack.environment} | {resources} ({resources / MAX_RESOURCES:.1%}) |"
        assert row in limits
        direct = "yes" if size <= 51_200 else "no (S3 upload needed)"
        assert f"{size:,} ({size / 1_000_000:.1%}) | {direct} | ok |" in limits
    assert "51,200" in limits and "1 MB" in limits and "stackTemplateAssetObjectUrl" in limits


def test_diff_shows_what_prod_has_that_dev_does_not(bundle):
    diff = read(bundle, "diff.md")
    prod_vs_dev = section(diff, "## `prod` compared with `dev`")
    added = section(prod_vs_dev, "### What `prod` has that `dev` does not")
    assert (
        "| ModelIris | Realtime/EndpointConfig | ProductionVariants[AllTraffic].InitialInstanceCount | 1 | 2 |" in added
    )
    assert "| ModelIris | Model/Model | VpcConfig.Subnets |" in added
    # Scalable targets are keyed by instance type; the diff still matches dev's and prod's.
    assert (
        "| Prod-ModelIris | Realtime/ScalableTarget&lt;instance type&gt;/CpuUtilization | Autoscaling policy |" in added
    )
    assert "| ModelIris | (stack) | termination protection | off | on |" in added
    removed = section(prod_vs_dev, "### What `dev` has that `prod` does not")
    assert "ScheduledActions[night-scale-down].Schedule" in removed
    assert "ScheduledActions[morning-scale-up].Schedule" in removed
    # Names that differ only by the environment or a generated hash are not differences.
    assert "| EndpointName |" not in diff and "PolicyName" not in diff
    assert "## `staging` compared with `dev`" in diff and "## `prod` compared with `staging`" in diff


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_diagram_is_an_svg_with_readable_labels(bundle, environment, shipped_configs):
    root = ElementTree.parse(bundle / "diagrams" / f"{environment}.svg").getroot()
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    first_endpoint = f"{environment}-{shipped_configs[environment].models[0].name}-realtime"
    for label in (first_endpoint, "SageMaker endpoint", "KMS key", "S3 bucket", "Autoscaling target"):
        assert any(label in text for text in texts), label
    sizes = [float(element.get("font-size", "14")) for element in root.iter(f"{SVG}text")]
    assert min(sizes) >= 9  # readable without zooming
    width = float(root.get("width", "0pt").removesuffix("pt"))
    assert 0 < width < 2500  # fits a screen at a glance
    dot = read(bundle, f"diagrams/{environment}.dot")
    assert "-> " in dot and "scales" in dot and "configured by" in dot


def test_command_line_reports_a_missing_assembly(tmp_path, capsys):
    assert main(["--cdk-out", str(tmp_path / "missing"), "--output", str(tmp_path / "review")]) == 1
    assert "run `make synth` first" in capsys.readouterr().err


def test_aws_rules_page_lists_every_rule_and_no_violation(bundle):
    page = read(bundle, "aws-rules.md")
    assert "**0 violation(s)** of" in page
    for rule in RULES:
        assert f"| {rule.id} |" in page
    assert "(0 violations)" in read(bundle, "index.md")


def test_aws_rules_page_names_each_violation(tmp_path):
    # A template that breaks a rule shows up with its rule, template and resource.
    broken = {
        "Resources": {
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"EvaluationPeriods": 1, "DatapointsToAlarm": 2}}
        }
    }
    (tmp_path / "Dev.template.json").write_text(json.dumps(broken))
    page = aws_rules_report(tmp_path)
    assert "**1 violation(s)** of" in page
    assert "| datapoints-within-evaluation-periods | Dev.template.json | Alarm |" in page


def test_the_shared_endpoint_and_its_components_are_reviewed_with_a_floor_of_zero(bundle):
    dev = read(bundle, "environments/dev.md")
    shared = section(dev, "### Inference components (shared endpoint) `dev-inference-components`")
    assert "| Managed instance scaling | 0 to 2 instances, following the inference components' copies |" in shared
    for model in ("iris", "iris-v2"):
        component = section(dev, f"### Inference component `dev-{model}-component`")
        assert "| Shared endpoint | dev-inference-components |" in component
        assert "| Autoscaling (copies) | 0 to 2 copies |" in component
        assert "step scaling when NoCapacityInvocationFailures &gt;= 1: add 1" in component
    cost = read(bundle, "cost.md")
    assert (
        "| inference component | dev-inference-components | 0 x ml.m5.large | 0.115/instance-hour | 0.00 USD | "
        "scales to zero when idle |" in cost
    )


def test_a_multi_model_endpoint_is_recognised_in_summary_and_diagram(bundle, shipped_configs):
    (tenants,) = [model for model in shipped_configs["examples"].models if model.multi_model]
    summary = read(bundle, "environments/examples.md")
    assert (
        f"| Models (multi-model endpoint) | every .tar.gz under {tenants.model_data}, loaded on the first request "
        "that names it (TargetModel) |" in summary
    )
    dot = read(bundle, "diagrams/examples.dot")
    assert f"multi-model endpoint, models under\\n{tenants.model_data}" in dot


def test_a_serial_pipeline_shows_its_chain_in_summary_and_diagram(bundle, shipped_configs):
    (model,) = [m for m in shipped_configs["examples"].models if m.serial_pipeline]
    summary = read(bundle, "environments/examples.md")
    (container,) = model.serial_pipeline
    first = container.image.uri.rsplit("/", 1)[-1]
    assert f"| Serial pipeline | 2 containers in order: {first} → sagemaker-scikit-learn:1.4-2-cpu-py3 |" in summary
    assert f"| Container 1 image | {container.image.uri} |" in summary
    dot = read(bundle, "diagrams/examples.dot")
    assert f"serial pipeline of 2:\\n1. {first}\\n2. sagemaker-scikit-learn:1.4-2-cpu-py3" in dot


def test_a_component_that_keeps_a_copy_keeps_an_instance_in_the_floor(tmp_path):
    # Managed instance scaling reaches zero only when no component has a copy: with one component
    # at a minimum of one copy, the endpoint's minimum of 0 is never reached, and the floor says so.
    dev = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    (component_only,) = [model for model in dev["models"] if set(model) == {"name", "image", "model_data", "component"}]
    component_only["component"]["autoscaling"]["min_capacity"] = 1
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.yaml").write_text(yaml.safe_dump({**dev, "models": [component_only]}))
    result = run_app(tmp_path / "cdk.out", config_dir=str(config_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    prices = PriceTable.load()
    floor = cost_floor(Assembly.load(tmp_path / "cdk.out"), "dev", prices)
    (line,) = [line for line in floor.lines if line.mode == COMPONENT]
    price = prices.regions[prices.default_region].real_time_inference_per_instance_hour[
        dev["shared_endpoint"]["instance_type"]
    ]
    assert line.monthly == pytest.approx(price * prices.hours_per_month)
    assert f"but dev-{component_only['name']}-component keep at least one copy" in line.note
