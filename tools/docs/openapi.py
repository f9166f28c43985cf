"""Write or check the orders API's OpenAPI document, generated from the code by powertools.

python -m tools.docs.openapi --write    regenerate docs/api/orders.openapi.json
python -m tools.docs.openapi --check    exit 1 when the committed file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = REPO_ROOT / "docs" / "api" / "orders.openapi.json"


def render() -> str:
    for path in (REPO_ROOT / "services", REPO_ROOT / "shared"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from orders_api.handler import TITLE, VERSION, app

    schema = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Orders of the serverless platform kit's reference workload.",
    )
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    current = render()
    if args.write:
        DOCUMENT.write_text(current)
        print(f"wrote {DOCUMENT.relative_to(REPO_ROOT)}")
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text() != current:
        print(
            f"{DOCUMENT.relative_to(REPO_ROOT)} is stale: run `make openapi` and commit it",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
