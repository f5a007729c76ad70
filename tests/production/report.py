"""Numbers the production tests measure, shown in pytest's terminal summary (and printed as they come)."""

from __future__ import annotations

REPORT: list[str] = []


def report(line: str) -> None:
    print(line)
    REPORT.append(line)
