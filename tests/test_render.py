"""Renderers beyond the golden cases: lengths, URL survival, WhatsApp literal markers, speed."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
import yaml

from comunicast.render import (
    TARGETS,
    WORD_JOINER,
    find_urls,
    render,
    telegram_visible,
    text_length,
    visible_text,
)

GOLDEN = Path(__file__).parent / "golden" / "render" / "cases.yaml"


# -- text_length -----------------------------------------------------------------------------


def test_length_counts_code_points_on_whatsapp_and_plain() -> None:
    text = "Città 🇮🇹 👨\u200d👩\u200d👧 «ok» …"
    # 5 + 1 + 🇮🇹 2 + 1 + family 5 (three people, two joiners) + 1 + 4 + 1 + 1
    assert text_length(text, "whatsapp") == len(text) == 21
    assert text_length(text, "plain") == 21


def test_length_counts_utf16_units_of_visible_text_on_telegram() -> None:
    html = '<b>Città</b> 🇮🇹 &lt;&amp;&gt;&quot; <a href="https://x.it/a?b=1&amp;c=2">x</a> 👍🏽'
    visible = 'Città 🇮🇹 <&>" x 👍🏽'
    assert telegram_visible(html) == visible
    # Città 5, 🇮🇹 4 units (two astral code points), <&>" 4, x 1, 👍🏽 4, five spaces.
    assert text_length(html, "telegram") == len(visible.encode("utf-16-le")) // 2 == 22


def test_telegram_length_decodes_numeric_entities() -> None:
    assert telegram_visible("&#8364; &#x1F600;") == "€ 😀"
    assert text_length("&#x1F600;", "telegram") == 2


def test_telegram_length_of_a_rendered_message_matches_its_plain_text() -> None:
    body = "Il **ponte** <chiuso> & [link](https://x.it/a?b=1&c=2) 🚧\n\n- uno\n- due"
    tg = render(body, title="Titolo & co.", target="telegram")
    assert text_length(tg, "telegram") == len(telegram_visible(tg).encode("utf-16-le")) // 2
    assert "<" not in telegram_visible(tg).replace("<chiuso>", "")


def test_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown render target"):
        render("x", title=None, target="sms")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown render target"):
        text_length("x", "sms")  # type: ignore[arg-type]


# -- bare URLs survive ------------------------------------------------------------------------

_URL_CHARS = "abcxyz019-._~*/"


def _random_url(rng: random.Random) -> str:
    host = rng.choice(
        ["www.comune.cremona.it", "x.it", "servizi.cremona.it", "sub-dom.example.org"]
    )
    segments = []
    for _ in range(rng.randint(1, 4)):
        segment = "".join(rng.choice(_URL_CHARS + "_*~") for _ in range(rng.randint(1, 8)))
        segments.append(segment)
    path = "/".join(segments)
    # A URL ends with a letter, digit or slash, as real ones do; markers inside are fair game.
    tail = rng.choice(["", "/", "a", "7", "_x", "*y", "~z", "?q=a_b&r=*s*", "#sez_2"])
    return f"{rng.choice(['https', 'http'])}://{host}/{path}{tail}"


_CONTEXTS = [
    "{u}",
    "Vedi {u}",
    "Vedi {u}.",
    "Info: {u}, grazie",
    "({u})",
    "«{u}»",
    "> {u}",
    "- {u}\n- altro",
    "1. {u}",
    "Riga\n{u}\naltra",
    "**Iscriviti: {u} ora**",
    "_Dettagli_ {u} *qui*",
    "Prima {u} e poi {u}",
]


def _visible(rendered: str, target: str) -> str:
    if target == "telegram":
        return telegram_visible(rendered)
    return rendered


@pytest.mark.parametrize("seed", range(8))
def test_bare_urls_survive_intact_in_every_target(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        url = _random_url(rng)
        trimmed = next(iter(find_urls(url)))[2]
        if trimmed != url:
            continue  # the generator made a URL ending in sentence punctuation
        context = rng.choice(_CONTEXTS)
        if "**" in context and "*" in url:
            continue  # `**…*x**` is genuinely ambiguous
        body = context.format(u=url)
        for target in TARGETS:
            rendered = render(body, title=None, target=target)
            visible = _visible(rendered, target)
            # Whole and delimited: not glued to a marker, word joiner or other character.
            pattern = rf"(?<![^\s(«:]){re.escape(url)}(?![^\s).,»:])"
            assert re.search(pattern, visible), (target, body, rendered)


def test_markdown_link_urls_survive_in_every_target() -> None:
    url = "https://www.comune.cremona.it/a_b_c/*x*/~u?k=v_w&z=1"
    body = f"Leggi [il bando_2026]({url}) e <{url}>"
    assert render(body, title=None, target="whatsapp").count(url) == 2
    assert render(body, title=None, target="plain").count(url) == 2
    telegram = render(body, title=None, target="telegram")
    assert telegram.count('href="' + url.replace("&", "&amp;") + '"') == 2


def test_find_urls_trims_sentence_punctuation() -> None:
    text = "Vai su https://x.it/a_b. Oppure (https://x.it/c) o «https://x.it/d»; https://x.it/(e)"
    assert [url for _s, _e, url in find_urls(text)] == [
        "https://x.it/a_b",
        "https://x.it/c",
        "https://x.it/d",
        "https://x.it/(e)",
    ]
    assert list(find_urls("nohttps://x.it e https:// e https://.")) == []
    start, end, url = next(iter(find_urls("→ https://x.it/è")))
    assert (start, end, url) == (2, 16, "https://x.it/è")


# -- WhatsApp literal markers ----------------------------------------------------------------


def _whatsapp_pairs(text: str) -> list[str]:
    """Spans WhatsApp would format, under the model documented in `render.targets`."""

    def boundary(ch: str) -> bool:
        return not ch or ch.isspace() or not (ch.isalnum() or ch == WORD_JOINER)

    found = []
    for line in text.split("\n"):
        for mark in "*_~`":
            opener = None
            for k, ch in enumerate(line):
                if ch != mark:
                    continue
                prev = line[k - 1] if k else ""
                nxt = line[k + 1] if k + 1 < len(line) else ""
                can_close = bool(prev) and not prev.isspace() and boundary(nxt)
                if opener is not None and can_close and k > opener + 1:
                    found.append(line[opener : k + 1])
                    opener = None
                    continue
                if boundary(prev) and nxt and not nxt.isspace():
                    opener = k
    return found


_LITERALS = ["\\*", "\\_", "\\~", "\\`", "*", "_", "~", "`", "5 * 3", "a_b", "x~y"]
_WORDS = ["Cremona", "ponte", "12", "è", "«nota»", "(via)", "Po.", "a"]


@pytest.mark.parametrize("seed", range(6))
def test_whatsapp_literal_markers_never_pair_up(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(150):
        pieces = []
        for _ in range(rng.randint(2, 9)):
            piece = rng.choice(_LITERALS) if rng.random() < 0.5 else rng.choice(_WORDS)
            pieces.append(piece)
            pieces.append(rng.choice([" ", "", "", "\n"]))
        body = "".join(pieces).strip()
        plain = render(body, title=None, target="plain")
        if plain != render(body, title=None, target="telegram").replace("&amp;", "&"):
            continue  # markdown found real formatting or markup (e.g. `a_b_`): not literal-only
        whatsapp = render(body, title=None, target="whatsapp")
        assert whatsapp.replace(WORD_JOINER, "") == plain, body
        assert _whatsapp_pairs(whatsapp) == [], (body, whatsapp)


def test_whatsapp_model_sees_real_emphasis() -> None:
    rendered = render("Il **ponte** e _via_ ~~no~~ `c`", title=None, target="whatsapp")
    assert _whatsapp_pairs(rendered) == ["*ponte*", "_via_", "~no~", "`c`"]


def test_whatsapp_title_markers_are_literal_and_bold_holds() -> None:
    rendered = render("x", title="Orari *nuovi* e 5 * 3", target="whatsapp")
    head = rendered.split("\n")[0]
    assert head.replace(WORD_JOINER, "") == "*Orari *nuovi* e 5 * 3*"
    assert _whatsapp_pairs(head) == [head]


# -- visible text ------------------------------------------------------------------------------


def test_visible_text_drops_urls_and_markup() -> None:
    body = (
        "Il **ponte** è _chiuso_: https://x.it/a_b.\n\n"
        "- [Mappa](https://x.it/m) dei percorsi\n"
        "1. <https://x.it/solo-url>\n\n"
        "> Citazione `codice`"
    )
    assert visible_text(body) == ("Il ponte è chiuso: .\n\nMappa dei percorsi\n\nCitazione codice")


def test_visible_text_keeps_typography() -> None:
    body = "«Città» l’anno… 🇮🇹\u00a0ok"
    assert visible_text(body) == body


# -- speed -------------------------------------------------------------------------------------


def test_rendering_a_typical_draft_is_cheap() -> None:
    cases = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    draft = next(case for case in cases if case["name"] == "mixed-message")
    body = (draft["body"] + "\n\n") * 6  # about 1,000 characters
    assert 900 < len(body) < 1100
    render(body, title="x", target="whatsapp")  # parser built, body parsed and cached
    start = time.perf_counter()
    for _ in range(300):
        for target in TARGETS:
            render(body, title="Nuovi orari", target=target)
    per_render = (time.perf_counter() - start) / 900
    # Cached parse: rendering alone; generous bound for slow CI machines.
    assert per_render < 0.002, f"{per_render * 1000:.3f} ms per render"
