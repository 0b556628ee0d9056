"""The price refresh against GetProducts answers in the Price List API's shape (botocore Stubber:
every request is checked against the expected parameters and every answer against botocore's
pricing model, so a malformed fixture or request fails here before it could fail on AWS)."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from review_bundle import prices as refresh
from review_bundle.cost import DEFAULT_PRICES, BuildRecord, PriceTable, cost_report
from tests.conftest import REPO_ROOT

RECORDED = json.loads((Path(__file__).with_name("price_list") / "get_products.json").read_text())["responses"]
SHIPPED_WANTED = refresh.Wanted(regions=("eu-west-1", "us-east-1"), instance_types=("ml.g5.2xlarge", "ml.m5.large"))
SHIPPED_ANSWERS = [
    (region, instance_type, f"{region} {instance_type}")
    for region in SHIPPED_WANTED.regions
    for instance_type in SHIPPED_WANTED.instance_types
]


def stubbed(*answers: tuple[str, str, str]) -> tuple[object, Stubber]:
    """A pricing client answering each (region, instance type) query with the recorded pages ``key``."""
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    for region, instance_type, key in answers:
        request = {
            "ServiceCode": "AmazonSageMaker",
            "FormatVersion": "aws_v1",
            "Filters": refresh.filters(region, instance_type),
        }
        for page in RECORDED[key]:
            stubber.add_response("get_products", page, request)
            if "NextToken" in page:
                request = {**request, "NextToken": page["NextToken"]}
    stubber.activate()
    return client, stubber


def test_the_shipped_configs_ask_for_their_endpoint_instances_in_their_regions(model_artifact):
    wanted = refresh.wanted_from_configs(REPO_ROOT / "config", REPO_ROOT, "us-east-1")
    # dev pins no region (priced with the default), prod and staging deploy to eu-west-1; batch's
    # ml.m5.xlarge runs only during jobs, so the floor never prices it.
    assert wanted == SHIPPED_WANTED


def test_a_shared_endpoints_instance_type_is_priced_too(model_artifact, tmp_path):
    # The cost floor bills a shared endpoint of inference components at its minimum: its
    # instance type must be in the table even when no model's own endpoint uses it.
    dev = yaml.safe_load((REPO_ROOT / "config" / "dev.yaml").read_text())
    dev["shared_endpoint"]["instance_type"] = "ml.c5.xlarge"
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(dev))
    wanted = refresh.wanted_from_configs(tmp_path, REPO_ROOT, "us-east-1")
    assert "ml.c5.xlarge" in wanted.instance_types


def test_filters_are_term_matches_on_the_hosting_product():
    assert refresh.filters("eu-west-1", "ml.m5.large") == [
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
        {"Type": "TERM_MATCH", "Field": "component", "Value": "Hosting"},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "TERM_MATCH", "Field": "instanceName", "Value": "ml.m5.large"},
    ]


def test_refresh_rebuilds_the_table_from_every_page_and_records_how(model_artifact, tmp_path, capsys):
    output = tmp_path / "prices.yaml"
    shutil.copy(DEFAULT_PRICES, output)
    client, stubber = stubbed(*SHIPPED_ANSWERS)
    argv = ["refresh", "--config-dir", str(REPO_ROOT / "config"), "--base-dir", str(REPO_ROOT), "--output", str(output)]
    assert refresh.main(argv, client=client) == 0
    stubber.assert_no_pending_responses()  # both pages of us-east-1 were read
    table = PriceTable.load(output)
    # The Training product on the first page (0.134) is not the endpoint's price and is skipped.
    assert table.regions["us-east-1"].real_time_inference_per_instance_hour == {
        "ml.g5.2xlarge": 1.52,
        "ml.m5.large": 0.115,
    }
    assert table.regions["eu-west-1"].real_time_inference_per_instance_hour == {
        "ml.g5.2xlarge": 1.69,
        "ml.m5.large": 0.128,
    }
    assert table.regions["eu-west-1"].serverless_provisioned_concurrency_per_gb_second is None
    assert table.checked_against_source and table.source.startswith("AWS Price List Query API")
    assert table.built is not None and table.built.by == "python -m review_bundle.prices refresh"
    assert table.built.publication_dates == ["2026-11-20T18:05:12Z", "2026-11-21T09:14:03Z"]
    assert table.built.regions == ["eu-west-1", "us-east-1"]
    assert table.built.instance_types == ["ml.g5.2xlarge", "ml.m5.large"]
    assert table.as_of == table.built.at.date() == datetime.datetime.now(datetime.UTC).date()
    assert output.read_text().startswith("# Prices behind the cost floor")
    assert "4 prices for eu-west-1, us-east-1" in capsys.readouterr().out


def test_two_prices_for_one_instance_are_refused_naming_the_skus():
    client, _ = stubbed(("eu-west-1", "ml.m5.large", "eu-west-1 ml.m5.large ambiguous"))
    wanted = refresh.Wanted(regions=("eu-west-1",), instance_types=("ml.m5.large",))
    with pytest.raises(refresh.PriceRefreshError) as error:
        refresh.fetch_prices(client, wanted)
    assert error.value.problems == [
        "eu-west-1 ml.m5.large: 2 different hourly prices (EUW1M5LARGEHOST1=0.128, EUW1M5LARGEHOST2=0.141)"
    ]


def test_every_missing_price_is_reported_and_nothing_is_written(model_artifact, tmp_path, capsys):
    output = tmp_path / "prices.yaml"
    shutil.copy(DEFAULT_PRICES, output)
    before = output.read_text()
    client, _ = stubbed(*[(region, instance_type, "empty") for region, instance_type, _ in SHIPPED_ANSWERS])
    argv = ["refresh", "--config-dir", str(REPO_ROOT / "config"), "--base-dir", str(REPO_ROOT), "--output", str(output)]
    assert refresh.main(argv, client=client) == 1
    assert capsys.readouterr().err == "error: " + "".join(
        f"{region} {instance_type}: no on-demand Hosting price in the Price List API\n"
        for region, instance_type, _ in SHIPPED_ANSWERS
    )
    assert output.read_text() == before


def test_the_cost_report_says_how_the_table_was_built():
    hand_typed = PriceTable.load()
    built = hand_typed.model_copy(
        update={
            "built": BuildRecord(
                at=datetime.datetime(2026, 11, 30, 18, 0, tzinfo=datetime.UTC),
                by=refresh.COMMAND,
                **{"from": "pricing:GetProducts in us-east-1"},
                publication_dates=["2026-11-20T18:05:12Z"],
                regions=["us-east-1"],
                instance_types=["ml.m5.large"],
            )
        }
    )
    empty = _NoEnvironments()
    assert "typed in by hand, not built from AWS's Price List API" in cost_report(empty, hand_typed)
    assert (
        "The table was built at 2026-11-30T18:00:00+00:00 by `python -m review_bundle.prices refresh` from "
        "pricing:GetProducts in us-east-1 (price list published 2026-11-20T18:05:12Z), for ml.m5.large in us-east-1."
    ) in cost_report(empty, built)


def test_a_built_record_must_name_its_source(tmp_path):
    content = yaml.safe_load(DEFAULT_PRICES.read_text())
    content["built"] = {"at": "2026-11-30T18:00:00+00:00", "by": refresh.COMMAND, "regions": [], "instance_types": []}
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(ValueError, match=r"built\.from: Field required"):
        PriceTable.load(path)


class _NoEnvironments:
    """An assembly with no environment: the report is then its preamble only."""

    environments: ClassVar[list[str]] = []
