"""Run every benchmark module (benchmarks/bench_*.py) in its own process, in name order.

`python -m benchmarks [NAME…]` runs only the named ones (e.g. `usage`, `media`).
Each module prints its figures beside baselines measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [f"bench_{a.removeprefix('bench_')}" for a in argv]
    selected = [n for n in names if not wanted or n in wanted]
    failed = 0
    for name in selected:
        print(f"== {name}", flush=True)
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"])
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
