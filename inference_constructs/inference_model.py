"""``InferenceModel``: a SageMaker model and the least-privilege role it runs as."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from inference_constructs.compliance import (
    AWS_SOLUTIONS,
    acknowledge,
    acknowledge_inline_policy,
    acknowledge_wildcard_resources,
)
from inference_constructs.dlc_images import DLC_IMAGES, check_dlc_version, dlc_image
from inference_constructs.errors import ProblemCollector
from inference_constructs.framework_images import (
    ResolvedImage,
    check_framework_version,
    ecr_image,
    framework_image,
)
from inference_constructs.instance_types import Accelerator, Architecture, check_accelerator, check_architecture
from inference_constructs.model_package import check_model_package_arn
from inference_constructs.multi_model import (
    MULTI_MODEL_ENVIRONMENT,
    S3_MODEL_PREFIX,
    check_model_prefix,
    check_multi_model_image,
    is_model_prefix,
)
from inference_constructs.network import NetworkSettings
from inference_constructs.service_models import max_length
from inference_constructs.settings import Settings
from inference_constructs.stack_values import StackValues, stack_values

if TYPE_CHECKING:
    from inference_constructs.serial_pipeline import PipelineContainer

ECR_IMAGE_URI = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
S3_MODEL_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>[^\s]+\.tar\.gz)$")
# An uncompressed model is every object under a key prefix, which "always ends with a forward
# slash" (botocore's S3ModelDataSource.S3DataType documentation; the deployment guide is
# https://docs.aws.amazon.com/sagemaker/latest/dg/large-model-inference-uncompressed.html);
# S3_MODEL_PREFIX (from multi_model, whose endpoints read a prefix too) is its shape.
MODEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")

# Environment variables the framework containers read to find our handler inside the
# artifact (the "repacked model" layout: code/inference.py next to the model).
# PIP_NO_BUILD_ISOLATION=false: at start the image pip-installs code/ as a package
# (sagemaker-containers 2.8.6.post2, _modules.install); pip 25.3 and later build it in an
# isolated environment and download setuptools for that, which fails under network isolation
# (on by default here) and /ping never answers. "false" turns the isolated build off (pip's
# inverted reading of --no-* variables), so the image's own setuptools builds it offline.
FRAMEWORK_CONTAINER_ENVIRONMENT: dict[str, str] = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
    "PIP_NO_BUILD_ISOLATION": "false",
}

# The framework images' serving library reads these (sagemaker-containers 2.8.6.post2,
# _env.ServingEnv): gunicorn's --timeout and nginx's proxy_read_timeout, and gunicorn's -w.
# Unset, they are 60 s and one worker per vCPU, in every mode.
MODEL_SERVER_TIMEOUT = "SAGEMAKER_MODEL_SERVER_TIMEOUT"
MODEL_SERVER_WORKERS = "SAGEMAKER_MODEL_SERVER_WORKERS"
# "A customer's model containers must respond to requests within 60 seconds."
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
REALTIME_INVOCATION_SECONDS = 60


@dataclass(frozen=True)
class ModelServer:
    """How long the container's model server lets one invocation run, and how many workers serve.

    The default suits real-time and serverless endpoints: SageMaker's own 60 s limit, and one
    worker per vCPU (the image's default, left unset because the vCPU count is the
    instance's). Async endpoints and batch jobs pass their own invocation timeout and
    concurrency, or the server cuts their long invocations at 60 s.
    """

    timeout_seconds: int = REALTIME_INVOCATION_SECONDS
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.timeout_seconds < 1 or (self.workers is not None and self.workers < 1):
            raise ValueError(f"server: timeout_seconds and workers must be at least 1, got {self}")

    def environment(self) -> dict[str, str]:
        environment = {MODEL_SERVER_TIMEOUT: str(self.timeout_seconds)}
        if self.workers is not None:
            environment[MODEL_SERVER_WORKERS] = str(self.workers)
        return environment


@functools.cache
def _sagemaker_principal() -> iam.ServicePrincipal:
    """SageMaker's service principal, one object for every execution role (a principal is an
    immutable value that CDK renders per stack at synth): one jsii call per process, not per role."""
    return iam.ServicePrincipal("sagemaker.amazonaws.com")


# The two statements every execution role holds word for word (no stack value in them): one
# object each per process. A statement is frozen once a policy renders it and CDK never changes
# it in place (merging under @aws-cdk/aws-iam:minimizePolicies builds new ones), so one object
# serves every role, as _sagemaker_principal does, for a jsii call less per role each.
@functools.cache
def _ecr_token_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])


@functools.cache
def _put_metric_data_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"],
        resources=["*"],
        conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    )


def _check_ecr_uri(value: str) -> str:
    if not ECR_IMAGE_URI.fullmatch(value):
        raise ValueError(
            "expected an ECR image URI <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> "
            "or ...@sha256:<digest>"
        )
    return value


def _check_dockerfile(value: str) -> str:
    if "://" in value or not value.strip():
        raise ValueError("expected a local path to a Dockerfile, e.g. containers/iris/Dockerfile")
    return value


class ModelImage(Settings):
    """The serving image: a prebuilt framework image (``framework`` + ``version``), an
    explicit ECR ``uri``, or your own container built from a ``dockerfile`` at deploy time."""

    framework: str | None = Field(default=None, description="Prebuilt framework: sklearn or xgboost.")
    dlc: str | None = Field(
        default=None,
        description="An AWS Deep Learning Container for large models, with version: huggingface-tgi, djl-lmi, "
        "djl-neuronx, huggingface-pytorch-gpu or huggingface-pytorch-cpu (docs/large-models.md lists the versions).",
    )
    version: str | None = Field(default=None, description="Framework image version, e.g. 1.4-2, or DLC version.")
    uri: Annotated[str, AfterValidator(_check_ecr_uri)] | None = Field(
        default=None, description="An explicit ECR image URI, for your own container."
    )
    dockerfile: Annotated[str, AfterValidator(_check_dockerfile)] | None = Field(
        default=None,
        description="A Dockerfile (its directory is the build context), built and pushed by cdk deploy.",
    )
    architecture: Architecture = Field(
        default=Architecture.X86_64,
        description="CPU architecture of a uri or dockerfile image (a dockerfile is built for it): x86_64, or "
        "arm64 for Graviton instance types. Framework images are x86_64.",
    )
    accelerator: Accelerator | None = Field(
        default=None,
        description="What a uri or dockerfile image runs its model on: cpu, cuda (NVIDIA GPU instance types) or "
        "neuron (Inferentia/Trainium); checked against every instance type. Known for framework images (cpu) "
        "and DLCs.",
    )

    @field_validator("dockerfile")
    @classmethod
    def _dockerfile_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        base_dir = (info.context or {}).get("base_dir")
        if value is not None and base_dir is not None:
            check_dockerfile_exists(value, Path(base_dir))
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ModelImage:
        if self.dlc is not None:
            return self._one_dlc()
        if self.accelerator is not None and self.framework is not None:
            raise ValueError("the prebuilt framework images run on CPU; accelerator goes with image.uri or dockerfile")
        prebuilt = self.framework is not None or self.version is not None
        if self.dockerfile is not None:
            if self.uri is not None or prebuilt:
                raise ValueError("give either dockerfile, or uri, or framework and version, not several")
            return self
        if self.uri is not None:
            if prebuilt:
                raise ValueError("give either uri, or framework and version, not both")
            return self
        if self.architecture is not Architecture.X86_64 and self.framework is not None:
            raise ValueError(
                "the prebuilt framework images are built for x86_64 only; use image.uri or image.dockerfile"
            )
        if self.framework is None or self.version is None:
            raise ValueError(
                "give framework and version (a prebuilt image), or uri (your own ECR image), "
                "or dockerfile (your own image, built at deploy time)"
            )
        check_framework_version(self.framework, self.version)
        return self

    def _one_dlc(self) -> ModelImage:
        if self.framework is not None or self.uri is not None or self.dockerfile is not None:
            raise ValueError("give either dlc and version, or framework and version, or uri, or dockerfile")
        if self.architecture is not Architecture.X86_64 or self.accelerator is not None:
            raise ValueError(
                "a Deep Learning Container's architecture (x86_64) and accelerator come from its table; "
                "remove image.architecture and image.accelerator"
            )
        if self.version is None:
            raise ValueError(f"give the version of the {self.dlc} Deep Learning Container")
        assert self.dlc is not None
        check_dlc_version(self.dlc, self.version)
        return self

    @property
    def is_framework(self) -> bool:
        return self.uri is None and self.dockerfile is None and self.dlc is None

    @property
    def runs_on(self) -> Accelerator:
        """What the image runs its model on (CPU unless the image says otherwise)."""
        if self.dlc is not None:
            return DLC_IMAGES[self.dlc].accelerator
        return self.accelerator or Accelerator.CPU


def check_image_runs_on(accelerator: Accelerator, architecture: Architecture, instance_type: str) -> None:
    """Raise ValueError, naming both problems, unless an image of ``architecture`` built for
    ``accelerator`` runs on ``instance_type``."""
    problems = []
    for check in (
        lambda: check_architecture(architecture, instance_type),
        lambda: check_accelerator(accelerator, instance_type),
    ):
        try:
            check()
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValueError("; ".join(problems))


def check_dockerfile_exists(value: str, base_dir: Path) -> None:
    """Raise ValueError unless the Dockerfile ``value`` (relative to ``base_dir``) exists."""
    if not (base_dir / value).is_file():
        raise ValueError(f"Dockerfile not found under {base_dir}")


def check_local_artifact_exists(value: str, base_dir: Path) -> None:
    """Raise ValueError unless ``value``, a local artifact path (not ``s3://``), exists under ``base_dir``."""
    if not value.startswith("s3://") and not (base_dir / value).is_file():
        raise ValueError(
            "local artifact not found (paths are relative to the repository root); run `make model` to build it"
        )


def check_reserved_environment(environment: Mapping[str, str], *, framework_image: bool) -> None:
    """Raise ValueError naming every variable of ``environment`` that the platform sets itself:
    the framework images' handler variables (for framework images) and the model server's
    timeout and workers (always: they come from the mode's limits, see ``ModelServer``)."""
    problems = []
    reserved = sorted(FRAMEWORK_CONTAINER_ENVIRONMENT.keys() & environment.keys()) if framework_image else []
    if reserved:
        problems.append(
            f"{', '.join(reserved)} is set by the platform for framework images; remove it "
            "(or serve your own container with image.uri)"
        )
    server = sorted({MODEL_SERVER_TIMEOUT, MODEL_SERVER_WORKERS} & environment.keys())
    if server:
        problems.append(
            f"{', '.join(server)} is set by the platform from each mode's limits (async "
            "invocation_timeout_seconds, batch model_client and max_concurrent_transforms); remove it"
        )
    if problems:
        raise ValueError("; ".join(problems))


def check_model_name(value: str) -> str:
    if not MODEL_NAME.fullmatch(value):
        raise ValueError(
            "must be 2-32 characters: lowercase letters, digits and hyphens, starting with a letter "
            "and not ending with a hyphen"
        )
    return value


def check_model_data(value: str) -> str:
    """Accept ``s3://bucket/key.tar.gz``, an uncompressed model's ``s3://bucket/prefix/`` or a
    local path ending in ``.tar.gz``."""
    if value.startswith("s3://"):
        if not (S3_MODEL_URI.fullmatch(value) or S3_MODEL_PREFIX.fullmatch(value)):
            raise ValueError(
                "expected s3://<bucket>/<key>.tar.gz, or s3://<bucket>/<prefix>/ (an uncompressed model: the prefix "
                "ends with /), with a valid bucket name"
            )
        if len(value) > max_length("sagemaker", "S3ModelUri"):
            raise ValueError(f"at most {max_length('sagemaker', 'S3ModelUri')} characters (sagemaker S3ModelUri)")
    elif "://" in value or not value.endswith(".tar.gz"):
        raise ValueError(
            "expected a local path to a .tar.gz artifact, s3://<bucket>/<key>.tar.gz or an uncompressed model's "
            "s3://<bucket>/<prefix>/"
        )
    return value


class InferenceModel(Construct):
    """A SageMaker model plus an execution role that can do only what this model needs.

    The role may read this model's artifact, pull this model's image, decrypt with the
    platform key and write this model's logs. It never gets ``AmazonSageMakerFullAccess``.

    :param name: The model's short name (lowercase letters, digits, hyphens), e.g. ``iris``.
    :param name_prefix: Prefix of every endpoint and job name this model serves under,
        e.g. ``prod-iris``; the role's log permissions are scoped to it.
    :param image: The serving image. A ``dockerfile`` becomes a CDK ``DockerImageAsset``:
        synth needs no Docker, ``cdk deploy`` builds the image (for linux/amd64) and pushes it
        to the bootstrap ECR repository.
    :param model_data: ``s3://bucket/key.tar.gz``, a local ``.tar.gz`` uploaded as an asset, or an
        uncompressed model's ``s3://bucket/prefix/`` (``ModelDataSource``; the role may list and
        read that prefix only).
    :param encryption_key: The platform key; the role may decrypt with it.
    :param environment: Extra container environment variables.
    :param network: VPC placement; ``None`` keeps the model out of any VPC.
    :param network_isolation: Deny the container all outbound network access (on by default;
        serverless endpoints require it off).
    :param server: The model server's invocation timeout and workers for the mode this model
        serves (the framework images read them; other images may ignore them).
    :param model_package: A model package version ARN from the Model Registry: the container
        names it instead of ``image`` and ``model_data``, which then say what the package holds
        (the role may read exactly those), see ``inference_constructs.model_package``.
    :param pipeline: Containers run in order in front of this model's own, each answer the next
        one's request (a serial inference pipeline, see :mod:`inference_constructs.serial_pipeline`).
    :param multi_model: Serve every model under ``model_data``, then an S3 prefix ending in
        ``/``, from one container (``Mode: MultiModel``; callers pick one with ``TargetModel``).
        The role may read under that prefix only (see :mod:`inference_constructs.multi_model`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        name_prefix: str,
        image: ModelImage | Mapping[str, str],
        model_data: str,
        encryption_key: kms.IKey,
        environment: Mapping[str, str] | None = None,
        network: NetworkSettings | Mapping[str, Any] | None = None,
        network_isolation: bool = True,
        server: ModelServer = ModelServer(),
        model_package: str | None = None,
        multi_model: bool = False,
        pipeline: Sequence[PipelineContainer | Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(scope, id)
        # The stack's partition, region and account, read once per stack (stack_values).
        self._stack_values = stack_values(scope, self)
        checked_pipeline = _checked_pipeline(self, pipeline, multi_model=multi_model)
        checked_image, checked_network = _checked_props(
            self,
            name=name,
            image=image,
            model_data=model_data,
            environment=environment,
            network=network,
            multi_model=multi_model,
        )
        #: Whether the container serves every model under the model data prefix.
        self.multi_model = multi_model
        self.checked_image = checked_image
        #: The serial pipeline's containers (validated settings), in front of the model's own.
        self.checked_pipeline = tuple(checked_pipeline)
        environment = dict(environment or {})

        self.name = name
        self.name_prefix = name_prefix
        self.encryption_key = encryption_key
        self.network = checked_network
        self.network_isolation = network_isolation
        #: The CPU architecture the image runs on.
        self.architecture = checked_image.architecture
        #: What the image runs its model on (CPU, CUDA GPUs, Neuron chips).
        self.accelerator = checked_image.runs_on
        #: Whether the image streams generated text (a TGI or LMI Deep Learning Container).
        self.streams_text = checked_image.dlc is not None and DLC_IMAGES[checked_image.dlc].streams_text
        self.server = server
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=_sagemaker_principal(),
            description=f"Execution role of SageMaker model {name_prefix}: its artifact, image, key and logs only",
        )
        # The role's statements, collected in the order they were granted and added to its
        # default policy a few at a time (_add_pending_statements): one jsii call per batch
        # instead of one per statement.
        self._pending_statements: list[iam.PolicyStatement] = []
        self._default_policy: iam.Policy | None = None
        self.image = self._resolve_image(checked_image)
        #: Whether the model is an uncompressed S3 prefix (ModelDataSource) rather than a .tar.gz.
        # (A multi-model endpoint's prefix is read model by model, never copied whole.)
        self.uncompressed = is_model_prefix(model_data) and not multi_model
        self.model_data_url = self._model_data_url(model_data)
        self._grant_runtime_access()
        if model_package is not None:
            self._grant_model_package(model_package)

        container_environment = dict(environment)
        if checked_image.is_framework:
            container_environment.update(FRAMEWORK_CONTAINER_ENVIRONMENT)
            if multi_model:
                container_environment.update(MULTI_MODEL_ENVIRONMENT)
        container_environment.update(server.environment())
        own_container = sagemaker.CfnModel.ContainerDefinitionProperty(
            # SageMaker wants a hostname on every container of a pipeline or on none (ContainerHostname,
            # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).
            container_hostname="model" if pipeline else None,
            # A Model Registry version brings its own image and artifact (ModelPackageName).
            image=self.image.uri if model_package is None else None,
            model_data_url=None if self.uncompressed or model_package is not None else self.model_data_url,
            model_data_source=self._model_data_source() if self.uncompressed and model_package is None else None,
            model_package_name=model_package,
            environment=container_environment or None,
            mode="MultiModel" if multi_model else "SingleModel",
        )
        #: The images of the containers in front of the model's own (a serial pipeline), in order.
        self.pipeline_images: list[ResolvedImage] = []
        containers = [*self._pipeline_containers(checked_pipeline, server), own_container] if pipeline else None
        default_policy = self._add_pending_statements()
        self.cfn_model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=None if containers else own_container,
            containers=containers,
            inference_execution_config=sagemaker.CfnModel.InferenceExecutionConfigProperty(mode="Serial")
            if containers
            else None,
            enable_network_isolation=network_isolation,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=list(checked_network.security_group_ids), subnets=checked_network.subnet_ids
            )
            if checked_network
            else None,
        )
        # SageMaker checks at CreateModel that the role can already read the artifact, so the
        # model must wait for the role's policy (the role itself is already a reference).
        self.cfn_model.node.add_dependency(default_policy)
        self._acknowledge_findings()

    def check_runs_on(self, instance_type: str) -> None:
        """Raise ValueError unless this model's images run on ``instance_type`` (CPU architecture
        and accelerator, the serial pipeline's containers' too, since every container of the
        model runs on the same instances; and, for a multi-model endpoint, serves several models there)."""
        check_image_runs_on(self.accelerator, self.architecture, instance_type)
        for index, container in enumerate(self.checked_pipeline):
            try:
                check_image_runs_on(container.image.runs_on, container.image.architecture, instance_type)
            except ValueError as error:
                raise ValueError(f"pipeline[{index}].image: {error}") from None
        if self.multi_model:
            image = self.checked_image
            check_multi_model_image(framework=image.framework, uri=image.uri, instance_type=instance_type)

    @property
    def model_name(self) -> str:
        """The CloudFormation-generated model name (replaced whenever the model changes)."""
        return self.cfn_model.attr_model_name

    def _pipeline_containers(
        self, pipeline: Sequence[PipelineContainer], server: ModelServer
    ) -> list[sagemaker.CfnModel.ContainerDefinitionProperty]:
        """The containers in front of the model's own: each image pulled and artifact read by the
        role, framework images given their handler variables and the mode's server limits."""
        containers = []
        for index, container in enumerate(pipeline, start=1):
            image = self._resolve_image(container.image, f"Container{index}Image")
            self._grant_pull(image)
            self.pipeline_images.append(image)
            environment = dict(container.environment)
            if container.image.is_framework:
                environment.update(FRAMEWORK_CONTAINER_ENVIRONMENT)
                environment.update(server.environment())
            containers.append(
                sagemaker.CfnModel.ContainerDefinitionProperty(
                    container_hostname=f"step{index}",
                    image=image.uri,
                    model_data_url=self._model_data_url(container.model_data) if container.model_data else None,
                    environment=environment or None,
                )
            )
        return containers

    def _resolve_image(self, image: ModelImage, asset_id: str = "Image") -> ResolvedImage:
        if image.dockerfile is not None:
            dockerfile = Path(image.dockerfile)
            asset = ecr_assets.DockerImageAsset(
                self,
                asset_id,
                directory=str(dockerfile.parent),
                file=dockerfile.name,
                # Built for the instances' architecture, whatever machine runs cdk deploy: an
                # arm64 laptop would otherwise build an image x86 instances cannot run.
                platform=ecr_assets.Platform.LINUX_ARM64
                if image.architecture is Architecture.ARM64
                else ecr_assets.Platform.LINUX_AMD64,
            )
            return ResolvedImage(uri=asset.image_uri, repository_arn=asset.repository.repository_arn)
        if image.dlc is not None:
            assert image.version is not None
            return dlc_image(self, image.dlc, image.version)
        if image.is_framework:
            assert image.framework is not None and image.version is not None
            return framework_image(self, image.framework, image.version)
        assert image.uri is not None
        return ecr_image(self, image.uri)

    def _model_data_source(self) -> sagemaker.CfnModel.ModelDataSourceProperty:
        # SageMaker copies every object under the prefix to /opt/ml/model, keeping the rest of
        # each key as its path (property structs are plain Python: no jsii call).
        return sagemaker.CfnModel.ModelDataSourceProperty(
            s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                s3_uri=self.model_data_url, s3_data_type="S3Prefix", compression_type="None"
            )
        )

    def _model_data_url(self, model_data: str) -> str:
        if self.multi_model:
            return self._model_prefix_url(model_data)
        prefix = S3_MODEL_PREFIX.fullmatch(model_data)
        if prefix is not None:
            self._grant_prefix(prefix["bucket"], prefix["key"])
            return model_data
        if model_data.startswith("s3://"):
            match = S3_MODEL_URI.fullmatch(model_data)
            assert match is not None
            object_arn = self._stack_values.arn("s3", match["bucket"], match["key"], region="", account="")
            self._allow(iam.PolicyStatement(actions=["s3:GetObject"], resources=[object_arn]))
            return model_data
        artifact = _stack_artifact(self._stack_values, model_data)
        # artifact.bucket.arn_for_objects(key) without its two calls: the asset's bucket ARN is
        # the stack's s3 ARN of the asset's bucket name (s3 parseBucketArn), then "/<key>".
        bucket_arn = self._stack_values.arn("s3", artifact.bucket_name, region="", account="")
        self._allow(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{artifact.object_key}"]))
        return artifact.url

    def _model_prefix_url(self, prefix: str) -> str:
        """A multi-model endpoint's prefix: the role may read the objects under it, and only those."""
        bucket, _, key_prefix = prefix.removeprefix("s3://").partition("/")
        objects = self._stack_values.arn("s3", bucket, f"{key_prefix}*", region="", account="")
        self._allow(iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
        acknowledge_wildcard_resources(
            self.role,
            [objects],
            "A multi-model endpoint loads whichever model a request names (TargetModel) from under its model data "
            f"prefix {prefix}; reads are confined to that prefix.",
        )
        return prefix

    def _grant_prefix(self, bucket: str, key_prefix: str) -> None:
        """Read every object under the model's prefix, and list that prefix only: SageMaker lists
        the prefix to find the model's files (S3Prefix), then gets each one."""
        bucket_arn = self._stack_values.arn("s3", bucket, region="", account="")
        #: The wildcard resources of the prefix grant (acknowledged for cdk-nag).
        self.model_prefix_objects = f"{bucket_arn}/{key_prefix}*"
        self._allow(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{key_prefix}*"]}},
            )
        )
        self._allow(iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.model_prefix_objects]))

    def _grant_runtime_access(self) -> None:
        self._grant_pull(self.image)
        self._allow(_ecr_token_statement())
        # The key's grant goes to the role's policy after the statements above, as before.
        self._add_pending_statements()
        self.encryption_key.grant_decrypt(self.role)
        self.log_resources = [
            self._stack_values.arn("logs", "log-group", name, sep=":")  # ArnFormat.COLON_RESOURCE_NAME
            for name in (
                f"/aws/sagemaker/Endpoints/{self.name_prefix}-*",
                f"/aws/sagemaker/Endpoints/{self.name_prefix}-*:log-stream:*",
                f"/aws/sagemaker/TransformJobs:log-stream:{self.name_prefix}-*",
            )
        ]
        self._allow(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=self.log_resources,
            )
        )
        if self.network is not None:
            self._grant_network_interfaces(self.network)
        self._allow(_put_metric_data_statement())

    def _grant_model_package(self, arn: str) -> None:
        """SageMaker reads the package version with the model's role when it creates the model;
        the package's artifact and image are already granted (model_data, image)."""
        check_model_package_arn(arn)
        self._allow(iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[arn]))

    def _allow(self, statement: iam.PolicyStatement) -> None:
        """Grant the role ``statement`` (added to its default policy with the next batch)."""
        self._pending_statements.append(statement)

    def _add_pending_statements(self) -> iam.Policy:
        """Add the statements granted so far to the role's default policy, in order; return it.

        The first goes through ``add_to_policy``, which creates the policy; the others join it
        in one ``add_statements`` call. Rendered as one ``add_to_policy`` each would render it.
        """
        statements, self._pending_statements = self._pending_statements, []
        if self._default_policy is None:
            assert statements, "the role's first grant creates its default policy"
            self.role.add_to_policy(statements.pop(0))
            self._default_policy = self.role.node.try_find_child("DefaultPolicy")  # type: ignore[assignment]
            assert isinstance(self._default_policy, iam.Policy)
        if statements:
            self._default_policy.add_statements(*statements)
        return self._default_policy

    def _grant_pull(self, image: ResolvedImage) -> None:
        self._allow(
            iam.PolicyStatement(
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[image.repository_arn],
            )
        )

    def _grant_network_interfaces(self, network: NetworkSettings) -> None:
        """SageMaker attaches the model's instances to the VPC with the execution role."""
        arn = self._stack_values.arn
        #: The network interfaces SageMaker creates (a wildcard, acknowledged for cdk-nag).
        self.network_interfaces = arn("ec2", "network-interface", "*")
        self._allow(
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[
                    *(arn("ec2", "subnet", subnet) for subnet in network.subnet_ids),
                    *(arn("ec2", "security-group", group) for group in network.security_group_ids),
                    self.network_interfaces,
                ],
            )
        )
        self._allow(
            iam.PolicyStatement(
                actions=[
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            )
        )

    def _acknowledge_findings(self) -> None:
        """Every cdk-nag exception for this construct, with its reason."""
        acknowledge_inline_policy(self.role)
        # Name exactly the actions this role holds on "*": the VPC ones only when it has them.
        unscoped = "ecr:GetAuthorizationToken and cloudwatch:PutMetricData"
        if self.network is not None:
            unscoped = "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and VPC placement's ec2:Describe* calls"
        acknowledge(
            self.role,
            f"{AWS_SOLUTIONS}::{AWS_SOLUTIONS}-IAM5[Resource::*]",
            f"{unscoped} support no resource-level permissions in IAM; PutMetricData is held to the "
            "/aws/sagemaker/* namespaces by a condition, and image layers can be pulled from one repository only.",
        )
        if self.network is not None:
            acknowledge_wildcard_resources(
                self.role,
                [self.network_interfaces],
                "SageMaker creates the network interfaces at run time, so their ids are unknown; creation is "
                "limited to the configured subnets and security groups.",
            )
        if self.uncompressed:
            acknowledge_wildcard_resources(
                self.role,
                [self.model_prefix_objects],
                "An uncompressed model is every object under its S3 prefix, whose names SageMaker lists at "
                "deployment; reads (and the bucket listing) are confined to that prefix.",
            )
        acknowledge_wildcard_resources(
            self.role,
            self.log_resources,
            "The model serves one endpoint (or job) per mode, each logging to a group named after it, and "
            "SageMaker names the log streams after variant and instance ids at run time; the wildcard is "
            f"confined to names starting with this model's prefix {self.name_prefix}-.",
        )


def _checked_props(
    construct: Construct,
    *,
    name: str,
    image: ModelImage | Mapping[str, str],
    model_data: str,
    environment: Mapping[str, str] | None,
    network: NetworkSettings | Mapping[str, Any] | None,
    multi_model: bool = False,
) -> tuple[ModelImage, NetworkSettings | None]:
    """The validated image and network; every problem with the props raised together."""
    problems = ProblemCollector()
    checked_network = problems.validate(NetworkSettings, network, "network") if network is not None else None

    def check_value(field: str, value: str, check: Callable[[str], object]) -> None:
        try:
            check(value)
        except ValueError as error:
            problems.add(f"{field}: {error} (got {value!r})")

    check_value("name", name, check_model_name)
    checked_image = problems.validate(ModelImage, image, "image")
    if multi_model:
        check_value("model_data", model_data, check_model_prefix)
    else:
        check_value("model_data", model_data, check_model_data)
        check_value("model_data", model_data, lambda value: check_local_artifact_exists(value, Path.cwd()))
    if checked_image is not None and checked_image.dockerfile:
        check_value(
            "image.dockerfile", checked_image.dockerfile, lambda value: check_dockerfile_exists(value, Path.cwd())
        )
    variables = dict(environment or {})
    framework = checked_image is not None and checked_image.is_framework
    problems.attempt(lambda: check_reserved_environment(variables, framework_image=framework), "environment")
    # The construct's path names it in the error; reading it is a jsii round trip, so only on error.
    if problems.problems:
        problems.raise_if_any(construct.node.path)
    assert isinstance(checked_image, ModelImage)
    assert checked_network is None or isinstance(checked_network, NetworkSettings)
    return checked_image, checked_network


def _checked_pipeline(
    construct: Construct, pipeline: Sequence[PipelineContainer | Mapping[str, Any]], *, multi_model: bool
) -> list[PipelineContainer]:
    """The validated containers of a serial pipeline; every problem raised together."""
    # Imported here: serial_pipeline builds its container settings from this module's ModelImage.
    from inference_constructs.serial_pipeline import MAX_PIPELINE_CONTAINERS, PipelineContainer

    problems = ProblemCollector()
    checked = []
    for index, container in enumerate(pipeline):
        valid = problems.validate(PipelineContainer, container, f"pipeline[{index}]")
        if isinstance(valid, PipelineContainer):
            checked.append(valid)
            framework = valid.image.is_framework
            problems.attempt(
                lambda valid=valid, framework=framework: check_reserved_environment(
                    valid.environment, framework_image=framework
                ),
                f"pipeline[{index}].environment",
            )
    problems.check(
        len(pipeline) <= MAX_PIPELINE_CONTAINERS,
        f"pipeline: at most {MAX_PIPELINE_CONTAINERS} containers in front of the model's own (sagemaker "
        f"ContainerDefinitionList takes {MAX_PIPELINE_CONTAINERS + 1}); got {len(pipeline)}",
    )
    problems.check(not (pipeline and multi_model), "pipeline: a multi-model endpoint runs one container")
    if problems.problems:  # the path is read only on error (a jsii round trip)
        problems.raise_if_any(construct.node.path)
    return checked


@dataclass(frozen=True)
class _Artifact:
    bucket_name: str
    object_key: str
    url: str


# A stack's local model artifacts, by path, shared by the models of the stack (one per mode) that
# usually read the same file: one asset per file and stack instead of one per model saves four jsii
# round trips and an asset construct per model. The upload is the same either way, since assets are
# published by content hash; only the asset's construct path (its display name in the stage's
# assets manifest) differs.
MODEL_ARTIFACTS = "model artifacts"


def _stack_artifact(values: StackValues, path: str) -> _Artifact:
    artifacts: dict[str, _Artifact] = values.shared(MODEL_ARTIFACTS, dict)
    if path not in artifacts:
        asset_id = "ModelArtifact" + (str(len(artifacts) + 1) if artifacts else "")
        asset = s3_assets.Asset(values.stack, asset_id, path=path)
        artifacts[path] = _Artifact(asset.s3_bucket_name, asset.s3_object_key, asset.s3_object_url)
    return artifacts[path]
