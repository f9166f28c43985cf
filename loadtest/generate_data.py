"""Write the CSV payloads of the load test: customers and SKUs.

    python loadtest/generate_data.py [--out DIR] [--seed 7] [--customers 1000] [--skus 200]

The output is a pure function of the arguments (a seeded PRNG, no clock), so a
run can be repeated with the same data. `tools/loadtest/` calls `generate()`
before every run; the files are not committed.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "data"
DEFAULT_SEED = 7
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")  # weighted: mostly EUR
CATEGORIES = ("BOOK", "TOOL", "GAME", "FOOD", "HOME", "TOYS", "SPRT", "GARD")


def customers(rng: random.Random, count: int) -> list[dict[str, str]]:
    return [
        {"customer_id": f"cust-{i:06d}", "currency": rng.choice(CURRENCIES)}
        for i in range(1, count + 1)
    ]


def skus(rng: random.Random, count: int) -> list[dict[str, str]]:
    rows = []
    for i in range(1, count + 1):
        cents = rng.randrange(199, 19999)  # 1.99 .. 199.98
        rows.append(
            {
                "sku": f"{rng.choice(CATEGORIES)}-{i:05d}",
                "unit_price": f"{cents // 100}.{cents % 100:02d}",
            }
        )
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def generate(
    out: Path = DEFAULT_OUT,
    seed: int = DEFAULT_SEED,
    n_customers: int = 1000,
    n_skus: int = 200,
) -> dict[str, Path]:
    """Write customers.csv and skus.csv under `out`; return their paths."""
    if n_customers < 1 or n_skus < 1:
        raise ValueError("need at least one customer and one SKU")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    paths = {"customers": out / "customers.csv", "skus": out / "skus.csv"}
    _write(paths["customers"], customers(rng, n_customers))
    _write(paths["skus"], skus(rng, n_skus))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=200)
    args = parser.parse_args(argv)
    for name, path in generate(args.out, args.seed, args.customers, args.skus).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
