"""How the command line prints a check's report: JSON, or one line per finding and a summary."""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol


class Report(Protocol):
    def as_json(self) -> dict[str, Any]: ...
    def lines(self) -> list[str]: ...
    def summary(self) -> str: ...


def print_report(report: Report, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
        return
    for line in report.lines():
        sys.stdout.write(line + "\n")
    sys.stdout.write(report.summary() + "\n")
