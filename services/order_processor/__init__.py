"""Order processor function (Lambda handler: order_processor.handler.lambda_handler)."""

from orders_core import coldstart

# Before handler.py imports anything: init runs with the garbage collector paused.
coldstart.pause_collector()
