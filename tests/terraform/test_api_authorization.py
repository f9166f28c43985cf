"""No route of dev, staging or prod answers without a token of the environment's pool but
GET /health: read from Terraform's own plan of each root as committed (made offline, mocked
provider), so a route added to the stack, or a root that overrides authorization, is caught."""

from __future__ import annotations

import pytest

from tests.terraform import policy
from tools.terraform import offline_plan
from tools.terraform.hcl import TERRAFORM_DIR

pytestmark = pytest.mark.terraform


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_no_route_of_an_aws_environment_is_open_but_health(env):
    plan = offline_plan.plan(TERRAFORM_DIR / "environments" / env, "eu-west-1")

    assert policy.routes_open_without_a_token(plan) == []
    routes = {
        c["change"]["after"]["route_key"]: c["change"]["after"]["authorization_type"]
        for c in plan["resource_changes"]
        if c["type"] == "aws_apigatewayv2_route"
    }
    assert routes["GET /health"] == "NONE"
    assert len(routes) == 5, routes


def _route(key: str, authorization: str, authorizer_id: str | None) -> dict:
    return {
        "address": f'module.platform.module.http_api.aws_apigatewayv2_route.this["{key}"]',
        "type": "aws_apigatewayv2_route",
        "change": {
            "after": {
                "route_key": key,
                "authorization_type": authorization,
                "authorizer_id": authorizer_id,
            },
            "after_unknown": {},
        },
    }


def test_the_checker_finds_open_routes_and_routes_without_an_authorizer():
    plan = {
        "resource_changes": [
            _route("GET /health", "NONE", None),
            _route("POST /orders", "NONE", None),
            _route("GET /orders/{order_id}", "JWT", None),
            _route("$default", "JWT", "abc123"),
        ]
    }

    found = policy.routes_open_without_a_token(plan)

    assert len(found) == 2
    assert "(POST /orders): NONE" in found[0]
    assert "(GET /orders/{order_id}): JWT" in found[1]
    assert policy.routes_open_without_a_token({"resource_changes": []}) == [
        "the plan has no API routes"
    ]
