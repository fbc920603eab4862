"""The control bot in the admin's language: Russian from Telegram's `language_code`, /language."""

from __future__ import annotations

import re

from arq.worker import Worker
from sqlalchemy import select, update

from models import AdminLanguage, AuditEntry, TargetBot
from panel import i18n, texts
from panel.admins import add_admin
from panel.campaigns import create_campaign
from panel.content import MessageContent
from panel.roles import Role, set_role
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, STRANGER_ID, ControlBot
from tgsim.simulator import ChatEntry

# English prose: two words of three letters or more in a row (commands, codes and names are single words).
ENGLISH_PROSE = re.compile(r"[A-Za-z]{3,}[ ,]+[A-Za-z]{3,}")
# English that the Russian texts keep on purpose: the rule and time syntax the parsers read.
KEPT_ENGLISH = ("in 2 hours", "mon 10am", "language in", "active within", "not received")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{4,}", re.sub(r"\{[^{}]*\}", " ", text)))


# Words of the English texts that the Russian ones keep: commands, roles, settings, the syntax
# the parsers read, names. Reviewed by hand, so that a translation left in English is not kept.
KEPT_WORDS = frozenset(
    [
        "ADMIN",
        "BASE",
        "LINKS",
        "Telegram",
        "Unauthorized",
        "active",
        "admins",
        "audit",
        "bots",
        "broadcast",
        "campaigns",
        "cancel",
        "codename",
        "editor",
        "everyone",
        "example",
        "export",
        "help",
        "hours",
        "http",
        "https",
        "language",
        "links",
        "list",
        "news",
        "offers",
        "owner",
        "plan",
        "post",
        "received",
        "remove",
        "report",
        "schedule",
        "segments",
        "sender",
        "sendnow",
        "serve",
        "shop",
        "subscribed",
        "token",
        "topics",
        "tomorrow",
        "track",
        "user",
        "viewer",
        "within",
    ]
)


def english_only_words() -> set[str]:
    """Words of the English texts the Russian ones do not keep: one of them in a Russian chat is
    a leak (`Duration:` in a summary, say)."""
    english: set[str] = set()
    for message in i18n.messages(texts):
        english |= _words(message.msgid) | _words(message.plural or "")
    return english - KEPT_WORDS


ENGLISH_ONLY = english_only_words()


def speaks_russian(admin: ControlBot, language_code: str = "ru") -> None:
    """The admin's Telegram client is set to `language_code`."""
    admin.sim.world.set_profile(ADMIN_ID, first_name="Ada", username="ada", language_code=language_code)


def english_in(entry: ChatEntry) -> list[str]:
    """English prose in a message of the bot and its buttons, if any leaked into Russian."""
    shown = "\n".join([entry.text or entry.caption or "", *(text for text, _ in entry.buttons)])
    for kept in KEPT_ENGLISH:
        shown = shown.replace(kept, "")
    return ENGLISH_PROSE.findall(shown) + sorted(_words(shown) & ENGLISH_ONLY)


def no_english(admin: ControlBot) -> None:
    """Every message the control bot wrote to the admin, and every button, reads Russian."""
    leaks = {
        entry.message_id: english_in(entry)
        for entry in admin.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages
        if english_in(entry)
    }
    assert leaks == {}


async def test_a_russian_admin_composes_tests_and_sends_in_russian(
    control: ControlBot, worker: Worker
) -> None:
    speaks_russian(control)
    started = await control.say("/new")
    assert "Получатели:" in (started.text or "") and "12 пользователей" in (started.text or "")
    assert "Отправьте сообщение точно таким" in (started.text or "")

    # Bad input is refused in Russian too, and the step is kept.
    refusal = await control.reply(after_id=control.send(media=("sticker", b"RIFF-webp-sticker")))
    assert refusal.text == (
        "Стикеры нельзя разослать: отправьте текстовое сообщение или фото, видео, файл "
        "(при желании с подписью)."
    )
    refusal = await control.say("x" * 4097)
    assert refusal.text == (
        "Длина сообщения — 4\xa0097 симв.; Telegram разрешает 4\xa0096. Отправьте сообщение ещё раз."
    )

    with i18n.speaking("ru"):
        buttons = await control.reply(after_id=control.send("Скидки до пятницы"), expect=texts.ASK_BUTTONS)
        assert (buttons.text or "").startswith("Добавить кнопки под сообщением?")
        await control.press(buttons.message_id, "Пропустить")
        await control.reply(after_id=buttons.message_id, expect="Дайте рассылке название")
        card = await control.say("Пятница", expect="☝️ Именно это увидят получатели.")
        assert "Аудитория: 12 пользователей" in (card.text or "")
        assert "Отправка займёт около" in (card.text or "")
        labels = [text for text, _ in card.buttons]
        assert "🚀 Отправить сейчас" in labels and "🧪 Тест мне" in labels

        before = control.last_id()
        await control.press(card.message_id, "🧪 Тест мне")
        await control.reply(after_id=before, expect="Тест отправлен вам через")

        before = control.last_id()
        await control.press(card.message_id, "🚀 Отправить сейчас")
        confirm = await control.reply(after_id=before, expect="сейчас?")
        assert "Аудитория: 12 пользователей" in (confirm.text or "")
        await control.press(confirm.message_id, "✅ Подтвердить")
        await control.wait_text(confirm.message_id, "🚀 Запускаю №")

        # The engine writes the progress message and the summary in the admin's language too.
        progress = await control.reply(
            after_id=confirm.message_id, where=lambda m: "⏸ Пауза" in str(m.buttons)
        )
        assert (progress.text or "").startswith("📣 Рассылка №")
        summary = await control.reply(
            after_id=progress.message_id, where=lambda m: "окончена" in (m.text or ""), timeout_s=30
        )
    assert "✅ Завершена" in (summary.text or "")
    assert "Получателей: 12\nОтправлено: 12\n" in (summary.text or "")
    assert "Длительность:" in (summary.text or "")
    final = await control.wait_text(progress.message_id, "Отправлено: 12")
    assert "Осталось: 0 из 12" in (final.text or "")
    no_english(control)


async def test_language_switches_persists_and_reaches_the_summary(
    control: ControlBot, worker: Worker
) -> None:
    speaks_russian(control, "en-GB")
    asked = await control.say("/language", expect=texts.LANGUAGE_ASK)
    assert [text for text, _ in asked.buttons] == ["English", "Русский"]
    answer = await control.press(asked.message_id, "Русский")
    assert answer.text is None
    switched = await control.wait_text(asked.message_id, "Теперь я говорю с вами по-русски.")
    assert switched.buttons == []

    async with control.sessionmaker() as session:
        stored = await session.get(AdminLanguage, ADMIN_ID)
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert stored is not None and (stored.language, stored.chosen) == ("ru", True)
    assert [(entry.action, entry.details) for entry in audit] == [
        ("set_language", {"user_id": ADMIN_ID, "language": "ru"})
    ]
    # This admin's command menu follows the choice; other admins keep the one of their client.
    menu = control.sim.world.bot(CONTROL_TOKEN).commands
    russian_new = {"command": "new", "description": "Составить новое объявление"}
    assert russian_new in menu[f'{{"chat_id": {ADMIN_ID}, "type": "chat"}}|']
    assert russian_new in menu['{"type": "all_private_chats"}|ru']
    english_new = {"command": "new", "description": "Compose a new announcement"}
    assert english_new in menu['{"type": "all_private_chats"}|']

    # The choice outlives a restart and beats the client's English.
    await control.stop()
    await control.start()
    helped = await control.say("/help")
    assert (helped.text or "").startswith("Я отправляю объявления пользователям ваших ботов.")

    # A campaign started here: the engine's summary arrives in Russian although Telegram says English.
    await control.say("/new", expect="Отправьте сообщение точно таким")
    with i18n.speaking("ru"):
        await control.skip_buttons(after_id=control.send("Hello"))
        card = await control.say("Hi", expect=texts.COMPOSE_PREVIEW_NOTE)
        before = control.last_id()
        await control.press(card.message_id, texts.BTN_SEND_NOW)
        confirm = await control.reply(after_id=before, expect="сейчас?")
        await control.press(confirm.message_id, texts.BTN_CONFIRM)
    summary = await control.reply(
        after_id=confirm.message_id, where=lambda m: (m.text or "").startswith("🏁"), timeout_s=30
    )
    assert "окончена: ✅ Завершена" in (summary.text or "")
    chart = await control.reply(
        after_id=summary.message_id, where=lambda m: m.media_kind == "photo", timeout_s=30
    )
    assert (chart.caption or "").endswith(": сообщений в секунду по исходам.")

    back = await control.say("/language", expect="На каком языке мне с вами говорить? Сейчас: русский.")
    await control.press(back.message_id, "English")
    await control.wait_text(back.message_id, texts.LANGUAGE_SET)
    helped = await control.say("/help")
    assert (helped.text or "").startswith("I send announcements")


async def test_a_stranger_is_refused_in_their_language_and_nothing_is_stored(control: ControlBot) -> None:
    control.sim.world.set_profile(STRANGER_ID, first_name="Eve", username="eve", language_code="ru-RU")
    refusal = await control.say("/start", user=STRANGER_ID)
    assert refusal.text == "Извините, это закрытый бот."
    async with control.sessionmaker() as session:
        assert await session.get(AdminLanguage, STRANGER_ID) is None


async def test_each_admin_reads_an_approval_in_their_own_language(control: ControlBot) -> None:
    approver_id = 9301
    control.sim.add_user(CONTROL_TOKEN, approver_id, first_name="Боря", language_code="ru")
    async with control.sessionmaker.begin() as session:
        await session.execute(update(TargetBot).values(approval_threshold=5))
        await add_admin(session, approver_id)
        await set_role(session, approver_id, Role.SENDER)
        campaign = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent("Big news"), name="Big"
        )
    # The approver has written to the bot once, so their language is known.
    await control.say("/help", user=approver_id, expect="Я отправляю объявления")

    asked = await control.say(f"/sendnow {campaign.id}", expect="need a second admin's approval")
    before = control.last_id(approver_id)
    await control.press(asked.message_id, texts.BTN_ASK_APPROVAL)
    request = await control.reply(after_id=before, user=approver_id, expect="просит одобрить рассылку")
    assert [text for text, _ in request.buttons] == ["✅ Одобрить", "✖ Отклонить"]
    assert "Аудитория сейчас: 12 пользователей" in (request.text or "")

    before = control.last_id()
    await control.press(request.message_id, "✅ Одобрить", user=approver_id)
    await control.wait_text(request.message_id, f"✅ Вы одобрили №{campaign.id}.", user=approver_id)
    told = await control.reply(after_id=before, expect=f"✅ Campaign #{campaign.id} was approved by")
    assert "Send it with /sendnow" in (told.text or "")
