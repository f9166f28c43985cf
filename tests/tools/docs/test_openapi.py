"""The committed OpenAPI document is what the code generates."""

from __future__ import annotations

import json

from tools.docs import openapi


def test_the_committed_openapi_document_matches_the_code():
    assert openapi.DOCUMENT.read_text() == openapi.render(), (
        "docs/api/orders.openapi.json is stale: run `make openapi` and commit it"
    )


def test_the_document_describes_every_route_and_the_error_shape():
    document = json.loads(openapi.render())
    assert set(document["paths"]) == {
        "/orders",
        "/orders/{order_id}",
        "/customers/{customer_id}/orders",
        "/health",
    }
    post = document["paths"]["/orders"]["post"]
    assert {"202", "400", "409", "413", "415", "422", "503"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CreateOrderRequest"
    )
    assert "ErrorBody" in document["components"]["schemas"]
