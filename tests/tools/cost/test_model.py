"""make cost's arithmetic on hand-checked cases, two of them AWS's own pricing examples."""

from __future__ import annotations

import math

import pytest

from tools.cost import model
from tools.cost.configuration import Configuration, Function
from tools.cost.measured import Durations
from tools.cost.prices import Price, PriceBook, Tier
from tools.cost.traffic import Mix, Traffic


def _price(key: str, usd: float, free: float = 0.0, tiers: tuple[Tier, ...] = ()) -> Price:
    return Price(key, "unit", tiers or (Tier(0, None, usd),), "test", free)


# --- AWS's own examples (aws.amazon.com/lambda/pricing, US East (N. Virginia), x86) ---------


def test_aws_example_512_mb_three_million_one_second_invocations_with_the_free_tier():
    """The pricing page: 512 MB, 3 M invocations of 1 s in a month. Compute 1,500,000 GB-s
    less the 400,000 free = 1,100,000 x $0.00001667 = $18.34; requests 2 M billable x
    $0.20/M = $0.40. (The page prices a GB-second at $0.00001667, rounded.)"""
    compute = _price("lambda.gb_second.x86_64", 0.00001667, free=400_000)
    requests = _price("lambda.requests.x86_64", 0.20 / 1e6, free=1_000_000)
    gb_seconds = 3_000_000 * model.billed_ms(1000) / 1000 * 512 / 1024
    assert gb_seconds == 1_500_000
    assert round(compute.cost(gb_seconds, free_tier=True), 2) == 18.34
    assert round(requests.cost(3_000_000, free_tier=True), 2) == 0.40
    # Free tiers are off unless asked for: the same month costs the full amount.
    assert round(compute.cost(gb_seconds), 2) == 25.01


def test_aws_example_provisioned_concurrency_1000_for_two_hours():
    """The pricing page: 1,024 MB, provisioned concurrency 1,000 for 2 hours, 1.2 M
    invocations of 1 s on it. Concurrency 1,000 x 1 GB x 7,200 s x $0.0000041667 = $30.00;
    duration 1.2 M GB-s x $0.0000097222 = $11.67; requests $0.24; total $41.91."""
    standing = _price("pc", 0.0000041667).cost(1000 * 1 * 7200)
    duration = _price("pc duration", 0.0000097222).cost(1_200_000 * 1 * 1)
    requests = _price("requests", 0.20 / 1e6).cost(1_200_000)
    assert (round(standing, 2), round(duration, 2), round(requests, 2)) == (30.00, 11.67, 0.24)
    assert round(standing + duration + requests, 2) == 41.91


# --- pieces --------------------------------------------------------------------------------


def test_tiers_are_priced_in_turn_and_the_free_allowance_comes_off_first():
    tiered = _price(
        "x", 0, free=10, tiers=(Tier(0, 100, 1.0), Tier(100, 200, 0.5), Tier(200, None, 0.25))
    )
    assert tiered.cost(50) == 50
    assert tiered.cost(150) == 100 + 25
    assert tiered.cost(300) == 100 + 50 + 25
    assert tiered.cost(300, free_tier=True) == 100 + 50 + 22.5
    assert tiered.cost(5, free_tier=True) == 0


@pytest.mark.parametrize(("ms", "billed"), [(0.2, 1), (2.16, 3), (3.0, 3), (1000, 1000)])
def test_lambda_bills_each_invocation_rounded_up_to_the_millisecond(ms, billed):
    assert model.billed_ms(ms) == billed


def test_x_ray_samples_the_first_request_each_second_and_five_percent_of_the_rest():
    assert model.xray_traces(0.5, 100) == 50  # under one a second: every one
    assert model.xray_traces(21, 100) == 100 * (1 + 0.05 * 20)


def test_a_batch_holds_what_arrives_between_polls_up_to_its_size():
    function = Function("p", "p", 512, "arm64", 30, False, False, batch_size=10)
    assert model.records_per_batch(function, 0.2) == 1
    assert model.records_per_batch(function, 4) == 4
    assert model.records_per_batch(function, 75) == 10


def test_an_access_log_line_is_its_format_with_typical_values():
    assert (
        model.access_log_bytes('{"id":"$context.requestId","s":"$context.status"}')
        == len('{"id":"' + "x" * 36 + '","s":"xxx"}') + 1
    )
    assert model.access_log_bytes(None) == 0


# --- a whole estimate, checked by hand -------------------------------------------------------

PRICES = PriceBook(
    "eu-west-1",
    "2026-10-02",
    "test",
    {
        p.key: p
        for p in (
            _price("apigateway.http.requests", 1.11e-06),
            _price("lambda.requests.arm64", 2e-07),
            _price("lambda.gb_second.arm64", 1.33334e-05),
            _price("lambda.provisioned.gb_second.arm64", 3.3334e-06),
            _price("lambda.provisioned_duration.gb_second.arm64", 7.7778e-06),
            _price("dynamodb.write_request_units", 7.05e-07),
            _price("dynamodb.read_request_units", 1.415e-07),
            _price("dynamodb.storage.gb_month", 0.283),
            _price("dynamodb.pitr.gb_month", 0.22),
            _price("sqs.requests", 4e-07),
            _price("events.custom_events", 1e-06),
            _price("logs.ingest.gb", 0.57),
            _price("logs.storage.gb_month", 0.03),
            _price("cloudwatch.metrics", 0.30),
            _price("cloudwatch.alarm_metrics", 0.10),
            _price("cloudwatch.composite_alarms", 0.50),
            _price("cloudwatch.dashboards", 3.00),
            _price("xray.traces_recorded", 5e-06),
            _price("ses.outbound_messages", 1e-04),
            _price("kms.keys", 1.00),
        )
    },
)
CALLS = {
    "post_new": {"sqs.SendMessage": 1},
    "get_order": {"dynamodb.GetItem": 1},
    "process": {"eventbridge.PutEvents": 1},
    "notify": {"sesv2.SendEmail": 1},
}
MEASURED = {
    "requests": {
        kind: {
            "calls": CALLS.get(kind, {}),
            "dynamodb_write_units": {"post_new": 4.0, "process": 9.0, "notify": 3.0}.get(kind, 0.0),
            "dynamodb_read_units": {"get_order": 1.0, "notify": 0.5}.get(kind, 0.0),
            "log_bytes": 1000,
        }
        for kind in (
            "post_new",
            "post_replay",
            "get_order",
            "list_orders",
            "process",
            "notify",
        )
    },
    "bytes": {
        "order_item": 400,
        "notification_item": 300,
        "order_event": 500,
        "idempotency_items": {"orders_api": 300},
    },
    "custom_metrics": ["N/A[environment]", "N/ColdStart[function_name,service]"],
}


def _configuration(provisioned: int = 0) -> Configuration:
    def function(service: str, memory: int, batch: int | None = None, ttl: int = 0) -> Function:
        return Function(
            service,
            f"orders-prod-{service}",
            memory,
            "arm64",
            30,
            tracing=True,
            snap_start=False,
            provisioned=provisioned if service == "orders_api" else 0,
            batch_size=batch,
            idempotency_ttl_s=ttl,
        )

    return Configuration(
        env="prod",
        region="eu-west-1",
        source="test",
        functions={
            "orders_api": function("orders_api", 1024, ttl=86400),
            "order_processor": function("order_processor", 512, batch=10),
            "notifier": function("notifier", 256, batch=10),
        },
        log_retention_days={"/aws/lambda/orders-prod-orders-api": 30},
        table_billing_mode="PAY_PER_REQUEST",
        table_pitr=False,
        table_indexes=1,
        queues=["a", "a-dlq", "b", "b-dlq"],
        encrypted_queues_kms=0,
        api_protocol="HTTP",
        access_log_format=None,
        alarm_metrics=39,
        metric_alarms=23,
        composite_alarms=1,
        dashboards=1,
        kms_keys=1,
        event_archive_days=0,
        budget_usd=1500.0,
    )


def _estimate(provisioned: int = 0) -> model.Estimate:
    return model.estimate(
        _configuration(provisioned),
        Traffic(10, 24, "test"),
        Mix({"post_new": 1, "post_replay": 0, "get_order": 1, "list_orders": 0}, "test"),
        PRICES,
        Durations({"orders_api": 2.16, "order_processor": 1.48, "notifier": 2.41}, "test"),
        MEASURED,
    )


def _line(result: model.Estimate, component: str, start: str = "") -> float:
    return sum(
        line.usd
        for line in result.lines
        if line.component == component and line.what.startswith(start)
    )


def test_an_estimate_adds_up_line_by_line_as_worked_out_by_hand():
    """10 req/s all month: 2,628,000 s x 10 = 26,280,000 API requests; 2 requests an order,
    so 13,140,000 orders, 5 a second, so batches of 5 records."""
    result = _estimate()
    assert result.orders == 13_140_000
    assert _line(result, "API Gateway") == pytest.approx(26_280_000 * 1.11e-06)  # $29.17
    # 26.28 M API + 2.628 M processor + 2.628 M notifier invocations
    assert _line(result, "Lambda requests") == pytest.approx(31_536_000 * 2e-07)  # $6.31
    # API: 2.16 ms -> 3 ms billed, 1 GB; processor: 5 x 1.48 = 7.4 -> 8 ms, 0.5 GB;
    # notifier: 5 x 2.41 = 12.05 -> 13 ms, 0.25 GB
    assert _line(result, "Lambda duration", "orders_api") == pytest.approx(
        26_280_000 * 0.003 * 1 * 1.33334e-05
    )
    assert _line(result, "Lambda duration", "order_processor") == pytest.approx(
        2_628_000 * 0.008 * 0.5 * 1.33334e-05
    )
    assert _line(result, "Lambda duration", "notifier") == pytest.approx(
        2_628_000 * 0.013 * 0.25 * 1.33334e-05
    )
    # 4 + 9 + 3 write units and 1 + 0.5 read units an order
    assert _line(result, "DynamoDB writes") == pytest.approx(13_140_000 * 16 * 7.05e-07)
    assert _line(result, "DynamoDB reads") == pytest.approx(13_140_000 * 1.5 * 1.415e-07)
    # kept an order: (400 + 100) + (300 + 100) + the index's copy (400 + 100) = 1,400 bytes;
    # the API's idempotency records live a day: 432,000 orders a day x 400 bytes
    stored = (13_140_000 * 1400 + 432_000 * 400) / 1024**3
    assert _line(result, "DynamoDB storage") == pytest.approx(stored * 0.283)
    # a send and the rule's delivery, plus a receive and a delete per batch of 5 on two queues
    assert _line(result, "SQS") == pytest.approx(13_140_000 * (2 + 4 / 5) * 4e-07)
    assert _line(result, "EventBridge") == pytest.approx(13_140_000 * 1e-06)
    assert _line(result, "SES") == pytest.approx(13_140_000 * 1e-04)  # $1,314
    # ColdStart per function (3) + one other metric
    assert _line(result, "CloudWatch metrics") == pytest.approx(4 * 0.30)
    assert _line(result, "CloudWatch alarms") == pytest.approx(39 * 0.10 + 0.50)
    # sampled: 1 + 5 % of 9 a second for the API; the consumers' 1 a second each
    traces = 2_628_000 * ((1 + 0.05 * 9) + 1 + 1)
    assert _line(result, "X-Ray") == pytest.approx(traces * 5e-06)
    assert result.total == pytest.approx(sum(line.usd for line in result.lines))
    assert result.per_1000_orders == pytest.approx(result.total / 13_140)
    assert not result.break_even


def test_provisioned_instances_are_priced_all_month_and_break_even_at_60_percent():
    """arm64: 3.3334 / (13.3334 - 7.7778) = 0.6 of an instance busy. 10 x 1 GB x 2,628,000 s
    of provisioned concurrency; the API's 3 ms invocations keep 26,280,000 x 0.003 / 2,628,000
    = 0.03 of an instance busy, all of it on the provisioned instances."""
    result = _estimate(provisioned=10)
    assert _line(result, "Lambda provisioned concurrency") == pytest.approx(
        10 * 1 * 2_628_000 * 3.3334e-06
    )
    assert _line(result, "Lambda duration", "orders_api: 78.8 k GB-s on provisioned") == (
        pytest.approx(78_840 * 7.7778e-06)
    )
    [even] = result.break_even
    assert even.break_even_utilisation == pytest.approx(0.6, abs=1e-4)
    assert even.utilisation == pytest.approx(0.03 / 10)
    assert even.on_demand_usd == pytest.approx(78_840 * 1.33334e-05)
    assert even.provisioned_usd == pytest.approx(87.60 + 78_840 * 7.7778e-06, rel=1e-3)
    assert math.isclose(
        _line(result, "Lambda duration", "orders_api"), 78_840 * 7.7778e-06, rel_tol=1e-9
    ), "no API invocation should be priced on demand while the instances have room"
