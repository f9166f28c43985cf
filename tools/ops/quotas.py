"""The AWS quotas a capacity plan meets: a new account's documented defaults from quotas.json
(dated, each with its source), replaced by the account's own values where an API reads them
and credentials for the environment's account are at hand (as its deploy role):

    Lambda concurrency      lambda GetAccountSettings (new accounts start below the default)
    API Gateway throttle    Service Quotas apigateway L-8A5B8E43
    EventBridge PutEvents   Service Quotas events L-9B653E91
    SES send rate, 24 h     sesv2 GetAccount (SES v2's GetSendQuota, with the sandbox state)
    table and index         dynamodb DescribeTable WarmThroughput (what they serve at once)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

QUOTAS_FILE = Path(__file__).with_name("quotas.json")


@dataclass(frozen=True)
class Quota:
    name: str
    value: float
    unit: str
    source: str  # where the figure comes from: a documentation page, or the API that read it
    live: bool = False  # read from the account

    @property
    def label(self) -> str:
        return f"{self.name} ({'this account' if self.live else 'AWS default'})"


@dataclass
class Quotas:
    as_of: str
    values: dict[str, Quota]
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    def __getitem__(self, key: str) -> Quota:
        return self.values[key]

    def set_live(self, key: str, value: float, source: str) -> None:
        self.values[key] = replace(self.values[key], value=float(value), source=source, live=True)


def defaults(region: str, path: Path = QUOTAS_FILE) -> Quotas:
    document = json.loads(path.read_text())
    values = {}
    for key, entry in document["quotas"].items():
        by_region = entry.get("by_region")
        value = by_region.get(region, by_region["other"]) if by_region else entry["value"]
        where = f" ({region})" if by_region else ""
        values[key] = Quota(entry["name"], float(value), entry["unit"], entry["source"] + where)
    # A new global secondary index starts where a new table does, on its own.
    values["dynamodb_index_wru"] = values["dynamodb_new_table_wru"]
    return Quotas(document["as_of"], values)


# Service Quotas codes read for the quotas that have one.
SERVICE_QUOTAS = {
    "apigateway_account_rps": ("apigateway", "L-8A5B8E43"),
    "eventbridge_putevents_tps": ("events", "L-9B653E91"),
}


def read_account(
    quotas: Quotas,
    client: Callable[[str], Any],
    table_name: str | None,
    index_name: str | None = None,
) -> Quotas:
    """Replace the defaults with what the account's APIs say; what cannot be read (no
    permission, an API the region lacks) keeps its default, with a note saying why."""

    def attempt(what: str, read: Callable[[], None]) -> None:
        try:
            read()
        except Exception as error:  # botocore ClientError, NoCredentialsError, ...
            quotas.notes.append(f"{what}: not read ({_short(error)}); the default applies")

    def lambda_settings() -> None:
        limit = client("lambda").get_account_settings()["AccountLimit"]
        quotas.set_live(
            "lambda_concurrency",
            limit["ConcurrentExecutions"],
            "lambda GetAccountSettings (this account)",
        )

    def service_quota(key: str, service: str, code: str) -> Callable[[], None]:
        def read() -> None:
            found = client("service-quotas").get_service_quota(ServiceCode=service, QuotaCode=code)[
                "Quota"
            ]
            quotas.set_live(key, found["Value"], f"Service Quotas {service} {code} (this account)")

        return read

    def ses_account() -> None:
        account = client("sesv2").get_account()
        send = account["SendQuota"]
        where = "sesv2 GetAccount (this account"
        where += ", in the sandbox)" if not account.get("ProductionAccessEnabled") else ")"
        quotas.set_live("ses_max_send_rate", send["MaxSendRate"], where)
        quotas.set_live("ses_max_24h_send", send["Max24HourSend"], where)

    def warm_throughput() -> None:
        table = client("dynamodb").describe_table(TableName=table_name)["Table"]
        warm = table.get("WarmThroughput") or {}
        if "WriteUnitsPerSecond" in warm:
            quotas.set_live(
                "dynamodb_new_table_wru",
                warm["WriteUnitsPerSecond"],
                f"dynamodb DescribeTable {table_name} WarmThroughput",
            )
        for index in table.get("GlobalSecondaryIndexes") or []:
            warm = index.get("WarmThroughput") or {}
            if index["IndexName"] == index_name and "WriteUnitsPerSecond" in warm:
                quotas.values["dynamodb_index_wru"] = Quota(
                    quotas["dynamodb_index_wru"].name,
                    float(warm["WriteUnitsPerSecond"]),
                    quotas["dynamodb_new_table_wru"].unit,
                    f"dynamodb DescribeTable {table_name} index {index_name} WarmThroughput",
                    live=True,
                )

    attempt("Lambda concurrency", lambda_settings)
    for key, (service, code) in SERVICE_QUOTAS.items():
        attempt(f"Service Quotas {service} {code}", service_quota(key, service, code))
    attempt("SES sending quota", ses_account)
    if table_name:
        attempt(f"warm throughput of {table_name}", warm_throughput)
    return quotas


def _short(error: Exception) -> str:
    response: Mapping[str, Any] = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return code or type(error).__name__
