"""``cost.md``: the always-on cost of each environment's minimum capacity.

The floor is what an environment costs when nobody sends a single request: instances that
stay up (real-time minimum capacity, async endpoints that cannot scale to zero) and
provisioned serverless concurrency. Async endpoints at minimum 0, serverless without
provisioned concurrency and batch transform cost nothing while idle.
Prices come from the dated, checked-in ``prices.yaml``; nothing is fetched.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from review_bundle.assembly import Assembly
from review_bundle.modes import ASYNC, BATCH, COMPONENT, REALTIME, SERVERLESS, ModelDeployment, Variant, deployments
from review_bundle.template import table

DEFAULT_PRICES = Path(__file__).with_name("prices.yaml")
SECONDS_PER_HOUR = 3600


class RegionPrices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    real_time_inference_per_instance_hour: dict[str, float] = Field(default_factory=dict)
    serverless_provisioned_concurrency_per_gb_second: float | None = None


class BuildRecord(BaseModel):
    """How ``prices.yaml`` was built when ``python -m review_bundle.prices refresh`` wrote it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    at: datetime.datetime
    by: str
    from_: str = Field(alias="from")
    publication_dates: list[str] = Field(default_factory=list)
    regions: list[str]
    instance_types: list[str]


class PriceTable(BaseModel):
    """The schema of ``prices.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: datetime.date
    checked_against_source: bool
    source: str = Field(min_length=10)
    built: BuildRecord | None = None  # None: typed in by hand
    currency: str
    hours_per_month: float = Field(gt=0, le=744)
    default_region: str
    regions: dict[str, RegionPrices] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_PRICES) -> PriceTable:
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors(include_url=False)
            )
            raise ValueError(f"{path}: invalid price table: {problems}") from None

    def region_prices(self, region: str | None) -> tuple[str, RegionPrices, bool]:
        """The prices for ``region``: (region priced, prices, True when it is the region itself)."""
        if region is not None and region in self.regions:
            return region, self.regions[region], True
        return self.default_region, self.regions[self.default_region], False


@dataclass(frozen=True)
class Line:
    """One always-on (or idle-free) item of an environment."""

    model: str
    mode: str
    item: str  # endpoint or state machine name, with the variant
    capacity: str  # what stays up when idle, in words
    unit_price: str
    monthly: float | None  # None: not priced (see note)
    note: str


@dataclass
class CostFloor:
    environment: str
    region: str | None  # None: the region of the deploying credentials
    priced_region: str
    region_exact: bool
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.monthly or 0.0 for line in self.lines)

    @property
    def complete(self) -> bool:
        return all(line.monthly is not None for line in self.lines)


def cost_floor(assembly: Assembly, environment: str, prices: PriceTable) -> CostFloor:
    stacks = assembly.stacks_of(environment)
    region = next((stack.region for stack in stacks if stack.region), None)
    priced_region, table_prices, exact = prices.region_prices(region)
    floor = CostFloor(environment, region, priced_region, exact)
    instance_prices = table_prices.real_time_inference_per_instance_hour
    environment_deployments = deployments(assembly, environment)
    for deployment in environment_deployments:
        for endpoint in deployment.endpoints:
            for variant in endpoint.variants:
                item = endpoint.name if len(endpoint.variants) == 1 else f"{endpoint.name} / {variant.name}"
                if variant.instance_type is not None:
                    count = variant.min_instances
                    price = instance_prices.get(variant.instance_type)
                    kept_by = _components_keeping_a_copy(environment_deployments, endpoint.name)
                    if count == 0 and endpoint.mode == COMPONENT and kept_by:
                        # Managed instance scaling reaches zero only when every component has no
                        # copy: one that keeps a copy keeps (at least) an instance up.
                        count = 1
                    if count == 0:
                        note = (
                            "scales to zero when idle"
                            if endpoint.mode in (ASYNC, COMPONENT)
                            else "no instance when idle"
                        )
                        monthly: float | None = 0.0
                    elif count is None:
                        note, monthly = "minimum capacity is not a literal in the template", None
                    elif price is None:
                        note, monthly = f"no price for {variant.instance_type} in prices.yaml", None
                    else:
                        note = f"{count} x {price:g} x {prices.hours_per_month:g} h"
                        monthly = count * price * prices.hours_per_month
                        if endpoint.mode == COMPONENT and kept_by and variant.min_instances == 0:
                            note += f"; the endpoint's minimum is 0, but {', '.join(kept_by)} keep at least one copy"
                    floor.lines.append(
                        Line(
                            model=deployment.name,
                            mode=endpoint.mode,
                            item=item,
                            capacity=f"{_count(count)} x {variant.instance_type}",
                            unit_price=f"{price:g}/instance-hour" if price is not None else "-",
                            monthly=monthly,
                            note=note,
                        )
                    )
                if variant.serverless is not None:
                    floor.lines.append(_serverless_line(deployment.name, item, variant, table_prices, prices))
        for batch in deployment.batches:
            size = f"{_count(batch.instance_count)} x {batch.instance_type or '?'} per job"
            floor.lines.append(
                Line(
                    model=deployment.name,
                    mode=BATCH,
                    item=batch.name,
                    capacity=f"nothing between jobs ({size})",
                    unit_price="-",
                    monthly=0.0,
                    note="billed per second only while a transform job runs",
                )
            )
    return floor


def _components_keeping_a_copy(environment_deployments: list[ModelDeployment], endpoint_name: str) -> list[str]:
    """The components on ``endpoint_name`` whose fewest copies is not 0 (or not a literal)."""
    return sorted(
        component.name
        for deployment in environment_deployments
        for component in deployment.components
        if component.endpoint_name == endpoint_name and component.min_copies != 0
    )


def _serverless_line(model: str, item: str, variant: Variant, table_prices: RegionPrices, prices: PriceTable) -> Line:
    concurrency = variant.min_provisioned_concurrency
    memory_mb = variant.memory_mb
    if concurrency == 0:
        return Line(
            model, SERVERLESS, item, "nothing (no provisioned concurrency)", "-", 0.0, "billed per request only"
        )
    if memory_mb is None:
        return Line(model, SERVERLESS, item, f"{concurrency} warm", "-", None, "memory size is not a literal")
    gb_seconds = concurrency * memory_mb / 1024 * prices.hours_per_month * SECONDS_PER_HOUR
    price = table_prices.serverless_provisioned_concurrency_per_gb_second
    capacity = f"{concurrency} x {memory_mb} MB kept warm = {gb_seconds:,.0f} GB-s/month"
    if price is None:
        return Line(
            model,
            SERVERLESS,
            item,
            capacity,
            "-",
            None,
            "provisioned concurrency is billed per GB-second; no such price in prices.yaml, so not included",
        )
    return Line(
        model, SERVERLESS, item, capacity, f"{price:g}/GB-s", gb_seconds * price, f"{gb_seconds:,.0f} x {price:g}"
    )


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def cost_report(assembly: Assembly, prices: PriceTable) -> str:
    checked = (
        "" if prices.checked_against_source else " (not re-checked against the source since; verify before budgeting)"
    )
    lines = [
        "# Cost floor",
        "",
        "What each environment costs per month **when it receives no traffic at all**: the capacity "
        "that stays up whatever happens. Real-time endpoints keep their minimum number of instances "
        "running; asynchronous endpoints whose minimum is 0 scale to zero, and so do shared endpoints of "
        "inference components whose managed instance scaling minimum is 0 (the floor counts that minimum); "
        "serverless endpoints cost "
        "nothing idle unless concurrency is provisioned (kept warm); batch transform runs instances "
        "only while a job runs. Traffic adds to this floor (more instances, serverless requests, "
        "batch jobs), as do storage, requests, data transfer, KMS keys and logs, which are not included.",
        "",
        f"Prices: {prices.source}, as of {prices.as_of}{checked}, in {prices.currency}, on-demand, "
        f"{prices.hours_per_month:g} hours per month. The table is `review_bundle/prices.yaml`.",
        "",
        _provenance(prices),
        "",
        table(
            ["Environment", "Always-on cost per month", "Priced with"],
            [_overview(cost_floor(assembly, name, prices), prices.currency) for name in assembly.environments],
        ),
        "",
    ]
    for environment in assembly.environments:
        floor = cost_floor(assembly, environment, prices)
        lines += [f"## {environment}", ""]
        if floor.region is None:
            lines += [
                "This environment deploys to the region of the credentials used to deploy it, so it is "
                f"priced with the table's default region, {floor.priced_region}.",
                "",
            ]
        elif not floor.region_exact:
            lines += [
                f"The price table has no prices for {floor.region}, where this environment deploys, so "
                f"{floor.priced_region} prices are used: the figure is an estimate. Add a {floor.region} block "
                "to `review_bundle/prices.yaml` for exact figures.",
                "",
            ]
        lines += [
            table(
                ["Model", "Mode", "Endpoint or job", "Up when idle", "Unit price", "Per month", "How"],
                [
                    (
                        line.model,
                        line.mode,
                        line.item,
                        line.capacity,
                        line.unit_price,
                        _money(line.monthly, prices.currency),
                        line.note,
                    )
                    for line in floor.lines
                ],
            ),
            "",
            f"**Floor for {environment}: {_money(floor.total, prices.currency)} per month**"
            + ("" if floor.complete else " plus the unpriced items above")
            + ".",
            "",
        ]
        idle_free = [line for line in floor.lines if line.mode in (ASYNC, SERVERLESS, BATCH) and line.monthly == 0]
        if idle_free:
            lines += [
                "Costs nothing while idle: " + ", ".join(f"{line.item} ({line.mode})" for line in idle_free) + ".",
                "",
            ]
        realtime = [line for line in floor.lines if line.mode == REALTIME]
        if not realtime and floor.total == 0:
            lines += ["Nothing runs in this environment while it is idle.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _provenance(prices: PriceTable) -> str:
    """When and from what the table was built, or that it was typed in by hand."""
    built = prices.built
    if built is None:
        return (
            "The table was typed in by hand, not built from AWS's Price List API: run "
            "`python -m review_bundle.prices refresh` with AWS credentials to rebuild it."
        )
    published = f" (price list published {', '.join(built.publication_dates)})" if built.publication_dates else ""
    return (
        f"The table was built at {built.at.isoformat()} by `{built.by}` from {built.from_}{published}, "
        f"for {', '.join(built.instance_types)} in {', '.join(built.regions)}."
    )


def _overview(floor: CostFloor, currency: str) -> tuple[str, str, str]:
    total = _money(floor.total, currency) + ("" if floor.complete else " + unpriced items")
    if floor.region is None:
        where = f"{floor.priced_region} (region not pinned)"
    else:
        where = floor.priced_region + ("" if floor.region_exact else f" (estimate for {floor.region})")
    return (floor.environment, total, where)


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "not priced"
    return f"{value:,.2f} {currency}"
