"""Where an environment's CloudWatch dashboard is.

python -m tools.ops.dashboard --env prod      (make dashboard ENV=prod)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from urllib.parse import quote

from tools.ops.environment import EnvironmentUnreadable, outputs


def console_url(region: str, dashboard: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/{quote(dashboard, safe='')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ops.dashboard", description=__doc__)
    parser.add_argument("--env", required=True, help="local, dev, staging or prod")
    args = parser.parse_args(argv)
    try:
        platform = outputs(args.env)["platform"]
    except EnvironmentUnreadable as error:
        print(f"dashboard: {error}", file=sys.stderr)
        return 2
    name, region = platform["dashboard_name"], platform["region"]
    if args.env == "local":
        print(
            f"{name}: the local emulator has no console. Its dashboard is the same body as in "
            "AWS; read it with `aws cloudwatch get-dashboard --dashboard-name "
            f"{name} --endpoint-url http://127.0.0.1:<EMULATOR_PORT>`."
        )
    else:
        print(console_url(region, name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
