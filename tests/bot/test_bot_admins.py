"""/admins: owners add admins by id or by a forwarded message, set their role and bots, remove
them; mistakes are named and change nothing; only owners of every bot may."""

from __future__ import annotations

from sqlalchemy import select

from models import Admin, AuditEntry
from panel import texts
from panel.roles import Role
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, ControlBot


async def _admins(control: ControlBot) -> dict[int, tuple[str | None, str]]:
    async with control.sessionmaker() as session:
        rows = (await session.scalars(select(Admin))).all()
    return {row.user_id: (row.display_name, row.role) for row in rows}


async def test_owners_manage_admins_by_id_and_by_forward(control: ControlBot) -> None:
    listing = await control.say("/admins", expect="👥 Admins")
    assert texts.ADMINS_LINE_CONFIGURED.format(user_id=ADMIN_ID) in (listing.text or "")

    await control.say("/admins add 9201 editor news", expect="Added 9201: editor of news.")
    await control.say("/admins add 9201 boss", expect="unknown role 'boss'")
    await control.say(
        "/admins set 9201 viewer nope", expect="there is no target bot 'nope'. Nothing was changed."
    )
    assert await _admins(control) == {9201: (None, Role.EDITOR)}

    # By a forwarded message: the sender's id and name come with it.
    await control.say("/admins add sender", expect=texts.ADMINS_ASK_PERSON)
    sent = control.sim.forward_user_message(
        CONTROL_TOKEN, ADMIN_ID, "hi", sender={"id": 9202, "is_bot": False, "first_name": "Sam"}
    )
    await control.reply(after_id=sent["message_id"], expect="Added 9202: sender of every bot.")
    # A hidden sender cannot be told apart: asked for the id instead, and a non-id is asked again.
    await control.say("/admins add", expect=texts.ADMINS_ASK_PERSON)
    hidden = control.sim.forward_user_message(CONTROL_TOKEN, ADMIN_ID, "hi", hidden_name="Someone")
    await control.reply(after_id=hidden["message_id"], expect=texts.ADMINS_HIDDEN_SENDER)
    await control.say("hello", expect=texts.ADMINS_ASK_PERSON_AGAIN)
    await control.say("9203", expect="Added 9203: viewer of every bot.")
    assert await _admins(control) == {
        9201: (None, Role.EDITOR),
        9202: ("Sam", Role.SENDER),
        9203: (None, Role.VIEWER),
    }
    listing = await control.say("/admins", expect="👥 Admins")
    assert "9201 — · editor of news" in (listing.text or "")
    assert "9202 Sam · sender of every bot" in (listing.text or "")

    await control.say(
        f"/admins set {ADMIN_ID} viewer", expect=texts.ADMINS_CONFIGURED.format(user_id=ADMIN_ID)
    )
    await control.say("/admins set 9201 sender", expect="9201 is now sender of every bot.")
    await control.say("/admins remove 9203", expect=texts.ADMINS_REMOVED.format(user_id=9203))
    await control.say("/admins remove 9203", expect=texts.ADMINS_NOT_ONE.format(user_id=9203))
    await control.say("/admins promote 9201", expect=texts.ADMINS_USAGE)

    # A sender is no owner: the command is refused, naming the role.
    control.sim.add_user(CONTROL_TOKEN, 9202, first_name="Sam")
    await control.say("/admins", user=9202, expect=texts.ROLE_REFUSED.format(role="owner"))
    assert await _admins(control) == {9201: (None, Role.SENDER), 9202: ("Sam", Role.SENDER)}
    async with control.sessionmaker() as session:
        logged = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert logged == ["add_admin", "add_admin", "add_admin", "set_role", "remove_admin"]
