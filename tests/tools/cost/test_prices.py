"""The shipped prices, and make cost-prices against the Price List API's real answer shapes
(botocore's Stubber: no AWS call is made)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools.cost import prices
from tools.cost.prices import PriceError


def test_the_shipped_prices_have_a_date_a_source_and_every_price_the_model_uses():
    book = prices.load("eu-west-1")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", book.as_of)
    assert "make cost-prices REGION=eu-west-1" in book.source
    assert set(book.prices) == set(prices.USAGE_TYPES)
    for price in book.prices.values():
        assert re.fullmatch(r"(price-list|transcribed) \d{4}-\d{2}-\d{2}", price.source[:22]), price
        assert price.tiers[0].begin == 0
        assert all(tier.usd > 0 for tier in price.tiers), "a $0 tier is a free tier: free_per_month"
    # Spot checks against AWS's published figures for EU (Ireland).
    assert book["lambda.gb_second.arm64"].first_rate == 1.33334e-05
    assert book["apigateway.http.requests"].cost(1e6) == pytest.approx(1.11)
    assert book["dynamodb.write_request_units"].cost(1e6) == pytest.approx(0.705)


def test_a_region_without_prices_says_how_to_get_them():
    with pytest.raises(PriceError, match="make cost-prices REGION=ap-south-2"):
        prices.load("ap-south-2")


def _product(usage_type: str, *dimensions: tuple[str, str, str], unit: str = "Requests") -> str:
    """One PriceList entry as GetProducts returns it: a JSON document in a string."""
    return json.dumps(
        {
            "product": {
                "productFamily": "Serverless",
                "attributes": {"usagetype": usage_type, "regionCode": "eu-west-1"},
                "sku": "SKU" + usage_type,
            },
            "serviceCode": "AWSLambda",
            "terms": {
                "OnDemand": {
                    "SKU.TERM": {
                        "priceDimensions": {
                            f"SKU.TERM.{n}": {
                                "unit": unit,
                                "beginRange": begin,
                                "endRange": end,
                                "pricePerUnit": {"USD": usd},
                                "description": "test",
                            }
                            for n, (begin, end, usd) in enumerate(dimensions)
                        },
                        "sku": "SKU",
                        "effectiveDate": "2026-11-01T00:00:00Z",
                    }
                }
            },
            "version": "20261101",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def _refresh(
    answers: dict[str, list[str]], current: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """make cost-prices' refresh against the Price List API as the Stubber answers it: each
    service's products (none for a service not in `answers`), the requests checked."""
    pricing = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="b",  # noqa: S106 - never sent: the Stubber answers
    )
    services = dict.fromkeys(service for service, _usage in prices.USAGE_TYPES.values())
    with Stubber(pricing) as stub:
        for service in services:
            stub.add_response(
                "get_products",
                {"FormatVersion": "aws_v1", "PriceList": answers.get(service, [])},
                {
                    "ServiceCode": service,
                    "FormatVersion": "aws_v1",
                    "Filters": [
                        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"}
                    ],
                },
            )
        found = prices.refresh(pricing, "eu-west-1", current, say=lambda _line: None)
        stub.assert_no_pending_responses()
    return found


def test_a_refresh_takes_each_price_the_api_answers_and_keeps_and_names_the_rest():
    lambda_answer = [
        _product("EU-Request", ("0", "Inf", "0.0000002000")),
        _product("EU-Request-ARM", ("0", "Inf", "0.0000002000")),
        _product(
            "EU-Lambda-GB-Second-ARM",
            ("0", "7500000000", "0.0000133334"),
            ("7500000000", "18750000000", "0.0000120001"),
            ("18750000000", "Inf", "0.0000106667"),
            unit="Lambda-GB-Second",
        ),
        # another region's prefix must not match ours by accident
        _product("EU-Lambda-GB-Second-ARM-Extra", ("0", "Inf", "9.9")),
    ]
    current = {"prices": {"sqs.requests": {"unit": "Requests", "tiers": [[0, None, 4e-07]]}}}
    document, missing = _refresh({"AWSLambda": lambda_answer}, current)
    today = datetime.now(UTC).date().isoformat()
    assert document["as_of"] == today
    assert "AWS Price List API" in document["source"]
    arm = document["prices"]["lambda.gb_second.arm64"]
    assert arm["tiers"] == [
        [0.0, 7.5e9, 1.33334e-05],
        [7.5e9, 1.875e10, 1.20001e-05],
        [1.875e10, None, 1.06667e-05],
    ]
    assert (arm["unit"], arm["usage_type"], arm["source"]) == (
        "Lambda-GB-Second",
        "EU-Lambda-GB-Second-ARM",
        f"price-list {today}",
    )
    assert document["prices"]["sqs.requests"]["tiers"] == [[0, None, 4e-07]], "kept as it was"
    assert "sqs.requests (AWSQueueService usage type *Requests-Tier1)" in missing
    assert not any(line.startswith("lambda.gb_second.arm64") for line in missing)


def test_usage_types_match_with_or_without_a_region_prefix():
    assert prices._matches("EU-Request-ARM", "Request-ARM")
    assert prices._matches("Request-ARM", "Request-ARM")  # us-east-1 has no prefix
    assert prices._matches("USE2-Request-ARM", "Request-ARM")
    assert not prices._matches("EU-Request-ARM", "Request")
    assert not prices._matches("EU-Lambda-Request", "Request")


def test_a_free_tier_the_price_list_gives_as_a_zero_tier_is_off_unless_asked_for():
    # SQS's standard requests as the Price List tiers them: the first million at $0.
    sqs_answer = [
        _product(
            "EU-Requests-Tier1",
            ("0", "1000000", "0.0000000000"),
            ("1000000", "100000000000", "0.0000004000"),
            ("100000000000", "Inf", "0.0000003000"),
        )
    ]
    document, _missing = _refresh({"AWSQueueService": sqs_answer}, {"prices": {}})
    entry = document["prices"]["sqs.requests"]
    assert entry["free_per_month"] == 1e6
    assert entry["tiers"] == [[0.0, 1e11, 4e-07], [1e11, None, 3e-07]]
    sqs = prices._price("sqs.requests", entry)
    assert sqs.cost(3e6) == pytest.approx(1.20), "free tiers are off by default"
    assert sqs.cost(3e6, free_tier=True) == pytest.approx(0.80)
