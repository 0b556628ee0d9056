"""SageMaker prebuilt framework images, resolved per region at deploy time.

The serving images live in an AWS-owned ECR registry whose account differs by region.
The table below is the public list published in the SageMaker Python SDK
(``src/sagemaker/image_uri_config/sklearn.json``; the XGBoost images share the same
registries). A CloudFormation mapping keyed by region turns it into an image URI, so an
environment-agnostic stack needs no account or region lookup at synth time.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.stack_values import StackValues, stack_values

REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}


@dataclass(frozen=True)
class Framework:
    repository: str
    versions: tuple[str, ...]
    tag_suffix: str
    description: str


FRAMEWORKS: dict[str, Framework] = {
    "sklearn": Framework(
        repository="sagemaker-scikit-learn",
        versions=("1.0-1", "1.2-1", "1.4-2"),
        tag_suffix="-cpu-py3",
        description="scikit-learn serving image (1.4-2 carries scikit-learn 1.4.2)",
    ),
    "xgboost": Framework(
        repository="sagemaker-xgboost",
        versions=("1.5-1", "1.7-1"),
        tag_suffix="",
        description="XGBoost serving image",
    ),
}

_MAPPING_ID = "SageMakerFrameworkRegistries"


def check_listed_version(kind: str, name: str, version: str, versions_by_name: Mapping[str, Iterable[str]]) -> None:
    """Raise ValueError unless ``name`` is in ``versions_by_name`` and ``version`` among its versions
    (a prebuilt image table: frameworks here, Deep Learning Containers in dlc_images)."""
    if name not in versions_by_name:
        raise ValueError(f"unknown {kind} {name!r}; allowed: {', '.join(sorted(versions_by_name))}")
    versions = list(versions_by_name[name])
    if version not in versions:
        raise ValueError(f"unknown {name} image version {version!r}; allowed: {', '.join(versions)}")


def check_framework_version(framework: str, version: str) -> None:
    """Raise ValueError unless ``framework``/``version`` names a known prebuilt image."""
    check_listed_version("framework", framework, version, {name: spec.versions for name, spec in FRAMEWORKS.items()})


@dataclass(frozen=True)
class RegistryMapping:
    """A region-to-registry-account ``CfnMapping`` of one stack, and the registry account it
    gives for the stack's region (one ``Fn::FindInMap`` token, the same for every image)."""

    mapping: cdk.CfnMapping
    account: str


_MAPPINGS: weakref.WeakKeyDictionary[cdk.Stack, dict[str, RegistryMapping]] = weakref.WeakKeyDictionary()


def registry_mapping(values: StackValues, mapping_id: str, accounts: dict[str, str]) -> RegistryMapping:
    """One region-to-registry-account mapping ``mapping_id`` per stack, shared by every model in it.

    Kept here per stack, with its account lookup, so a later model of the stack costs no jsii
    round trip for it (looking it up in the stack's children, then in the map, cost four).
    """
    by_id = _MAPPINGS.setdefault(values.stack, {})
    if mapping_id not in by_id:
        mapping = cdk.CfnMapping(
            values.stack,
            mapping_id,
            mapping={region: {"account": account} for region, account in accounts.items()},
            lazy=True,  # a stack with a concrete region gets the literal URI, no mapping
        )
        by_id[mapping_id] = RegistryMapping(mapping, mapping.find_in_map(values.region, "account"))
    return by_id[mapping_id]


@dataclass(frozen=True)
class ResolvedImage:
    """An image URI and the ECR repository ARN the execution role may pull from."""

    uri: str
    repository_arn: str


def framework_image(scope: Construct, framework: str, version: str) -> ResolvedImage:
    """The URI of a prebuilt framework image for the stack's region (a token if env-agnostic)."""
    check_framework_version(framework, version)
    spec = FRAMEWORKS[framework]
    values = stack_values(scope)
    mapping = registry_mapping(values, _MAPPING_ID, REGISTRY_ACCOUNTS)
    return registry_image(values, mapping, spec.repository, f"{version}{spec.tag_suffix}")


def registry_image(values: StackValues, mapping: RegistryMapping, repository: str, tag: str) -> ResolvedImage:
    """``repository:tag`` in the AWS registry that ``mapping`` gives for the stack's region."""
    uri = f"{mapping.account}.dkr.ecr.{values.region}.{values.url_suffix}/{repository}:{tag}"
    repository_arn = values.arn("ecr", "repository", repository, account=mapping.account)
    return ResolvedImage(uri=uri, repository_arn=repository_arn)


def ecr_image(scope: Construct, uri: str) -> ResolvedImage:
    """An explicit ``<account>.dkr.ecr.<region>.<suffix>/<repository>[:tag|@digest]`` image."""
    registry, _, path = uri.partition("/")
    account, _, rest = registry.partition(".dkr.ecr.")
    region = rest.split(".")[0]
    repository = path.split("@")[0].split(":")[0]
    repository_arn = stack_values(scope).arn("ecr", "repository", repository, region=region, account=account)
    return ResolvedImage(uri=uri, repository_arn=repository_arn)
