"""Shared library of the orders platform, shipped to every function as a Lambda layer.

Layers, from the inside out:
- ``orders_core.domain``: orders and stock as plain Python over pydantic models. No AWS, no I/O.
- ``orders_core.ports``: the small interfaces the domain's callers depend on.
- ``orders_core.adapters``: the only code that talks to AWS (DynamoDB, SQS, EventBridge, SES).
- ``orders_core.settings``, ``orders_core.clients``, ``orders_core.observability``: configuration
  from the environment, AWS clients created once per execution environment, powertools logging,
  metrics and tracing.
"""
