"""Load and validate ``config/<environment>.yaml`` files, reporting every problem at once.

Each problem names the file, the field path (and line), the bad value and what is allowed,
so nobody has to read a traceback to fix a config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from inference_config.schema import EnvironmentConfig, PipelineConfig
from inference_constructs.errors import (
    allowed_fields,
    describe_message,
    describe_value,
    format_location,
    meaningful_errors,
)

MAX_FILE_BYTES = 1_000_000
# The pipeline file sits next to the environment files but is not an environment.
PIPELINE_FILE = "pipeline.yaml"
# A document whose aliases expand past this many nodes is refused (a "billion laughs" bomb
# would otherwise blow up during validation, long after YAML parsing returned).
MAX_EXPANDED_NODES = 20_000


_Config = TypeVar("_Config", EnvironmentConfig, PipelineConfig)


class ConfigError(Exception):
    """One or more configuration problems; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def report(self) -> str:
        count = len(self.problems)
        return f"Invalid configuration ({count} problem{'s' if count != 1 else ''}):\n" + "\n".join(
            f"  {line}" for line in self.problems
        )


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain names, not lists or mappings", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = MAX_EXPANDED_NODES + 1  # a recursive alias counts as too big
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, memo) for item in node.value)
    else:
        size = 1
    memo[id(node)] = min(size, MAX_EXPANDED_NODES + 1)
    return memo[id(node)]


def _line_of(node: yaml.Node | None, location: Iterable[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``location``, or of its nearest parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in location:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((value for key, value in node.value if getattr(key, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def load_environment(
    path: Path, *, base_dir: Path, pipeline: bool = False, model_packages: Mapping[str, Any] | None = None
) -> EnvironmentConfig:
    """Parse and validate one environment file; raise :class:`ConfigError` on any problem.
    ``pipeline``: the delivery pipeline deploys it (and resolves model package groups);
    ``model_packages``: the versions it resolved, by group (scripts.resolve_model_packages)."""
    return _load(
        path,
        EnvironmentConfig,
        base_dir=base_dir,
        context={
            "base_dir": base_dir,
            "expected_environment": path.stem,
            "pipeline": pipeline,
            "model_packages": dict(model_packages or {}),
        },
        empty="expected a mapping with at least 'environment' and 'models'",
    )


def load_pipeline(path: Path, *, base_dir: Path) -> PipelineConfig:
    """Parse and validate ``config/pipeline.yaml``; raise :class:`ConfigError` on any problem."""
    return _load(
        path,
        PipelineConfig,
        base_dir=base_dir,
        context={"base_dir": base_dir},
        empty="expected a mapping with at least 'account', 'region', 'source' and 'stages'",
    )


def _load(path: Path, model_type: type[_Config], *, base_dir: Path, context: dict[str, Any], empty: str) -> _Config:
    """Read ``path`` as YAML and validate it as ``model_type``, naming file and line of each problem."""
    shown = path.relative_to(base_dir) if path.is_relative_to(base_dir) else path

    def problem(text: str, line: int | None = None) -> ConfigError:
        return ConfigError([f"{shown}{f':{line}' if line else ''}: {text}"])

    if not path.is_file():
        raise problem("file not found")
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise problem(f"file is {len(raw)} bytes; at most {MAX_FILE_BYTES} allowed")
    try:
        text = raw.decode("utf-8")
        root = yaml.compose(text, Loader=_StrictLoader)
        if root is not None and _expanded_size(root, {}) > MAX_EXPANDED_NODES:
            raise problem(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes; refusing to load")
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError:
        raise problem("file is not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or str(error)
        raise problem(f"YAML syntax error: {reason}", mark.line + 1 if mark else None) from None
    if data is None:
        raise problem(f"file is empty; {empty}")
    if not isinstance(data, dict):
        raise problem(f"expected a mapping at the top level (environment:, models:, ...), got a {type(data).__name__}")

    try:
        return model_type.model_validate(data, context=context)
    except ValidationError as error:
        problems = []
        for item in meaningful_errors(error):
            location = tuple(item["loc"])
            line = _line_of(root, location)
            allowed = allowed_fields(model_type, location) if item["type"] == "extra_forbidden" else None
            problems.append(
                f"{shown}{f':{line}' if line else ''}: {format_location(location)}: "
                f"{describe_message(item, allowed)}{describe_value(item)}"
            )
        raise ConfigError(problems) from None


def environment_files(config_dir: Path) -> list[Path]:
    """The environment files of a config directory: every ``*.yaml`` but the pipeline's."""
    return sorted(path for path in config_dir.glob("*.yaml") if path.name != PIPELINE_FILE)


def load_environments(
    paths: Iterable[Path],
    *,
    base_dir: Path,
    pipeline: bool = False,
    model_packages: Mapping[str, Any] | None = None,
) -> list[EnvironmentConfig]:
    """Load every file, collecting the problems of all of them before raising."""
    configs, problems = [], []
    for path in paths:
        try:
            configs.append(load_environment(path, base_dir=base_dir, pipeline=pipeline, model_packages=model_packages))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return configs
