"""The ledger on both engines (parametrized): a real SQLite file and a real, private PostgreSQL.

Every migration on the list runs on both; claims, outcomes, caches and locks behave the same;
claims serialise under concurrency; `ledger copy` moves every listed table both ways.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from comunicast.errors import ConfigError
from comunicast.ledger import COPY_TABLES, MIGRATIONS, Ledger
from comunicast.ledger_copy import copy_ledger
from comunicast.state import LedgerLocation, PostgresLocation


def _tables(ledger: Ledger) -> set[str]:
    return ledger.engine.tables()


def test_blank_database_gets_every_migration(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        assert ledger.applied_migrations() == [name for name, _ in MIGRATIONS]
        tables = _tables(ledger)
    assert {"migrations", "publications", "events", "link_cache", "check_cache"} <= tables
    # Every table `ledger copy` knows exists after the migrations, on every engine.
    assert {t for t, _, _ in COPY_TABLES} <= tables


def test_upgrade_from_first_migration_keeps_rows(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at, migrations=MIGRATIONS[:1]) as old:
        assert old.applied_migrations() == ["0001_publications"]
        claim = old.claim("avviso", "whatsapp", "v1:abc", pid=1)
        assert claim.publication is not None
        old.record(claim.publication.id, "sent", remote_id="42")
        with pytest.raises(sqlite3.OperationalError):
            old.conn.execute("SELECT * FROM link_cache")
    with Ledger.open(ledger_at) as new:
        assert new.applied_migrations() == [name for name, _ in MIGRATIONS]
        [pub] = new.publications()
        assert (pub.draft_id, pub.state, pub.remote_id) == ("avviso", "sent", "42")
        new.link_cache_put("https://www.comune.cremona.it/", 200, None, None)
    with Ledger.open(ledger_at) as again:
        assert again.migrate(MIGRATIONS) == []


def test_a_ledger_being_created_reads_as_empty(ledger_at: LedgerLocation) -> None:
    # Another run has committed the migrations table but not yet its first migration (four
    # cron runs starting at once on a new project): a reader sees no ledger, not an error.
    with Ledger.open(ledger_at, migrations=[]) as creating:
        assert creating.applied_migrations() == []
        assert Ledger.open_existing(ledger_at) is None


def test_failed_migration_leaves_no_trace(ledger_at: LedgerLocation) -> None:
    broken = [*MIGRATIONS, ("0099_broken", ["CREATE TABLE t (x INTEGER)", "THIS IS NOT SQL"])]
    with pytest.raises(ConfigError):
        Ledger.open(ledger_at, migrations=broken)
    with Ledger.open(ledger_at) as ledger:
        assert "0099_broken" not in ledger.applied_migrations()
        assert "t" not in _tables(ledger)


def test_timestamps_keep_sub_second_precision(ledger_at: LedgerLocation) -> None:
    """REAL is float4 in PostgreSQL: the translation must store timestamps as float8."""
    with Ledger.open(ledger_at) as ledger:
        pub = ledger.claim("d", "tg", "v1:aa").publication
        assert pub is not None
        row = ledger.conn.execute("SELECT claimed_at FROM publications").fetchone()
        assert abs(row["claimed_at"] - pub.claimed_at.timestamp()) < 1e-5
        assert row[0] == row["claimed_at"]


def test_claim_then_outcomes(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        first = ledger.claim("d", "tg", "v1:aa", pid=123, run_token="run")
        assert first.decision == "claimed"
        pub = first.publication
        assert pub is not None and pub.state == "sending" and pub.pid == 123
        # Committed: another connection sees the claim before any network call.
        other = Ledger.open_existing(ledger_at)
        assert other is not None
        with other:
            assert [p.state for p in other.publications()] == ["sending"]
        assert ledger.begin_attempt(pub.id) == 1
        assert ledger.begin_attempt(pub.id) == 2
        done = ledger.record(pub.id, "sent", remote_id="777")
        assert done.state == "sent" and done.remote_id == "777" and done.attempts == 2
        assert done.sent_at is not None
        assert [e["event"] for e in ledger.events(pub.id)] == ["claim", "attempt", "attempt", "sent"]
        assert ledger.claim("d", "tg", "v1:aa").decision == "skipped"
        refused = ledger.claim("d", "tg", "v1:bb")
        assert refused.decision == "refused" and refused.blocking is not None
        again = ledger.claim("d", "tg", "v1:bb", republish=True, first_attempt=True)
        assert again.decision == "claimed" and again.publication is not None
        assert again.publication.attempts == 1
        assert len(ledger.publications(draft_id="d")) == 2
        assert len(ledger.publications(limit=1)) == 1


def test_stale_sending_becomes_unknown_and_blocks(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        pub = ledger.claim("d", "wa", "v1:aa").publication
        assert pub is not None
        assert ledger.claim("d", "wa", "v1:aa").decision == "unknown"
        assert ledger.get(pub.id).state == "unknown"
        assert ledger.claim("d", "wa", "v1:bb", republish=True).decision == "unknown"
        assert ledger.unsettled("d", "wa")[0].id == pub.id
        resolved = ledger.resolve(pub.id, "failed")
        assert resolved.state == "failed" and resolved.resolved_as == "failed"
        retry = ledger.claim("d", "wa", "v1:aa")
        assert retry.decision == "claimed" and retry.publication is not None
        assert retry.publication.id == pub.id


def test_peek_and_open_existing_write_nothing(ledger_at: LedgerLocation) -> None:
    assert Ledger.open_existing(ledger_at) is None
    with Ledger.open(ledger_at) as ledger:
        assert ledger.peek("d", "wa", "v1:aa").decision == "claimed"
        assert ledger.publications() == []
    ro = Ledger.open_existing(ledger_at)
    assert ro is not None
    with ro, pytest.raises(sqlite3.Error):
        ro.conn.execute("INSERT INTO link_cache VALUES ('u', 1, 200, NULL, NULL)")


def test_link_and_check_caches(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        urls = [f"https://www.comune.cremona.it/p/{i}" for i in range(700)]
        ledger.link_cache_put_many([(u, 200, None, None) for u in urls[:600]])
        ledger.link_cache_put_many([{"url": urls[600], "status": 404}])
        ledger.link_cache_put(urls[0], None, None, "DNS failure")  # replaces the first result
        found = ledger.link_cache_get_many(urls, 60)
        assert len(found) == 601 and found[urls[600]]["status"] == 404
        assert found[urls[0]]["error"] == "DNS failure" and found[urls[0]]["status"] is None
        ledger.check_cache_put_many([("k1", '{"a":1}'), ("k2", '{"b":2}')])
        ledger.conn.execute("UPDATE check_cache SET used_at = 1000")
        ledger.check_cache_put_many([("k1", '{"a":100}')], touch=["k1"], forget_before=2000)
        found2 = ledger.check_cache_get_many(["k1", "k2"])
        assert list(found2) == ["k1"] and found2["k1"][1] == '{"a":100}'


def test_publication_locks_are_exclusive(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as one, Ledger.open(ledger_at) as two:
        lock = one.publication_lock("d", "wa")
        assert lock.acquire() and lock.held
        assert not one.publication_lock("d", "wa").acquire()  # a second holder, same process
        assert not two.publication_lock("d", "wa").acquire()  # another connection/run
        assert one.lock_is_held("d", "wa") and two.lock_is_held("d", "wa")
        assert not two.lock_is_held("d", "tg")
        other = two.publication_lock("d", "tg")
        assert other.acquire()
        other.release()
        lock.release()
        assert not two.lock_is_held("d", "wa")
        assert two.publication_lock("d", "wa").acquire()


def test_concurrent_claims_serialise(ledger_at: LedgerLocation) -> None:
    """Eight runs claim the same publication at once, without its lock: one claims it; every
    other sees the first's `sending` row (never a duplicate row, never a database error)."""
    Ledger.open(ledger_at).close()
    start = threading.Barrier(8)
    decisions: list[str] = []
    failures: list[str] = []

    def claim() -> None:
        try:
            with Ledger.open(ledger_at) as ledger:
                start.wait()
                decisions.append(ledger.claim("d", "wa", "v1:aa").decision)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert decisions.count("claimed") == 1 and decisions.count("unknown") == 7
    with Ledger.open(ledger_at) as ledger:
        assert len(ledger.publications()) == 1


def _fill(ledger: Ledger) -> None:
    """Rows in every table of the ledger copy's list that this branch knows how to fill."""
    pub = ledger.claim("ponte", "whatsapp", "v1:aa", pid=7, first_attempt=True).publication
    assert pub is not None
    ledger.record(pub.id, "sent", remote_id="true_120@newsletter_ABC")
    bad = ledger.claim("ponte", "telegram", "v1:bb").publication
    assert bad is not None
    ledger.record(bad.id, "failed", error="HTTP 400")
    ledger.link_cache_put("https://www.comune.cremona.it/", 200, None, None)
    ledger.check_cache_put_many([("k1", '{"a":1}')])
    ledger.record_approvals(pub.id, "v1:cc", [("Maria Rossi", "approvals/ponte.txt", True,
                                               "2026-11-30T17:42:10+01:00")],
                            urgent=("allerta meteo", "giulia"))
    ledger.approval_checks_put([("sig:1", True)])
    ledger.notices_update([("refused", "ponte", "fp1")], keep=[("refused", "ponte")], at=1.5)
    ledger.remember_payload(pub.id, target="whatsapp", text="*Ponte*", image_sha256=None,
                            image_alt=None)
    edit = ledger.claim_action(pub.id, "edit", revision="v1:dd", remote_id="r", text="t")
    assert edit.action is not None
    ledger.record_action(edit.action.id, "done")


def _dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    have = ledger.engine.tables()
    out = {}
    for table, key, _kind in COPY_TABLES:
        if table in have:
            rows = ledger.conn.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows),
                key=repr)
    return out


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_ledger_copy_both_ways_is_idempotent(direction: str, tmp_path: Path, pg_url: str) -> None:
    sqlite_at = tmp_path / "ledger.sqlite3"
    pg_at = PostgresLocation(pg_url, "comune-di-cremona")
    source_at, target_at = (sqlite_at, pg_at) if direction.startswith("sqlite") \
        else (pg_at, sqlite_at)
    with Ledger.open(source_at) as source:
        _fill(source)
        expected = _dump(source)
        with Ledger.open(target_at) as target:
            first = copy_ledger(source, target)
            assert {t.table: t.copied for t in first}["publications"] == 2
            assert _dump(target) == expected
            second = copy_ledger(source, target)
            assert all(t.copied == 0 for t in second)
            assert _dump(target) == expected
            # Ids were kept, and the target's own counters continue after them.
            more = target.claim("nuovo", "whatsapp", "v1:cc").publication
            assert more is not None and more.id == 3
            target.record(more.id, "sent", remote_id="x")


def test_ledger_copy_refuses_a_target_with_other_rows(tmp_path: Path, pg_url: str) -> None:
    pg_at = PostgresLocation(pg_url, "comune-di-cremona")
    with Ledger.open(pg_at) as target:
        pub = target.claim("altro", "whatsapp", "v1:zz").publication  # id 1, another history
        assert pub is not None
        before = _dump(target)
        with Ledger.open(tmp_path / "ledger.sqlite3") as source:
            _fill(source)
            with pytest.raises(ConfigError) as info:
                copy_ledger(source, target)
        assert "other rows" in str(info.value)
        assert _dump(target) == before  # nothing was written


def test_projects_in_one_database_see_only_their_rows(pg_url: str) -> None:
    cremona = PostgresLocation(pg_url, "comune-di-cremona")
    lodi = PostgresLocation(pg_url, "comune-di-lodi")
    with Ledger.open(cremona) as a, Ledger.open(lodi) as b:
        a.claim("ponte", "whatsapp", "v1:aa")
        assert b.publications() == []
        assert b.claim("ponte", "whatsapp", "v1:aa").decision == "claimed"  # its own row
        assert len(a.publications()) == 1 and len(b.publications()) == 1
        # Locks are per project too.
        assert a.publication_lock("ponte", "whatsapp").acquire()
        assert b.publication_lock("ponte", "whatsapp").acquire()
        assert not b.lock_is_held("ponte", "tg")


def test_an_unknown_database_is_a_config_error_without_the_password(pg_server: Any) -> None:
    from pg_support import PASSWORD

    url = pg_server.url("no_such_db")
    with pytest.raises(ConfigError) as info:
        Ledger.open(PostgresLocation(url, "p"))
    text = str(info.value) + (info.value.hint or "")
    assert "no_such_db" in text and PASSWORD not in text and "***" in text
    wrong = pg_server.url("postgres", password="wrong-canary-pw-8812")
    with pytest.raises(ConfigError) as info:
        Ledger.open(PostgresLocation(wrong, "p"))
    text = str(info.value) + (info.value.hint or "") + repr(PostgresLocation(wrong, "p"))
    assert "wrong-canary-pw-8812" not in text and "password" in text


def test_a_lost_database_connection_is_a_clear_error(pg_url: str) -> None:
    import psycopg

    with Ledger.open(PostgresLocation(pg_url, "p")) as ledger:
        pid = ledger.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(ConfigError) as info:
            ledger.claim("d", "wa", "v1:aa")
        assert "lost the connection to the ledger database" in str(info.value)
        assert isinstance(info.value, sqlite3.Error)  # the caches' `except sqlite3.Error` hold
        with pytest.raises(ConfigError):
            ledger.publications()


def test_approvals_and_notices_on_both_engines(ledger_at: LedgerLocation) -> None:
    """The SQL of migrations 0004 (approvals) and 0007 (notices), as their Ledger methods run it."""
    with Ledger.open(ledger_at) as ledger:
        pub = ledger.claim("ponte", "whatsapp", "v1:aa").publication
        other = ledger.claim("scuole", "whatsapp", "v1:bb").publication
        assert pub is not None and other is not None
        approvals = [("Maria Rossi", "approvals/a.txt", True, "2026-11-30T17:42:10+01:00"),
                     ("Luca Bianchi", "approvals/b.txt", False, "2026-11-30T18:00:00+01:00")]
        ledger.record_approvals(pub.id, "v1:cc", approvals)
        ledger.record_approvals(pub.id, "v1:cc", approvals)  # again: nothing twice
        ledger.record_approvals(other.id, "v1:dd", [], urgent=("allerta meteo", "giulia"))
        found = ledger.approvals_of([pub.id, other.id])
        assert found[pub.id]["approved_by"] == ["Maria Rossi", "Luca Bianchi"]
        assert found[other.id]["urgent_reason"] == "allerta meteo"
        assert found[other.id]["urgent_at"] is not None
        ledger.approval_checks_put([("sig:1", True), ("sig:2", False)])
        ledger.approval_checks_put([("sig:2", True)])
        assert ledger.approval_checks_get(["sig:1", "sig:2", "sig:3"]) == {
            "sig:1": True, "sig:2": True}
        ledger.notices_update([("refused", "ponte", "fp1"), ("draft-error", "x.md", "fp2")],
                              keep=[("refused", "ponte"), ("draft-error", "x.md")], at=10.0)
        ledger.notices_update([("refused", "ponte", "fp3")], keep=[("refused", "ponte")],
                              at=20.0)
        assert ledger.notices() == {("refused", "ponte"): ("fp3", 10.0, 20.0)}
        ledger.notices_update([], keep=[("refused", "ponte")], at=30.0)  # nothing changed
        assert ledger.notices() == {("refused", "ponte"): ("fp3", 10.0, 20.0)}


def test_the_archive_reads_back_every_field_on_every_engine(ledger_at: LedgerLocation) -> None:
    from comunicast.ledger_archive import ArchiveEntry

    entry = ArchiveEntry(
        origin="publish", target="whatsapp", title="Ponte chiuso", kind="avviso",
        text="*Ponte chiuso*\n\nDal 2 al 5.", plain="Ponte chiuso\n\nDal 2 al 5.",
        links=["https://www.comune.cremona.it/viabilita"], publish_at="2026-12-01T08:00:00+01:00",
        deadline="2026-12-05", starts_at="2026-12-02T00:00:00+01:00",
        ends_at="2026-12-05T00:00:00+01:00", expires_at=None, where="Ponte sul Po",
        image=b"\xff\xd8 not really a jpeg", image_type="image/jpeg", image_alt="Mappa",
    )
    with Ledger.open(ledger_at) as ledger:
        for n, archive in enumerate([entry, ArchiveEntry(origin="unknown", title=None)]):
            claim = ledger.claim(f"avviso-{n}", "archivio", f"v1:{n}", archive=archive)
            assert claim.publication is not None
            ledger.record(claim.publication.id, "sent", remote_id=str(n))
        first, second = ledger.archived()
    assert (first.draft_id, first.sender, first.revision, first.to_paste) == (
        "avviso-0", "archivio", "v1:0", False)
    assert (first.origin, first.target, first.title, first.kind, first.text, first.plain) == (
        "publish", "whatsapp", "Ponte chiuso", "avviso", entry.text, entry.plain)
    assert first.links == entry.links and first.links is not second.links
    assert (first.publish_at, first.deadline, first.starts_at, first.ends_at, first.expires_at,
            first.where) == (entry.publish_at, "2026-12-05", entry.starts_at, entry.ends_at,
                             None, "Ponte sul Po")
    assert first.image_type == "image/jpeg" and first.image_alt == "Mappa"
    assert first.image_sha256 is not None and len(first.image_sha256) == 64
    assert first.sent_at.tzinfo is not None
    assert (second.origin, second.title, second.text, second.links) == ("unknown", None, None, [])



def test_archive_marks_follow_every_change_and_some_drafts_read_alone_on_every_engine(
        ledger_at: LedgerLocation) -> None:
    """What the site reads at each build (`archive_marks`) changes with a publication sent,
    an archive row written again and an action's state; `archived(drafts)` reads only those
    drafts, in the order of a full read."""
    from comunicast.ledger_archive import ArchiveEntry
    from comunicast.site.archive import fingerprints

    with Ledger.open(ledger_at) as ledger:
        ids = {}
        for n in range(3):
            entry = ArchiveEntry(origin="publish", target="whatsapp", title=f"Avviso {n}",
                                 text=f"Testo {n}")
            claim = ledger.claim(f"avviso-{n}", "archivio", f"v1:{n}", archive=entry)
            assert claim.publication is not None
            ids[n] = claim.publication.id
        first = fingerprints(ledger)
        assert first == {}  # claimed, not sent: not on the site
        for n in range(3):
            ledger.record(ids[n], "sent", remote_id=str(n))
        sent = fingerprints(ledger)
        assert set(sent) == {"avviso-0", "avviso-1", "avviso-2"}
        assert fingerprints(ledger) == sent  # nothing changed: the same digests
        ledger.archive_put_many([(ids[1], ArchiveEntry(origin="draft", title="Avviso 1"))])
        rewritten = fingerprints(ledger)
        assert [d for d in sent if rewritten[d] != sent[d]] == ["avviso-1"]
        claim = ledger.claim_action(ids[2], "withdraw", revision="v1:2", remote_id="2",
                                    reason="superato")
        assert claim.action is not None
        claimed = fingerprints(ledger)
        assert [d for d in sent if claimed[d] != rewritten[d]] == ["avviso-2"]
        assert [p.draft_id for p in ledger.archived(["avviso-2", "avviso-0"])] == [
            "avviso-0", "avviso-2"]
        assert [p.draft_id for p in ledger.archived()] == ["avviso-0", "avviso-1", "avviso-2"]
        assert list(ledger.archived([])) == []

def test_postgresql_claim_and_outcome_come_back_from_their_statements_durably(
        pg_url: str) -> None:
    """A claim's row (its first attempt counted) and an outcome's row come back from their own
    INSERT/UPDATE … RETURNING; both commits are durable (no `synchronous_commit` is ever
    lowered), and another session sees the outcome as soon as `record` returns."""
    import psycopg

    location = PostgresLocation(pg_url, "comune-di-cremona")
    with Ledger.open(location) as ledger:
        raw = ledger.conn.raw
        statements: list[str] = []
        real_execute = raw.execute

        def watching(query: Any, params: Any = None, **kw: Any) -> Any:
            statements.append(str(query))
            return real_execute(query, params, **kw)

        raw.execute = watching  # type: ignore[method-assign]
        try:
            pub = ledger.claim("d", "tg", "v1:aa", run_token="r", pid=1, first_attempt=True)
            assert pub.publication is not None and pub.publication.attempts == 1
            done = ledger.record(pub.publication.id, "sent", remote_id="m-1")
        finally:
            del raw.execute
        assert not [q for q in statements if "synchronous_commit" in q]
        assert done.state == "sent" and done.remote_id == "m-1" and done.attempts == 1
        assert raw.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        with psycopg.connect(pg_url) as other:
            row = other.execute(
                'SELECT state, remote_id FROM "comune-di-cremona".publications').fetchone()
        assert row == ("sent", "m-1")

