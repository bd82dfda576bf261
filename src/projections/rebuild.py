"""Rebuild a read model: fold the whole log into fresh copies of its tables, then swap them in.

The live tables keep serving (and the live projector keeps folding) while the copies fill.
The swap is one transaction that locks the model's tracking row first — the same lock every
projector batch takes first — drops the live tables, renames the copies and sets the model's
position to where the copies are. A live projector that was ahead simply folds the rest again,
into the new tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.application import RoyaltyLedger
from projections.db import ViewDB
from projections.failures import replace_failures
from projections.projector import APPLICATION_NAME, DEFAULT_BATCH, MODELS, Projector
from projections.readmodel import REBUILD_SUFFIX


def rebuild(
    app: RoyaltyLedger,
    models: Sequence[str] = (),
    *,
    batch_size: int = DEFAULT_BATCH,
    db: ViewDB | None = None,
) -> dict[str, int]:
    """Rebuild each named model (all by default); return the position each was rebuilt to."""
    db = db or ViewDB(app.config)
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown read model(s) {', '.join(unknown)}; expected {sorted(MODELS)}")
    done: dict[str, int] = {}
    for name in models or list(MODELS):
        done[name] = _rebuild_one(app, db, name, batch_size)
    return done


def _rebuild_one(app: RoyaltyLedger, db: ViewDB, name: str, batch_size: int) -> int:
    tables = MODELS[name].tables
    scratch = name + REBUILD_SUFFIX
    for table in tables:
        db.clone_table(table, table + REBUILD_SUFFIX)
    db.execute(
        "DELETE FROM projection_tracking WHERE application_name = ? AND model = ?",
        [APPLICATION_NAME, scratch],
    )
    db.execute("DELETE FROM projection_failures WHERE application_name = ? AND model = ?", [APPLICATION_NAME, scratch])
    builder = Projector(app, db, models=[name], batch_size=batch_size, rebuild=True)
    builder.catch_up()
    Projector(app, db, models=[name])  # makes sure the live tracking row exists
    lock = " FOR UPDATE" if db.backend == "postgres" else ""
    with db.transaction():
        db.execute(
            "SELECT position FROM projection_tracking WHERE application_name = ? AND model = ?" + lock,
            [APPLICATION_NAME, name],
        )
        ((position,),) = db.execute(
            "SELECT position FROM projection_tracking WHERE application_name = ? AND model = ?",
            [APPLICATION_NAME, scratch],
        )
        for table in tables:
            db.execute(f"DROP TABLE {table}")
            db.execute(f"ALTER TABLE {table}{REBUILD_SUFFIX} RENAME TO {table}")
        db.execute(
            "UPDATE projection_tracking SET position = ? WHERE application_name = ? AND model = ?",
            [position, APPLICATION_NAME, name],
        )
        db.execute(
            "DELETE FROM projection_tracking WHERE application_name = ? AND model = ?",
            [APPLICATION_NAME, scratch],
        )
        replace_failures(db, APPLICATION_NAME, name, scratch)
    return int(position)
