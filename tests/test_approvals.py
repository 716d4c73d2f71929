"""Approvals (SPEC §8): four eyes, bound to the content, signed with real ssh-keygen keys."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from approval_support import (
    AVVISO,
    EMERGENZA,
    NOTIZIA,
    Office,
    approve_maria,
    invoke,
    invoke_json,
    make_key,
    public,
)
from conftest import run_cli

from comunicast.approvals import parse_approval, sign, statement
from comunicast.ledger import Ledger


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Real ed25519 keys, made once for the module (ssh-keygen takes a moment each)."""
    folder = tmp_path_factory.mktemp("keys")
    return make_key(folder, "maria"), make_key(folder, "luca"), make_key(folder, "stranger")


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           keys: tuple[Path, Path, Path]) -> Office:
    root = tmp_path / "office"
    (root / "messages").mkdir(parents=True)
    found = Office(root, *keys)
    found.configure()
    monkeypatch.chdir(root)
    return found


def publish(*args: str) -> tuple[int, dict[str, object], str]:
    code, doc, err = invoke_json("publish", *args, "--yes")
    return code, doc, err


def states(doc: dict[str, object]) -> list[tuple[str, str]]:
    pubs = doc["publications"]
    assert isinstance(pubs, list)
    return [(p["state"], p["error"] or "") for p in pubs]


def status_of(draft_id: str) -> dict[str, object]:
    _code, doc, _ = invoke_json("approvals")
    return next(d for d in doc["drafts"] if d["draft_id"] == draft_id)


# -- the acceptance cases ----------------------------------------------------------------------


def test_approve_then_publish_is_sent_and_the_ledger_says_under_which_approval(
    office: Office,
) -> None:
    office.draft("ponte")
    code, out, err = approve_maria(office, "ponte")
    assert code == 0, err
    assert "approved ponte" in out and "Maria Rossi" in out and "signed" in out
    [file] = office.approval_files()
    assert re.fullmatch(r"ponte\.[0-9a-f]{12}\.maria-rossi\.txt", file.name)
    text = file.read_text("utf-8")
    assert "approver: Maria Rossi" in text and "-----BEGIN SSH SIGNATURE-----" in text
    assert "# title: Ponte sul Po chiuso dal 2 al 5 dicembre" in text  # readable by people

    code, doc, err = publish("ponte")
    assert code == 0, err
    assert states(doc) == [("sent", "")]
    assert office.outbox("ponte") is not None

    code, log, _ = invoke_json("log")
    assert code == 0
    [row] = log
    assert row["approved_by"] == ["Maria Rossi"] and row["urgent_reason"] is None
    code, out, _ = invoke("log")
    assert "Maria Rossi" in out
    with Ledger.open(office.root / ".comunicast" / "ledger.sqlite3") as ledger:
        [(approver, name, signed)] = ledger.conn.execute(
            "SELECT approver, approval_file, signed FROM publication_approvals").fetchall()
    assert (approver, name, signed) == ("Maria Rossi", file.name, 1)


def test_edited_body_is_stale_refused_then_approved_again_and_sent(office: Office) -> None:
    path = office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    path.write_text(AVVISO.replace("per lavori", "per lavori urgenti"), "utf-8")

    assert status_of("ponte")["status"] == "stale"
    code, doc, _ = publish("ponte")
    assert code == 1
    [(state, error)] = states(doc)
    assert state == "refused"
    # Giulia Verdi wrote it; the others may approve. The stale file is named.
    assert "approval needed from one of: Maria Rossi, Luca Bianchi" in error
    assert "stale" in error and "approvals/ponte." in error
    assert office.outbox("ponte") is None

    assert approve_maria(office, "ponte")[0] == 0
    entry = status_of("ponte")
    assert entry["status"] == "approved" and entry["approved_by"] == ["Maria Rossi"]
    assert [a["valid"] for a in entry["approvals"]].count(True) == 1  # the old one is stale
    code, doc, _ = publish("ponte")
    assert code == 0 and states(doc) == [("sent", "")]


def test_schedule_and_routing_changes_need_no_new_approval(office: Office) -> None:
    path = office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    before = status_of("ponte")["content_revision"]
    changed = AVVISO.replace("publish_at: 2026-12-01 08:00",
                             "publish_at: 2026-12-01 10:30\nexpires_at: 2026-12-06\n"
                             "senders: [archivio]")
    path.write_text(changed.replace("author: Giulia Verdi", "author: Anna Neri"), "utf-8")
    entry = status_of("ponte")
    assert entry["content_revision"] == before and entry["status"] == "approved"
    code, doc, _ = publish("ponte")
    assert code == 0 and states(doc) == [("sent", "")]


def test_altered_approval_file_does_not_count_and_is_named(office: Office) -> None:
    office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    [file] = office.approval_files()
    text = file.read_text("utf-8")
    stamp = re.search(r"approved_at: (\S+)", text)
    assert stamp is not None
    file.write_text(text.replace(stamp.group(1), "2026-11-30T08:00:00+01:00"), "utf-8")

    entry = status_of("ponte")
    assert entry["status"] == "waiting"
    [judged] = entry["approvals"]
    assert judged["signed"] is True and judged["valid"] is False
    code, doc, _ = publish("ponte")
    [(state, error)] = states(doc)
    assert code == 1 and state == "refused"
    assert file.name in error and "signature is not Maria Rossi's" in error


def test_approval_copied_to_another_draft_does_not_count(office: Office) -> None:
    office.draft("ponte")
    office.draft("mercato", AVVISO.replace("Ponte sul Po", "Mercato").replace(
        "Il ponte sul Po", "Il mercato"))
    assert approve_maria(office, "ponte")[0] == 0
    [file] = office.approval_files()
    revision = status_of("mercato")["content_revision"]
    assert isinstance(revision, str)
    text = file.read_text("utf-8")
    old_revision = re.search(r"content_revision: (\S+)", text)
    assert old_revision is not None
    copied = text.replace("draft: ponte", "draft: mercato").replace(old_revision.group(1),
                                                                   revision)
    (file.parent / f"mercato.{revision[3:15]}.maria-rossi.txt").write_text(copied, "utf-8")

    entry = status_of("mercato")
    assert entry["status"] == "waiting"
    assert [a["valid"] for a in entry["approvals"]] == [False]
    code, doc, _ = publish("mercato")
    assert code == 1 and states(doc)[0][0] == "refused"
    assert status_of("ponte")["status"] == "approved"  # the original still counts


def test_signed_with_another_key_is_refused_and_never_counts(office: Office) -> None:
    office.draft("ponte")
    code, _, err = invoke("approve", "ponte", "--as", "Maria Rossi", "--key",
                          str(office.stranger_key))
    assert code == 1 and "is not Maria Rossi's key" in err
    assert office.approval_files() == []  # nothing written

    # The same statement signed by hand with the stranger's key, written as Maria's approval.
    revision = status_of("ponte")["content_revision"]
    assert isinstance(revision, str)
    when = "2026-12-01T07:00:00+01:00"
    signature = sign(statement("ponte", revision, "Maria Rossi", when), office.stranger_key)
    forged = (f"version: 1\ndraft: ponte\ncontent_revision: {revision}\n"
              f"approver: Maria Rossi\napproved_at: {when}\n{signature}")
    folder = office.root / "approvals"
    folder.mkdir()
    (folder / f"ponte.{revision[3:15]}.maria-rossi.txt").write_text(forged, "utf-8")
    assert status_of("ponte")["status"] == "waiting"
    code, doc, _ = publish("ponte")
    assert code == 1 and "signature is not Maria Rossi's" in states(doc)[0][1]

    # Unsigned, for an approver with a key: does not count either.
    (folder / f"ponte.{revision[3:15]}.maria-rossi.txt").write_text(
        forged.split("-----BEGIN")[0], "utf-8")
    code, doc, _ = publish("ponte")
    assert code == 1 and "not signed, but Maria Rossi has a key" in states(doc)[0][1]


def test_the_author_may_not_approve_her_own_draft(office: Office) -> None:
    office.draft("ponte", AVVISO.replace("author: Giulia Verdi", "author: Maria Rossi"))
    code, _, err = approve_maria(office, "ponte")
    assert code == 1 and "Maria Rossi wrote this draft and may not approve it" in err
    assert office.approval_files() == []
    # Luca may (no key: not signed), and then it goes out.
    code, out, err = invoke("approve", "ponte", "--as", "luca bianchi")
    assert code == 0, err
    assert "as Luca Bianchi, not signed" in out
    code, doc, _ = publish("ponte")
    assert code == 0 and states(doc) == [("sent", "")]


def test_the_author_of_the_last_commit_may_not_approve(office: Office) -> None:
    git = ["git", "-c", "user.email=l.bianchi@comune.cremona.it", "-c", "init.defaultBranch=main"]
    path = office.draft("ponte", AVVISO.replace("author: Giulia Verdi\n", ""))
    subprocess.run([*git, "init", "-q"], cwd=office.root, check=True)
    subprocess.run([*git, "add", "messages"], cwd=office.root, check=True)
    subprocess.run([*git, "-c", "user.name=Luca Bianchi", "commit", "-qm", "ponte"],
                   cwd=office.root, check=True)
    code, _, err = invoke("approve", "ponte", "--as", "Luca Bianchi")
    assert code == 1 and "Luca Bianchi wrote this draft" in err

    # An approval file Luca writes by hand does not count either, when publishing.
    assert approve_maria(office, "ponte")[0] == 0
    [maria] = office.approval_files()
    luca = maria.parent / maria.name.replace("maria-rossi", "luca-bianchi")
    luca.write_text(maria.read_text("utf-8").split("-----BEGIN")[0].replace(
        "Maria Rossi", "Luca Bianchi"), "utf-8")
    maria.unlink()
    code, doc, _ = publish("ponte")
    assert code == 1 and "Luca Bianchi wrote the draft" in states(doc)[0][1]
    [judged] = status_of("ponte")["approvals"]  # type: ignore[misc]
    assert "Luca Bianchi wrote the draft" in judged["reason"]  # one `git log` for the listing
    office.draft("altra", AVVISO.replace("author: Giulia Verdi\n", ""))  # untracked: no author
    assert invoke("approve", "altra", "--as", "Luca Bianchi")[0] == 0
    assert status_of("altra")["status"] == "approved"

    # Maria commits the next change: now she is the one who may not approve it.
    path.write_text(path.read_text("utf-8") + "\nAggiornamento.\n", "utf-8")
    subprocess.run([*git, "-c", "user.name=Maria Rossi", "commit", "-qam", "fix"],
                   cwd=office.root, check=True)
    code, _, err = approve_maria(office, "ponte")
    assert code == 1 and "Maria Rossi wrote this draft" in err


def test_an_unknown_approver_is_refused(office: Office) -> None:
    office.draft("ponte")
    code, _, err = invoke("approve", "ponte", "--as", "Mario Verdi")
    assert code == 1 and "Mario Verdi is not in approval.approvers" in err
    assert office.approval_files() == []
    # A file written by hand for him does not count.
    revision = status_of("ponte")["content_revision"]
    assert isinstance(revision, str)
    folder = office.root / "approvals"
    folder.mkdir()
    (folder / f"ponte.{revision[3:15]}.mario-verdi.txt").write_text(
        f"version: 1\ndraft: ponte\ncontent_revision: {revision}\napprover: Mario Verdi\n"
        "approved_at: 2026-12-01T07:00:00+01:00\n", "utf-8")
    code, doc, _ = publish("ponte")
    assert code == 1 and "Mario Verdi is not in approval.approvers" in states(doc)[0][1]


def test_without_as_the_git_user_name_approves(office: Office, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    office.draft("ponte")
    code, _, err = invoke("approve", "ponte")
    assert code == 2 and "--as NAME" in err  # no git user: say who approves
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Luca Bianchi\n", "utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    code, out, err = invoke("approve", "ponte")
    assert code == 0, err
    assert "as Luca Bianchi" in out


def test_kinds_not_required_publish_freely(office: Office) -> None:
    office.draft("biblioteca", NOTIZIA)
    assert status_of("biblioteca")["status"] == "not-required"
    code, doc, _ = publish("biblioteca")
    assert code == 0 and states(doc) == [("sent", "")]
    code, log, _ = invoke_json("log")
    assert log[0]["approved_by"] == [] and log[0]["urgent_reason"] is None


def test_urgent_bypass_is_recorded_and_shown(office: Office) -> None:
    office.draft("allerta", EMERGENZA)
    office.draft("ponte")
    code, doc, _ = publish("allerta")
    assert code == 1 and "approval needed" in states(doc)[0][1]

    assert invoke("publish", "ponte", "--urgent", "--reason", "x")[0] == 2  # not an emergenza
    assert invoke("publish", "allerta", "--urgent")[0] == 2  # no reason
    assert invoke("publish", "--due", "--urgent", "--reason", "x")[0] == 2

    code, doc, err = publish("allerta", "--urgent", "--reason", "piena del Po in corso")
    assert code == 0, err
    assert states(doc) == [("sent", "")]
    code, log, _ = invoke_json("log")
    [row] = log
    assert row["urgent_reason"] == "piena del Po in corso" and row["approved_by"] == []
    assert row["urgent_by"] and row["urgent_at"]
    code, out, _ = invoke("log")
    assert "piena del Po in corso" in out


def test_urgent_needs_urgent_bypass(office: Office) -> None:
    office.configure(urgent_bypass=False)
    office.draft("allerta", EMERGENZA)
    code, doc, _ = publish("allerta", "--urgent", "--reason", "piena del Po in corso")
    assert code == 1
    assert "urgent_bypass is off" in states(doc)[0][1]


def test_two_approvals_need_two_different_approvers(office: Office) -> None:
    office.configure(min_approvals=2)
    office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    assert approve_maria(office, "ponte")[0] == 0  # again: still one approver
    code, doc, _ = publish("ponte")
    assert code == 1 and "approval needed from one of: Luca Bianchi" in states(doc)[0][1]
    assert invoke("approve", "ponte", "--as", "Luca Bianchi")[0] == 0
    entry = status_of("ponte")
    assert entry["status"] == "approved"
    assert sorted(entry["approved_by"]) == ["Luca Bianchi", "Maria Rossi"]  # type: ignore[arg-type]
    code, doc, _ = publish("ponte")
    assert code == 0 and states(doc) == [("sent", "")]
    code, log, _ = invoke_json("log")
    assert sorted(log[0]["approved_by"]) == ["Luca Bianchi", "Maria Rossi"]


def test_min_approvals_above_the_approvers_is_a_config_error(office: Office) -> None:
    office.configure(min_approvals=3)
    code, _, err = invoke("approvals")
    assert code == 3 and "comunicast.yaml:" in err and "min_approvals is 3" in err


# -- what waits: check and approvals ---------------------------------------------------------


def test_check_reports_approval_missing_as_info_and_error_with_strict(office: Office) -> None:
    office.draft("ponte", AVVISO.replace("publish_at: 2026-12-01 08:00\n", ""))
    office.draft("biblioteca", NOTIZIA)
    code, doc, _ = invoke_json("check")
    assert code == 0
    findings = {f["path"]: f["findings"] for f in doc["files"]}
    [missing] = [f for f in findings["messages/ponte.md"] if f["rule"] == "approval.missing"]
    assert missing["severity"] == "info" and missing["line"] == 3
    assert "Maria Rossi, Luca Bianchi" in missing["message"]
    assert not [f for f in findings["messages/biblioteca.md"] if f["rule"] == "approval.missing"]
    code, doc, _ = invoke_json("check", "--strict")
    assert code == 1
    assert any(f["rule"] == "approval.missing" and f["severity"] == "error"
               for f in doc["files"][1]["findings"])
    assert approve_maria(office, "ponte")[0] == 0
    code, doc, _ = invoke_json("check")
    assert not any(f["rule"] == "approval.missing" for x in doc["files"] for f in x["findings"])


def test_approvals_lists_waiting_approved_stale_and_not_required(office: Office) -> None:
    office.draft("a-attesa")
    office.draft("b-approvata", AVVISO.replace("Ponte", "Strada"))
    office.draft("c-vecchia", AVVISO.replace("Ponte", "Piazza"))
    office.draft("d-notizia", NOTIZIA)
    assert approve_maria(office, "b-approvata", "c-vecchia")[0] == 0
    (office.root / "messages" / "c-vecchia.md").write_text(
        AVVISO.replace("Ponte", "Piazza").replace("dicembre", "gennaio"), "utf-8")
    code, doc, _ = invoke_json("approvals")
    assert code == 0 and doc["version"] == 1 and doc["errors"] == []
    got = {d["draft_id"]: d for d in doc["drafts"]}
    assert {k: v["status"] for k, v in got.items()} == {
        "a-attesa": "waiting", "b-approvata": "approved", "c-vecchia": "stale",
        "d-notizia": "not-required"}
    [entry] = got["b-approvata"]["approvals"]
    assert set(entry) >= {"approver", "revision", "signed", "valid", "file"}
    assert entry["file"].startswith("approvals/b-approvata.") and entry["signed"] is True
    assert entry["revision"] == got["b-approvata"]["content_revision"]
    code, out, _ = invoke("approvals")
    assert code == 0
    lines = dict(line.split("\t", 1) for line in out.strip().splitlines())
    assert lines["a-attesa"].startswith("waiting") and lines["c-vecchia"].startswith("stale")


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", 1, "binary data"),
        (b"just some words\n", 1, "not an approval line"),
        (b"version: 1\ndraft: ponte\ncolour: red\n", 3, "unknown field 'colour'"),
        (b"version: 1\ndraft: ponte\n", 2, "missing 'content_revision:'"),
        (b"\xff\xfe\xfa", 1, "not UTF-8"),
    ],
)
def test_a_broken_file_in_approvals_is_named_with_its_line_and_never_counts(
    office: Office, content: bytes, line: int, message: str,
) -> None:
    office.draft("ponte")
    folder = office.root / "approvals"
    folder.mkdir()
    bad = folder / "ponte.0123456789ab.luca-bianchi.txt"
    bad.write_bytes(content)
    code, doc, err = invoke_json("approvals")
    assert code == 1
    assert f"approvals/{bad.name}:{line}: " in err and message in err
    assert doc["drafts"][0]["status"] == "waiting"
    code, pub, _ = publish("ponte")
    [(state, error)] = states(pub)
    assert code == 1 and state == "refused" and f"{bad.name}:{line}" in error


def test_a_truncated_approval_is_named_and_never_counts(office: Office) -> None:
    office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    [file] = office.approval_files()
    data = file.read_bytes()
    file.write_bytes(data[: data.index(b"-----END")])  # cut inside the signature
    code, _, err = invoke("approvals")
    assert code == 1 and f"{file.name}:8: " in err and "cut short" in err
    code, doc, _ = publish("ponte")
    assert code == 1 and "cut short" in states(doc)[0][1]
    file.write_bytes(data[:60])  # cut in the fields
    code, _, err = invoke("approvals")
    assert code == 1 and "missing" in err


def test_a_broken_key_in_the_config_names_file_and_line(office: Office) -> None:
    good = public(office.maria_key)
    for broken in (good[:40], good.replace("AAAA", "AAAB", 1), "ssh-ed25519 not-base64!",
                   "maria's key"):
        office.configure(approvers=[{"name": "Maria Rossi", "key": broken}])
        code, _, err = invoke("approvals")
        assert code == 3, err
        assert re.search(r"comunicast\.yaml:\d+:\d+: 'approval\.approvers\[0\]\.key'", err), err
        code, _, err = invoke("publish", "--due")
        assert code == 3


def test_unknown_field_in_the_approval_config_is_a_config_error(office: Office) -> None:
    office.configure(aprovers=[])
    code, _, err = invoke("approvals")
    assert code == 3 and "unknown key 'approval.aprovers'" in err


def test_parse_keeps_only_well_formed_approvals(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    good = (b"version: 1\ndraft: ponte\ncontent_revision: v1:" + b"a" * 64 +
            b"\napprover: Maria  Rossi\napproved_at: 2026-12-01T08:00:00+01:00\n")
    approval = parse_approval(path, good)
    assert approval.approver == "Maria Rossi" and not approval.signed
    assert approval.statement == ("comunicast-approval v1 ponte v1:" + "a" * 64 +
                                  " Maria Rossi 2026-12-01T08:00:00+01:00")
    from comunicast.approvals import BadApprovalFileError

    for broken in (good.replace(b"+01:00", b""), good.replace(b"v1:a", b"v2:a"),
                   good + b"version: 1\n", good.replace(b"draft: ponte", b"draft: ../x")):
        with pytest.raises(BadApprovalFileError):
            parse_approval(path, broken)


# -- ssh-keygen ------------------------------------------------------------------------------


def test_without_ssh_keygen_while_keys_are_configured_exit_3(office: Office,
                                                             tmp_path: Path) -> None:
    office.draft("ponte")
    assert approve_maria(office, "ponte")[0] == 0
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty), "HOME": os.environ["HOME"], "COMUNICAST_LANG": "en"}
    for args in (["publish", "ponte", "--yes"], ["approvals"],
                 ["approve", "ponte", "--as", "Maria Rossi", "--key", str(office.maria_key)]):
        done = run_cli(args, office.root, env=env)
        assert done.returncode == 3, (args, done.stderr)
        assert "ssh-keygen" in done.stderr and "openssh-client" in done.stderr
        assert "Traceback" not in done.stderr
    assert len(office.approval_files()) == 1
    assert office.outbox("ponte") is None


# -- the content revision ------------------------------------------------------------------


def _revision_of(tmp_path: Path, text: str, image: bytes | None = None) -> str:
    from comunicast.approvals import content_revision_of
    from comunicast.drafts import load_draft

    folder = tmp_path / "rev"
    folder.mkdir(exist_ok=True)
    if image is not None:
        (folder / "foto.png").write_bytes(image)
    path = folder / "d.md"
    path.write_text(text, "utf-8")
    from zoneinfo import ZoneInfo

    return content_revision_of(load_draft(path, ZoneInfo("Europe/Rome")))


def test_content_revision_covers_what_followers_see_and_nothing_else(tmp_path: Path) -> None:
    base = ("---\ntitle: Festa in piazza\nkind: evento\nstarts_at: 2026-12-08 17:00\n"
            "where: Piazza del Comune\nimage: foto.png\nimage_alt: Il palco\n"
            "publish_at: 2026-12-01 08:00\n---\nVieni alla festa in piazza.\n")
    first = _revision_of(tmp_path, base, b"\x89PNG one")
    assert re.fullmatch(r"v1:[0-9a-f]{64}", first)
    same = [
        base.replace("publish_at: 2026-12-01 08:00", "publish_at: 2026-12-02 09:00"),
        base.replace("publish_at: 2026-12-01 08:00\n", "expires_at: 2026-12-09\n"),
        base.replace("image_alt: Il palco\n", "image_alt: Il palco\nsenders: [archivio]\n"),
        base.replace("image_alt: Il palco\n", "image_alt: Il palco\nauthor: Anna Neri\n"),
        base.replace("image_alt: Il palco\n", "image_alt: Il palco\nid: festa\n"),
        # The same instant written with its offset.
        base.replace("starts_at: 2026-12-08 17:00", "starts_at: 2026-12-08T16:00:00+00:00"),
        base.replace("title: Festa in piazza", "title:   Festa in piazza  "),
    ]
    for text in same:
        assert _revision_of(tmp_path, text, b"\x89PNG one") == first, text
    different = [
        base.replace("title: Festa in piazza", "title: Festa grande in piazza"),
        base.replace("Vieni alla festa", "Vieni tutti alla festa"),
        base.replace("starts_at: 2026-12-08 17:00", "starts_at: 2026-12-08 18:00"),
        base.replace("where: Piazza del Comune", "where: Piazza Stradivari"),
        base.replace("image_alt: Il palco", "image_alt: Il palco della festa"),
        base.replace("kind: evento", "kind: evento\nends_at: 2026-12-08 23:00"),
    ]
    seen = {first}
    for text in different:
        revision = _revision_of(tmp_path, text, b"\x89PNG one")
        assert revision not in seen, text
        seen.add(revision)
    assert _revision_of(tmp_path, base, b"\x89PNG two") not in seen  # the image's bytes


def test_record_approvals_is_idempotent_and_log_reads_old_ledgers(tmp_path: Path) -> None:
    from comunicast.ledger import MIGRATIONS

    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path, migrations=MIGRATIONS[:3]) as old:
        claim = old.claim("ponte", "archivio", "v1:aa", pid=1)
        assert claim.publication is not None
        assert old.approvals_of([claim.publication.id]) == {}  # before 0004: nothing, no error
    with Ledger.open(path) as ledger:
        assert "0004_approvals" in ledger.applied_migrations()
        pub_id = ledger.publications()[0].id
        for _ in range(2):  # a retried claim records the same approval once
            ledger.record_approvals(pub_id, "v1:cc", [("Maria Rossi", "f.txt", True, "t")],
                                    ("piena", "mrossi"))
        found = ledger.approvals_of([pub_id])[pub_id]
        assert found["approved_by"] == ["Maria Rossi"] and found["urgent_reason"] == "piena"
        assert found["urgent_by"] == "mrossi"


# -- keys and all-or-nothing -----------------------------------------------------------------


def test_approve_finds_the_approvers_key_in_home_ssh(office: Office) -> None:
    office.draft("ponte")
    code, _, err = invoke("approve", "ponte", "--as", "Maria Rossi")
    assert code == 1 and "pass --key" in err  # no key of hers in ~/.ssh
    ssh = Path(os.environ["HOME"]) / ".ssh"
    ssh.mkdir(parents=True)
    import shutil

    shutil.copy(office.luca_key, ssh / "id_ecdsa")  # someone else's key is not taken
    shutil.copy(f"{office.luca_key}.pub", ssh / "id_ecdsa.pub")
    shutil.copy(office.maria_key, ssh / "id_ed25519")
    shutil.copy(f"{office.maria_key}.pub", ssh / "id_ed25519.pub")
    code, out, err = invoke("approve", "ponte", "--as", "Maria Rossi")
    assert code == 0, err
    assert "signed" in out and status_of("ponte")["status"] == "approved"


def test_key_options_that_cannot_work_are_refused(office: Office, tmp_path: Path) -> None:
    office.draft("ponte")
    code, _, err = invoke("approve", "ponte", "--as", "Maria Rossi", "--key",
                          str(tmp_path / "missing"))
    assert code == 3 and "does not exist" in err
    code, _, err = invoke("approve", "ponte", "--as", "Luca Bianchi", "--key",
                          str(office.luca_key))
    assert code == 1 and "Luca Bianchi has no key in approval.approvers" in err
    assert office.approval_files() == []


def test_a_refusal_for_one_draft_writes_nothing_for_any(office: Office) -> None:
    office.draft("ponte")
    office.draft("sua", AVVISO.replace("author: Giulia Verdi", "author: Maria Rossi"))
    code, _, err = approve_maria(office, "ponte", "sua")
    assert code == 1 and "sua.md: Maria Rossi wrote this draft" in err
    assert office.approval_files() == []
    code, _, err = approve_maria(office, "messages/")  # a folder: every draft in it
    assert code == 1 and office.approval_files() == []


def test_drafts_that_do_not_load_are_never_approved(office: Office) -> None:
    (office.root / "messages" / "rotta.md").write_text("---\ntitle: x\n", "utf-8")
    code, _, err = approve_maria(office, "messages/rotta.md")
    assert code == 1 and "rotta.md" in err and "nothing approved" in err
    assert office.approval_files() == []


def test_approval_files_are_plain_text_people_can_read(office: Office) -> None:
    office.draft("ponte")
    assert invoke("approve", "ponte", "--as", "Luca Bianchi")[0] == 0
    [file] = office.approval_files()
    lines = file.read_text("utf-8").splitlines()
    assert lines[2:] == [
        "version: 1", "draft: ponte",
        f"content_revision: {status_of('ponte')['content_revision']}",
        "approver: Luca Bianchi", lines[6]]
    assert re.fullmatch(r"approved_at: 2\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", lines[6])
    assert not list(file.parent.glob(".*"))  # no temporary file left behind


def test_listings_remember_signature_checks_but_publish_always_asks_ssh_keygen(
    office: Office,
) -> None:
    office.draft("ponte")
    revision = status_of("ponte")["content_revision"]
    assert isinstance(revision, str)
    when = "2026-12-01T07:00:00+01:00"
    signature = sign(statement("ponte", revision, "Maria Rossi", when), office.stranger_key)
    folder = office.root / "approvals"
    folder.mkdir()
    (folder / f"ponte.{revision[3:15]}.maria-rossi.txt").write_text(
        f"version: 1\ndraft: ponte\ncontent_revision: {revision}\napprover: Maria Rossi\n"
        f"approved_at: {when}\n{signature}", "utf-8")
    assert status_of("ponte")["status"] == "waiting"
    ledger_path = office.root / ".comunicast" / "ledger.sqlite3"
    with Ledger.open(ledger_path) as ledger:
        [(ok,)] = ledger.conn.execute("SELECT ok FROM approval_checks").fetchall()
        assert ok == 0
        # Someone who can write the ledger marks the forgery as good: the listing believes
        # its cache, publishing does not.
        ledger.conn.execute("UPDATE approval_checks SET ok = 1")
    assert status_of("ponte")["status"] == "approved"
    code, doc, _ = publish("ponte")
    assert code == 1 and "signature is not Maria Rossi's" in states(doc)[0][1]
    assert office.outbox("ponte") is None
