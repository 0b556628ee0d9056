"""A stack's partition, region, account and URL suffix, each read once per stack, and ARNs
formed from them in Python.

Every ``Stack.of(scope)``, ``stack.region`` or ``stack.format_arn(...)`` is a jsii round trip
to Node.js. A stack's pseudo values never change once it exists (a token for an
environment-agnostic stack, a literal otherwise), so they are read once and kept here for
every construct of the stack; an ARN is then the string ``Stack.formatArn`` would return
(``Arn.format`` joins ``arn:<partition>:<service>:<region>:<account>:<resource><sep><name>``,
aws-cdk-lib core/lib/arn.ts), which renders identically.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import aws_cdk as cdk
from constructs import Construct

T = TypeVar("T")


class StackValues:
    """The pseudo values of one stack, each read from jsii on first use only, and what the
    constructs of the stack share (:meth:`shared`)."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack
        self._shared: dict[str, Any] = {}

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """What ``make`` returned when a construct of this stack first asked for ``key``: one thing
        per stack for all its constructs (the stack's model artifact assets, say)."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]  # type: ignore[no-any-return]

    @functools.cached_property
    def partition(self) -> str:
        return self.stack.partition

    @functools.cached_property
    def region(self) -> str:
        return self.stack.region

    @functools.cached_property
    def account(self) -> str:
        return self.stack.account

    @functools.cached_property
    def url_suffix(self) -> str:
        return self.stack.url_suffix

    def arn(
        self,
        service: str,
        resource: str,
        resource_name: str | None = None,
        *,
        region: str | None = None,
        account: str | None = None,
        sep: str = "/",
    ) -> str:
        """What ``stack.format_arn(...)`` returns for these components (``sep=":"`` for
        ``ArnFormat.COLON_RESOURCE_NAME``; ``region``/``account`` default to the stack's)."""
        arn = (
            f"arn:{self.partition}:{service}:{self.region if region is None else region}:"
            f"{self.account if account is None else account}:{resource}"
        )
        return arn if resource_name is None else f"{arn}{sep}{resource_name}"


# Keyed by stack, and by the constructs already asked about (each maps to its stack's values).
_VALUES: weakref.WeakKeyDictionary[Construct, StackValues] = weakref.WeakKeyDictionary()


def stack_values(scope: Construct, *children: Construct) -> StackValues:
    """The values of ``scope``'s stack: no round trip when ``scope`` is a stack (a Python object)
    or was asked about before, one (``Stack.of``) otherwise.

    ``children``, constructs just created in ``scope`` that are not stacks themselves, are in the
    same stack: they are remembered, so asking for their values later costs nothing.
    """
    values = _VALUES.get(scope)
    if values is None:
        stack = scope if isinstance(scope, cdk.Stack) else cdk.Stack.of(scope)
        values = _VALUES.get(stack)
        if values is None:
            values = _VALUES[stack] = StackValues(stack)
        _VALUES[scope] = values
    for child in children:
        if isinstance(child, cdk.Stack):
            raise ValueError(f"{child}: a nested stack has values of its own, not its parent's")
        _VALUES[child] = values
    return values
