"""Where the files shipped beside the code are: the source tree (a checkout, an editable install),
or `<prefix>/share/royalty-ledger` once installed from a wheel (pyproject's data-files)."""

from __future__ import annotations

import site
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def shipped(*parts: str) -> Path:
    """The first of the source tree's and the installed copies that exists (else the source path,
    so an error names where it looked first)."""
    candidates = [_SOURCE_ROOT.joinpath(*parts)]
    for prefix in (sys.prefix, site.USER_BASE or ""):
        if prefix:
            candidates.append(Path(prefix, "share", "royalty-ledger", *parts))
    return next((c for c in candidates if c.exists()), candidates[0])
