"""Hypothesis strategies for environment configs, as the plain data a YAML file holds.

``environment_configs()`` draws only valid configs: random but valid combinations of the mode
blocks, autoscaling bounds, network on or off, tags and the environment-wide settings. Each
mode's block comes from ``MODE_BLOCKS``; a new mode (e.g. ``batch``) is one more entry there
and it is drawn, combined with the others, synthesized and nag-checked like them.

``MUTATIONS`` turns a valid config into an invalid one with a known offending field, for the
tests that show bad input never gets past validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from inference_constructs.instance_types import InstanceUse, offered
from inference_constructs.log_retention import LOG_RETENTION_DAYS
from inference_constructs.serverless_endpoint import MEMORY_SIZES_IN_MB

Config = dict[str, Any]

REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
CPU_INSTANCE_TYPES = ("ml.t2.medium", "ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.c6i.large", "ml.r5.large")
# GPUs are fine on instance-backed endpoints (never on serverless).
INSTANCE_TYPES = (*CPU_INSTANCE_TYPES, "ml.g5.xlarge", "ml.g4dn.xlarge")
# Application Auto Scaling refuses burstable (T2/T3) variants, and async endpoints always autoscale.
AUTOSCALABLE_INSTANCE_TYPES = tuple(t for t in INSTANCE_TYPES if not t.startswith(("ml.t2.", "ml.t3.")))
FRAMEWORK_IMAGES = ({"framework": "sklearn", "version": "1.4-2"}, {"framework": "xgboost", "version": "1.7-1"})
LOCAL_ARTIFACT = "model_code/dist/model.tar.gz"

names = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True)
hex_ids = st.text(alphabet="0123456789abcdef", min_size=17, max_size=17)


def _ordered_pair(low: int, high: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(low, high), st.integers(low, high)).map(sorted).map(tuple)


@st.composite
def model_images(draw: st.DrawFn) -> dict[str, str]:
    if draw(st.booleans()):
        return dict(draw(st.sampled_from(FRAMEWORK_IMAGES)))
    account = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    region = draw(st.sampled_from(REGIONS))
    return {"uri": f"{account}.dkr.ecr.{region}.amazonaws.com/{draw(names)}:{draw(names)}"}


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    strategy = draw(st.sampled_from(("all_at_once", "canary", "linear", "rolling")))
    block: dict[str, Any] = {"strategy": strategy}
    if strategy == "canary":
        block["canary_percent"] = draw(st.integers(1, 50))
    elif strategy == "linear":
        block["linear_step_percent"] = draw(st.integers(1, 50))
    elif strategy == "rolling":
        block["rolling_batch_percent"] = draw(st.integers(5, 50))
    block["wait_interval_seconds"] = draw(st.integers(0, 3600))
    block["auto_rollback"] = draw(st.booleans())
    return block


@st.composite
def realtime_blocks(draw: st.DrawFn) -> dict[str, Any]:
    autoscaled = draw(st.booleans())
    types = AUTOSCALABLE_INSTANCE_TYPES if autoscaled else INSTANCE_TYPES
    block: dict[str, Any] = {"instance_type": draw(st.sampled_from(types))}
    if autoscaled:
        low, high = draw(_ordered_pair(1, 8))
        block["autoscaling"] = {
            "min_capacity": low,
            "max_capacity": high,
            "target_invocations_per_instance": draw(st.integers(1, 5000)),
        }
        if draw(st.booleans()):
            block["autoscaling"]["target_cpu_utilization_percent"] = draw(st.integers(10, 90))
        block["initial_instance_count"] = draw(st.integers(low, high))
    else:
        block["initial_instance_count"] = draw(st.integers(1, 4))
    deployment = draw(deployments())
    # SageMaker supports no rolling deployment on shadow (multi-variant) endpoints.
    shadow = deployment["strategy"] != "rolling" and draw(st.booleans())
    block["deployment"] = deployment
    if draw(st.booleans()):
        block["data_capture"] = {"sampling_percentage": draw(st.integers(1, 100))}
    if shadow:
        block["shadow"] = {
            "model_data": "s3://shadow-models/iris/v2/model.tar.gz",
            "instance_type": draw(st.sampled_from(CPU_INSTANCE_TYPES)),
            "traffic_percent": draw(st.integers(1, 100)),
        }
    return block


@st.composite
def serverless_blocks(draw: st.DrawFn) -> dict[str, Any]:
    maximum = draw(st.integers(1, 200))
    block: dict[str, Any] = {
        "memory_size_in_mb": draw(st.sampled_from(MEMORY_SIZES_IN_MB)),
        "max_concurrency": maximum,
    }
    if draw(st.booleans()):
        provisioned = draw(st.integers(1, maximum))
        block["provisioned_concurrency"] = provisioned
        if draw(st.booleans()):
            block["autoscaling"] = {
                "min_capacity": draw(st.integers(1, provisioned)),
                "max_capacity": draw(st.integers(provisioned, maximum)),
                "target_utilization": draw(st.floats(0.05, 1.0).map(lambda value: round(value, 2))),
            }
    return block


@st.composite
def async_blocks(draw: st.DrawFn) -> dict[str, Any]:
    periods = draw(st.integers(1, 60))
    low, high = draw(_ordered_pair(0, 6))
    high = max(high, 1)
    block: dict[str, Any] = {
        "instance_type": draw(st.sampled_from(AUTOSCALABLE_INSTANCE_TYPES)),
        "initial_instance_count": draw(st.integers(1, high)),
        "max_concurrent_invocations_per_instance": draw(st.integers(1, 1000)),
        "invocation_timeout_seconds": draw(st.integers(1, 3600)),
        "include_inference_response_in": draw(
            st.lists(st.sampled_from(("SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC")), unique=True)
        ),
        "autoscaling": {
            "min_capacity": low,
            "max_capacity": high,
            "target_backlog_per_instance": draw(st.integers(1, 100)),
        },
        "alarms": {
            "oldest_request_age_seconds": draw(st.integers(60, 21_600)),
            "backlog_size": draw(st.integers(1, 10_000)),
            "evaluation_periods": periods,
            "datapoints_to_alarm": draw(st.integers(1, periods)),
        },
    }
    if draw(st.booleans()):
        block["error_queue"] = {
            "retention_days": draw(st.integers(1, 14)),
            "max_receive_count": draw(st.integers(1, 50)),
        }
    return block


@st.composite
def batch_blocks(draw: st.DrawFn) -> dict[str, Any]:
    # Batch transform has its own list (no burstable types, no ml.r5, for example).
    instance_types = [t for t in INSTANCE_TYPES if t in offered(InstanceUse.TRANSFORM)]
    payload = draw(st.integers(1, 100))
    block: dict[str, Any] = {
        "instance_type": draw(st.sampled_from(instance_types)),
        "instance_count": draw(st.integers(1, 4)),
        "max_payload_in_mb": payload,
        # SageMaker: concurrent transforms x payload may not exceed 100 MB.
        "max_concurrent_transforms": draw(st.integers(1, max(1, 100 // payload))),
        "batch_strategy": draw(st.sampled_from(("SingleRecord", "MultiRecord"))),
        "run_on_upload": draw(st.booleans()),
    }
    if draw(st.booleans()):
        block["schedule"] = draw(st.sampled_from(("rate(1 day)", "rate(6 hours)", "cron(0 3 * * ? *)")))
    return block


# Instance types a shared endpoint is drawn from: autoscalable, x86 (the framework images), and
# large enough for any component block below (2 vCPUs and 8 GiB or more).
SHARED_ENDPOINT_INSTANCE_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.r5.large", "ml.g5.xlarge")


@st.composite
def component_blocks(draw: st.DrawFn) -> dict[str, Any]:
    memory = draw(st.integers(128, 4096))
    block: dict[str, Any] = {
        "compute": {"cpu_cores": draw(st.sampled_from((0.25, 0.5, 1, 2))), "memory_mib": memory},
        "copy_count": 1,
    }
    if draw(st.booleans()):
        block["compute"]["max_memory_mib"] = draw(st.integers(memory, 8192))
    if draw(st.booleans()):
        # min_capacity 0 (scale to zero) makes the environment's shared endpoint scale to zero too.
        low = draw(st.integers(0, 1))
        block["autoscaling"] = {
            "min_capacity": low,
            "max_capacity": draw(st.integers(max(low, 1), 4)),
            "target_invocations_per_copy": draw(st.integers(1, 100_000)),
        }
    if draw(st.booleans()):
        block["deployment"] = {
            "strategy": "rolling",
            "rolling_batch_percent": draw(st.integers(5, 50)),
            "wait_interval_seconds": draw(st.integers(0, 3600)),
        }
    return block


@st.composite
def shared_endpoints(draw: st.DrawFn, scales_to_zero: bool) -> dict[str, Any]:
    high = draw(st.integers(1, 4))
    return {
        "instance_type": draw(st.sampled_from(SHARED_ENDPOINT_INSTANCE_TYPES)),
        "initial_instance_count": draw(st.integers(1, high)),
        "managed_instance_scaling": {
            "min_instance_count": 0 if scales_to_zero else draw(st.integers(0, high)),
            "max_instance_count": high,
        },
        "routing_strategy": draw(st.sampled_from(("LEAST_OUTSTANDING_REQUESTS", "RANDOM"))),
    }


# One entry per inference mode: the YAML key of its block and a strategy for valid blocks.
MODE_BLOCKS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "realtime": realtime_blocks(),
    "serverless": serverless_blocks(),
    "async": async_blocks(),
    "batch": batch_blocks(),
    "component": component_blocks(),
}


@st.composite
def models(draw: st.DrawFn, name: str) -> dict[str, Any]:
    model: dict[str, Any] = {
        "name": name,
        "image": draw(model_images()),
        "model_data": draw(st.sampled_from((LOCAL_ARTIFACT, f"s3://models-{name}/{name}/model.tar.gz"))),
    }
    if draw(st.booleans()):
        model["environment"] = draw(
            st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), names, max_size=2)
        )
    modes = draw(st.lists(st.sampled_from(sorted(MODE_BLOCKS)), min_size=1, unique=True))
    for mode in modes:
        model[mode] = draw(MODE_BLOCKS[mode])
    return model


# How an environment meets the network: no VPC, models in a VPC, or in a VPC with the
# platform's VPC endpoints.
NETWORK_SHAPES = ("none", "vpc", "vpc_with_endpoints")


@st.composite
def networks(draw: st.DrawFn, region: str, endpoints: bool) -> dict[str, Any]:
    zones = draw(st.lists(st.sampled_from("abc"), min_size=2, max_size=3, unique=True))
    zones += draw(st.lists(st.sampled_from(zones), max_size=1))  # sometimes two subnets in one zone
    subnets = []
    for index, zone in enumerate(zones):
        subnet = {"id": f"subnet-{draw(hex_ids)[:-1]}{index}", "availability_zone": f"{region}{zone}"}
        if endpoints or draw(st.booleans()):
            subnet["route_table_id"] = f"rtb-{draw(hex_ids)}"
        subnets.append(subnet)
    groups = draw(st.lists(hex_ids.map(lambda value: f"sg-{value}"), min_size=1, max_size=3, unique=True))
    return {
        "vpc_id": f"vpc-{draw(hex_ids)}",
        "subnets": subnets,
        "security_group_ids": groups,
        "create_vpc_endpoints": endpoints,
    }


@st.composite
def environment_configs(draw: st.DrawFn, network_shape: str | None = None) -> Config:
    """A valid environment config (the file must be named ``<environment>.yaml``).

    :param network_shape: One of ``NETWORK_SHAPES``; drawn when not given.
    """
    region = draw(st.sampled_from(REGIONS))
    config: Config = {"environment": draw(names)}
    if draw(st.booleans()):
        config["region"] = region
        if draw(st.booleans()):
            config["account"] = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    config["tags"] = draw(
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_.:/=+@", max_size=30),
            max_size=3,
        )
    )
    config["termination_protection"] = draw(st.booleans())
    config["retain_stateful_resources"] = draw(st.booleans())
    config["access_log_retention_days"] = draw(st.integers(1, 3650))
    config["log_retention_days"] = draw(st.sampled_from(LOG_RETENTION_DAYS))
    shape = network_shape or draw(st.sampled_from(NETWORK_SHAPES))
    if shape != "none":
        config["network"] = draw(networks(region, endpoints=shape == "vpc_with_endpoints"))
    model_names = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    config["models"] = [draw(models(name)) for name in model_names]
    components = [model["component"] for model in config["models"] if "component" in model]
    if components:
        # Models with a component block need the environment's shared endpoint.
        to_zero = any(block.get("autoscaling", {}).get("min_capacity") == 0 for block in components)
        config["shared_endpoint"] = draw(shared_endpoints(to_zero))
    return config


# Invalid configs ---------------------------------------------------------------------------

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    """A valid config made invalid at ``path``; the report must name ``field`` (its path)."""

    config: Config
    field: str
    kind: str


def field_path(path: Path) -> str:
    """The path as the error report writes it: ``models[0].async.invocation_timeout_seconds``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _leaves(value: Any, path: Path = ()) -> list[Path]:
    """Paths to every scalar in the config."""
    if isinstance(value, dict):
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, child in enumerate(value) for leaf in _leaves(child, (*path, index))]
    return [path]


def _mappings(value: Any, path: Path = ()) -> list[Path]:
    """Paths to every mapping whose keys are fields (not free-form maps such as tags)."""
    found = []
    if isinstance(value, dict):
        if path[-1:] not in (("tags",), ("environment",)) or path == ():
            found.append(path)
        for key, child in value.items():
            found.extend(_mappings(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_mappings(child, (*path, index)))
    return found


def _set(config: Config, path: Path, value: Any) -> Config:
    mutated = copy.deepcopy(config)
    target: Any = mutated
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return mutated


@st.composite
def wrong_types(draw: st.DrawFn, config: Config) -> Mutation:
    """A mapping or a list where a scalar belongs: no field accepts either in place of a scalar."""
    path = draw(st.sampled_from(_leaves(config)))
    value = draw(st.sampled_from(({"unexpected": 1}, [1, 2])))
    return Mutation(_set(config, path, value), field_path(path), "wrong type")


@st.composite
def unknown_keys(draw: st.DrawFn, config: Config) -> Mutation:
    path = draw(st.sampled_from(_mappings(config)))
    key = "zz_" + draw(names)
    return Mutation(_set(config, (*path, key), 1), field_path((*path, key)), "unknown field")


# Out-of-range values of numeric fields, by where they sit: (path under a model or the
# environment, strategy of bad values). Each is invalid whatever the rest of the config says.
_MODEL_RANGES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "realtime": {
        "initial_instance_count": st.integers(max_value=0) | st.integers(min_value=1001),
        "initial_variant_weight": st.floats(max_value=0) | st.floats(min_value=1.01, allow_infinity=False),
    },
    "serverless": {
        "memory_size_in_mb": st.integers().filter(lambda value: value not in MEMORY_SIZES_IN_MB),
        "max_concurrency": st.integers(max_value=0) | st.integers(min_value=201),
    },
    "async": {
        "invocation_timeout_seconds": st.integers(max_value=0) | st.integers(min_value=3601),
        "max_concurrent_invocations_per_instance": st.integers(max_value=0) | st.integers(min_value=1001),
    },
}
_ENVIRONMENT_RANGES: dict[str, st.SearchStrategy[Any]] = {
    "access_log_retention_days": st.integers(max_value=0) | st.integers(min_value=3651),
    "log_retention_days": st.integers().filter(lambda value: value not in LOG_RETENTION_DAYS),
    "region": st.sampled_from(("mars-1", "EU-WEST-1", "eu_west_1", "", "eu-west-1\n")),
    # Digits outside 0-9 pass a Unicode-aware \d but are no account id to AWS.
    "account": st.sampled_from(("1234", "12345678901a", "1234567890123", "12345678901\u0660", "123456789012\n")),
}


@st.composite
def out_of_range(draw: st.DrawFn, config: Config) -> Mutation:
    candidates: list[tuple[Path, st.SearchStrategy[Any]]] = [
        ((key,), values) for key, values in _ENVIRONMENT_RANGES.items()
    ]
    for index, model in enumerate(config["models"]):
        for mode, fields in _MODEL_RANGES.items():
            if mode in model:
                candidates += [(("models", index, mode, key), values) for key, values in fields.items()]
    path, values = draw(st.sampled_from(candidates))
    return Mutation(_set(config, path, draw(values)), field_path(path), "out of range")


MUTATIONS: tuple[Callable[[Config], st.SearchStrategy[Mutation]], ...] = (wrong_types, unknown_keys, out_of_range)


@st.composite
def invalid_environment_configs(draw: st.DrawFn) -> Mutation:
    config = draw(environment_configs())
    return draw(draw(st.sampled_from(MUTATIONS))(config))
