"""`royalty audit keygen | anchor | verify` as an operator types them, on SQLite and PostgreSQL:
one store, four kinds of tampering, and `audit verify` names every position (issue 15, finding 4)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from api.auth import create_key
from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.usage.ingest import ingest_rows
from tests.e2e.cli_runner import royalty
from tests.integration.test_audit_to_the_head import raw, replace_in_state, rewrite_history
from tests.usage_helpers import ISRCS, SECRET, build_catalogue, clock, play


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "ROYALTY_AUDIT_SIGNING_KEY": str(tmp_path / "keys" / "anchor.key"),
        "ROYALTY_AUDIT_ANCHORS": str(tmp_path / "anchors.jsonl"),
        "ROYALTY_LISTENER_SECRET": SECRET.decode(),
    }


def test_audit_verify_names_the_tail_edit_the_recomputed_rewrite_the_quarantine_edit_and_the_replace(
    store_config: StoreConfig, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    app = RoyaltyLedger(store_config, clock=clock)
    try:
        build_catalogue(app, with_single=False)
        ingest_rows(app, [play(f"p{i}") for i in range(4)] + [play("late", isrc=ISRCS[3])], actor="t", secret=SECRET)
        (batch,) = [int(n.id) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]
    finally:
        app.close()

    keygen = royalty(store_config, "audit", "keygen", "--json", cwd=tmp_path, env=env)
    assert keygen.returncode == 0, keygen.stderr
    assert "PRIVATE" not in keygen.stdout + keygen.stderr  # the key itself is never printed
    anchored = royalty(store_config, "audit", "anchor", "--json", cwd=tmp_path, env=env)
    assert anchored.returncode == 0, anchored.stderr + anchored.stdout
    upto = json.loads(anchored.stdout)["upto_position"]
    assert upto == batch

    app = RoyaltyLedger(store_config, clock=clock)
    try:
        create_key(app, "auditor", "test", label="books")  # after the last checkpoint: the tail
        key_position = app.head_position()
        clean = royalty(store_config, "audit", "verify", "--json", cwd=tmp_path, env=env)
        assert clean.returncode == 0, clean.stdout
        assert json.loads(clean.stdout)["chain"]["anchors"] == 1

        # (d) REPLACE: refused by the trigger on SQLite (an upsert is an UPDATE on PostgreSQL) ...
        if store_config.backend == "sqlite":
            conn = sqlite3.connect(str(store_config.sqlite_path))
            try:
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(
                        "INSERT OR REPLACE INTO stored_events (originator_id, originator_version, topic, state) "
                        "SELECT originator_id, originator_version, topic, X'00' FROM stored_events WHERE rowid = 4"
                    )
            finally:
                conn.close()
            replace = (
                "INSERT OR REPLACE INTO stored_events (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, X'00' FROM stored_events WHERE rowid = 4"
            )
        else:
            replace = (
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, '\\x00' FROM stored_events "
                "WHERE notification_id = 4 ON CONFLICT (originator_id, originator_version) "
                "DO UPDATE SET state = EXCLUDED.state"
            )
        # (a) the tail: a key's role edited to admin in its stored event.
        replace_in_state(store_config, key_position, b'"role":"auditor"', b'"role":"admin"', recompute_digest=False)
        # (b) an anchored event rewritten with its written digest and the checkpoint recomputed.
        rewrite_history(store_config, app, 2, b"Aria", b"Arla")
        # (c) a quarantine row's detail edited.
        raw(store_config, [("UPDATE usage_quarantine SET detail = 'nothing to see'", ())])
        # (d) ... and named when it was forced past the triggers (dropped by `raw` on SQLite).
        raw(store_config, [(replace, ())])
    finally:
        app.close()

    result = royalty(store_config, "audit", "verify", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    named = {p["position"]: p["problem"] for p in doc["chain"]["problems"]}
    assert doc["chain"]["first_mismatch"]["position"] == 2
    assert named[2] == "event bytes differ from the anchored digest"
    assert 4 in named and key_position in named
    assert "digest recorded when it was written" in named[key_position]
    usage = {p["position"]: p["problem"] for p in doc["usage_rows"]["problems"]}
    assert batch in usage and "1 quarantine rows" in usage[batch]
    text = royalty(store_config, "audit", "verify", cwd=tmp_path, env=env)
    assert text.returncode == 1 and "hash chain broken at position 2" in text.stdout
    assert f"position {key_position}:" in text.stdout and f"usage rows differ at position {batch}" in text.stdout
    assert "Traceback" not in text.stdout + text.stderr
