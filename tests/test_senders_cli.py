"""`comunicast senders`: configured instances, installed adapters, broken plugins listed not fatal."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from conftest import comunicast_exe
from publish_support import SECRETS_ENV, make_project, waha, webhook


def plugin_site(root: Path) -> Path:
    """A folder holding two installed distributions: a working plugin and a broken one."""
    site = root / "site"
    good = site / "cc_fax_sender-1.0.dist-info"
    good.mkdir(parents=True)
    (good / "METADATA").write_text("Metadata-Version: 2.1\nName: cc-fax-sender\nVersion: 1.0\n")
    (good / "entry_points.txt").write_text("[comunicast.senders]\nfax = cc_fax:FaxSender\n")
    (site / "cc_fax.py").write_text(textwrap.dedent('''
        from typing import ClassVar
        from comunicast.senders.base import Limits, Receipt, SenderOptions

        class FaxOptions(SenderOptions):
            number: str

        class FaxSender:
            name: ClassVar[str] = "fax"
            limits: ClassVar[Limits] = Limits(target="plain", images=False)
            Options: ClassVar[type[SenderOptions]] = FaxOptions

            def __init__(self, instance, options, config):
                self.options = options

            def send(self, message):
                return Receipt(remote_id="fax-1")

            def close(self):
                pass
    '''))
    bad = site / "cc_broken_sender-0.1.dist-info"
    bad.mkdir()
    (bad / "METADATA").write_text("Metadata-Version: 2.1\nName: cc-broken-sender\nVersion: 0.1\n")
    (bad / "entry_points.txt").write_text("[comunicast.senders]\nbroken = cc_broken:Sender\n")
    (site / "cc_broken.py").write_text("import module_that_does_not_exist\n")
    return site


def run_senders(root: Path, *args: str, env: dict[str, str] | None = None,
                site: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    full.update(env if env is not None else SECRETS_ENV)
    if site is not None:
        full["PYTHONPATH"] = str(site)
    return subprocess.run([*comunicast_exe(), "senders", *args], cwd=root, env=full,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          check=False)


def test_senders_json_lists_instances_and_builtins(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {"whatsapp": waha("http://127.0.0.1:3000", min_interval=None),
         "hook": webhook("https://hooks.comune.cremona.it/in"),
         "archivio": {"adapter": "outbox", "path": "outbox/"}},
        default=["whatsapp"],
    )
    result = run_senders(root, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    configured = {c["name"]: c for c in doc["configured"]}
    assert configured["whatsapp"]["adapter"] == "waha" and configured["whatsapp"]["ok"]
    assert configured["whatsapp"]["target"] == "whatsapp"
    assert configured["whatsapp"]["min_interval"] == 3.0  # waha's own default
    assert configured["whatsapp"]["default"] and not configured["hook"]["default"]
    assert configured["hook"]["limits"]["idempotency"] is True
    assert configured["archivio"]["target"] == "whatsapp"
    adapters = {a["name"]: a for a in doc["adapters"]}
    assert {"console", "outbox", "webhook", "waha", "telegram"} <= set(adapters)
    assert all(adapters[n]["builtin"] and adapters[n]["ok"] for n in ("console", "waha"))
    assert adapters["waha"]["distribution"] == "comunicast"


def test_missing_secret_is_shown_not_fatal_and_not_leaked(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"whatsapp": waha("http://127.0.0.1:3000"),
                                   "console": {"adapter": "console"}})
    env = {"TELEGRAM_BOT_TOKEN": "unused"}
    result = run_senders(root, "--format", "json", env=env)
    assert result.returncode == 0
    configured = {c["name"]: c for c in json.loads(result.stdout)["configured"]}
    assert not configured["whatsapp"]["ok"]
    assert "WAHA_API_KEY" in configured["whatsapp"]["error"]
    assert configured["console"]["ok"]
    text = run_senders(root, env=env)
    assert text.returncode == 0 and "WAHA_API_KEY" in text.stdout
    shown = run_senders(root, "--format", "json")
    assert SECRETS_ENV["WAHA_API_KEY"] not in shown.stdout + shown.stderr


def test_plugins_are_listed_and_a_broken_one_does_not_crash(tmp_path: Path) -> None:
    site = plugin_site(tmp_path)
    root = make_project(
        tmp_path / "p",
        {"fax": {"adapter": "fax", "number": "0372 407111"}, "rotto": {"adapter": "broken"}},
    )
    result = run_senders(root, "--format", "json", site=site)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    adapters = {a["name"]: a for a in doc["adapters"]}
    assert adapters["fax"] == {
        "name": "fax", "distribution": "cc-fax-sender", "builtin": False,
        "entry_point": "cc_fax:FaxSender", "target": "plain", "ok": True, "error": None,
    }
    assert not adapters["broken"]["ok"] and "module_that_does_not_exist" in adapters["broken"]["error"]
    assert adapters["broken"]["distribution"] == "cc-broken-sender"
    configured = {c["name"]: c for c in doc["configured"]}
    assert configured["fax"]["ok"] and configured["fax"]["target"] == "plain"
    assert not configured["rotto"]["ok"] and "cannot be loaded" in configured["rotto"]["error"]

    text = run_senders(root, site=site)
    assert text.returncode == 0 and "Traceback" not in text.stderr
    assert "broken: ModuleNotFoundError" in text.stdout and "plugin" in text.stdout


def test_a_plugin_sender_publishes_through_the_pipeline(tmp_path: Path) -> None:
    site = plugin_site(tmp_path)
    root = make_project(tmp_path / "p", {"fax": {"adapter": "fax", "number": "0372 407111"}})
    (root / "messages" / "avviso.md").write_text(
        "---\ntitle: Uffici chiusi\nkind: avviso\n---\nGli uffici restano chiusi lunedì.\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run([*comunicast_exe(), "publish", "avviso", "--format", "json"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    [pub] = json.loads(result.stdout)["publications"]
    assert (pub["sender"], pub["state"], pub["remote_id"]) == ("fax", "sent", "fax-1")


LEAKY_PLUGIN = '''
from typing import ClassVar
from pydantic import SecretStr, field_validator
from comunicast.senders.base import Limits, Receipt, SenderOptions

class LeakyOptions(SenderOptions):
    token: SecretStr
    crash_in: str = "init"

    @field_validator("token")
    @classmethod
    def _check(cls, v):
        if v.get_secret_value().startswith("bad-"):
            raise RuntimeError(f"validator choked on {v.get_secret_value()}")
        return v

class LeakySender:
    name: ClassVar[str] = "leaky"
    limits: ClassVar[Limits] = Limits(target="plain", images=False)
    Options: ClassVar[type[SenderOptions]] = LeakyOptions

    def __init__(self, instance, options, config):
        raise RuntimeError(f"cannot log in with {options.token.get_secret_value()}")

    def send(self, message):
        return Receipt(remote_id="never")

    def close(self):
        pass
'''
LEAKY_TOKEN = "leaky-plugin-secret-0123456789"


def leaky_site(root: Path) -> Path:
    """A plugin whose code puts its secret in exception messages (at build and validation)."""
    site = root / "site"
    dist = site / "cc_leaky-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cc-leaky\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[comunicast.senders]\nleaky = cc_leaky:LeakySender\n")
    (site / "cc_leaky.py").write_text(LEAKY_PLUGIN)
    return site


def test_an_adapter_that_crashes_when_built_leaks_no_secret_and_stops_nothing(
    tmp_path: Path,
) -> None:
    site = leaky_site(tmp_path)
    root = make_project(
        tmp_path / "p",
        {"leaky": {"adapter": "leaky", "token": "${LEAKY_TOKEN}"},
         "archivio": {"adapter": "outbox", "path": "outbox/"}},
        default=["leaky", "archivio"],
    )
    (root / "messages" / "avviso.md").write_text(
        "---\ntitle: Uffici chiusi\nkind: avviso\n---\nGli uffici restano chiusi lunedì.\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(PYTHONPATH=str(site), LEAKY_TOKEN=LEAKY_TOKEN)
    result = subprocess.run([*comunicast_exe(), "publish", "avviso", "--format", "json"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, check=False)
    assert LEAKY_TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.returncode == 3, result.stderr
    pubs = {p["sender"]: p for p in json.loads(result.stdout)["publications"]}
    assert pubs["leaky"]["state"] == "refused" and "RuntimeError" in pubs["leaky"]["error"]
    assert pubs["archivio"]["state"] == "sent"


def test_an_internal_error_never_prints_a_sender_secret(tmp_path: Path) -> None:
    site = leaky_site(tmp_path)
    root = make_project(tmp_path / "p", {"leaky": {"adapter": "leaky", "token": "${LEAKY_TOKEN}"}})
    (root / "messages" / "avviso.md").write_text(
        "---\ntitle: Uffici chiusi\nkind: avviso\n---\nGli uffici restano chiusi lunedì.\n",
        encoding="utf-8")
    secret = "bad-" + LEAKY_TOKEN
    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(PYTHONPATH=str(site), LEAKY_TOKEN=secret)
    result = subprocess.run([*comunicast_exe(), "publish", "avviso"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                            check=False)
    assert result.returncode == 70, result.stderr  # a bug in the plugin, reported as such
    assert "internal error: RuntimeError" in result.stderr
    assert LEAKY_TOKEN not in result.stdout + result.stderr
    listed = run_senders(root, "--format", "json", env={"LEAKY_TOKEN": secret}, site=site)
    assert listed.returncode == 0, listed.stderr
    assert LEAKY_TOKEN not in listed.stdout + listed.stderr
    [entry] = json.loads(listed.stdout)["configured"]
    assert not entry["ok"] and "RuntimeError" in entry["error"]
