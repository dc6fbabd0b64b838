"""The validation report every dataset's validation gives (heart rate and each metric family): what the rules found,
in a form that fits asset-check metadata and a JSON file beside the validated frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ValidationReport:
    """What Pandera found, in a form that fits asset-check metadata and a JSON file."""

    rows: int
    failures: dict[str, int] = field(default_factory=dict)  # rule -> failing rows
    samples: list[dict] = field(default_factory=list)  # a few failing rows with their rule
    input_fingerprint: Optional[str] = None  # of the raw file validated (study_files.input_fingerprint)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.passed:
            return f"{self.rows} rows passed all rules"
        return "; ".join(f"{rule}: {count} rows" for rule, count in self.failures.items())

    def to_dict(self) -> dict:
        return {"rows": self.rows, "passed": self.passed, "failures": self.failures, "samples": self.samples,
                "input_fingerprint": self.input_fingerprint}

    @classmethod
    def from_dict(cls, payload: dict) -> "ValidationReport":
        return cls(payload["rows"], dict(payload["failures"]), list(payload["samples"]), payload.get("input_fingerprint"))


def file_error_report(error: Exception) -> ValidationReport:
    """The report of a file that could not be read at all (its error names the file)."""
    return ValidationReport(0, {"file.readable": 1}, [{"rule": "file.readable", "error": str(error)}])
