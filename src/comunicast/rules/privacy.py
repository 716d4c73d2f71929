"""Privacy rules: codice fiscale, IBAN, phone numbers, e-mail addresses (GDPR)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from comunicast.i18n import _
from comunicast.rules.engine import Context, Hit, Severity, rule

# -- codice fiscale ------------------------------------------------------------------------------

_OMO = "0-9LMNPQRSTUV"  # omocodia: digits may be replaced by L M N P Q R S T U V
_CF = re.compile(
    rf"(?<![^\W_])[A-Z]{{6}}[{_OMO}]{{2}}[ABCDEHLMPRST][{_OMO}]{{2}}[A-Z][{_OMO}]{{3}}[A-Z](?![^\W_])",
    re.IGNORECASE,
)
_ODD = dict(zip(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
     1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
    strict=True,
))
_EVEN = {c: (int(c) if c.isdigit() else ord(c) - 65) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_OMO_DIGITS = {c: str(i) for i, c in enumerate("LMNPQRSTUV")}


def codice_fiscale_valid(code: str) -> bool:
    """True when `code` is a well-formed personal codice fiscale with a correct check character."""
    code = code.upper()
    if not _CF.fullmatch(code):
        return False
    total = sum((_ODD if i % 2 == 0 else _EVEN)[c] for i, c in enumerate(code[:15]))
    if chr(65 + total % 26) != code[15]:
        return False
    day = int("".join(_OMO_DIGITS.get(c, c) for c in code[9:11]))
    return 1 <= day <= 31 or 41 <= day <= 71  # women: day + 40


def find_codici_fiscali(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, code) of every valid codice fiscale in `text`."""
    for match in _CF.finditer(text):
        if codice_fiscale_valid(match.group(0)):
            yield match.start(), match.end(), match.group(0).upper()


# -- IBAN ----------------------------------------------------------------------------------------

#: Lengths of IBANs by country (ISO 13616 registry); other countries: 15 to 34 characters.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
#: Country code, check digits, then the account either in one run or printed in groups of four.
_IBAN = re.compile(
    r"(?<![^\W_])[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,4})?)(?![^\W_])",
    re.IGNORECASE,
)


def iban_valid(iban: str) -> bool:
    """True when `iban` (spaces allowed) has a plausible length and passes the mod-97 check."""
    compact = "".join(iban.split()).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def find_ibans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, compact IBAN) of every valid IBAN in `text`."""
    for match in _IBAN.finditer(text):
        candidate = match.group(0)
        # The grouped form may have swallowed a following group of letters or digits: retry
        # shorter prefixes, dropping one group at a time.
        while candidate:
            if iban_valid(candidate):
                compact = "".join(candidate.split()).upper()
                yield match.start(), match.start() + len(candidate), compact
                break
            cut = max(candidate.rfind(" "), candidate.rfind("\u00a0"))
            candidate = candidate[:cut] if cut > 0 else ""


# -- phone numbers -------------------------------------------------------------------------------

_SEP = r"[ .\-/\u00a0]?"
_PHONE = re.compile(
    r"(?<![\w+/.\-])"
    r"(?P<prefix>(?:\+|00)39" + _SEP + r"|\(\+39\)" + _SEP + r")?"
    r"(?P<number>\(?0[1-9]\d{0,3}\)?" + _SEP + r"(?:\d" + _SEP + r"){4,8}\d"
    r"|3\d{2}" + _SEP + r"(?:\d" + _SEP + r"){5,6}\d)"
    r"(?![\w/]|[.\-]\d)"
)
_DATE_LIKE = re.compile(r"\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}")


def phone_digits(number: str) -> str:
    """The national digits of a phone number (prefix +39/0039 and separators removed)."""
    digits = re.sub(r"\D", "", number)
    if number.lstrip().startswith("+39") or number.lstrip().startswith("(+39)"):
        digits = digits[2:]
    elif digits.startswith("0039"):
        digits = digits[4:]
    return digits


def find_phones(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, national digits) of Italian phone numbers in `text` (landlines and mobiles)."""
    for match in _PHONE.finditer(text):
        number = match.group("number")
        if _DATE_LIKE.fullmatch(number.strip()):
            continue
        digits = re.sub(r"\D", "", number)
        if digits.startswith("3"):
            if not 9 <= len(digits) <= 10:
                continue
        elif not 6 <= len(digits) <= 11:
            continue
        yield match.start(), match.end(), digits


# -- e-mail --------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?P<domain>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![\w-])"
)


def find_emails(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, address, domain) of e-mail addresses in `text`."""
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), match.group(0), match.group("domain").lower()


# -- the organization's own data (privacy.allow) -------------------------------------------------


def _allowed(ctx: Context) -> frozenset[str]:
    return _allow_set(tuple(ctx.config.privacy.allow))


@cache
def _allow_set(entries: tuple[str, ...]) -> frozenset[str]:
    """Every allowed entry in the normalized forms the rules compare with."""
    found: set[str] = set()
    for entry in entries:
        text = entry.strip()
        found.add(text.lower())
        found.add("".join(text.split()).upper())
        if re.fullmatch(r"[+()\d .\-/\u00a0]+", text):
            found.add("tel:" + phone_digits(text))
    return frozenset(found)


def organization_domains(ctx: Context) -> list[str]:
    """Domains of the organization: links.allowed_domains and the website's host."""
    from comunicast.rules.links import website_domain

    domains = [d.lower().strip(".") for d in ctx.config.links.allowed_domains]
    site = website_domain(ctx.config)
    if site and site not in domains:
        domains.append(site)
    return domains


def _texts(ctx: Context, schemes: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """The title and the body (URLs masked), then the addresses of links with `schemes`
    ("" for every link): a `mailto:` or `tel:` link publishes its address as much as the text.
    """
    texts: list[tuple[str, Any]] = [(ctx.draft.title, ctx.title_place),
                                    (ctx.masked_body, ctx.body_place)]
    if schemes:
        from comunicast.rules.links import links_of

        for link in links_of(ctx):
            scheme = link.url.split(":", 1)[0].lower() if ":" in link.url else ""
            if "" in schemes or scheme in schemes:
                texts.append((link.url, _url_place(link.url_line, link.url_column)))
    return texts


def _url_place(line: int | None, column: int | None) -> Any:
    return lambda offset: (line, None if column is None else column + offset)


def _found(ctx: Context, kind: str, text: str) -> list[tuple[int, int, str]]:
    """IBANs or codici fiscali of `text`, found once per draft (the phone rule needs them too)."""
    key = (kind, text)
    hits = ctx.cache.get(key)
    if hits is None:
        finder = find_ibans if kind == "iban" else find_codici_fiscali
        hits = ctx.cache[key] = list(finder(text))
    return hits


@rule("privacy.codice-fiscale", Severity.ERROR,
      _("an Italian tax code (checksum-validated)"))
def _cf_rule(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    allowed = _allowed(ctx)
    for text, place in _texts(ctx, ("",)):
        for start, end, code in _found(ctx, "cf", text):
            if code in allowed:
                continue
            line, column = place(start)
            yield Hit(
                _("a codice fiscale identifies a person: remove it (personal data must not be "
                  "published)"),
                line, column, span=end - start,
            )


@rule("privacy.iban", Severity.ERROR,
      _("an IBAN (mod-97 validated), unless listed in privacy.allow"))
def _iban_rule(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    allowed = _allowed(ctx)
    for text, place in _texts(ctx, ("",)):
        for start, end, iban in _found(ctx, "iban", text):
            if iban in allowed:
                continue
            line, column = place(start)
            yield Hit(
                _("IBAN {iban} is not one of the organization's: remove it, or add it to "
                  "privacy.allow in comunicast.yaml if it is the Comune's own").format(iban=iban),
                line, column, span=end - start,
            )


@rule("privacy.phone", Severity.WARNING,
      _("a phone number not listed in privacy.allow"))
def _phone_rule(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    allowed = _allowed(ctx)
    for text, place in _texts(ctx, ("tel",)):
        taken = [(s, e) for s, e, _code in (*_found(ctx, "iban", text), *_found(ctx, "cf", text))]
        for start, end, digits in find_phones(text):
            if "tel:" + digits in allowed or any(s < end and start < e for s, e in taken):
                continue
            line, column = place(start)
            yield Hit(
                _("phone number {number}: if it is a private person's, remove it; if it is the "
                  "Comune's, add it to privacy.allow in comunicast.yaml").format(
                    number=text[start:end].strip()),
                line, column, span=end - start,
            )


@rule("privacy.email", Severity.WARNING,
      _("an e-mail address outside the organization's domains"))
def _email_rule(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    from comunicast.rules.links import in_domains

    allowed = _allowed(ctx)
    domains = organization_domains(ctx)
    for text, place in _texts(ctx, ("mailto",)):
        for start, end, address, domain in find_emails(text):
            if address.lower() in allowed or in_domains(domain, domains):
                continue
            line, column = place(start)
            yield Hit(
                _("e-mail address {address} is outside the organization's domains: if it is a "
                  "private person's, remove it; otherwise add it to privacy.allow").format(
                    address=address),
                line, column, span=end - start,
            )
