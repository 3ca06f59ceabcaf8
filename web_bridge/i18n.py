"""The page's languages: Flask-Babel for the templates, the same catalogue for the scripts.

The language comes from ``?lang=`` (the page's switch; remembered in a ``lang`` cookie),
then that cookie, then the browser's ``Accept-Language``. One gettext catalogue per
language lives in ``web_bridge/translations``; the page's scripts get the current one
as a JSON data block (not a script, so the strict CSP is untouched), see ``i18n.js``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, request
from flask_babel import Babel, get_locale, get_translations

COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    """A language of the page: its code, its own name, and its writing direction."""

    code: str
    name: str
    direction: str = "ltr"


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English"),
    Language("es", "Español"),
    Language("hi", "हिन्दी"),
    Language("ar", "العربية", "rtl"),
)
CODES = tuple(language.code for language in LANGUAGES)


def _asked() -> str | None:
    value = request.args.get("lang")
    return value if value in CODES else None


def select_locale() -> str:
    """The language of this request: the switch, the cookie, then Accept-Language."""
    asked = _asked() or request.cookies.get(COOKIE)
    if asked in CODES:
        return str(asked)
    return request.accept_languages.best_match(CODES, default="en") or "en"


def current() -> Language:
    """The current request's language."""
    code = str(get_locale() or "en")
    return next((lang for lang in LANGUAGES if lang.code == code), LANGUAGES[0])


def script_catalogue() -> dict[str, str]:
    """Every translated message of the current language (msgid -> text) for the scripts."""
    catalog = getattr(get_translations(), "_catalog", {})
    return {
        key: value
        for key, value in catalog.items()
        if isinstance(key, str) and key and isinstance(value, str) and value
    }


def _remember_choice(response: Response) -> Response:
    asked = _asked()
    if asked is not None:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=COOKIE_SECONDS,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the locale selector and the template helpers."""
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)

    @app.context_processor
    def _language() -> dict[str, object]:
        return {
            "language": current(),
            "languages": LANGUAGES,
            "script_catalogue": script_catalogue,
        }
