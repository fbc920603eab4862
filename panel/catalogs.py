"""Keeping the translation catalogs in step with `panel.texts`: extraction, update and checks.

A developer tool (`scripts/i18n.sh`) and the test of the catalogs use it; the bot and the
workers do not (they read the catalogs through `panel.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from panel import i18n, texts

PROJECT = "Broadcast Panel"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one message of a catalog, in words a translator can act on."""

    where: str
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}\n    msgid: {self.msgid!r}"


def _key(message: i18n.Message) -> str:
    return message.msgid


def read(language: str) -> Catalog:
    """The stored catalog of `language` (empty when there is none yet)."""
    path = i18n.catalog_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=i18n.DOMAIN, project=PROJECT)
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=i18n.DOMAIN)


def update(language: str) -> tuple[Catalog, list[str], list[str]]:
    """The catalog of `language` rebuilt from `panel.texts` in its order, keeping every
    translation whose English is unchanged; also the ids added (to translate) and dropped."""
    old = read(language)
    new = Catalog(
        locale=language,
        domain=i18n.DOMAIN,
        project=PROJECT,
        fuzzy=False,
        creation_date=old.creation_date,  # so that an update changes only the messages
        revision_date=old.revision_date,
    )
    added: list[str] = []
    for message in i18n.messages(texts):
        msgid: str | tuple[str, str] = (
            message.msgid if message.plural is None else (message.msgid, message.plural)
        )
        existing = new.get(message.msgid)
        if existing is not None:
            existing.auto_comments.append(message.where)
            continue
        kept = old.get(message.msgid)
        if message.plural is None:
            string: str | tuple[str, ...] = (
                kept.string if kept is not None and isinstance(kept.string, str) else ""
            )
        else:
            forms = new.num_plurals
            string = (
                tuple(kept.string)
                if kept is not None and isinstance(kept.string, tuple) and len(kept.string) == forms
                else ("",) * forms
            )
        if not any(string if isinstance(string, tuple) else (string,)):
            added.append(message.msgid)
        new.add(msgid, string, auto_comments=[message.where])
        if kept is not None and kept.fuzzy:
            new[message.msgid].flags.add("fuzzy")
    wanted = {message.msgid for message in i18n.messages(texts)}
    dropped = [entry.id if isinstance(entry.id, str) else entry.id[0] for entry in old if entry.id]
    return new, added, [msgid for msgid in dropped if msgid not in wanted]


def write(language: str, catalog: Catalog) -> Path:
    """Store `catalog` as the `.po` of `language`."""
    path = i18n.catalog_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=100, omit_header=False, include_lineno=False)
    return path


def problems(language: str, catalog: Catalog | None = None) -> list[Problem]:
    """Every message of `panel.texts` that the catalog of `language` (the stored one, unless
    given) leaves untranslated or fuzzy, and every translation whose placeholders or HTML tags
    differ from its English."""
    catalog = read(language) if catalog is None else catalog
    found: list[Problem] = []
    seen: set[str] = set()
    for message in i18n.messages(texts):
        if message.msgid in seen:  # one message for every constant with the same English
            continue
        seen.add(message.msgid)
        entry = catalog.get(message.msgid)
        if entry is None:
            found.append(Problem(message.where, message.msgid, "not in the catalog: run scripts/i18n.sh"))
            continue
        if entry.fuzzy:
            found.append(Problem(message.where, message.msgid, "marked fuzzy: check it and drop the mark"))
        if message.plural is None:
            if not isinstance(entry.string, str) or not entry.string:
                found.append(Problem(message.where, message.msgid, "no translation"))
                continue
            pairs: list[tuple[str, str]] = [(message.msgid, entry.string)]
        else:
            forms = tuple(str(form or "") for form in entry.string) if isinstance(entry.string, tuple) else ()
            if len(forms) != catalog.num_plurals or not all(forms):
                found.append(
                    Problem(message.where, message.msgid, f"needs all {catalog.num_plurals} plural forms")
                )
                continue
            plural = message.plural
            pairs = [(message.msgid, forms[0]), *((plural, form) for form in forms[1:])]
        for english, translated in pairs:
            if i18n.placeholders(english) != i18n.placeholders(translated):
                found.append(
                    Problem(
                        message.where,
                        message.msgid,
                        f"placeholders {i18n.placeholders(english)} became {i18n.placeholders(translated)}"
                        f" in {translated!r}",
                    )
                )
            if i18n.tags(english) != i18n.tags(translated):
                found.append(
                    Problem(
                        message.where,
                        message.msgid,
                        f"HTML tags {i18n.tags(english)} became {i18n.tags(translated)} in {translated!r}",
                    )
                )
    return found
