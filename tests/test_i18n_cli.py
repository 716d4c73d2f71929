"""SPEC §7 end to end: the installed `comunicast` in both languages, in subprocesses.

Each scenario runs once with `language: it` and once with `language: en`. The Italian output must
hold no English sentence: once paths, URLs, e-mail addresses, rule ids, option names, metavars
and code in backticks are removed, none of the English function words below may be left. The same
check run on the English output must find them, so every scenario proves it can fail.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_cli, write

from comunicast.cli.app import COMMANDS

NOW = "2026-11-30T09:00:00"

#: Words of English that are not Italian words (so "a", "in", "no", "non" and "per" are out).
ENGLISH = frozenset(
    ["the", "is", "are", "not", "with", "of", "to", "and", "for", "was", "were", "this", "that", "these", "those", "your", "you", "found", "has", "have", "had", "been", "be", "by", "from", "its", "will", "would", "must", "should", "cannot", "can", "does", "do", "did", "than", "which", "there", "into", "only", "already", "on", "at", "as", "if", "or", "an", "when", "where", "what", "while", "who", "how", "why", "please", "try", "missing", "invalid", "unknown", "no-such", "such", "option", "options", "usage", "show", "message", "exit", "error", "warning", "hint", "suggestion", "checked", "problems", "files", "file's", "draft", "drafts", "sender", "senders", "sent", "skipped", "refused", "failed", "published", "publish", "nothing", "yet", "here", "it's", "doesn't", "isn't", "can't", "won't", "don't", "characters", "configured", "installed", "adapters", "default", "built", "send", "wrote", "scans", "about", "printed", "code"]
)

_STRIP = (
    re.compile(r"https?://\S+"),  # URLs
    re.compile(r"\S+@\S+"),  # e-mail addresses, chat ids
    re.compile(r"`[^`]*`"),  # code: commands, fields, examples
    re.compile(r"--[\w-]+(?:(?:\s+|=)(?:[a-z]+(?:\|[a-z]+)*|[A-Z]+)(?!\w))?"),  # options, values
    re.compile(r"^ {2}[a-z_]+(?=(?:\.\.\.)? <)", re.MULTILINE),  # argument names in --help
    re.compile(r"<[^>\n]*>"),  # metavars: <path>, <text|json|github>
    re.compile(r"\{[\w-]+\}"),  # metavars: {draft}
    re.compile(r"\[[a-z]+\]\.\.\.|\b[a-z]+\.\.\."),  # argument metavars: [paths]..., drafts...
    re.compile(r"\b[a-z_]+(?:\.[a-z_-]+)+\b"),  # rule ids, config keys, file names, hosts
    re.compile(r"\S*/\S*"),  # paths
    re.compile(r"\b[A-Z][A-Z_]{2,}\b"),  # DRAFT, NAME, COMUNICAST_NOW
)


def _keys(model: type, found: set[str]) -> set[str]:
    """Every key of comunicast.yaml and of a draft: names the messages quote, never translated."""
    for name, field in getattr(model, "model_fields", {}).items():
        found.add(field.alias or name)
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if hasattr(arg, "model_fields") and arg is not model:
                _keys(arg, found)
    return found


def _key_pattern() -> re.Pattern[str]:
    from comunicast.config import Config
    from comunicast.drafts import DraftFields

    keys = _keys(Config, set()) | _keys(DraftFields, set())
    return re.compile(r"(?<![\w.])(?:" + "|".join(sorted(keys, key=len, reverse=True)) + r")(?![\w.])")


KEYS = _key_pattern()


def english_words(text: str) -> list[str]:
    """The English function words left in `text` once the untranslatable parts are removed."""
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    text = KEYS.sub(" ", text)
    return sorted({w for w in re.findall(r"[A-Za-z']+", text.lower()) if w in ENGLISH})


def test_the_detector_sees_english_and_spares_italian() -> None:
    assert english_words("error: the draft is not valid") == ["draft", "error", "is", "not", "the"]
    assert english_words("errore: la bozza non è valida; usa --format json per il file a.md") == []
    assert english_words("links.scheme at https://x.it/the/is/not `check the draft`") == ["at"]
    assert english_words("chiavi ammesse: title, kind, where, senders, publish_at") == []


# -- the project ----------------------------------------------------------------------------------

CONFIG = """\
organization:
  name: Comune di Cremona
  website: https://www.comune.cremona.it
channel:
  invite_url: https://whatsapp.com/channel/0029VaTestTestTestTest00
timezone: Europe/Rome
language: {language}
links:
  allowed_domains: [comune.cremona.it, cremona.it]
privacy:
  allow: ["0372 407111", "urp@comune.cremona.it"]
senders:
  archivio:
    adapter: outbox
    path: outbox/
default_senders: [archivio]
"""

GOOD = """\
---
title: Ponte sul Po chiuso dal 2 al 5 dicembre
kind: avviso
publish_at: 2026-12-01 08:00
---
Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori.

Percorsi alternativi: https://www.comune.cremona.it/viabilita
"""

#: One draft, many findings: nearly every rule family speaks.
BAD = """\
---
title: ATTENZIONE CHIUSURA TOTALE DEL PONTE SUL PO PER LAVORI URGENTI DI MANUTENZIONE STRAORDINARIA
kind: evento
starts_at: 2026-11-20 17:00
ends_at: 2026-11-21 18:00
publish_at: 2026-11-29 08:00
image: manca.jpg
---
## Avviso

AI SENSI DEL REGOLAMENTO COMUNALE IL PONTE RESTA CHIUSO PER TUTTI.

Per informazioni chiama il 333 1234567 o scrivi a mario.rossi@gmail.com, codice fiscale
RSSMRA85T10A562S, IBAN IT60X0542811101000000123456.

[clicca qui](http://www.comune.cremona.it/a) oppure https://bit.ly/abc e https://192.168.1.1/x,
https://www.esempio.it/b e *importante* per tutti.
"""


def make_project(root: Path, language: str) -> Path:
    write(root / "comunicast.yaml", CONFIG.format(language=language))
    write(root / "messages" / "ponte.md", GOOD)
    return root


def env_for(language: str | None) -> dict[str, str]:
    """The environment agrees with the configuration, as an office's machine would.

    An empty variable counts as unset (COMUNICAST_LANG=en comes from the autouse fixture).
    """
    locale = {"it": "it_IT.UTF-8", "en": "en_GB.UTF-8", None: "C.UTF-8"}[language]
    return {"COMUNICAST_NOW": NOW, "COMUNICAST_LANG": "", "LANG": locale, "LC_ALL": "",
            "LC_MESSAGES": ""}


def run(root: Path, language: str, *args: str) -> tuple[int, str]:
    result = run_cli(list(args), root, env=env_for(language))
    return result.returncode, result.stdout + result.stderr


# -- scenarios: (what it prepares) → the command to run ------------------------------------------

Scenario = Callable[[Path], list[str]]


def _broken(text: str) -> Scenario:
    def prepare(root: Path) -> list[str]:
        language = "en" if "language: en" in (root / "comunicast.yaml").read_text() else "it"
        (root / "comunicast.yaml").write_text(
            text.replace("{language}", language), encoding="utf-8"
        )
        return ["check"]

    return prepare


def _draft(name: str, text: str, *args: str) -> Scenario:
    def prepare(root: Path) -> list[str]:
        (root / "messages" / name).write_text(text, encoding="utf-8")
        return [a.replace("{draft}", f"messages/{name}") for a in args]

    return prepare


def _published_then(*args: str, edit: bool = False) -> Scenario:
    def prepare(root: Path) -> list[str]:
        done = run_cli(["publish", "messages/ponte.md"], root, env={"COMUNICAST_NOW": NOW})
        assert done.returncode == 0, done.stdout + done.stderr
        if edit:
            path = root / "messages" / "ponte.md"
            path.write_text(path.read_text("utf-8").replace("lavori", "lavori urgenti"), "utf-8")
        return list(args)

    return prepare


def _plain(*args: str) -> Scenario:
    return lambda root: list(args)


SCENARIOS: dict[str, Scenario] = {
    "config: unknown key": _broken(CONFIG.replace("timezone:", "colour: blu\ntimezone:")),
    "config: broken YAML": _broken(CONFIG.replace("channel:\n", "channel:\n\tname: x\n")),
    "config: a colon in a value": _broken(CONFIG + "poster:\n  title: Segui: il Comune\n"),
    "config: wrong types": _broken(
        CONFIG.replace("Europe/Rome", "Europe/Cremona")
        + "publish:\n  max_attempts: tante\n  retry_budget: -1\nrender:\n  title: forse\n"
    ),
    "config: missing keys": _broken("language: {language}\norganization: {}\n"),
    "config: bad rule option": _broken(CONFIG + "rules:\n  links.count: {max: molti}\n  links.nope: off\n"),
    "config: none here": lambda root: (root / "comunicast.yaml").unlink() or ["check"],
    "draft: no front matter": _draft("rotto.md", "Solo testo, senza intestazione.\n", "check"),
    "draft: broken fields": _draft(
        "campi.md", "---\ntitle: Mercato\nkind: fiera\ncolour: blu\npublish_at: domani\n---\nTesto.\n",
        "check",
    ),
    "draft: scadenza without deadline": _draft(
        "tari.md", "---\ntitle: TARI\nkind: scadenza\n---\nPaga la TARI.\n", "check"
    ),
    "draft: binary": _draft("foto.md", "\x00\x01\x02PNG", "check"),
    "check: findings": _draft("cattivo.md", BAD, "check"),
    "check: findings, strict": _draft("cattivo.md", BAD, "check", "--strict", "{draft}"),
    "check: clean": _plain("check"),
    "preview": _plain("preview", "messages/ponte.md", "--target", "whatsapp"),
    "preview: a folder": _plain("preview", "messages"),
    "publish: sent": _plain("publish", "messages/ponte.md"),
    "publish: dry run": _plain("publish", "messages/ponte.md", "--dry-run"),
    "publish: skipped": _published_then("publish", "messages/ponte.md"),
    "publish: refused, another revision": _published_then(
        "publish", "messages/ponte.md", edit=True
    ),
    "publish: refused, errors": _draft("cattivo.md", BAD, "publish", "{draft}"),
    "publish: unknown sender": _plain("publish", "messages/ponte.md", "--to", "telegram"),
    "publish: no draft": _plain("publish", "messages/nessuna.md"),
    "publish: nothing named": _plain("publish"),
    "log": _published_then("log"),
    "log: empty": _plain("log"),
    "resolve: nothing published": _plain("resolve", "ponte", "--sender", "archivio", "--as", "sent"),
    # (--as sent on an outbox publication records the paste: --as failed has nothing to settle)
    "resolve: nothing to resolve": _published_then(
        "resolve", "ponte", "--sender", "archivio", "--as", "failed"
    ),
    "qr: --paper without --out": _plain("qr", "--paper", "a3"),
    "qr: bad extension": _plain("qr", "--out", "manifesto.gif"),
    "qr: poster written": _plain("qr", "--out", "manifesto.png", "--paper", "a5"),
    "senders": _plain("senders"),
    "new: bad kind": _plain("new", "Mercato di Natale", "--kind", "fiera"),
    "new: bad date": _plain("new", "Mercato di Natale", "--at", "domani"),
    "init: files exist": _plain("init", "."),
    "usage: no such option": _plain("check", "--bogus"),
    "usage: no such command": _plain("chek"),
    "usage: bad choice": _plain("check", "--format", "xml"),
    "usage: not a number": _plain("log", "--limit", "tanti"),
    "usage: missing argument": _plain("resolve"),
    "usage: missing option": _plain("resolve", "ponte"),
    "usage: option without value": _plain("log", "--limit"),
    "usage: extra argument": _plain("schema", "config", "draft"),
    "usage: no command": _plain(),
    "help": _plain("--help"),
    **{f"help: {name}": _plain(name, "--help") for name in COMMANDS},
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_italian_output_has_no_english_and_english_has(tmp_path: Path, name: str) -> None:
    outputs = {}
    for language in ("it", "en"):
        root = make_project(tmp_path / language, language)
        args = SCENARIOS[name](root)
        code, text = run(root, language, *args)
        for word in (*args, *COMMANDS):  # the user's own words as typed; command names
            if not word.startswith("-"):
                text = re.sub(rf"(?<![\w./-]){re.escape(word)}(?![\w./-])", " ", text)
        assert "Traceback" not in text, text
        outputs[language] = (code, text)
    (code_it, italian), (code_en, english) = outputs["it"], outputs["en"]
    assert code_it == code_en, (italian, english)
    assert italian.strip(), "no output to judge"
    assert english_words(italian) == [], italian
    assert english_words(english), f"the check would not notice English here:\n{english}"


def test_italian_words_are_the_glossary_s() -> None:
    """A few words of docs/glossario.md, as the office reads them."""
    root = Path(__file__).resolve().parent.parent
    glossary = (root / "docs" / "glossario.md").read_text("utf-8")
    for english, italian in (("draft", "bozza"), ("sender", "canale di invio"),
                             ("ledger", "registro"), ("finding", "segnalazione")):
        assert f"| {english} | {italian} |" in glossary


# -- the same JSON in both languages, but for the human texts --------------------------------------

HUMAN = {"message", "suggestion", "error"}


def _without_human_text(value: object) -> object:
    if isinstance(value, dict):
        return {k: (None if k in HUMAN and v is not None else _without_human_text(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_without_human_text(v) for v in value]
    return value


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "json"],
        ["publish", "messages/", "--format", "json"],
        ["publish", "messages/", "--dry-run", "--format", "json"],
    ],
)
def test_json_is_the_same_in_both_languages_but_for_human_texts(
    tmp_path: Path, args: list[str]
) -> None:
    docs = {}
    for language in ("it", "en"):
        root = make_project(tmp_path / "p", language) if language == "it" else tmp_path / "p"
        if language == "en":
            (root / "comunicast.yaml").write_text(CONFIG.format(language="en"), "utf-8")
            shutil.rmtree(root / ".comunicast", ignore_errors=True)
            shutil.rmtree(root / "outbox", ignore_errors=True)
        write(root / "messages" / "cattivo.md", BAD)
        result = run_cli(args, root, env=env_for(None))
        assert result.returncode == 1, result.stdout + result.stderr
        docs[language] = json.loads(result.stdout)
    assert _without_human_text(docs["it"]) == _without_human_text(docs["en"])
    assert json.dumps(docs["it"], ensure_ascii=False) != json.dumps(docs["en"], ensure_ascii=False)
    italian_texts = [
        v for k, v in _human_texts(docs["it"]) if k in HUMAN
    ]
    assert italian_texts and all(english_words(t) == [] for t in italian_texts), italian_texts


def _human_texts(value: object) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                found.append((k, v))
            else:
                found += _human_texts(v)
    elif isinstance(value, list):
        for v in value:
            found += _human_texts(v)
    return found
