"""The translation catalogs: complete, placeholders kept, in step with panel/texts.py; and the
locale's numbers, dates and plural forms."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from panel import catalogs, i18n, texts


def test_every_message_has_a_russian_translation_that_keeps_its_placeholders() -> None:
    found = catalogs.problems("ru")
    assert not found, "run scripts/i18n.sh, then translate:\n" + "\n".join(str(p) for p in found)


def test_the_catalog_is_in_step_with_the_texts() -> None:
    _, added, dropped = catalogs.update("ru")
    assert (added, dropped) == ([], []), "run scripts/i18n.sh and commit panel/locales"


def test_the_check_names_a_missing_translation_and_a_lost_placeholder() -> None:
    broken = copy.deepcopy(catalogs.read("ru"))
    broken[texts.DONE_PAUSED].string = ""
    broken[texts.NO_SUCH_CAMPAIGN].string = "Рассылки №{id} нет."
    broken[texts.CHOOSE_BOT_BUTTON.singular].string = ("{codename} · {users}", "{codename}", "{users}")
    found = {(p.where, p.what.split(" ")[0]) for p in catalogs.problems("ru", broken)}
    assert found == {
        ("DONE_PAUSED", "no"),
        ("NO_SUCH_CAMPAIGN", "placeholders"),
        ("CHOOSE_BOT_BUTTON", "placeholders"),
    }


def test_a_new_text_shows_up_untranslated_until_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(texts, "ZZ_ADDED_BY_SOMEONE", "A text added at the end of texts.py", raising=False)
    catalog, added, _ = catalogs.update("ru")
    assert added == ["A text added at the end of texts.py"]
    assert [p.where for p in catalogs.problems("ru", catalog)] == ["ZZ_ADDED_BY_SOMEONE"]
    # Until it is translated, Russian admins read the English.
    with i18n.speaking("ru"):
        assert texts.ZZ_ADDED_BY_SOMEONE == "A text added at the end of texts.py"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("count", "russian", "english"),
    [
        (1, "news · 1 пользователь", "news · 1 user"),
        (3, "news · 3 пользователя", "news · 3 users"),
        (5, "news · 5 пользователей", "news · 5 users"),
        (11, "news · 11 пользователей", "news · 11 users"),
        (21, "news · 21 пользователь", "news · 21 users"),
        (1234, "news · 1\xa0234 пользователя", "news · 1,234 users"),
    ],
)
def test_counted_texts_take_the_plural_form_of_the_language(count: int, russian: str, english: str) -> None:
    with i18n.speaking("ru"):
        assert texts.CHOOSE_BOT_BUTTON.format(codename="news", users=count) == russian
    assert texts.CHOOSE_BOT_BUTTON.format(codename="news", users=count) == english


def test_a_count_must_be_a_number_to_choose_its_form() -> None:
    with pytest.raises(TypeError, match="users must be an int"):
        texts.CHOOSE_BOT_BUTTON.format(codename="news", users="12")


def test_numbers_dates_and_durations_follow_the_language() -> None:
    moment = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert (texts.number(1234567), texts.decimal(1234.56)) == ("1,234,567", "1,234.6")
    assert texts.when_local(moment, "Europe/Moscow") == "Tue 1 Dec 2026, 18:30"
    assert texts.duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    with i18n.speaking("ru"):
        assert (texts.number(1234567), texts.decimal(1234.56)) == ("1\xa0234\xa0567", "1\xa0234,6")
        assert texts.when_local(moment, "Europe/Moscow") == "вт 1 дек. 2026, 18:30"
        assert texts.duration(timedelta(hours=2, minutes=5)) == "2 ч 5 мин"
        assert texts.duration(timedelta(seconds=80)) == "1 мин 20 с"
        assert texts.status_label("draft") == "📝 Черновик"
        assert texts.content_kind("sticker") == "Стикеры"
        assert texts.PROGRESS_STATUS["paused"] == "⏸ На паузе"
    assert texts.PROGRESS_STATUS["paused"] == "⏸ Paused"


@pytest.mark.parametrize(
    ("language_code", "language"),
    [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en", "en"), ("uk", "en"), ("", "en"), (None, "en")],
)
def test_the_telegram_language_code_picks_the_language(language_code: str | None, language: str) -> None:
    assert i18n.from_telegram(language_code) == language


def test_an_unknown_language_speaks_english() -> None:
    with i18n.speaking("de"):
        assert i18n.current() == "en"
        assert texts.DONE_PAUSED == "Paused."
