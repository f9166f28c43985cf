"""Fuzzing the orders API from its OpenAPI document with schemathesis (`make fuzz`)."""
