"""Physical names that must stay stable across deployments.

Only endpoints get a fixed name: callers invoke them by name, and CloudFormation updates
an endpoint in place. Models and endpoint configs are replaced on every change, so their
names are left to CloudFormation.
"""

from __future__ import annotations

import re

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_ENDPOINT_NAME_LENGTH = 63


def endpoint_name(environment: str, model: str, mode: str) -> str:
    """The endpoint name for one model served in one mode, e.g. ``prod-iris-realtime``."""
    return f"{environment}-{model}-{mode}"


def check_endpoint_name(name: str) -> str:
    if not ENDPOINT_NAME.fullmatch(name):
        raise ValueError(
            f"endpoint name {name!r} must be 1-{MAX_ENDPOINT_NAME_LENGTH} letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )
    return name
