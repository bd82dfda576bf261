"""Run every benchmark module (benchmarks/bench_*.py) in its own process, in name order.

`python -m benchmarks [NAME…] [--OPTION …]` runs only the named ones (e.g. `usage`, `media`);
everything from the first option on is passed to each of them (e.g.
`python -m benchmarks statements --plays 1000000 --no-spark`). An unknown name is an error.
Each module prints its figures beside baselines measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    wanted, options = [f"bench_{a.removeprefix('bench_')}" for a in argv[:split]], argv[split:]
    unknown = [w.removeprefix("bench_") for w in wanted if w not in names]
    if unknown:
        known = ", ".join(n.removeprefix("bench_") for n in names)
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {known}", file=sys.stderr)
        return 2
    selected = [n for n in names if not wanted or n in wanted]
    failed = 0
    for name in selected:
        print(f"== {name}", flush=True)
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *options])
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
