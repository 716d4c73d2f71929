"""The ledger: migrations (blank and upgrade), claims and outcomes, the link cache; real SQLite."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from comunicast.errors import ConfigError
from comunicast.ledger import MIGRATIONS, Ledger


def test_blank_database_gets_every_migration_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        assert ledger.applied_migrations() == [name for name, _ in MIGRATIONS]
        mode = ledger.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert ledger.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"migrations", "publications", "events", "link_cache", "check_cache",
            "notices"} <= tables


def test_upgrade_from_first_migration_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path, migrations=MIGRATIONS[:1]) as old:
        assert old.applied_migrations() == ["0001_publications"]
        claim = old.claim("avviso", "whatsapp", "v1:abc", pid=1)
        old.record(claim.publication.id, "sent", remote_id="42")  # type: ignore[union-attr]
        with pytest.raises(sqlite3.OperationalError):
            old.conn.execute("SELECT * FROM link_cache")
    with Ledger.open(path) as new:
        assert new.applied_migrations()[:3] == [
            "0001_publications", "0002_link_cache", "0003_check_cache"]
        assert new.applied_migrations() == [name for name, _ in MIGRATIONS]
        [pub] = new.publications()
        assert (pub.draft_id, pub.state, pub.remote_id) == ("avviso", "sent", "42")
        new.link_cache_put("https://www.comune.cremona.it/", 200, None, None)
    # Reopening applies nothing twice.
    with Ledger.open(path) as again:
        assert again.migrate(MIGRATIONS) == []


def test_failed_migration_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    broken = [*MIGRATIONS, ("0099_broken", ["CREATE TABLE t (x INTEGER)", "THIS IS NOT SQL"])]
    with pytest.raises(ConfigError):
        Ledger.open(path, migrations=broken)
    with Ledger.open(path) as ledger:
        assert "0099_broken" not in ledger.applied_migrations()
        names = {r[0] for r in ledger.conn.execute("SELECT name FROM sqlite_master")}
        assert "t" not in names  # the statement before the bad one was rolled back with it


def test_claim_then_outcomes(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        first = ledger.claim("d", "tg", "v1:aa", pid=123, run_token="run")
        assert first.decision == "claimed"
        pub = first.publication
        assert pub is not None and pub.state == "sending" and pub.pid == 123
        # Committed: another connection sees the claim before any network call.
        other = sqlite3.connect(tmp_path / "l.sqlite3")
        assert other.execute("SELECT state FROM publications").fetchone()[0] == "sending"
        assert ledger.begin_attempt(pub.id) == 1
        assert ledger.begin_attempt(pub.id) == 2
        done = ledger.record(pub.id, "sent", remote_id="777")
        assert done.state == "sent" and done.remote_id == "777" and done.attempts == 2
        assert done.sent_at is not None
        events = [e["event"] for e in ledger.events(pub.id)]
        assert events == ["claim", "attempt", "attempt", "sent"]

        assert ledger.claim("d", "tg", "v1:aa").decision == "skipped"
        refused = ledger.claim("d", "tg", "v1:bb")
        assert refused.decision == "refused" and refused.blocking is not None
        assert refused.blocking.revision == "v1:aa"
        again = ledger.claim("d", "tg", "v1:bb", republish=True)
        assert again.decision == "claimed"
        assert len(ledger.publications(draft_id="d")) == 2


def test_stale_sending_becomes_unknown_and_blocks(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        pub = ledger.claim("d", "wa", "v1:aa").publication
        assert pub is not None
        # The run died here. The next claimer (holding the lock) finds `sending`.
        second = ledger.claim("d", "wa", "v1:aa")
        assert second.decision == "unknown"
        assert ledger.get(pub.id).state == "unknown"
        # Even another revision, even with --republish, waits until a person resolves it.
        assert ledger.claim("d", "wa", "v1:bb", republish=True).decision == "unknown"
        resolved = ledger.resolve(pub.id, "failed")
        assert resolved.state == "failed" and resolved.resolved_as == "failed"
        retry = ledger.claim("d", "wa", "v1:aa")
        assert retry.decision == "claimed" and retry.publication.id == pub.id  # type: ignore[union-attr]


def test_failed_may_be_claimed_again(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        pub = ledger.claim("d", "wa", "v1:aa").publication
        assert pub is not None
        ledger.begin_attempt(pub.id)
        ledger.record(pub.id, "failed", error="HTTP 400")
        again = ledger.claim("d", "wa", "v1:aa")
        assert again.decision == "claimed" and again.publication is not None
        assert again.publication.attempts == 1 and again.publication.state == "sending"


def test_peek_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger.open(path) as ledger:
        assert ledger.peek("d", "wa", "v1:aa").decision == "claimed"
        assert ledger.publications() == []


def test_open_existing_is_read_only_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "l.sqlite3"
    assert Ledger.open_existing(path) is None
    assert not path.parent.exists()
    Ledger.open(path).close()
    ro = Ledger.open_existing(path)
    assert ro is not None
    with pytest.raises(sqlite3.OperationalError):
        ro.conn.execute("INSERT INTO link_cache VALUES ('u', 1, 200, NULL, NULL)")
    ro.close()


def test_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError) as info:
        Ledger.open(path)
    assert "ledger" in str(info.value)


def test_link_cache_get_put_and_expiry(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        url = "https://www.comune.cremona.it/viabilita"
        assert ledger.link_cache_get(url, 3600) is None
        ledger.link_cache_put(url, 301, "https://www.comune.cremona.it/viabilita/", None)
        row = ledger.link_cache_get(url, 3600)
        assert row is not None
        assert row["status"] == 301 and row["final_url"].endswith("/viabilita/")
        assert row["error"] is None and row["checked_at"] <= time.time()
        # Too old for a max age of zero seconds once a moment has passed.
        time.sleep(0.01)
        assert ledger.link_cache_get(url, 0) is None
        ledger.link_cache_put(url, None, None, "DNS failure")  # replaces the previous result
        assert ledger.link_cache_get(url, 60)["error"] == "DNS failure"  # type: ignore[index]


def test_link_cache_bulk(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        urls = [f"https://www.comune.cremona.it/p/{i}" for i in range(1200)]
        ledger.link_cache_put_many([(u, 200, None, None) for u in urls[:700]])
        ledger.link_cache_put_many([{"url": urls[700], "status": 404}])
        found = ledger.link_cache_get_many(urls, 60)
        assert len(found) == 701
        assert found[urls[700]]["status"] == 404 and found[urls[0]]["status"] == 200
        ledger.link_cache_put_many([])


def test_ledger_being_created_by_another_run_reads_as_empty(tmp_path: Path) -> None:
    """A concurrent run may have created the file but not yet its tables: nothing is recorded."""
    path = tmp_path / "ledger.sqlite3"
    sqlite3.connect(path).close()  # the file exists, the schema does not (yet)
    assert path.is_file()
    assert Ledger.open_existing(path) is None
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    assert Ledger.open_existing(tmp_path / "empty.sqlite3") is None
    with Ledger.open(path):  # and the run that creates it still can
        pass
    existing = Ledger.open_existing(path)
    assert existing is not None
    existing.close()


def test_check_cache_remembers_touches_and_forgets(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        ledger.check_cache_put_many([("k1", '{"a":1}'), ("k2", '{"b":2}')])
        found = ledger.check_cache_get_many(["k1", "k2", "k3"])
        assert {k: v[1] for k, v in found.items()} == {"k1": '{"a":1}', "k2": '{"b":2}'}
        ledger.conn.execute("UPDATE check_cache SET used_at = 1000")
        # k1 is used again: it survives the purge of entries unused since then; k2 goes.
        ledger.check_cache_put_many([], touch=["k1"], forget_before=2000)
        found = ledger.check_cache_get_many(["k1", "k2"])
        assert list(found) == ["k1"] and found["k1"][0] > 2000


def test_runs_creating_the_ledger_at_the_same_instant_all_open_it(tmp_path: Path) -> None:
    """Four connections switching a brand-new ledger to WAL together deadlock on SQLite's locks,
    and SQLite answers one "database is locked" at once (no busy wait): before the retry, about
    one opening in twenty failed here, which `publish --due` reported as an unusable ledger."""
    import threading

    failures: list[str] = []
    for trial in range(60):
        path = tmp_path / f"t{trial}" / "ledger.sqlite3"
        start = threading.Barrier(4)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                Ledger.open(path).close()
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with Ledger.open(path) as ledger:
            assert ledger.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert failures == []
