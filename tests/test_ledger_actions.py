"""The ledger's actions (SPEC §10) in process, on both engines (real SQLite, the private
PostgreSQL): claims, doubt, retakes, resolve."""

from __future__ import annotations

import sqlite3

import pytest

from comunicast.ledger import MIGRATIONS, Ledger
from comunicast.state import LedgerLocation


def sent(ledger: Ledger, draft_id: str = "ponte", revision: str = "v1:aaa") -> int:
    claim = ledger.claim(draft_id, "whatsapp", revision, pid=1)
    assert claim.publication is not None
    ledger.record(claim.publication.id, "sent", remote_id="true_x@newsletter_1")
    return claim.publication.id


def test_upgrade_adds_actions_and_payloads_to_an_old_ledger(ledger_at: LedgerLocation) -> None:
    path = ledger_at
    names = [name for name, _ in MIGRATIONS]
    with Ledger.open(path, migrations=MIGRATIONS[: names.index("0006_actions")]) as old:
        pub_id = sent(old)
        with pytest.raises(sqlite3.OperationalError):
            old.conn.execute("SELECT * FROM actions")
    with Ledger.open(path) as new:
        assert "0006_actions" in new.applied_migrations()
        assert new.payload(pub_id) is None  # claimed before 0006: nothing known
        claim = new.claim_action(pub_id, "edit", revision="v1:bbb", remote_id="r", text="t")
        assert claim.decision == "claimed" and claim.action is not None
        assert claim.action.state == "sending" and claim.action.attempts == 1


def test_an_edit_in_doubt_blocks_another_edit_but_is_taken_up_again(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        pub_id = sent(ledger)
        first = ledger.claim_action(pub_id, "edit", revision="v1:b", remote_id="r", text="B")
        assert first.action is not None
        # The run dies: its `sending` row is found by the next claim, under the lock.
        other = ledger.claim_action(pub_id, "edit", revision="v1:c", remote_id="r", text="C")
        assert other.decision == "blocked" and other.blocking is not None
        assert other.blocking.id == first.action.id and other.blocking.state == "unknown"
        again = ledger.claim_action(pub_id, "edit", revision="v1:b", remote_id="r", text="B")
        assert again.decision == "claimed" and again.action is not None
        assert again.action.id == first.action.id and again.action.attempts == 2
        ledger.record_action(again.action.id, "done")
        # Once done, another edit is a row of its own.
        third = ledger.claim_action(pub_id, "edit", revision="v1:c", remote_id="r", text="C")
        assert third.action is not None and third.action.id != first.action.id
        ledger.record_action(third.action.id, "failed", error="HTTP 400")
        retry = ledger.claim_action(pub_id, "edit", revision="v1:c", remote_id="r", text="C")
        assert retry.action is not None and retry.action.id == third.action.id


def test_a_withdrawal_is_never_blocked_and_resolve_settles_actions(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        pub_id = sent(ledger)
        edit = ledger.claim_action(pub_id, "edit", revision="v1:b", remote_id="r", text="B")
        assert edit.action is not None
        ledger.record_action(edit.action.id, "unknown", error="read timeout")
        gone = ledger.claim_action(pub_id, "withdraw", revision="v1:b", remote_id="r",
                                   reason="Annullato")
        assert gone.decision == "claimed" and gone.action is not None
        assert gone.action.reason == "Annullato"
        ledger.record_action(gone.action.id, "done")
        [doubt] = ledger.unsettled_actions("ponte", "whatsapp")
        assert doubt.id == edit.action.id
        settled = ledger.resolve_action(doubt.id, "failed", note="settled by hand")
        assert settled.state == "failed" and settled.resolved_as == "failed"
        assert ledger.unsettled_actions("ponte", "whatsapp") == []
        kinds = [a.action for a in ledger.actions(draft_id="ponte")]
        assert kinds == ["edit", "withdraw"]
        events = [e["event"] for e in ledger.events(pub_id)]
        assert "withdraw-done" in events and "edit-resolved" in events


def test_payload_is_recorded_once(ledger_at: LedgerLocation) -> None:
    with Ledger.open(ledger_at) as ledger:
        pub_id = sent(ledger)
        ledger.remember_payload(pub_id, target="whatsapp", text="A", image_sha256="ab",
                                image_alt="x")
        ledger.remember_payload(pub_id, target="whatsapp", text="B", image_sha256=None,
                                image_alt=None)
        payload = ledger.payload(pub_id)
        assert payload is not None and (payload.text, payload.image_sha256) == ("A", "ab")
