"""The base class every settings (props) model in this package shares."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator


class Settings(BaseModel):
    """Immutable, closed props: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CapacityRange(Settings):
    """Settings with ``min_capacity`` and ``max_capacity`` (declared by the subclass, with its
    own ranges and defaults): the minimum may not exceed the maximum."""

    min_capacity: int
    max_capacity: int

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity ({self.min_capacity}) is above max_capacity ({self.max_capacity})")
        return self
