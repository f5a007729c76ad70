"""mwsso speaks the site's language: the German catalogue is complete, compiled, and used by pages and checks."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import translation

from mwsso.checks import config as checks
from tests.conftest import SITE_HOST, authorize, callback_path, start_login

LOCALE = Path(__file__).resolve().parents[1] / "mwsso" / "locale"
# Every shipped language is held to the same rules; German is the one the page tests read.
LANGUAGES = sorted(path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/django.po"))
BARE_TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True}]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass
class Entry:
    msgid: str
    msgstr: list[str]
    msgid_plural: str = ""
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (header included, obsolete ``#~`` entries left out)."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flags = {flag.strip() for line in lines if line.startswith("#,") for flag in line[2:].split(",")}
        fields: dict[str, str] = {}
        current = ""
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            else:
                fields[current] += ast.literal_eval(line.strip())
        if "msgid" not in fields:
            continue
        forms = [fields[k] for k in sorted(k for k in fields if k.startswith("msgstr"))]
        entries.append(Entry(fields["msgid"], forms, fields.get("msgid_plural", ""), fields.get("msgctxt"), flags))
    return entries


def catalogue(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES"


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def po_entries(language: str) -> list[Entry]:
    text = (catalogue(language) / "django.po").read_text(encoding="utf-8")
    return [entry for entry in parse_po(text) if entry.msgid]


# -- the catalogue ----------------------------------------------------------------------
def test_german_is_shipped():
    assert "de" in LANGUAGES


def test_every_msgid_is_translated_and_none_is_fuzzy(po_entries):
    assert len(po_entries) > 50
    untranslated = [e.msgid for e in po_entries if not all(form.strip() for form in e.msgstr)]
    assert untranslated == []
    assert [e.msgid for e in po_entries if "fuzzy" in e.flags] == []


def test_translations_keep_every_placeholder(po_entries):
    for entry in po_entries:
        if not entry.msgid_plural:
            assert set(PLACEHOLDER.findall(entry.msgstr[0])) == set(PLACEHOLDER.findall(entry.msgid)), entry.msgid
            continue
        # A singular may leave the count out ("a minute"); the other forms keep every placeholder.
        known = set(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
        assert all(set(PLACEHOLDER.findall(form)) <= known for form in entry.msgstr), entry.msgid
        assert set(PLACEHOLDER.findall(entry.msgstr[-1])) == set(PLACEHOLDER.findall(entry.msgid_plural)), entry.msgid


def test_compiled_mo_matches_the_po(po_entries, language):
    with (catalogue(language) / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for entry in po_entries:
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural:
            expected.update({(key, n): form for n, form in enumerate(entry.msgstr)})
        else:
            expected[key] = entry.msgstr[0]
    compiled_entries = {k: v for k, v in catalog.items() if k != ""}  # "" is the header
    assert compiled_entries == expected, "django.mo is out of date: run compilemessages (see the top of django.po)"
    assert compiled.info()["language"] == language


def test_german_has_two_plural_forms():
    entries = parse_po((catalogue("de") / "django.po").read_text(encoding="utf-8"))
    assert any(e.msgid_plural for e in entries)
    assert all(len(e.msgstr) == 2 for e in entries if e.msgid_plural)
    with (catalogue("de") / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.plural(1) == 0 and compiled.plural(2) == 1


# -- in use ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_error_page_in_german(settings, wiki_settings, devwiki):
    settings.LANGUAGE_CODE = "de"
    settings.TEMPLATES = BARE_TEMPLATES  # the app's own page, not the demo's
    browser = Client(HTTP_HOST=SITE_HOST)
    allowed = authorize(None, start_login(browser), user="Alice", action="accept")
    verifier = dict(p.split("=", 1) for p in allowed.headers["Location"].split("?", 1)[1].split("&"))["oauth_verifier"]
    response = browser.get("/complete/mediawiki/?" + urlencode({"oauth_token": "f" * 32, "oauth_verifier": verifier}))
    assert response.status_code == 400
    page = response.content.decode()
    assert '<html lang="de">' in page and "<title>Anmeldung fehlgeschlagen</title>" in page
    assert "Dieser Anmeldelink ist nicht mehr gültig" in page and "Bitte starten Sie die Anmeldung erneut." in page
    assert "<span>Erneut versuchen</span>" in page and "Zurück zur Startseite" in page and "Fehlercode:" in page
    assert "Sign-in failed" not in page


@pytest.mark.django_db
def test_refusal_in_german(settings, wiki_settings, devwiki):
    settings.LANGUAGE_CODE = "de"
    browser = Client(HTTP_HOST=SITE_HOST)
    allowed = authorize(None, start_login(browser), user="Mallory", action="accept")
    page = browser.get(callback_path(allowed.headers["Location"])).content.decode()
    host = devwiki.server_url.split("://", 1)[1]
    assert f"Ihr Konto ist auf {host} gesperrt." in page and "Mit einem anderen Konto anmelden" in page


def test_check_hint_in_german(settings):
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    (warning,) = [m for m in checks.check_settings() if m.id == "mwsso.W003"]
    with translation.override("de"):
        assert str(warning.hint) == "Verwenden Sie 'Lax' (Djangos Standardwert)."
    with translation.override("en"):
        assert str(warning.hint) == "Use 'Lax' (Django's default)."


def test_refusals_with_plurals_in_german():
    from datetime import UTC, datetime

    from mwsso.policy import rules
    from tests.test_policy import NOW, identity

    with translation.override("de"):
        one = rules.min_editcount(identity(editcount=0), 1)
        many = rules.min_editcount(identity(editcount=3), 50)
        young = rules.min_account_age(identity(registered=datetime(2025, 5, 30, 12, 0, tzinfo=UTC)), 1 + 6, NOW)
        new = rules.min_account_age(identity(registered=NOW), 1, NOW)
    assert one.message == "Sie brauchen mindestens 1 Bearbeitung auf en.wikipedia.org; Sie haben 0."
    assert many.message == "Sie brauchen mindestens 50 Bearbeitungen auf en.wikipedia.org; Sie haben 3."
    assert young.message == "Ihr Konto auf en.wikipedia.org muss mindestens 7 Tage alt sein; es ist 2 Tage alt."
    assert (
        new.message
        == "Ihr Konto auf en.wikipedia.org muss mindestens 1 Tag alt sein; es ist weniger als einen Tag alt."
    )
