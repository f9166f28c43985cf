"""Read Terraform configuration with python-hcl2, as plain Python values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


def load_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


@dataclass(frozen=True)
class Block:
    """A top-level block: `resource "aws_x" "y" {...}` has kind resource, labels (aws_x, y)."""

    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]
    path: Path

    @property
    def address(self) -> str:
        where = (
            self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path
        )
        return f"{where}: {self.kind} {'.'.join(self.labels)}"


_LABEL_DEPTH = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1, "provider": 1}


def blocks(path: Path) -> Iterator[Block]:
    for kind, entries in load_file(path).items():
        depth = _LABEL_DEPTH.get(kind, 0)
        for entry in entries:
            yield from _unwrap(kind, entry, depth, (), path)


def _unwrap(kind: str, node: Any, depth: int, labels: tuple[str, ...], path: Path):
    if depth == 0:
        yield Block(kind, labels, node, path)
        return
    for label, inner in node.items():
        yield from _unwrap(kind, inner, depth - 1, (*labels, label), path)


def root_blocks(directory: Path) -> Iterator[Block]:
    """Every block of a root or module directory (not its subdirectories)."""
    for path in sorted(directory.glob("*.tf")):
        yield from blocks(path)


def expression(value: Any) -> str:
    """An attribute's source text: `${x}` interpolation wrappers removed."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text


def terraform_directories() -> list[Path]:
    """Every directory under terraform/ holding .tf files, working data excluded."""
    found = {path.parent for path in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in path.parts}
    return sorted(found)
