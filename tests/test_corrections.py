"""Corrections and withdrawal end to end (SPEC §10): the installed CLI against loopback WAHA,
Telegram and webhook stand-ins that keep every published message and count every request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeTelegram, FakeWaha, FakeWebhook, Reply
from publish_support import draft, make_project, rows, run, run_json, telegram, waha, webhook
from sender_support import jpeg, png

FIRST = "Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori di manutenzione."
SECOND = "Il ponte sul Po resta chiuso dal 3 al 6 dicembre per lavori di manutenzione."
THIRD = "Il ponte sul Po resta chiuso dal 3 al 7 dicembre per lavori di manutenzione."


@pytest.fixture
def wa() -> Iterator[FakeWaha]:
    with FakeWaha() as fake:
        yield fake


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as fake:
        yield fake


def publish(root: Path, *args: str, **kw: Any) -> tuple[int, dict[str, Any], str]:
    return run_json(root, "publish", *args, **kw)


def states(doc: dict[str, Any]) -> dict[str, str]:
    return {p["sender"]: p["state"] for p in doc["publications"]}


def log(root: Path) -> list[dict[str, Any]]:
    result = run(root, "log", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def actions(root: Path) -> list[dict[str, Any]]:
    import sqlite3

    conn = sqlite3.connect(root / ".comunicast" / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM actions ORDER BY id")]
    finally:
        conn.close()


# -- edit in place --------------------------------------------------------------------------------


def test_waha_edit_is_one_put_with_the_first_remote_id_and_no_new_message(
    tmp_path: Path, wa: FakeWaha
) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    code, doc, err = publish(root, str(path))
    assert code == 0, err
    remote_id = doc["publications"][0]["remote_id"]
    assert wa.delivered == 1

    draft(root, "ponte", body=SECOND)
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0, err
    [pub] = doc["publications"]
    assert (pub["state"], pub["remote_id"], pub["attempts"]) == ("edited", remote_id, 1)
    [put] = wa.corrections
    assert put.method == "PUT"
    assert put.path == ("/api/default/chats/120363000000000000%40newsletter/messages/"
                        + remote_id.replace("@", "%40"))
    assert put.json == {"text": "*Ponte sul Po chiuso*\n\n" + SECOND}
    assert wa.delivered == 1 and len(wa.requests) == 2  # no new message
    assert wa.text_of(remote_id) == "*Ponte sul Po chiuso*\n\n" + SECOND
    assert wa.problems == []

    # The same edit again: nothing is sent.
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0, err
    assert states(doc) == {"whatsapp": "skipped"}
    assert len(wa.requests) == 2
    # A plain publish of the edited draft is "already sent", not a refusal.
    code, doc, _ = publish(root, str(path))
    assert code == 0 and states(doc) == {"whatsapp": "skipped"}
    assert len(wa.requests) == 2

    [entry] = log(root)
    assert entry["state"] == "sent" and entry["remote_id"] == remote_id
    assert [e["revision"] for e in entry["edits"]] == [actions(root)[0]["revision"]]
    assert entry["edits"][0]["at"] and entry["withdrawn_at"] is None
    text = run(root, "log")
    assert "edited" in text.stdout
    [action] = actions(root)
    assert (action["action"], action["state"], action["attempts"]) == ("edit", "done", 1)
    assert action["text"] == "*Ponte sul Po chiuso*\n\n" + SECOND
    assert action["remote_id"] == remote_id


def test_a_second_edit_changes_the_same_message_again(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    for body in (SECOND, THIRD, FIRST):  # back to the first text is an edit too
        draft(root, "ponte", body=body)
        code, doc, err = publish(root, str(path), "--edit")
        assert code == 0 and states(doc) == {"whatsapp": "edited"}, err
    [message] = wa.messages.values()
    assert [t.split("\n\n")[1] for t in message.edits] == [SECOND, THIRD, FIRST]
    assert wa.delivered == 1 and len(log(root)[0]["edits"]) == 3


def test_telegram_edit_text_and_caption(tmp_path: Path, tg: FakeTelegram) -> None:
    root = make_project(tmp_path, {"telegram": telegram(tg.url)})
    text_path = draft(root, "testo", body=FIRST)
    jpeg(root / "messages" / "ponte.jpg")
    photo_path = draft(root, "foto", body=FIRST,
                       extra="image: ponte.jpg\nimage_alt: Il ponte chiuso")
    code, doc, err = publish(root, str(text_path), str(photo_path))
    assert code == 0, err
    ids = {p["draft_id"]: p["remote_id"] for p in doc["publications"]}

    draft(root, "testo", body=SECOND)
    draft(root, "foto", body=SECOND, extra="image: ponte.jpg\nimage_alt: Il ponte chiuso")
    code, doc, err = publish(root, str(text_path), str(photo_path), "--edit")
    assert code == 0, err
    assert [p["state"] for p in doc["publications"]] == ["edited", "edited"]
    methods = {tg.method_of(r): r.json for r in tg.corrections}
    assert set(methods) == {"editMessageText", "editMessageCaption"}
    assert methods["editMessageText"]["message_id"] == int(ids["testo"])
    assert methods["editMessageText"]["text"] == "<b>Ponte sul Po chiuso</b>\n\n" + SECOND
    assert methods["editMessageCaption"]["message_id"] == int(ids["foto"])
    assert methods["editMessageCaption"]["caption"] == "<b>Ponte sul Po chiuso</b>\n\n" + SECOND
    assert tg.delivered == 2 and tg.problems == []


def test_telegram_not_modified_counts_as_edited(tmp_path: Path, tg: FakeTelegram) -> None:
    root = make_project(tmp_path, {"telegram": telegram(tg.url, timeout=1)},
                        publish={"retry_budget": 20, "max_attempts": 3})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    draft(root, "ponte", body=SECOND)
    # The first edit reaches Telegram but its answer is lost; the retry finds the text in place.
    tg.script(Reply.slow(2.5))
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0, err
    assert doc["publications"][0]["state"] == "edited"
    assert doc["publications"][0]["attempts"] == 2
    assert len(tg.corrections) == 2 and tg.corrections[1].status == 400
    [post] = tg.posts.values()
    assert post.edits == ["<b>Ponte sul Po chiuso</b>\n\n" + SECOND]


def test_webhook_edit_and_withdraw_are_signed_posts_with_their_own_keys(
    tmp_path: Path, hook: FakeWebhook
) -> None:
    root = make_project(tmp_path, {"hook": webhook(hook.url)})
    path = draft(root, "ponte", body=FIRST)
    code, doc, _ = publish(root, str(path))
    remote_id = doc["publications"][0]["remote_id"]
    draft(root, "ponte", body=SECOND)
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"hook": "edited"}, err
    code, doc, err = run_json(root, "withdraw", "ponte", "--reason", "Lavori rinviati")
    assert code == 0 and states(doc) == {"hook": "withdrawn"}, err
    assert hook.delivered == 1 and hook.problems == []
    keys = [r.header("idempotency-key") for r in hook.requests]
    assert len(set(keys)) == 3
    edit, withdrawal = (r.json for r in hook.corrections)
    assert edit["action"] == "edit" and edit["replaces"] == remote_id
    assert edit["text"] == "Ponte sul Po chiuso\n\n" + SECOND
    assert withdrawal["action"] == "withdraw" and withdrawal["replaces"] == remote_id
    assert withdrawal["reason"] == "Lavori rinviati"


def test_503_then_200_edits_once(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    draft(root, "ponte", body=SECOND)
    wa.script(Reply.error(503, "Service Unavailable"))
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0, err
    assert doc["publications"][0]["state"] == "edited" and doc["publications"][0]["attempts"] == 2
    assert len(wa.corrections) == 2
    [message] = wa.messages.values()
    assert len(message.edits) == 1 and wa.delivered == 1


def test_timeouts_throughout_leave_the_edit_unknown_exit_5_until_resolved(
    tmp_path: Path, wa: FakeWaha
) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url, timeout=1)},
                        publish={"retry_budget": 6, "max_attempts": 3})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    draft(root, "ponte", body=SECOND)
    wa.default = Reply.slow(2.5, deliver=False)
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 5 and doc["exit_code"] == 5
    [pub] = doc["publications"]
    assert pub["state"] == "unknown" and pub["attempts"] == 3
    assert "comunicast resolve" in err
    assert len(wa.corrections) == 3 and wa.delivered == 1
    [action] = actions(root)
    assert action["state"] == "unknown" and action["attempts"] == 3
    assert log(root)[0]["actions_unknown"][0]["action"] == "edit"
    # A different edit waits for the person; the same one is taken up again (idempotent).
    wa.default = Reply.ok()
    draft(root, "ponte", body=THIRD)
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 5 and doc["publications"][0]["state"] == "unknown"
    assert len(wa.corrections) == 3
    result = run(root, "resolve", "ponte", "--sender", "whatsapp", "--as", "sent")
    assert result.returncode == 0, result.stderr
    assert "edit" in result.stdout
    assert actions(root)[0]["state"] == "done"
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"whatsapp": "edited"}, err
    assert len(log(root)[0]["edits"]) == 2


def test_a_rerun_takes_up_an_edit_in_doubt(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url, timeout=1)},
                        publish={"retry_budget": 1, "max_attempts": 1})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    draft(root, "ponte", body=SECOND)
    wa.script(Reply.slow(2))
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 5
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"whatsapp": "edited"}, err
    [action] = actions(root)
    assert action["state"] == "done" and action["attempts"] == 2
    [message] = wa.messages.values()
    assert message.text.endswith(SECOND) and wa.delivered == 1


# -- refusals --------------------------------------------------------------------------------------


def test_edit_refusals_suggest_republish(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    jpeg(root / "messages" / "a.jpg")
    png(root / "messages" / "b.png")
    path = draft(root, "ponte", body=FIRST, extra="image: a.jpg\nimage_alt: Mappa")
    publish(root, str(path))
    sent = len(wa.requests)

    draft(root, "ponte", body=SECOND, extra="image: b.png\nimage_alt: Mappa")
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 1 and states(doc) == {"whatsapp": "refused"}
    assert "image changed" in doc["publications"][0]["error"]
    assert "--republish" in doc["publications"][0]["error"]

    draft(root, "ponte", body=SECOND, extra="image: a.jpg\nimage_alt: Mappa")
    code, doc, _ = publish(root, str(path), "--edit", env={"COMUNICAST_NOW": "2027-03-01T09:00"})
    assert code == 1 and "30 days" in doc["publications"][0]["error"]
    assert "--republish" in doc["publications"][0]["error"]
    assert len(wa.requests) == sent

    # Within the window, the caption of the image update is edited.
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"whatsapp": "edited"}, err


def test_edit_of_a_draft_never_published_is_refused(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 1 and "without --edit" in doc["publications"][0]["error"]
    assert wa.requests == []


def test_edit_and_republish_or_due_are_usage_errors(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    assert run(root, "publish", str(path), "--edit", "--republish").returncode == 2
    assert run(root, "publish", "--due", "--edit").returncode == 2


def test_due_never_edits_a_changed_draft(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    draft(root, "ponte", body=FIRST, extra="publish_at: 2026-12-01 08:00")
    result = run(root, "publish", "--due")
    assert result.returncode == 0 and wa.delivered == 1
    draft(root, "ponte", body=SECOND, extra="publish_at: 2026-12-01 08:00")
    result = run(root, "publish", "--due")
    assert result.returncode == 0, result.stderr
    assert wa.corrections == [] and len(wa.requests) == 1


# -- withdraw --------------------------------------------------------------------------------------


def test_withdraw_deletes_once_records_the_reason_and_a_second_is_harmless(
    tmp_path: Path, wa: FakeWaha, tg: FakeTelegram
) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url), "telegram": telegram(tg.url)})
    path = draft(root, "ponte", body=FIRST)
    code, doc, _ = publish(root, str(path))
    ids = {p["sender"]: p["remote_id"] for p in doc["publications"]}

    code, doc, err = run_json(root, "withdraw", "ponte", "--reason", "Lavori rinviati")
    assert code == 0, err
    assert states(doc) == {"whatsapp": "withdrawn", "telegram": "withdrawn"}
    [delete] = wa.corrections
    assert delete.method == "DELETE" and delete.path.endswith(ids["whatsapp"].replace("@", "%40"))
    [tg_delete] = tg.corrections
    assert tg.method_of(tg_delete) == "deleteMessage"
    assert tg_delete.json == {"chat_id": "@comunedicremona", "message_id": int(ids["telegram"])}
    assert wa.text_of(ids["whatsapp"]) is None and tg.text_of(ids["telegram"]) is None
    entries = {e["sender"]: e for e in log(root)}
    for entry in entries.values():
        assert entry["withdrawn_at"] and entry["withdraw_reason"] == "Lavori rinviati"
    assert "withdrawn" in run(root, "log").stdout

    # Withdrawing again sends nothing and exits 0.
    code, doc, err = run_json(root, "withdraw", "ponte", "--reason", "di nuovo")
    assert code == 0, err
    assert states(doc) == {"whatsapp": "skipped", "telegram": "skipped"}
    assert len(wa.corrections) == 1 and len(tg.corrections) == 1
    assert wa.problems == [] and tg.problems == []


def test_platform_not_found_on_delete_is_withdrawn(tmp_path: Path, wa: FakeWaha,
                                                   tg: FakeTelegram) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url), "telegram": telegram(tg.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    # Someone deleted both by hand already.
    for message in wa.messages.values():
        message.deleted = True
    for post in tg.posts.values():
        post.deleted = True
    code, doc, err = run_json(root, "withdraw", "ponte", "--reason", "Già cancellato")
    assert code == 0, err
    assert states(doc) == {"whatsapp": "withdrawn", "telegram": "withdrawn"}
    assert wa.corrections[0].status == 404 and tg.corrections[0].status == 400


def test_withdrawn_draft_is_published_again_only_with_republish(
    tmp_path: Path, wa: FakeWaha
) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    run_json(root, "withdraw", str(path), "--reason", "Errore nella data")
    code, doc, _ = publish(root, str(path))
    assert code == 1 and states(doc) == {"whatsapp": "refused"}
    assert "--republish" in doc["publications"][0]["error"]
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 1 and "withdrawn" in doc["publications"][0]["error"]
    assert wa.delivered == 1
    # cron never sends it again either.
    assert run(root, "publish", "--due").returncode == 0 and wa.delivered == 1

    code, doc, err = publish(root, str(path), "--republish")
    assert code == 0 and states(doc) == {"whatsapp": "sent"}, err
    assert wa.delivered == 2
    new_id = doc["publications"][0]["remote_id"]
    assert wa.text_of(new_id) is not None
    # The message sent again is live: it can be edited and withdrawn in its turn.
    [entry] = log(root)
    assert entry["withdrawn_at"] is None and entry["remote_id"] == new_id
    draft(root, "ponte", body=SECOND)
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"whatsapp": "edited"}, err
    assert wa.corrections[-1].path.endswith(new_id.replace("@", "%40"))


def test_withdraw_after_a_changed_draft_republished(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    run_json(root, "withdraw", "ponte", "--reason", "Data sbagliata")
    draft(root, "ponte", body=SECOND)
    code, doc, _ = publish(root, str(path))
    assert code == 1 and "withdrawn" in doc["publications"][0]["error"]
    code, doc, err = publish(root, str(path), "--republish")
    assert code == 0 and states(doc) == {"whatsapp": "sent"}, err
    assert wa.delivered == 2 and len(rows(root)) == 2


def test_withdraw_refusals(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    result = run(root, "withdraw", "ponte", "--reason", "x")
    assert result.returncode == 2 and "nothing to withdraw" in result.stderr
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    assert run(root, "withdraw", "ponte").returncode == 2  # --reason is required
    assert run(root, "withdraw", "ponte", "--reason", "  ").returncode == 2
    result = run(root, "withdraw", "ponte", "--reason", "x", "--to", "nessuno")
    assert result.returncode == 3
    assert wa.corrections == []


def test_withdraw_failure_is_reported_exit_4(tmp_path: Path, tg: FakeTelegram) -> None:
    root = make_project(tmp_path, {"telegram": telegram(tg.url)})
    publish(root, str(draft(root, "ponte", body=FIRST)))
    tg.script(Reply.error(400, "Bad Request: message can't be deleted"))
    code, doc, _ = run_json(root, "withdraw", "ponte", "--reason", "Troppo vecchio")
    assert code == 4 and states(doc) == {"telegram": "failed"}
    assert "can't be deleted" in doc["publications"][0]["error"]
    assert log(root)[0]["withdrawn_at"] is None


# -- outbox and console ------------------------------------------------------------------------


def test_outbox_writes_a_correction_and_a_withdrawal_file(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"archivio": {"adapter": "outbox", "path": "outbox"}})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    first = (root / "outbox" / "ponte.archivio.json").read_bytes()
    draft(root, "ponte", body=SECOND)
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"archivio": "edited"}, err
    [correction] = (root / "outbox").glob("ponte.archivio.correction.*.json")
    fields = json.loads(correction.read_text(encoding="utf-8"))
    assert fields["action"] == "edit" and fields["replaces"] == "ponte.archivio.json"
    assert fields["text"] == "*Ponte sul Po chiuso*\n\n" + SECOND
    assert (root / "outbox" / "ponte.archivio.json").read_bytes() == first

    code, doc, err = run_json(root, "withdraw", "ponte", "--reason", "Annullato")
    assert code == 0 and states(doc) == {"archivio": "withdrawn"}, err
    withdrawal = json.loads((root / "outbox" / "ponte.archivio.withdrawal.json").read_text("utf-8"))
    assert withdrawal["action"] == "withdraw" and withdrawal["reason"] == "Annullato"
    assert withdrawal["text"] == fields["text"]  # what to look for in the channel
    assert (root / "outbox" / "ponte.archivio.json").read_bytes() == first


def test_console_prints_the_correction_and_the_withdrawal(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    path = draft(root, "ponte", body=FIRST)
    run(root, "publish", str(path))
    draft(root, "ponte", body=SECOND)
    result = run(root, "publish", str(path), "--edit")
    assert result.returncode == 0, result.stderr
    assert "correction" in result.stdout and SECOND in result.stdout
    result = run(root, "withdraw", "ponte", "--reason", "Annullato")
    assert result.returncode == 0, result.stderr
    assert "withdrawal" in result.stdout and "Annullato" in result.stdout


def test_dry_run_edit_and_withdraw_send_nothing(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    path = draft(root, "ponte", body=FIRST)
    publish(root, str(path))
    draft(root, "ponte", body=SECOND)
    code, doc, _ = publish(root, str(path), "--edit", "--dry-run")
    assert code == 0 and states(doc) == {"whatsapp": "dry-run"}
    code, doc, _ = run_json(root, "withdraw", "ponte", "--reason", "x", "--dry-run")
    assert code == 0 and states(doc) == {"whatsapp": "dry-run"}
    assert wa.corrections == [] and actions(root) == []


def test_sigkill_during_an_edit_and_a_withdrawal_then_rerun(tmp_path: Path) -> None:
    from crash_support import correction_crash_trials

    report = correction_crash_trials(tmp_path, 2, seed=7)
    assert report.problems == [] and report.trials == 2 and report.new_messages == 0


def test_secrets_stay_masked_in_every_edit_and_withdrawal_error_path(tmp_path: Path) -> None:
    from test_publish_faults import CANARY_KEY, CANARY_SECRET, CANARY_TOKEN, Runs

    with FakeWaha(api_key=CANARY_KEY) as wa, FakeTelegram(token=CANARY_TOKEN) as tg, \
            FakeWebhook(secret=CANARY_SECRET) as hook:
        root = make_project(tmp_path, {
            "whatsapp": waha(wa.url, timeout=1), "telegram": telegram(tg.url, timeout=1),
            "hook": webhook(hook.url + "/hook", timeout=1),
        }, publish={"retry_budget": 4, "max_attempts": 2})
        runs = Runs(root)
        path = draft(root, "ponte", body=FIRST)
        code, _, err = runs.json("publish", str(path))
        assert code == 0, err
        draft(root, "ponte", body=SECOND)
        # Every kind of failure at once: a 500 (in doubt), a refusal quoting the request, a
        # read timeout.
        wa.default = Reply.error(500, f"internal error for key {CANARY_KEY}")
        tg.default = Reply.error(400, f"Bad Request: bot{CANARY_TOKEN} is not allowed")
        hook.default = Reply.slow(2, deliver=False)
        code, doc, _ = runs.json("publish", str(path), "--edit")
        assert code == 5
        assert states(doc) == {"whatsapp": "unknown", "telegram": "failed", "hook": "unknown"}
        runs("log")
        for sender in ("whatsapp", "hook"):
            assert runs("resolve", "ponte", "--sender", sender, "--as", "failed").returncode == 0
        code, doc, _ = runs.json("withdraw", "ponte", "--reason", "Annullato")
        assert code == 5 and set(states(doc).values()) <= {"unknown", "failed"}
        runs("--debug", "withdraw", "ponte", "--reason", "Annullato")
        runs("--debug", "publish", str(path), "--edit")
        runs.assert_no_secrets()


def test_an_edit_needs_the_approval_of_the_new_content(tmp_path: Path, wa: FakeWaha) -> None:
    root = make_project(tmp_path, {"whatsapp": waha(wa.url)})
    with (root / "comunicast.yaml").open("a", encoding="utf-8") as config:
        config.write("approval:\n  required: true\n  approvers:\n    - name: Maria Rossi\n")
    author = "author: Luca Bianchi"
    path = draft(root, "ponte", body=FIRST, extra=author)
    assert run(root, "approve", str(path), "--as", "Maria Rossi").returncode == 0
    code, doc, err = publish(root, str(path))
    assert code == 0 and states(doc) == {"whatsapp": "sent"}, err
    draft(root, "ponte", body=SECOND, extra=author)
    code, doc, _ = publish(root, str(path), "--edit")
    assert code == 1 and states(doc) == {"whatsapp": "refused"}
    assert wa.corrections == []
    assert run(root, "approve", str(path), "--as", "Maria Rossi").returncode == 0
    code, doc, err = publish(root, str(path), "--edit")
    assert code == 0 and states(doc) == {"whatsapp": "edited"}, err
