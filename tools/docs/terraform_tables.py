"""Generate the input and output tables of each module README from its HCL.

python -m tools.docs.terraform_tables --write   rewrite the tables between the markers
python -m tools.docs.terraform_tables --check   exit 1 and name the stale READMEs
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools.terraform.hcl import TERRAFORM_DIR, expression, root_blocks

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
MODULES_DIR = TERRAFORM_DIR / "modules"


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "n/a"
    value = body["default"]
    if isinstance(value, str) and value.startswith("${"):
        return _code(expression(value))
    return _code(json.dumps(value, sort_keys=True))


def render(module_dir: Path) -> str:
    variables = []
    outputs = []
    for block in root_blocks(module_dir):
        if block.kind == "variable":
            variables.append((block.labels[0], block.body))
        elif block.kind == "output":
            outputs.append((block.labels[0], block.body))

    lines = ["## Inputs", ""]
    if variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for name, body in sorted(variables):
            required = "yes" if "default" not in body else "no"
            lines.append(
                f"| {name} | {_cell(str(body.get('description', '')))} "
                f"| {_code(expression(body.get('type', 'any')))} | {_default(body)} | {required} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for name, body in sorted(outputs):
            lines.append(f"| {name} | {_cell(str(body.get('description', '')))} |")
    else:
        lines.append("No outputs.")
    return "\n".join(lines)


def updated_readme(readme: Path, tables: str) -> str:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{readme}: add the lines {BEGIN} and {END} where the tables belong")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables}\n{END}{tail}"


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES_DIR.iterdir() if p.is_dir() and any(p.glob("*.tf")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)

    stale = []
    for module in module_dirs():
        readme = module / "README.md"
        if not readme.exists():
            stale.append(f"{readme} is missing")
            continue
        new = updated_readme(readme, render(module))
        if new != readme.read_text():
            if args.write:
                readme.write_text(new)
                print(f"updated {readme.relative_to(TERRAFORM_DIR.parent)}")
            else:
                stale.append(f"{readme.relative_to(TERRAFORM_DIR.parent)} is stale")
    if stale:
        print("\n".join(stale), file=sys.stderr)
        print("run `make docs` to regenerate the tables", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
