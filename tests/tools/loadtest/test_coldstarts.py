"""Cold starts of a run: the ColdStart records of the functions' logs (moto's CloudWatch Logs)
and the ColdStart metric (CloudWatch's own answer, through botocore's Stubber)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
from botocore.stub import ANY, Stubber
from moto import mock_aws

from tools.loadtest import coldstarts

FUNCTIONS = {"orders_api": "orders-staging-orders-api", "notifier": "orders-staging-notifier"}
# An hour ago, in ms (CloudWatch Logs refuses the future), on a whole minute: a window that
# starts a few seconds after it still starts in that minute.
T0 = (int(time.time()) // 60 * 60 - 3600) * 1000


def emf_cold_start(function: str, service: str) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": T0,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "OrdersPlatform",
                        "Dimensions": [["function_name", "service"]],
                        "Metrics": [{"Name": "ColdStart", "Unit": "Count"}],
                    }
                ],
            },
            "function_name": function,
            "service": service,
            "ColdStart": [1.0],
        }
    )


def test_cold_starts_are_the_coldstart_records_of_each_functions_log_inside_the_window():
    with mock_aws():
        logs = boto3.client("logs", region_name="eu-west-1")
        for service, function in FUNCTIONS.items():
            group = f"/aws/lambda/{function}"
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
            cold = emf_cold_start(function, service)
            events = [
                (T0 - 60_000, cold),  # the warm-up's: before the run
                (T0 + 1_000, cold),
                (T0 + 2_000, '{"level":"INFO","message":"request handled","cold_start":false}'),
            ]
            if service == "orders_api":
                events.append((T0 + 3_000, cold))
            logs.put_log_events(
                logGroupName=group,
                logStreamName="s",
                logEvents=[{"timestamp": t, "message": m} for t, m in events],
            )
        found = coldstarts.count(
            {"logs": logs}.__getitem__, FUNCTIONS, T0, T0 + 10_000, emulated=True
        )
    assert found.per_function == {"orders_api": 2, "notifier": 1}
    assert found.total == 3
    assert found.line() == (
        "3 (orders_api 2, notifier 1), from the ColdStart records in the functions' logs"
    )


def test_in_aws_cold_starts_are_the_coldstart_metric_summed_over_the_run():
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    start, end = T0 + 5_000, T0 + 400_000  # whole minutes around it
    with Stubber(cloudwatch) as stub:
        for service, function in FUNCTIONS.items():
            stub.add_response(
                "get_metric_statistics",
                {"Datapoints": [{"Sum": 7.0 if service == "orders_api" else 2.0}]},
                {
                    "Namespace": "OrdersPlatform",
                    "MetricName": "ColdStart",
                    "Dimensions": [
                        {"Name": "function_name", "Value": function},
                        {"Name": "service", "Value": service},
                    ],
                    "StartTime": datetime.fromtimestamp(T0 // 1000, UTC),
                    "EndTime": ANY,
                    "Period": ANY,
                    "Statistics": ["Sum"],
                },
            )
        found = coldstarts.count(
            {"cloudwatch": cloudwatch}.__getitem__, FUNCTIONS, start, end, False
        )
        stub.assert_no_pending_responses()
    assert found.per_function == {"orders_api": 7, "notifier": 2}
    assert found.source == "the ColdStart metric (OrdersPlatform)"
