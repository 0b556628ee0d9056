"""The base class every settings (props) model in this package shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    """Immutable, closed props: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
