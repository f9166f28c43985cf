"""Powertools logging, metrics and tracing, configured the same way in every function.

POWERTOOLS_SERVICE_NAME names the service; ENVIRONMENT becomes a dimension of every metric.
Tracing patches botocore only (not every library X-Ray knows): that is all our code calls, and
patching fewer modules keeps cold starts shorter.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "OrdersPlatform"

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE))
metrics.set_default_dimensions(environment=os.environ.get("ENVIRONMENT", "local"))
tracer = Tracer(patch_modules=["botocore"])

# Routes that record no metric (reads, health) are normal here, not a mistake worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
