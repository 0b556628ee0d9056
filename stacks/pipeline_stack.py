"""``PipelineStack``: a self-mutating CDK pipeline that deploys the environments in order.

Source -> Synth (``make test``, ``make synth``) -> self-mutation -> asset publishing -> one
stage per environment (in the order of ``config/pipeline.yaml``: dev, staging, prod), each
followed by the smoke tests against what was just deployed, with a manual approval before
the stages that ask for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from inference_config.schema import EnvironmentConfig, PipelineConfig, PipelineStage
from inference_constructs.compliance import (
    AWS_SOLUTIONS,
    acknowledge,
    acknowledge_inline_policy,
    acknowledge_rule,
    acknowledge_wildcard_resources,
)
from inference_constructs.model_approval import (
    ModelApprovalTrigger,
    acknowledge_registry_reads,
    registry_read_statements,
)
from inference_constructs.pipeline_storage import BuildLogGroup, PipelineKey
from inference_constructs.secure_bucket import AccessLogsBucket, SecureBucket
from inference_core.batch import STATE_MACHINE_NAME_SUFFIX
from inference_core.iam import SMOKE_TESTS, ClientActions
from inference_core.naming import ENVIRONMENT_TAG, platform_key_alias_arn_name, platform_stack_name
from stacks.environment_stage import EnvironmentStage
from stacks.model_approval import (
    RESOLVE_COMMANDS,
    RESOLVE_ENV,
    SYNTH_WITH_RESOLVED,
    model_package_groups,
    pinned_versions_variable,
)

# CodeBuild's standard 7.0 image has Python 3.11 and Node.js 20, which `make` needs.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "20"}
SMOKE_TEST_PROFILE = "smoke-tests"
PIPELINE_STACK_ID = "Pipeline"


# Granted to the smoke-test role since before inference_core.iam listed what the smoke tests call;
# no smoke test call needs them (tests/stacks/test_smoke_role_permissions.py records the calls).
# Kept so the pipeline template stays as it was; dropping them is a deliberate template change.
UNUSED_SMOKE_TEST_GRANTS = ClientActions(endpoints=("sagemaker:DescribeEndpoint",), platform_key=("kms:Encrypt",))


@dataclass(frozen=True)
class ScopedStatement:
    """A policy statement and, when it has a wildcard resource, why the wildcard is needed."""

    statement: iam.PolicyStatement
    wildcard_reason: str | None = None


class PipelineStack(cdk.Stack):
    """The delivery pipeline: every environment of ``settings.stages``, in order.

    Artifacts live in a :class:`SecureBucket` (customer-managed key with rotation, access
    logs, versioning, TLS only); every CodeBuild project logs to one KMS-encrypted log group
    and encrypts its output with the same key. Nothing is looked up at synth: the source is
    a connection ARN or a CodeCommit repository name, and the account and region are given.

    :param settings: ``config/pipeline.yaml``.
    :param environments: Environment configs by name; one for every stage.
    :param base_dir: Repository root (the stages' local assets are relative to it).
    :param cli_version: The CDK CLI version the pipeline runs (pin it to package.json's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: PipelineConfig,
        environments: Mapping[str, EnvironmentConfig],
        base_dir: str,
        cli_version: str | None = None,
        **kwargs: object,
    ) -> None:
        missing = [name for name in settings.environments if name not in environments]
        if missing:
            raise ValueError(f"pipeline stages without an environment config: {', '.join(missing)}")
        super().__init__(
            scope,
            id,
            description=f"Delivery pipeline {settings.name}: {' -> '.join(settings.environments)}",
            env=cdk.Environment(account=settings.account, region=settings.region),
            **kwargs,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.key = PipelineKey(self, "ArtifactsKey", pipeline_name=settings.name).key
        access_logs = AccessLogsBucket(self, "AccessLogs", removal_policy=cdk.RemovalPolicy.RETAIN, retention_days=365)
        self.artifact_bucket = SecureBucket(
            self,
            "Artifacts",
            encryption_key=self.key,
            access_logs_bucket=access_logs.bucket,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        ).bucket
        self.log_group = BuildLogGroup(self, "BuildLogs", encryption_key=self.key).log_group
        self.source = self._source(settings)
        # Models served from a Model Registry group: synth deploys the latest approved versions.
        self.model_package_groups = model_package_groups(environments.values())
        self.synth_step = pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            # The same checks a developer runs, then the templates the pipeline deploys.
            commands=[*RESOLVE_COMMANDS, "make test", SYNTH_WITH_RESOLVED]
            if self.model_package_groups
            else ["make test", "make synth"],
            role_policy_statements=registry_read_statements(self, self.model_package_groups)
            if self.model_package_groups
            else None,
            env=RESOLVE_ENV if self.model_package_groups else None,
            primary_output_directory="cdk.out",
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=settings.name,
            pipeline_type=codepipeline.PipelineType.V2,  # billed per action minute, not per pipeline-month
            artifact_bucket=self.artifact_bucket,
            self_mutation=True,
            cli_version=cli_version,
            publish_assets_in_parallel=False,  # one publishing project for all assets, not one per asset
            synth=self.synth_step,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
                ),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)
                ),
                timeout=cdk.Duration.hours(1),
            ),
        )
        self.stages: dict[str, EnvironmentStage] = {}
        self.smoke_tests: dict[str, tuple[pipelines.CodeBuildStep, list[ScopedStatement]]] = {}
        for stage in settings.stages:
            config = environments[stage.environment]
            deployed = EnvironmentStage(self, config=config, base_dir=base_dir)
            self.stages[stage.environment] = deployed
            smoke_test, statements = self._smoke_test(stage, config)
            self.smoke_tests[stage.environment] = (smoke_test, statements)
            self.pipeline.add_stage(
                deployed,
                pre=[pipelines.ManualApprovalStep(f"Approve{config.stage_name}", comment=approval_comment(config))]
                if stage.manual_approval
                else None,
                post=[smoke_test],
            )
        # Build now, so the generated projects and roles exist for the acknowledgements below.
        self.pipeline.build_pipeline()
        if self.model_package_groups:
            self.approval_trigger = ModelApprovalTrigger(
                self,
                "ModelApproved",
                pipeline=self.pipeline.pipeline,
                groups=self.model_package_groups,
                event_pattern_quota=settings.event_pattern_quota,
            )
            self.pipeline.pipeline.add_variable(pinned_versions_variable())
            acknowledge_registry_reads(self.pipeline.synth_project.role, self.model_package_groups)
        self._join_to_sub_in_action_configurations()
        self._acknowledge_findings()

    def _join_to_sub_in_action_configurations(self) -> None:
        """Write CDK Pipelines' role ARNs in action configurations as ``Fn::Sub``.

        CDK renders them as ``Fn::Join`` with an empty delimiter, which cfn-lint rejects in
        CodePipeline action configurations (E3703); ``Fn::Sub`` of the same parts is the
        same value, so the template lints clean like every other template here.
        """
        pipeline = self.pipeline.pipeline.node.default_child
        assert isinstance(pipeline, codepipeline.CfnPipeline)
        # resolve() gives the struct in its jsii (camelCase) shape; overrides use CloudFormation names.
        for stage_index, stage in enumerate(self.resolve(pipeline.stages)):
            for action_index, action in enumerate(stage.get("actions", [])):
                for key, value in action.get("configuration", {}).items():
                    substitution = _as_substitution(value)
                    if substitution is not None:
                        pipeline.add_property_override(
                            f"Stages.{stage_index}.Actions.{action_index}.Configuration.{key}",
                            {"Fn::Sub": substitution},
                        )

    def _source(self, settings: PipelineConfig) -> pipelines.CodePipelineSource:
        source = settings.source
        if source.connection_arn is not None:
            assert source.repository is not None
            return pipelines.CodePipelineSource.connection(
                source.repository, source.branch, connection_arn=source.connection_arn
            )
        assert source.codecommit_repository is not None
        # By name: the ARN is built from this stack's account and region, nothing is looked up.
        repository = codecommit.Repository.from_repository_name(self, "Repository", source.codecommit_repository)
        return pipelines.CodePipelineSource.code_commit(repository, source.branch)

    def _smoke_test(
        self, stage: PipelineStage, config: EnvironmentConfig
    ) -> tuple[pipelines.CodeBuildStep, list[ScopedStatement]]:
        """``python -m inference_platform smoke --env <environment>`` against the deployed stage."""
        region = config.region or self.settings.region
        command = f".venv/bin/python -m inference_platform smoke --env {config.environment} --region {region}"
        commands = ["make venv"]
        if stage.smoke_test_role_arn is not None:
            # Another account: the tests run as a role there, assumed with CodeBuild's own credentials.
            commands += [
                f"aws configure set profile.{SMOKE_TEST_PROFILE}.role_arn {stage.smoke_test_role_arn}",
                f"aws configure set profile.{SMOKE_TEST_PROFILE}.credential_source EcsContainer",
            ]
            command += f" --profile {SMOKE_TEST_PROFILE}"
            statements = [
                ScopedStatement(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[stage.smoke_test_role_arn]))
            ]
        else:
            account = config.account or self.settings.account
            statements = smoke_test_statements(self, config.environment, account=account, region=region)
        step = pipelines.CodeBuildStep(
            f"SmokeTest{config.stage_name}",
            input=self.source,
            commands=[*commands, command],
            role_policy_statements=[scoped.statement for scoped in statements],
        )
        return step, statements

    def _acknowledge_findings(self) -> None:
        """Every cdk-nag exception of the pipeline, with its reason.

        Most come from the roles CDK Pipelines generates; the stages' own exceptions are
        acknowledged by their constructs and need nothing here.
        """
        pipeline = self.pipeline
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:Abort*", "s3:DeleteObject*"):
            acknowledge(
                pipeline,
                f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Action::{action}]",
                "CDK Pipelines grants its roles read (and the source and synth roles write) access to the "
                "pipeline's own artifact bucket with the S3 grant helpers; the action wildcards apply to that "
                "one bucket only.",
            )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                pipeline,
                f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Action::{action}]",
                "CDK Pipelines grants its roles encrypt/decrypt on the artifact bucket's key with the KMS grant "
                "helpers; the action wildcards apply to that one rotating customer-managed key only.",
            )
        acknowledge_wildcard_resources(
            pipeline,
            [self.artifact_bucket.arn_for_objects("*")],
            "Pipeline artifacts get generated object keys per execution; access is confined to objects in the "
            "pipeline's own artifact bucket.",
        )
        acknowledge_inline_policy(pipeline)
        acknowledge_rule(
            pipeline,
            "CodeBuildProjectSourceRepoUrl",
            "These projects have the CODEPIPELINE source type: they receive the source as an encrypted "
            "pipeline artifact and never connect to a repository, so there are no repository credentials; "
            "the repository is read through the connection or CodeCommit by the pipeline's source action.",
            packs=("HIPAA.Security", "PCI.DSS.321"),
        )
        projects = [self.synth_step.project, pipeline.self_mutation_project]
        projects += [step.project for step, _ in self.smoke_tests.values()]
        for project in projects:
            acknowledge_wildcard_resources(
                project,
                [
                    self.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"/aws/codebuild/{project.project_name}:*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    ),
                    self.format_arn(
                        service="codebuild", resource="report-group", resource_name=f"{project.project_name}-*"
                    ),
                ],
                "CodeBuild names log streams and test report groups per build at run time; the wildcards are "
                "confined to this project's own log group and report groups.",
            )
        acknowledge_wildcard_resources(
            pipeline.self_mutation_project,
            [f"arn:*:iam::{self.account}:role/*", "*"],
            "The self-mutation build assumes the CDK bootstrap roles (only roles tagged aws-cdk:bootstrap-role "
            "deploy, file-publishing or image-publishing) and lists stacks and buckets, which has no "
            "resource-level permission, to update the pipeline itself.",
        )
        assets = pipeline.node.try_find_child("Assets")
        file_role = assets.node.try_find_child("FileRole") if assets is not None else None
        if file_role is not None:
            acknowledge_wildcard_resources(
                file_role,
                [
                    self.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/codebuild/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    ),
                    self.format_arn(service="codebuild", resource="report-group", resource_name="*"),
                    "*",
                ],
                "The asset-publishing role is shared by the publishing projects CDK Pipelines generates; it "
                "writes their logs and reports, checks their builds (no resource-level permission) and "
                "otherwise only assumes the CDK file-publishing bootstrap role.",
            )
        for step, statements in self.smoke_tests.values():
            for scoped in statements:
                if scoped.wildcard_reason is not None:
                    acknowledge_wildcard_resources(step.project, scoped.statement.resources, scoped.wildcard_reason)


def _as_substitution(value: object) -> str | None:
    """``{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ...]]}`` as an ``Fn::Sub`` string;
    ``None`` when ``value`` is not a join of literals and plain references."""
    if not (isinstance(value, dict) and list(value) == ["Fn::Join"]):
        return None
    separator, parts = value["Fn::Join"]
    if separator != "":
        return None
    text = []
    for part in parts:
        if isinstance(part, str) and "${" not in part:
            text.append(part)
        elif isinstance(part, dict) and list(part) == ["Ref"] and isinstance(part["Ref"], str):
            text.append("${" + part["Ref"] + "}")
        else:
            return None
    return "".join(text)


def approval_comment(config: EnvironmentConfig) -> str:
    return f"Approve deploying to {config.environment}: read the review bundle (make review) of this commit first."


def smoke_test_statements(scope: Construct, environment: str, *, account: str, region: str) -> list[ScopedStatement]:
    """What the smoke tests need in one environment of the pipeline's own account, and no more.

    They read the environment's stack outputs (CloudFormation), invoke its endpoints
    (``<environment>-*``), put an async request and read its result in the platform's
    buckets (``<environment>-platform-*``: CloudFormation names buckets after their stack),
    using the platform key (found by its alias), and start a batch execution on the
    environment's state machines (tagged ``environment: <environment>``).
    """
    stack = cdk.Stack.of(scope)

    def arn(service: str, resource: str, name: str, form: cdk.ArnFormat = cdk.ArnFormat.SLASH_RESOURCE_NAME) -> str:
        return stack.format_arn(
            service=service, region=region, account=account, resource=resource, resource_name=name, arn_format=form
        )

    buckets = f"arn:{stack.partition}:s3:::{platform_stack_name(environment).lower()}-*"
    alias = platform_key_alias_arn_name(environment)
    return [
        ScopedStatement(
            iam.PolicyStatement(actions=list(SMOKE_TESTS.stacks), resources=["*"]),
            "The smoke tests find the environment's model stacks by listing stacks and their tags, which "
            "needs DescribeStacks without a stack name; it reads stack metadata and outputs only.",
        ),
        ScopedStatement(
            iam.PolicyStatement(
                actions=sorted({*SMOKE_TESTS.endpoints, *UNUSED_SMOKE_TEST_GRANTS.endpoints}),
                resources=[arn("sagemaker", "endpoint", f"{environment}-*")],
            ),
            f"Endpoint names are <environment>-<model>-<mode>; the wildcard is confined to the {environment} "
            "environment's endpoints, whichever models it serves.",
        ),
        ScopedStatement(
            iam.PolicyStatement(actions=list(SMOKE_TESTS.objects), resources=[f"{buckets}/*"]),
            "CloudFormation generates the platform bucket names from the stack name; the wildcard is confined "
            f"to the {environment} platform stack's buckets, where async requests and results live.",
        ),
        ScopedStatement(
            iam.PolicyStatement(actions=list(SMOKE_TESTS.buckets), resources=[buckets]),
            "Waiting for an async result needs ListBucket (a missing object then reads as absent, not denied); "
            f"the wildcard is confined to the {environment} platform stack's generated bucket names.",
        ),
        ScopedStatement(
            iam.PolicyStatement(
                actions=sorted({*SMOKE_TESTS.platform_key, *UNUSED_SMOKE_TEST_GRANTS.platform_key}),
                resources=[arn("kms", "key", "*")],
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}},
            ),
            "The platform key's id is generated in another stack; the key is selected by its alias "
            f"{alias} with a kms:ResourceAliases condition.",
        ),
        ScopedStatement(
            iam.PolicyStatement(
                actions=list(SMOKE_TESTS.state_machines),
                resources=[arn("states", "stateMachine", "*", cdk.ArnFormat.COLON_RESOURCE_NAME)],
                conditions={"StringEquals": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}},
            ),
            "State machine names are generated; StartExecution is limited to state machines tagged "
            f"environment={environment} by an aws:ResourceTag condition.",
        ),
        ScopedStatement(
            iam.PolicyStatement(
                # Stop too: the smoke test stops a run that outlives its timeout.
                actions=list(SMOKE_TESTS.executions),
                resources=[
                    arn(
                        "states",
                        "execution",
                        f"{environment}-*{STATE_MACHINE_NAME_SUFFIX}:*",
                        cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            "Execution ARNs are only known once the smoke test starts one, and executions carry no tags; the "
            f"wildcard is confined to executions of the {environment} environment's batch state machines "
            f"(<environment>-<model>{STATE_MACHINE_NAME_SUFFIX}).",
        ),
    ]
