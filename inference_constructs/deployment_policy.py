"""``DeploymentPolicy``: how SageMaker moves traffic to a new endpoint config, and when it rolls back.

SageMaker's deployment guardrails: blue/green with all-at-once, canary or linear traffic
shifting, or a rolling update in batches; each watches CloudWatch alarms during its baking
periods and rolls back automatically when one fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import aws_sagemaker as sagemaker
from pydantic import Field, model_validator

from inference_constructs.settings import Settings

Strategy = Literal["all_at_once", "canary", "linear", "rolling"]

# Which optional fields belong to which strategy (anything else set is a mistake worth reporting).
_STRATEGY_FIELDS: dict[str, set[str]] = {
    "all_at_once": {"termination_wait_seconds"},
    "canary": {"canary_percent", "wait_interval_seconds", "termination_wait_seconds"},
    "linear": {"linear_step_percent", "wait_interval_seconds", "termination_wait_seconds"},
    "rolling": {"rolling_batch_percent", "rollback_batch_percent", "wait_interval_seconds"},
}
_REQUIRED: dict[str, set[str]] = {
    "canary": {"canary_percent"},
    "linear": {"linear_step_percent"},
    "rolling": {"rolling_batch_percent"},
}


class DeploymentPolicy(Settings):
    """How an endpoint update proceeds.

    - ``all_at_once``: blue/green; all traffic moves to the new fleet, which bakes for
      ``termination_wait_seconds`` before the old fleet is terminated.
    - ``canary``: ``canary_percent`` of capacity first, bake ``wait_interval_seconds``, then the rest.
    - ``linear``: ``linear_step_percent`` more at each step, baking ``wait_interval_seconds`` between steps.
    - ``rolling``: replace ``rolling_batch_percent`` of instances at a time (for large fleets: no
      second full fleet); rolls back ``rollback_batch_percent`` at a time.

    With ``auto_rollback`` the update rolls back when any of the endpoint's rollback alarms fires.
    """

    strategy: Strategy = Field(default="all_at_once", description="How an update shifts traffic (see above).")
    canary_percent: int | None = Field(
        default=None, ge=1, le=50, description="Capacity share that takes traffic first; required for canary."
    )
    linear_step_percent: int | None = Field(
        default=None, ge=1, le=50, description="Capacity share added at each step; required for linear."
    )
    rolling_batch_percent: int | None = Field(
        default=None, ge=5, le=50, description="Share of instances replaced per batch; required for rolling."
    )
    rollback_batch_percent: int | None = Field(
        default=None, ge=5, le=100, description="Share of instances rolled back per batch (rolling only)."
    )
    wait_interval_seconds: int = Field(default=300, ge=0, le=3600, description="Baking time between steps.")
    termination_wait_seconds: int = Field(
        default=300, ge=0, le=3600, description="Baking time before the old fleet is terminated (blue/green)."
    )
    maximum_execution_timeout_seconds: int = Field(
        default=3600, ge=600, le=14400, description="The whole update's time limit."
    )
    auto_rollback: bool = Field(default=True, description="Roll back when a rollback alarm fires.")

    @model_validator(mode="after")
    def _fields_match_strategy(self) -> DeploymentPolicy:
        optional = {"canary_percent", "linear_step_percent", "rolling_batch_percent", "rollback_batch_percent"}
        misplaced = sorted(
            name for name in optional & self.model_fields_set if name not in _STRATEGY_FIELDS[self.strategy]
        )
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} do not apply to strategy {self.strategy!r}")
        missing = sorted(name for name in _REQUIRED.get(self.strategy, set()) if getattr(self, name) is None)
        if missing:
            raise ValueError(f"strategy {self.strategy!r} needs {', '.join(missing)}")
        return self

    def to_cloudformation(self, rollback_alarm_names: list[str]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        rollback = (
            sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in rollback_alarm_names]
            )
            if self.auto_rollback and rollback_alarm_names
            else None
        )
        if self.strategy == "rolling":
            assert self.rolling_batch_percent is not None
            return sagemaker.CfnEndpoint.DeploymentConfigProperty(
                auto_rollback_configuration=rollback,
                rolling_update_policy=sagemaker.CfnEndpoint.RollingUpdatePolicyProperty(
                    maximum_batch_size=_percent(self.rolling_batch_percent),
                    wait_interval_in_seconds=self.wait_interval_seconds,
                    maximum_execution_timeout_in_seconds=self.maximum_execution_timeout_seconds,
                    rollback_maximum_batch_size=_percent(self.rollback_batch_percent)
                    if self.rollback_batch_percent
                    else None,
                ),
            )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            auto_rollback_configuration=rollback,
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=self._traffic_routing(),
                termination_wait_in_seconds=self.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=self.maximum_execution_timeout_seconds,
            ),
        )

    def _traffic_routing(self) -> sagemaker.CfnEndpoint.TrafficRoutingConfigProperty:
        if self.strategy == "canary":
            assert self.canary_percent is not None
            return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="CANARY",
                canary_size=_percent(self.canary_percent),
                wait_interval_in_seconds=self.wait_interval_seconds,
            )
        if self.strategy == "linear":
            assert self.linear_step_percent is not None
            return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="LINEAR",
                linear_step_size=_percent(self.linear_step_percent),
                wait_interval_in_seconds=self.wait_interval_seconds,
            )
        return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(type="ALL_AT_ONCE")


def check_policy_fits(policy: DeploymentPolicy, instance_types: Sequence[str], *, variants: int) -> None:
    """Raise ValueError where SageMaker would not apply ``policy`` to an endpoint with these
    instance types and this many variants. Source, the guardrails' exclusions
    (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html):
    Inf1 endpoints fall back to all-at-once with no baking, and rolling deployments do not
    support multi-variant endpoints."""
    if policy.strategy == "rolling" and variants > 1:
        raise ValueError(
            "deployment strategy 'rolling' is not supported on multi-variant (shadow or weighted) endpoints"
        )
    inf1 = sorted({t for t in instance_types if t.startswith("ml.inf1.")})
    if policy.strategy != "all_at_once" and inf1:
        raise ValueError(
            f"deployment strategy {policy.strategy!r} is not supported on Inf1 instances ({', '.join(inf1)}); "
            "use 'all_at_once'"
        )


def _percent(value: int) -> sagemaker.CfnEndpoint.CapacitySizeProperty:
    return sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=value)
