"""make capacity: the arithmetic on a case worked by hand, every environment's real settings at
its load, the account's own quotas read through the real API shapes (botocore's Stubber), and
a load run's latencies in place of the estimates."""

from __future__ import annotations

import json
import math

import boto3
import pytest
from botocore.stub import Stubber

from tools.ops import capacity
from tools.ops.capacity import Workload
from tools.ops.quotas import defaults, read_account
from tools.ops.stack_settings import SettingsError, StackSettings, object_defaults, read

REGION = "eu-west-1"
NO_CALLS = {"function": "orders_api", "calls": {}}


def hand_figures() -> dict:
    """Round figures: every call 10 ms (a transaction 20), no overhead of the functions."""
    return {
        "order_lines": 2,
        "warm_overhead_ms": {"orders_api": 0, "order_processor": 0, "notifier": 0},
        "aws_call_ms": {
            "dynamodb": 10,
            "dynamodb:TransactWriteItems": 20,
            "sqs": 10,
            "events": 10,
            "sesv2": 10,
        },
        "per_request": {
            "POST /orders": {
                "function": "orders_api",
                "calls": {"dynamodb:PutItem": 1, "sqs:SendMessage": 1},
                "table_wru": 1,
                "index_wru": 1,
            },
            "POST /orders (retry)": NO_CALLS,
            "GET /orders/{order_id}": {
                "function": "orders_api",
                "calls": {"dynamodb:GetItem": 1},
                "table_rru": 1,
            },
            "GET /customers/{customer_id}/orders": NO_CALLS,
            "order": {
                "function": "order_processor",
                "calls": {"dynamodb:TransactWriteItems": 1, "events:PutEvents": 1},
                "table_wru": 6,
                "index_wru": 1,
            },
            "notification": {"function": "notifier", "calls": {"sesv2:SendEmail": 1}},
        },
    }


def hand_load() -> Workload:
    """100 req/s: 50 users/s, each one POST and one GET, one order of 2 lines over 10 SKUs;
    60 s of ramp to 50 users/s, 120 s held: 7,500 orders."""
    return Workload(
        rps=100,
        requests_per_vuser=2,
        per_vuser={"POST /orders": 1, "GET /orders/{order_id}": 1},
        orders_per_vuser=1,
        lines_per_order=2,
        skus=10,
        phases=[
            {"duration": 60, "arrivalRate": 0, "rampTo": 50},
            {"duration": 120, "arrivalRate": 50},
        ],
    )


def hand_settings(ses_send_rate: float, notifier_concurrency: int) -> StackSettings:
    return StackSettings(
        env="staging",
        region=REGION,
        values={
            "api_function": {
                "reserved_concurrency": -1,
                "provisioned_concurrency": 0,
                "memory_size": 1024,
            },
            "processor_function": {"maximum_concurrency": 2, "memory_size": 512},
            "notifier_function": {
                "memory_size": 256,
                "maximum_concurrency": notifier_concurrency,
                "batch_size": 10,
                "timeout": 30,
            },
            "api_throttling": {"rate_limit": 200, "burst_limit": 100},
            "ses_send_rate": ses_send_rate,
        },
        notifications_queue_retention_s=4 * 86400,
    )


def by_part(lines) -> dict[str, capacity.Line]:
    return {line.part: line for line in lines}


def test_the_arithmetic_of_a_case_worked_by_hand():
    lines, _ = capacity.plan(hand_settings(5, 5), hand_load(), hand_figures(), defaults(REGION))
    got = by_part(lines)
    # API: 50 POST/s x 20 ms + 50 GET/s x 10 ms = 1.5 in flight on average; +3 sd = 1.5 + 3√1.5
    assert got["orders_api concurrency"].load == pytest.approx(1.5 + 3 * math.sqrt(1.5))
    # a 60 s ramp: that peak grows by a sixth of itself every 10 s
    assert got["orders_api scaling during the ramp"].load == pytest.approx(
        (1.5 + 3 * math.sqrt(1.5)) / 6
    )
    # processor: 50 orders/s x 30 ms = 1.5 of its 2
    assert got["order_processor concurrency"].load == pytest.approx(1.5)
    assert got["order_processor concurrency"].used == pytest.approx(0.75)
    # and its queue's pollers: 5 + 300 a minute over one minute of ramp
    assert got["order_processor scaling during the ramp"].limit == 305
    # table: 50 x 1 + 50 x 6 write units, 50 read units worth a third each
    assert got["orders table: write units at once"].load == pytest.approx(350 + 50 / 3)
    assert got["index by-customer: write units at once"].load == pytest.approx(100)
    # 50 orders x 2 lines over 10 SKUs: 10 a second per SKU, 10 + 3√10 at the busiest, 2 units
    assert got["hottest stock item: write units"].load == pytest.approx(
        2 * (10 + 3 * math.sqrt(10))
    )
    assert got["hottest stock item: transactions at once"].load == pytest.approx(
        (10 + 3 * math.sqrt(10)) * 0.020
    )
    assert got["EventBridge PutEvents, account and region"].load == 50
    # 5 notifier environments at 1/s each: a batch of 10 takes 10 s
    assert got["notifier batch at its pace"].load == pytest.approx(10)
    # 7,500 mails at 5/s end 1,500 s after the start; the run lasted 180 s
    assert got["notifications queue: oldest message"].load == pytest.approx((1500 - 180) / 3600)
    first = capacity.bottleneck(lines)
    assert (first.part, first.load, first.limit) == ("SES sending rate", 5, 1)


def test_at_the_sandboxs_rate_with_two_notifiers_the_hand_case_passes_with_tight_lines():
    lines, d = capacity.plan(hand_settings(1, 2), hand_load(), hand_figures(), defaults(REGION))
    assert capacity.bottleneck(lines) is None
    got = by_part(lines)
    assert got["SES sending rate"].status == "tight"  # exactly the sandbox's 1/s
    assert got["notifier batch at its pace"].load == pytest.approx(20)  # 10 at 0.5/s
    assert got["notifications queue: oldest message"].load == pytest.approx((7500 - 180) / 3600)
    out, code = capacity.report(
        hand_settings(1, 2), hand_load(), lines, d, defaults(REGION), hand_figures()
    )
    assert code == 0
    assert out[-1].startswith("verdict: pass; tight")
    # the run: 7,500 users, 15,000 requests; API 7,500 x (20 + 10) ms at 1 GB = 225 GB-s,
    # processor 7,500 x 30 ms at 0.5 GB = 112.5; notifier 7,500 mails 2 s apart at 0.25 GB;
    # writes 7,500 x 2 (POST: table and index) + 7,500 x 7 (order); reads 7,500 GETs
    [uses] = [line for line in out if "the run uses" in line]
    assert "15,000 API requests" in uses
    assert "Lambda 338 GB-s for the API and the processor, 3,750 GB-s for the notifier" in uses
    assert "DynamoDB 67,500 write and 7,500 read request units" in uses


def test_the_first_bottleneck_is_named_with_what_to_change():
    settings = hand_settings(1, 2)
    settings.values["api_throttling"] = {"rate_limit": 80, "burst_limit": 40}
    settings.values["processor_function"] = {"maximum_concurrency": 1, "memory_size": 512}
    lines, d = capacity.plan(settings, hand_load(), hand_figures(), defaults(REGION))
    out, code = capacity.report(settings, hand_load(), lines, d, defaults(REGION), hand_figures())
    assert code == 1
    # the stage comes before the processor on a request's way
    assert "the first bottleneck is API stage throttling: 100 req/s against 80" in out[-1]
    assert "raise api_throttling.rate_limit in terraform/environments/staging/main.tf" in out[-1]
    assert by_part(lines)["order_processor concurrency"].status == "OVER"


def test_staging_holds_1000_requests_a_second_with_its_settings():
    lines, _ = capacity.plan(
        read("staging"),
        capacity.workload("staging", 1000),
        capacity.figures(),
        defaults("eu-west-1"),
    )
    assert capacity.bottleneck(lines) is None, [line for line in lines if line.status == "OVER"]
    got = by_part(lines)
    # the SES sandbox's 1 message a second, used whole by the notifier, and no more
    assert (got["SES sending rate"].load, got["SES sending rate"].limit) == (1, 1)
    assert got["notifications queue: oldest message"].used < 1


def test_dev_holds_what_its_stage_lets_through_and_not_more():
    settings, figures = read("dev"), capacity.figures()
    fits, _ = capacity.plan(settings, capacity.workload("staging", 40), figures, defaults(REGION))
    assert capacity.bottleneck(fits) is None
    over, _ = capacity.plan(settings, capacity.workload("staging", 60), figures, defaults(REGION))
    assert capacity.bottleneck(over).part == "API stage throttling"


def test_prod_sends_faster_than_a_new_account_may_until_the_account_says_otherwise():
    settings, figures = read("prod"), capacity.figures()
    load = capacity.workload("prod", 200)
    lines, _ = capacity.plan(settings, load, figures, defaults(REGION))
    assert capacity.bottleneck(lines).part == "SES sending rate"  # 14/s against the sandbox's 1
    granted = defaults(REGION)
    granted.set_live("ses_max_send_rate", 14, "sesv2 GetAccount (this account)")
    lines, _ = capacity.plan(settings, load, figures, granted)
    assert capacity.bottleneck(lines) is None


# --- the account's own quotas -------------------------------------------------------------------


def stubbed(answers: dict[str, list[tuple[str, dict]]]):
    """A client factory whose clients answer from `answers`: service -> [(method, response)],
    a response with "Error" being an error."""
    clients, stubs = {}, []
    for service, calls in answers.items():
        client = boto3.client(service, region_name=REGION)
        stub = Stubber(client)
        for method, response in calls:
            if "Error" in response:
                stub.add_client_error(method, service_error_code=response["Error"])
            else:
                stub.add_response(method, response)
        stub.activate()
        clients[service], stubs = client, [*stubs, stub]
    return clients.__getitem__, stubs


def test_the_accounts_own_quotas_replace_the_defaults():
    client, stubs = stubbed(
        {
            "lambda": [
                (
                    "get_account_settings",
                    {
                        "AccountLimit": {
                            "ConcurrentExecutions": 10,
                            "UnreservedConcurrentExecutions": 10,
                        }
                    },
                )
            ],
            "service-quotas": [
                ("get_service_quota", {"Quota": {"Value": 2500.0}}),
                ("get_service_quota", {"Quota": {"Value": 600.0}}),
            ],
            "sesv2": [
                (
                    "get_account",
                    {
                        "ProductionAccessEnabled": False,
                        "SendQuota": {
                            "Max24HourSend": 200.0,
                            "MaxSendRate": 1.0,
                            "SentLast24Hours": 3.0,
                        },
                    },
                )
            ],
            "dynamodb": [
                (
                    "describe_table",
                    {
                        "Table": {
                            "WarmThroughput": {
                                "ReadUnitsPerSecond": 30000,
                                "WriteUnitsPerSecond": 10000,
                                "Status": "ACTIVE",
                            },
                            "GlobalSecondaryIndexes": [
                                {
                                    "IndexName": "by-customer",
                                    "WarmThroughput": {
                                        "ReadUnitsPerSecond": 12000,
                                        "WriteUnitsPerSecond": 4000,
                                        "Status": "ACTIVE",
                                    },
                                }
                            ],
                        }
                    },
                )
            ],
        }
    )
    quotas = read_account(defaults(REGION), client, "orders-staging-orders", "by-customer")
    for stub in stubs:
        stub.assert_no_pending_responses()
    assert quotas.notes == []
    assert quotas["lambda_concurrency"].value == 10  # a new account's reduced quota
    assert quotas["lambda_concurrency"].label == "Lambda concurrent executions (this account)"
    assert quotas["apigateway_account_rps"].value == 2500
    assert quotas["eventbridge_putevents_tps"].value == 600
    assert "in the sandbox" in quotas["ses_max_send_rate"].source
    assert quotas["dynamodb_new_table_wru"].value == 10000
    assert quotas["dynamodb_index_wru"].value == 4000
    # ...and a new account's 10 concurrent executions is the bottleneck at 1,000 req/s
    lines, _ = capacity.plan(
        read("staging"), capacity.workload("staging", 1000), capacity.figures(), quotas
    )
    first = capacity.bottleneck(lines)
    assert first.part == "orders_api concurrency"
    assert "Service Quotas lambda L-B99A9384" in first.change


def test_a_quota_the_account_will_not_show_keeps_its_default_and_says_why():
    client, _ = stubbed(
        {
            "lambda": [("get_account_settings", {"Error": "AccessDeniedException"})],
            "service-quotas": [
                ("get_service_quota", {"Error": "NoSuchResourceException"}),
                ("get_service_quota", {"Quota": {"Value": 10000.0}}),
            ],
            "sesv2": [("get_account", {"Error": "AccessDeniedException"})],
        }
    )
    quotas = read_account(defaults(REGION), client, None)
    assert quotas["lambda_concurrency"].value == 1000
    assert not quotas["lambda_concurrency"].live
    assert quotas["eventbridge_putevents_tps"].live
    assert quotas.notes == [
        "Lambda concurrency: not read (AccessDeniedException); the default applies",
        "Service Quotas apigateway L-8A5B8E43: not read (NoSuchResourceException); the default "
        "applies",
        "SES sending quota: not read (AccessDeniedException); the default applies",
    ]


# --- a load run's latencies, settings, the command ---------------------------------------------


def test_a_load_runs_mean_response_times_replace_the_estimates(tmp_path):
    prefix = "plugins.metrics-by-endpoint.response_time."
    report = {
        "aggregate": {
            "summaries": {
                f"{prefix}POST /orders": {"mean": 41.5, "p99": 120},
                f"{prefix}GET /orders/{{order_id}}": {"mean": 12.0},
                "http.response_time": {"mean": 20},
            }
        }
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    measured = capacity.run_latencies(tmp_path)
    assert measured == {"POST /orders": 41.5, "GET /orders/{order_id}": 12.0}
    d = capacity.durations(capacity.figures(), measured)
    assert d.ms["POST /orders"] == 41.5
    assert d.source["POST /orders"] == "the run's mean response time"
    assert d.source["order"].startswith("warm overhead")
    with pytest.raises(SettingsError, match=r"no report\.json"):
        capacity.run_latencies(tmp_path / "missing")


def test_settings_are_the_environments_values_over_the_stacks_defaults():
    assert object_defaults(
        "${object({memory_size = optional(number, 512), snap_start = optional(bool, false)})}"
    ) == {"memory_size": 512, "snap_start": False}
    staging = read("staging")
    assert staging.region == "eu-west-1"
    assert staging["api_function"]["memory_size"] == 1024  # the root's
    assert staging["api_function"]["timeout"] == 10  # the stack's default
    assert staging["notifier_function"]["maximum_concurrency"] == 2
    assert staging["ses_send_rate"] == 1
    assert staging.notifications_queue_retention_s == 345600  # the queue module's default
    with pytest.raises(SettingsError, match="no environment 'qa'"):
        read("qa")


def test_the_command_exits_1_naming_the_bottleneck_and_2_for_the_local_stack(capsys):
    assert capacity.main(["--env", "staging", "--rps", "1000", "--no-aws"]) == 0
    assert "verdict: pass" in capsys.readouterr().out
    assert capacity.main(["--env", "dev", "--rps", "1000", "--no-aws"]) == 1
    out = capsys.readouterr().out
    assert "the first bottleneck is API stage throttling: 1,000 req/s against 50" in out
    assert capacity.main(["--env", "local", "--rps", "10"]) == 2
    assert "no AWS quotas" in capsys.readouterr().err
