"""Orders HTTP API function (Lambda handler: orders_api.handler.lambda_handler)."""

from orders_core import coldstart

# Before handler.py imports anything: init runs with the garbage collector paused.
coldstart.pause_collector()
