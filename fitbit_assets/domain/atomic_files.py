"""Whole-file writes that readers never see half done: write a temp file beside the target, then rename it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` fills a temp file in ``path``'s folder, which then replaces ``path`` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(payload))
