"""The one error type constructs raise for bad props, carrying every problem at once."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


class InvalidPropsError(ValueError):
    """Raised by a construct's constructor when its props are invalid.

    Every problem found is collected first, so a caller fixes them all in one pass
    instead of discovering them one synth at a time.
    """

    def __init__(self, construct_path: str, problems: Iterable[str]) -> None:
        self.construct_path = construct_path
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{construct_path}: invalid props ({len(self.problems)} problem(s)):\n{lines}")


def meaningful_errors(error: ValidationError) -> list[Any]:
    """pydantic's errors, minus a list's "too short" error caused only by an invalid item in it.

    pydantic counts the items that validated, so one bad subnet of two also reports "at least
    2 items, not 1"; the bad item is the problem to show.
    """
    items = error.errors(include_url=False)
    return [
        item
        for item in items
        if not (
            item["type"] == "too_short"
            and any(
                len(other["loc"]) > len(item["loc"]) and other["loc"][: len(item["loc"])] == item["loc"]
                for other in items
            )
        )
    ]


def describe_validation_error(error: ValidationError, model_type: type[BaseModel], prefix: str = "") -> list[str]:
    """Turn a pydantic error into one readable line per problem: path, message and value."""
    problems = []
    for item in meaningful_errors(error):
        allowed = allowed_fields(model_type, tuple(item["loc"])) if item["type"] == "extra_forbidden" else None
        problems.append(
            f"{format_location(item['loc'], prefix)}: {describe_message(item, allowed)}{describe_value(item)}"
        )
    return problems


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for argument in typing.get_args(annotation):
        found.extend(_model_types(argument))
    return found


def allowed_fields(model_type: type[BaseModel], location: tuple[str | int, ...]) -> list[str] | None:
    """The field names allowed where an unknown key was found at ``location``."""
    model = model_type
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = next((field for key, field in _keys(model).items() if key == part), None)
        candidates = _model_types(field.annotation) if field else []
        if not candidates:
            return None
        model = candidates[0]
    return list(_keys(model))


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key users write: the alias where there is one (``async``)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def describe_message(item: Mapping[str, Any], allowed_fields: list[str] | None = None) -> str:
    """A pydantic error message reworded for people: what is wrong and what is allowed."""
    kind, message = item["type"], str(item["msg"])
    if kind == "extra_forbidden":
        return "unknown field" + (f"; allowed fields: {', '.join(allowed_fields)}" if allowed_fields else "")
    if kind == "missing":
        return "required field is missing"
    return message.removeprefix("Value error, ")


def describe_value(item: Mapping[str, Any]) -> str:
    """`` (got <value>)`` for the offending value, shortened; empty for a missing field."""
    if item["type"] == "missing":
        return ""
    if item["type"] == "value_error" and isinstance(item.get("input"), (dict, list)):
        return ""  # a rule across several fields: the message quotes the values involved
    text = repr(item.get("input"))
    return f" (got {text if len(text) <= 80 else text[:77] + '...'})"


def format_location(location: tuple[str | int, ...], prefix: str = "") -> str:
    """Render a pydantic location as a field path such as ``models[0].realtime.instance_type``."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "<root>"


class ProblemCollector:
    """Collects validation problems for a construct and raises them together."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def attempt(self, check: Callable[[], object], field: str) -> None:
        """Run ``check``; record the ValueError it raises, if any, under ``field``."""
        try:
            check()
        except ValueError as error:
            self.problems.append(f"{field}: {error}")

    def validate(self, model_type: type[BaseModel], value: object, field: str) -> BaseModel | None:
        """Validate ``value`` as ``model_type``; record its problems under ``field``."""
        if isinstance(value, model_type):
            return value
        try:
            return model_type.model_validate(value)
        except ValidationError as error:
            self.problems.extend(describe_validation_error(error, model_type, prefix=field))
            return None

    def raise_if_any(self, construct_path: str) -> None:
        if self.problems:
            raise InvalidPropsError(construct_path, self.problems)


def check_props(scope: Any, id: str, checks: Mapping[str, Callable[[], object]]) -> None:
    """Run each check, keyed by the field it judges, and raise every problem together, naming the
    construct ``id`` about to be made in ``scope`` (its path is read only when there is a problem:
    reading it is a jsii round trip)."""
    problems = ProblemCollector()
    for field, check in checks.items():
        problems.attempt(check, field)
    if problems.problems:
        problems.raise_if_any(f"{scope.node.path}/{id}")
