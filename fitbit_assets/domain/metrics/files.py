"""The metric families' day files are JSON documents (``<landing>/<family>/<participant>/<date>.json``, paths from
``StudyFilesResource.day_file``), written with one fixed formatting."""

from __future__ import annotations

import json


def document_bytes(document: object) -> bytes:
    """Fixed formatting so the same synthetic document always gives the same bytes."""
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")
