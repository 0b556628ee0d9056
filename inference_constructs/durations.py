"""CDK ``Duration`` values, created once per value per process.

Each ``cdk.Duration.minutes(1)`` is a jsii round trip to Node.js. A ``Duration`` is an
immutable value that CDK only reads, so one object per length serves every construct that
asks for it (in every app of the process: they share one jsii kernel).
"""

from __future__ import annotations

import functools

import aws_cdk as cdk


@functools.cache
def seconds(amount: int) -> cdk.Duration:
    return cdk.Duration.seconds(amount)


@functools.cache
def minutes(amount: int) -> cdk.Duration:
    return cdk.Duration.minutes(amount)


@functools.cache
def hours(amount: int) -> cdk.Duration:
    return cdk.Duration.hours(amount)
