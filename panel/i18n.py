"""The language an admin reads: gettext catalogs, the current locale, plural forms.

The message ids are the English strings of `panel.texts`; a translation lives in
`panel/locales/<lang>/LC_MESSAGES/messages.po` and is compiled in memory the first time it is
used, so a fresh checkout needs no build step and no `.mo` can drift from its `.po`.

The current language is a context variable: the control bot's middleware sets it for each
update, the workers set it explicitly (`speaking`) around what they render for an admin. Where
nobody set it (the CLI, logs) it is English.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import re
import string
import types
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

ENGLISH = "en"
LANGUAGES = ("en", "ru")
"""Languages the control bot speaks; the first is the message ids' own."""
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("panel_language", default=ENGLISH)


def catalog_path(language: str) -> Path:
    """Where the `.po` catalog of `language` is kept."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def from_telegram(language_code: str | None) -> str:
    """The language for a Telegram `language_code`: `ru`, `ru-RU` → `ru`; anything else English."""
    code = (language_code or "").lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else ENGLISH


def current() -> str:
    """The language being spoken now."""
    return _current.get()


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Render in `language` (English when None or unknown) within the block."""
    token = _current.set(language if language in LANGUAGES else ENGLISH)
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (the identity for English); fuzzy entries do not count."""
    if language == ENGLISH:
        return NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted message for `count` in the current language (Russian has three)."""
    return translations(current()).ngettext(singular, plural, count)


def number(value: int) -> str:
    """`12345` in the current language: `12,345`; in Russian `12 345` (a no-break space)."""
    return format_decimal(value, locale=current())


def decimal(value: float) -> str:
    """A rate or similar with one decimal: `1,234.5`; in Russian `1 234,5`."""
    return format_decimal(value, format="#,##0.0", locale=current())


def moment(value: datetime) -> str:
    """A local moment with the weekday and month named: `Tue 1 Dec 2026, 18:30`, `вт 1 дек. 2026, 18:30`."""
    return format_datetime(value, "EEE d MMM y, HH:mm", locale=current())


def N_(message: str) -> str:
    """Mark `message` for the catalog where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Plural:
    """A message whose wording depends on a number: `{users} user` / `{users} users`.

    `format` picks the form for the int given as `count`, writes that number for the locale
    (`1 234` in Russian) and fills the other placeholders as `str.format` does."""

    singular: str
    plural: str
    count: str

    def format(self, **fields: Any) -> str:
        """The right form for `fields[self.count]` (an int), filled in."""
        value = fields[self.count]
        if not isinstance(value, int):
            raise TypeError(f"{self.count} must be an int to choose the plural form, not {value!r}")
        form = ngettext(self.singular, self.plural, value)
        return form.format(**{**fields, self.count: number(value)})


class TranslatedModule(types.ModuleType):
    """A module whose upper-case text constants read in the current language.

    `texts.HELP` is `gettext(HELP)`; a dict of texts comes back with its values translated;
    a `Plural` is itself (it translates when formatted). Everything else is as defined."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if not name.isupper() or name.startswith("_"):
            return value
        if isinstance(value, str):
            return gettext(value)
        if isinstance(value, dict) and all(isinstance(text, str) for text in value.values()):
            return {key: gettext(text) for key, text in value.items()}
        return value


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of the catalog: where it is defined, its id and, when counted, its plural id."""

    where: str
    msgid: str
    plural: str | None = None


def messages(module: types.ModuleType) -> list[Message]:
    """Every message the catalogs must translate, in the order `module` defines them: its
    upper-case str constants, the values of its dicts of texts, its `Plural`s, and the strings
    its functions mark with `N_(...)`."""
    found: list[Message] = []
    for name, value in vars(module).items():
        if not name.isupper() or name.startswith("_"):
            continue
        if isinstance(value, str):
            found.append(Message(name, value))
        elif isinstance(value, Plural):
            found.append(Message(name, value.singular, value.plural))
        elif isinstance(value, dict) and all(isinstance(text, str) for text in value.values()):
            found.extend(Message(f"{name}[{key!r}]", text) for key, text in value.items())
    found.extend(Message(f"N_ in {module.__name__}", text) for text in marked(module))
    return found


def marked(module: types.ModuleType) -> list[str]:
    """The literal strings passed to `N_(...)` in `module`'s source."""
    source = Path(str(module.__file__)).read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "N_"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


def placeholders(text: str) -> list[str]:
    """The `{field}` placeholders of a str.format text (with their format spec), sorted."""
    return sorted(
        f"{{{field}{':' + spec if spec else ''}}}"
        for _, field, spec, _ in string.Formatter().parse(text)
        if field is not None
    )


def tags(text: str) -> list[str]:
    """The HTML tags of a text, sorted (a translation must keep them)."""
    return sorted(re.findall(r"</?[a-zA-Z][^<>]*>", text))
