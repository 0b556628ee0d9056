"""``python -m review_bundle.prices refresh``: rebuild ``prices.yaml`` from the AWS Price List API.

The review bundle never fetches prices (it must work offline); this command, run by a person
with AWS credentials, rebuilds the table it reads. It asks the Price List Query API
(``pricing:GetProducts``, https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html)
for the on-demand hourly price of every instance type a real-time or asynchronous endpoint of
``config/*.yaml`` uses, in every region an environment deploys to (and the table's default
region, for environments that pin none). What it cannot find is an error, never a guess.

The answer's shape is AWS's: ``PriceList`` is a list of JSON *strings* (botocore's pricing model
types them ``SynthesizedJsonPriceListJsonItem``), each one product of the service's offer file:
``product.attributes`` (``instanceName``, ``regionCode``, ``component``...) and
``terms.OnDemand.<sku.offerTerm>.priceDimensions.<rate>.pricePerUnit.USD`` per ``unit`` (``Hrs``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from review_bundle.cost import DEFAULT_PRICES, PriceTable

SERVICE_CODE = "AmazonSageMaker"
# The Price List Query API answers in a few regions only; us-east-1 is one of them.
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html
PRICING_API_REGION = "us-east-1"
# Real-time (and asynchronous) inference instances: the "ML Instance" products of the "Hosting"
# component. Training, processing, notebooks and batch transform are other components.
PRODUCT_FAMILY = "ML Instance"
COMPONENT = "Hosting"
HOURLY_UNIT = "Hrs"
CURRENCY = "USD"
COMMAND = "python -m review_bundle.prices refresh"
# Modes whose instances run for as long as the endpoint exists: what the cost floor prices.
ENDPOINT_MODES = ("realtime", "async")


class PricingClient(Protocol):
    """The part of boto3's ``pricing`` client this command uses."""

    def get_paginator(self, operation_name: str) -> Any: ...


class PriceRefreshError(Exception):
    """Every price that could not be found or was ambiguous, raised together."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Wanted:
    """What to price: regions and instance types, each with where the configs ask for it."""

    regions: tuple[str, ...]
    instance_types: tuple[str, ...]


@dataclass(frozen=True)
class Price:
    region: str
    instance_type: str
    usd_per_hour: float
    sku: str
    publication_date: str


def wanted_from_configs(config_dir: Path, base_dir: Path, default_region: str) -> Wanted:
    """The regions and endpoint instance types of the environments in ``config_dir``."""
    # Imported here: the config schema loads the CDK, which the bundle itself never needs.
    from inference_config.loader import environment_files, load_environments

    configs = load_environments(environment_files(config_dir), base_dir=base_dir)
    regions = {default_region} | {config.region for config in configs if config.region is not None}
    instance_types = {
        instance_type
        for config in configs
        for model in config.models
        for field, instance_type in model.instance_types()
        if field.split(".")[0] in ENDPOINT_MODES
    } | {config.shared_endpoint.instance_type for config in configs if config.shared_endpoint is not None}
    return Wanted(tuple(sorted(regions)), tuple(sorted(instance_types)))


def filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """GetProducts filters for one instance type in one region (``TERM_MATCH`` is the only type)."""
    terms = {
        "productFamily": PRODUCT_FAMILY,
        "component": COMPONENT,
        "regionCode": region,
        "instanceName": instance_type,
    }
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def fetch_prices(client: PricingClient, wanted: Wanted) -> list[Price]:
    """One GetProducts query (all its pages) per region and instance type; exactly one hourly
    on-demand USD price must come back for each, or the problem is reported."""
    prices, problems = [], []
    for region in wanted.regions:
        for instance_type in wanted.instance_types:
            pages = client.get_paginator("get_products").paginate(
                ServiceCode=SERVICE_CODE, FormatVersion="aws_v1", Filters=filters(region, instance_type)
            )
            found = [
                price
                for page in pages
                for item in page["PriceList"]
                for price in parse_product(json.loads(item) if isinstance(item, str) else item)
                if price.region == region and price.instance_type == instance_type
            ]
            distinct = {price.usd_per_hour for price in found}
            if not found:
                problems.append(f"{region} {instance_type}: no on-demand {COMPONENT} price in the Price List API")
            elif len(distinct) > 1:
                skus = ", ".join(f"{price.sku}={price.usd_per_hour:g}" for price in found)
                problems.append(f"{region} {instance_type}: {len(distinct)} different hourly prices ({skus})")
            else:
                prices.append(found[0])
    if problems:
        raise PriceRefreshError(problems)
    return prices


def parse_product(product: Mapping[str, Any]) -> list[Price]:
    """The hourly on-demand USD prices of one Price List product (empty for any other product)."""
    details = product.get("product", {})
    attributes = details.get("attributes", {})
    if (
        product.get("serviceCode") != SERVICE_CODE
        or details.get("productFamily") != PRODUCT_FAMILY
        or attributes.get("component") != COMPONENT
    ):
        return []
    found = []
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            amount = dimension.get("pricePerUnit", {}).get(CURRENCY)
            if dimension.get("unit") != HOURLY_UNIT or amount is None:
                continue
            found.append(
                Price(
                    region=attributes["regionCode"],
                    instance_type=attributes["instanceName"],
                    usd_per_hour=float(amount),
                    sku=details.get("sku", term.get("sku", "?")),
                    publication_date=product.get("publicationDate", ""),
                )
            )
    return found


def build_table(
    prices: Iterable[Price], previous: PriceTable, built_at: datetime.datetime, wanted: Wanted
) -> dict[str, Any]:
    """The new ``prices.yaml`` content. Prices the API does not give (serverless provisioned
    concurrency per GB-second) are carried over from the previous table, as they were."""
    regions: dict[str, dict[str, Any]] = {}
    publication_dates = set()
    for price in sorted(prices, key=lambda price: (price.region, price.instance_type)):
        block = regions.setdefault(price.region, {"real_time_inference_per_instance_hour": {}})
        block["real_time_inference_per_instance_hour"][price.instance_type] = price.usd_per_hour
        publication_dates.add(price.publication_date)
    for region, block in regions.items():
        kept = previous.regions.get(region)
        block["serverless_provisioned_concurrency_per_gb_second"] = (
            kept.serverless_provisioned_concurrency_per_gb_second if kept else None
        )
    return {
        "as_of": built_at.date().isoformat(),
        "checked_against_source": True,
        "source": f"AWS Price List Query API (pricing:GetProducts, service code {SERVICE_CODE}, "
        f"{PRODUCT_FAMILY} / {COMPONENT}, on-demand, per {HOURLY_UNIT})",
        "built": {
            "at": built_at.isoformat(timespec="seconds"),
            "by": COMMAND,
            "from": f"pricing:GetProducts in {PRICING_API_REGION}",
            "publication_dates": sorted(date for date in publication_dates if date),
            "regions": list(wanted.regions),
            "instance_types": list(wanted.instance_types),
        },
        "currency": CURRENCY,
        "hours_per_month": previous.hours_per_month,
        "default_region": previous.default_region,
        "regions": regions,
    }


HEADER = """\
# Prices behind the cost floor in the review bundle (review/cost.md).
#
# Built by `{command}` from the AWS Price List Query API: do not edit by hand, run the
# command again (README, "Refreshing the price table"). Serverless provisioned concurrency is
# carried over from the previous table (null: unpriced). The bundle never fetches prices.
"""


def write_table(content: dict[str, Any], path: Path) -> PriceTable:
    """Write ``content`` to ``path`` after validating it as the bundle will read it."""
    table = PriceTable.model_validate(content)
    path.write_text(HEADER.format(command=COMMAND) + yaml.safe_dump(content, sort_keys=False))
    return table


def main(argv: list[str] | None = None, client: PricingClient | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review_bundle.prices", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="rebuild the price table from the AWS Price List API")
    refresh.add_argument("--config-dir", type=Path, default=Path("config"), help="the environments' configs")
    refresh.add_argument("--base-dir", type=Path, default=Path("."), help="the repository root")
    refresh.add_argument("--output", type=Path, default=DEFAULT_PRICES, help="the price table to rewrite")
    args = parser.parse_args(argv)
    previous = PriceTable.load(args.output)
    from inference_config.loader import ConfigError

    try:
        wanted = wanted_from_configs(args.config_dir, args.base_dir, previous.default_region)
        if client is None:
            import boto3

            client = boto3.client("pricing", region_name=PRICING_API_REGION)
        prices = fetch_prices(client, wanted)
    except (ConfigError, PriceRefreshError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    now = datetime.datetime.now(datetime.UTC)
    write_table(build_table(prices, previous, now, wanted), args.output)
    print(f"{args.output}: {len(prices)} prices for {', '.join(wanted.regions)} as of {now.date()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
