"""Demo step: close the demo month, print the statement summary, write every export to ./demo-out/, replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli.statements import demo_statements
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period

DEMO_OUT = Path("demo-out")


def run(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    return demo_statements(period, DEMO_OUT, as_json)
