"""Languages of the customer's page: one gettext catalogue per language, shared by the
templates (Flask-Babel) and the scripts (rendered into the page as JSON). Fails on any
message of a template or script that a catalogue does not translate."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

BRIDGE = Path(__file__).resolve().parents[2] / "web_bridge"
TRANSLATIONS = BRIDGE / "translations"
LANGUAGES = ("es", "hi", "ar")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Every _("…") call in the page's scripts, found without Babel (a second opinion on
# what the extractor may miss, such as calls inside template literals).
JS_CALL = re.compile(r"""\b_\(\s*"((?:[^"\\]|\\.)*)\"""")


def _used() -> set[str]:
    method_map = [("templates/**.html", "jinja2"), ("static/js/**.js", "javascript")]
    found = {
        message
        for _, _, message, *_ in extract_from_dir(str(BRIDGE), method_map, keywords={"_": None})
        if isinstance(message, str)
    }
    for path in (BRIDGE / "static" / "js").glob("*.js"):
        for match in JS_CALL.finditer(path.read_text()):
            found.add(json.loads(f'"{match.group(1)}"'))
    return found


def _catalogue(lang: str) -> dict[str, str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id: m.string for m in catalog if m.id and "fuzzy" not in m.flags}


def test_the_page_uses_messages() -> None:
    used = _used()
    assert len(used) > 150
    assert "Send securely" in used and "Shop key verified" in used and "copies: %(n)s" in used


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing = sorted(m for m in _used() if not catalogue.get(m))
    assert missing == [], f"{lang}: no translation for {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    for msgid, text in _catalogue(lang).items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (lang, msgid)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalogue_is_fresh(lang: str) -> None:
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue(), "run scripts/i18n compile"


def test_language_from_accept_language(client: FlaskClient) -> None:
    page = client.get("/s/demo", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).get_data(True)
    assert '<html lang="es" dir="ltr">' in page
    assert 'id="send-button" disabled>Enviar de forma segura</button>' in page


def test_switch_to_arabic_is_right_to_left_and_remembered(client: FlaskClient) -> None:
    response = client.get("/s/demo?lang=ar", headers={"Accept-Language": "en"})
    page = response.get_data(True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "أرسل بأمان" in page
    assert "lang=ar" in response.headers["Set-Cookie"]
    again = client.get("/", headers={"Accept-Language": "en"}).get_data(True)  # the cookie
    assert '<html lang="ar" dir="rtl">' in again


def test_scripts_get_the_same_catalogue(client: FlaskClient) -> None:
    page = client.get("/s/demo", headers={"Accept-Language": "hi"}).get_data(True)
    match = re.search(r"data-messages='([^']*)'", page)
    assert match is not None
    import html

    messages = json.loads(html.unescape(match.group(1)))
    assert messages["Shop key verified"] == _catalogue("hi")["Shop key verified"]
    assert set(messages) >= {m for m in _used()}


def test_unknown_language_falls_back_to_english(client: FlaskClient) -> None:
    page = client.get("/s/demo?lang=xx", headers={"Accept-Language": "de"}).get_data(True)
    assert '<html lang="en" dir="ltr">' in page
    assert 'id="send-button" disabled>Send securely</button>' in page


def test_error_pages_are_translated(client: FlaskClient) -> None:
    page = client.get("/nope", headers={"Accept": "text/html", "Accept-Language": "es"}).get_data(True)
    assert "Esta página no existe." in page and 'class="card error-page"' in page
