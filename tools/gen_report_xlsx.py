"""Write docs/examples/reports/store-2026-01.xlsx: the store CSV of the same month as the store's
Excel export holds it (numbers as number cells, the sales month as a date cell).

    python tools/gen_report_xlsx.py

tests/integration/test_report_spreadsheets.py checks that it reads to exactly the CSV's lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.report_workbooks import store_rows_from_csv, workbook_bytes  # noqa: E402


def main() -> None:
    examples = ROOT / "docs" / "examples" / "reports"
    rows = store_rows_from_csv((examples / "store-2026-01.csv").read_text())
    (examples / "store-2026-01.xlsx").write_bytes(workbook_bytes({"Sales": rows}))


if __name__ == "__main__":
    main()
