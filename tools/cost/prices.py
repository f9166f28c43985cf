"""Public on-demand prices of one region, shipped as tools/cost/data/prices-<region>.json, and
their refresh from the AWS Price List API.

    python -m tools.cost.prices --region eu-west-1          (make cost-prices REGION=eu-west-1)

The refresh asks the Price List API (pricing:GetProducts, served from us-east-1; any AWS
credentials may call it) for each price's product by its service code and usage type, and
writes the file with the API's figures and today's date. A price the API does not answer is
kept as it was, marked as not refreshed, and named on the terminal.

Each price says where it came from: "price-list <date>" (the Price List API's answer on that
date) or "transcribed <date>" (written down by hand from AWS's published prices, not fetched;
`make cost-prices` replaces it).

The Price List gives some free tiers as a first tier at $0 (SQS's first million requests,
DynamoDB's first 25 GB); the file keeps them apart, as free_per_month, so that a cost is
without free tiers unless FREE_TIER=1 asks for them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
PRICE_LIST_REGION = "us-east-1"  # where the Price List API answers, whatever region it prices

# Our price keys -> (service code, usage type without its region prefix). A usage type carries
# a prefix per region (EU- in eu-west-1, none in us-east-1), so products are matched on the
# rest of it.
USAGE_TYPES: dict[str, tuple[str, str]] = {
    "lambda.requests.x86_64": ("AWSLambda", "Request"),
    "lambda.requests.arm64": ("AWSLambda", "Request-ARM"),
    "lambda.gb_second.x86_64": ("AWSLambda", "Lambda-GB-Second"),
    "lambda.gb_second.arm64": ("AWSLambda", "Lambda-GB-Second-ARM"),
    "lambda.provisioned.gb_second.x86_64": ("AWSLambda", "Lambda-Provisioned-Concurrency"),
    "lambda.provisioned.gb_second.arm64": ("AWSLambda", "Lambda-Provisioned-Concurrency-ARM"),
    "lambda.provisioned_duration.gb_second.x86_64": ("AWSLambda", "Lambda-Provisioned-GB-Second"),
    "lambda.provisioned_duration.gb_second.arm64": (
        "AWSLambda",
        "Lambda-Provisioned-GB-Second-ARM",
    ),
    "lambda.snapstart.cache.gb_second": ("AWSLambda", "Lambda-SnapStart-Cache-GB-Second"),
    "apigateway.http.requests": ("AmazonApiGateway", "ApiGatewayHttpRequest"),
    "dynamodb.write_request_units": ("AmazonDynamoDB", "WriteRequestUnits"),
    "dynamodb.read_request_units": ("AmazonDynamoDB", "ReadRequestUnits"),
    "dynamodb.storage.gb_month": ("AmazonDynamoDB", "TimedStorage-ByteHrs"),
    "dynamodb.pitr.gb_month": ("AmazonDynamoDB", "TimedPITRStorage-ByteHrs"),
    "sqs.requests": ("AWSQueueService", "Requests-Tier1"),
    "events.custom_events": ("AWSEvents", "Event-64K-Chunks"),
    "events.archive.gb": ("AWSEvents", "ArchivedEvents-Bytes"),
    "logs.ingest.gb": ("AmazonCloudWatch", "DataProcessing-Bytes"),
    "logs.storage.gb_month": ("AmazonCloudWatch", "TimedStorage-ByteHrs"),
    "cloudwatch.metrics": ("AmazonCloudWatch", "CW:MetricMonitorUsage"),
    "cloudwatch.alarm_metrics": ("AmazonCloudWatch", "CW:AlarmMonitorUsage"),
    "cloudwatch.composite_alarms": ("AmazonCloudWatch", "CW:CompositeAlarmMonitorUsage"),
    "cloudwatch.dashboards": ("AmazonCloudWatch", "DashboardsUsageHour"),
    "xray.traces_recorded": ("AWSXRay", "XRay-TracesStored"),
    "ses.outbound_messages": ("AmazonSES", "Message"),
    "kms.keys": ("awskms", "KMS-Keys"),
    "kms.requests": ("awskms", "KMS-Requests"),
}


class PriceError(RuntimeError):
    """A price is missing or the file cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Tier:
    begin: float
    end: float | None  # None: no upper bound
    usd: float


@dataclass(frozen=True)
class Price:
    key: str
    unit: str
    tiers: tuple[Tier, ...]
    source: str
    free_per_month: float = 0.0

    def cost(self, quantity: float, free_tier: bool = False) -> float:
        """What `quantity` units cost in a month, through the tiers (the free allowance first)."""
        billable = max(0.0, quantity - (self.free_per_month if free_tier else 0.0))
        total = 0.0
        for tier in self.tiers:
            if billable <= tier.begin:
                break
            top = billable if tier.end is None else min(billable, tier.end)
            total += (top - tier.begin) * tier.usd
        return total

    @property
    def first_rate(self) -> float:
        return self.tiers[0].usd


@dataclass(frozen=True)
class PriceBook:
    region: str
    as_of: str
    source: str
    prices: dict[str, Price]

    def __getitem__(self, key: str) -> Price:
        if key not in self.prices:
            raise PriceError(
                f"no price {key!r} for {self.region} in {prices_file(self.region)}: "
                f"run `make cost-prices REGION={self.region}`"
            )
        return self.prices[key]

    def provenance(self) -> dict[str, int]:
        """How many prices came from where: price-list, transcribed."""
        counts: dict[str, int] = {}
        for price in self.prices.values():
            kind = price.source.split()[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts


def prices_file(region: str) -> Path:
    return DATA_DIR / f"prices-{region}.json"


def load(region: str) -> PriceBook:
    path = prices_file(region)
    if not path.exists():
        known = ", ".join(
            sorted(p.stem.removeprefix("prices-") for p in DATA_DIR.glob("prices-*.json"))
        )
        raise PriceError(
            f"no prices for {region} (shipped: {known}): `make cost-prices REGION={region}` "
            "fetches them from the AWS Price List API"
        )
    document = json.loads(path.read_text())
    return PriceBook(
        region=document["region"],
        as_of=document["as_of"],
        source=document["source"],
        prices={key: _price(key, entry) for key, entry in document["prices"].items()},
    )


def _price(key: str, entry: Mapping[str, Any]) -> Price:
    return Price(
        key=key,
        unit=entry["unit"],
        tiers=tuple(Tier(t[0], t[1], t[2]) for t in entry["tiers"]),
        source=entry["source"],
        free_per_month=float(entry.get("free_per_month", 0)),
    )


# --- refresh from the Price List API -------------------------------------------------------


def _products(pricing: Any, service: str, region: str) -> Iterator[dict[str, Any]]:
    paginator = pricing.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=service,
        FormatVersion="aws_v1",
        Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
    )
    for page in pages:
        for text in page.get("PriceList", []):
            yield json.loads(text)


def tiers_of(product: Mapping[str, Any]) -> list[list[float | None]]:
    """The on-demand price dimensions of one Price List product, as [begin, end, usd] tiers."""
    tiers = []
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            end = dimension.get("endRange", "Inf")
            tiers.append(
                [
                    float(dimension.get("beginRange", 0)),
                    None if end in ("Inf", None) else float(end),
                    float(dimension["pricePerUnit"]["USD"]),
                ]
            )
    return sorted(tiers, key=lambda tier: tier[0])


def split_free_tier(tiers: list[list[float | None]]) -> tuple[list[list[float | None]], float]:
    """A first tier at $0 is a free allowance: (the paid tiers, the first one starting at 0
    as without the allowance, and the allowance)."""
    if len(tiers) < 2 or tiers[0][2] != 0 or tiers[0][1] is None:
        return tiers, 0.0
    free = float(tiers[0][1])
    paid = [list(tier) for tier in tiers[1:]]
    paid[0][0] = 0.0
    return paid, free


def _matches(usage_type: str, wanted: str) -> bool:
    return re.fullmatch(rf"(?:[A-Z0-9]+-)?{re.escape(wanted)}", usage_type) is not None


def refresh(
    pricing: Any, region: str, current: Mapping[str, Any], say: Callable[[str], None] = print
) -> tuple[dict, list[str]]:
    """The price file's document with every price the API answers replaced; and the keys it
    did not answer (kept as they were)."""
    today = datetime.now(UTC).date().isoformat()
    prices = {key: dict(entry) for key, entry in current.get("prices", {}).items()}
    missing = []
    by_service: dict[str, list[dict[str, Any]]] = {}
    for key, (service, usage) in USAGE_TYPES.items():
        if service not in by_service:
            say(f"  {service} ...")
            by_service[service] = list(_products(pricing, service, region))
            say(f"  {service}: {len(by_service[service])} products in {region}")
        found = [
            p
            for p in by_service[service]
            if _matches(p.get("product", {}).get("attributes", {}).get("usagetype", ""), usage)
        ]
        # the product with a price (a region may also list a $0 product of the same usage)
        priced = next((p for p in found if any(rate for _b, _e, rate in tiers_of(p))), None)
        if priced is None:
            missing.append(f"{key} ({service} usage type *{usage})")
            continue
        tiers, free = split_free_tier(tiers_of(priced))
        # an allowance the Price List does not give as a $0 tier (Lambda's) is kept as it was
        allowance = {"free_per_month": free} if free else {}
        prices[key] = {
            **prices.get(key, {}),
            **allowance,
            "unit": next(
                d["unit"]
                for term in priced["terms"]["OnDemand"].values()
                for d in term["priceDimensions"].values()
            ),
            "tiers": tiers,
            "usage_type": priced["product"]["attributes"]["usagetype"],
            "source": f"price-list {today}",
        }
    document = {
        **current,
        "region": region,
        "as_of": today,
        "source": (
            "AWS Price List API (pricing:GetProducts, on-demand terms) via "
            f"`make cost-prices REGION={region}` on {today}; a price it did not answer is "
            "kept as it was, with its own source"
        ),
        "prices": dict(sorted(prices.items())),
    }
    return document, missing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.cost.prices",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--region", required=True, help="e.g. eu-west-1")
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    path = prices_file(args.region)
    current = json.loads(path.read_text()) if path.exists() else {"prices": {}}
    print(f"==> asking the AWS Price List API for {len(USAGE_TYPES)} prices in {args.region}")
    try:
        pricing = boto3.client("pricing", region_name=PRICE_LIST_REGION)
        document, missing = refresh(pricing, args.region, current)
    except NoCredentialsError:
        print(
            "cost-prices: the Price List API needs AWS credentials (any account, no special "
            "permission beyond pricing:GetProducts): set AWS_PROFILE and try again",
            file=sys.stderr,
        )
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"cost-prices: the Price List API refused: {error}", file=sys.stderr)
        return 1
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(DATA_DIR.parents[2])}")
    for line in missing:
        print(f"  not in the price list, kept as it was: {line}")
    return 0 if len(missing) < len(USAGE_TYPES) else 1


if __name__ == "__main__":
    raise SystemExit(main())
