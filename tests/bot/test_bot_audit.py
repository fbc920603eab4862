"""The audit log in the chat: each change an admin makes is recorded once, with who and where;
/audit pages through it, for all or one campaign."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEntry, Campaign
from panel import texts
from tests.support.control import ADMIN_ID, ControlBot


async def _entries(control: ControlBot) -> list[tuple[str, str, int | None, int | None]]:
    async with control.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(row.source, row.action, row.actor_id, row.campaign_id) for row in rows]


async def test_changes_in_the_chat_are_recorded_and_shown_by_audit(control: ControlBot) -> None:
    await control.say("/audit", expect=texts.AUDIT_EMPTY)
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Hello all"))
    card = await control.say("Greeting", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        draft = (await session.execute(select(Campaign))).scalar_one()

    listing = await control.say("/campaigns", expect="Campaigns")
    await control.press(listing.message_id, f"#{draft.id} Greeting")
    opened = await control.wait_text(listing.message_id, f"#{draft.id} Greeting\n")
    await control.press(opened.message_id, texts.BTN_DUPLICATE)
    copy = await control.wait_text(opened.message_id, f"#{draft.id + 1} Greeting\n")
    await control.press(copy.message_id, texts.BTN_DELETE)
    await control.wait_buttons(copy.message_id, texts.BTN_YES_DELETE)
    await control.press(copy.message_id, texts.BTN_YES_DELETE)
    await control.wait_text(copy.message_id, "Campaigns")

    assert await _entries(control) == [
        ("chat", "create", ADMIN_ID, draft.id),
        ("chat", "duplicate", ADMIN_ID, draft.id + 1),
        ("chat", "delete", ADMIN_ID, draft.id + 1),
    ]
    shown = await control.say("/audit", expect=texts.AUDIT_TITLE_ALL)
    lines = (shown.text or "").splitlines()[2:]
    assert [line.split(": ", 1)[1] for line in lines] == [
        f"delete campaign #{draft.id + 1}",
        f"duplicate campaign #{draft.id + 1} bot #{control.bots['news']} from: {draft.id}",
        f"create campaign #{draft.id} bot #{control.bots['news']}",
    ]
    assert all(f"admin {ADMIN_ID} (chat)" in line for line in lines)
    one = await control.say(
        f"/audit {draft.id}", expect=texts.AUDIT_TITLE_CAMPAIGN.format(campaign_id=draft.id)
    )
    assert len((one.text or "").splitlines()[2:]) == 1
    await control.say("/audit twelve", expect=texts.AUDIT_USAGE.format(value="twelve"))


async def test_audit_pages_ten_at_a_time(control: ControlBot) -> None:
    for number in range(12):
        await control.say(f"/segments s{number} language = en", expect=f"Saved segment s{number}")
    first = await control.say("/audit", expect=texts.AUDIT_TITLE_ALL)
    shown = (first.text or "").splitlines()[2:]
    assert len(shown) == 10 and "name: s11" in shown[0] and "name: s2" in shown[-1]
    assert [text for text, _ in first.buttons] == [texts.BTN_AUDIT_OLDER]
    await control.press(first.message_id, texts.BTN_AUDIT_OLDER)
    older = await control.wait_text(first.message_id, "name: s0")
    rest = (older.text or "").splitlines()[2:]
    assert len(rest) == 2 and "name: s1" in rest[0]
    assert [text for text, _ in older.buttons] == [texts.BTN_AUDIT_NEWEST]
    await control.press(first.message_id, texts.BTN_AUDIT_NEWEST)
    await control.wait_text(first.message_id, "name: s11")
