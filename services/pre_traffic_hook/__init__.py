"""Pre-traffic hook function (Lambda handler: pre_traffic_hook.handler.lambda_handler)."""

from orders_core import coldstart

# Before handler.py imports anything: init runs with the garbage collector paused.
coldstart.pause_collector()
