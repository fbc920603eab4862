"""/admins (owners): who the admins are, and adding, changing and removing them.

`/admins` lists them with role and bots. `/admins add ID [ROLE] [BOTS]` adds one (a viewer
unless a role is given; BOTS comma-separated, none for every bot); `/admins add` without an id
asks for a forwarded message of theirs. `/admins set ID ROLE [BOTS]`, `/admins remove ID`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.states import Admins
from panel import audit, texts
from panel.admins import AdminError, add_admin, list_admins
from panel.audit import Actor, AuditAction
from panel.roles import Role, RoleError, access_of, parse_role, remove_admin, scope_codenames, set_role
from panel.settings import Settings

MAX_USER_ID_DIGITS = 19


def _user_id(value: str) -> int | None:
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_USER_ID_DIGITS:
        return None
    number = int(digits)
    return number if 0 < number < 2**63 else None


def _role_and_bots(words: list[str]) -> tuple[Role | None, list[str] | None]:
    """`[ROLE] [BOTS]` after the id: `RoleError` for a role that is none."""
    role = parse_role(words[0]) if words else None
    bots = [name.strip() for name in words[1].split(",") if name.strip()] if len(words) > 1 else None
    return role, bots


async def _listing(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> str:
    async with sessionmaker() as session:
        lines = [texts.ADMINS_LINE_CONFIGURED.format(user_id=user_id) for user_id in settings.admin_ids]
        for admin in await list_admins(session):
            if admin.user_id in settings.admin_ids:
                continue
            access = await access_of(session, admin.user_id, ())
            assert access is not None
            bots = ", ".join(await scope_codenames(session, access)) or texts.ADMINS_ALL_BOTS
            lines.append(
                texts.ADMINS_LINE.format(
                    user_id=admin.user_id, name=admin.display_name or "—", role=access.role, bots=bots
                )
            )
    return texts.ADMINS_LIST.format(lines="\n".join(lines) or texts.ADMINS_NONE)


async def _add(
    message: Message,
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: int,
    *,
    name: str | None,
    role: Role,
    bots: list[str] | None,
) -> None:
    """Add `user_id` with `role` over `bots`; a mistake is named and nothing is saved."""
    try:
        async with sessionmaker.begin() as session:
            await add_admin(session, user_id, display_name=name)
            await set_role(session, user_id, role, bot_codenames=bots)
            details = {"user_id": user_id, "role": role.value, "bots": bots or "all"}
            await audit.record(session, Actor.chat(message.chat.id), AuditAction.ADD_ADMIN, details=details)
    except (AdminError, RoleError) as error:
        await message.answer(texts.ADMINS_REFUSED.format(reason=error))
        return
    await message.answer(
        texts.ADMINS_ADDED.format(
            user_id=user_id, role=role, bots=", ".join(bots or []) or texts.ADMINS_ALL_BOTS
        )
    )


async def admins(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The list, or one of add / set / remove."""
    words = (command.args or "").split()
    if not words:
        await message.answer(await _listing(sessionmaker, settings))
        return
    verb, rest = words[0].lower(), words[1:]
    if verb == "add" and (not rest or _user_id(rest[0]) is None):
        try:
            role, bots = _role_and_bots(rest)
        except RoleError as error:
            await message.answer(texts.ADMINS_REFUSED.format(reason=error))
            return
        await state.set_state(Admins.waiting_person)
        await state.update_data(role=(role or Role.VIEWER).value, bots=bots)
        await message.answer(texts.ADMINS_ASK_PERSON)
        return
    if verb not in ("add", "set", "remove") or not rest or _user_id(rest[0]) is None:
        await message.answer(texts.ADMINS_USAGE)
        return
    user_id = _user_id(rest[0])
    assert user_id is not None
    if user_id in settings.admin_ids:
        await message.answer(texts.ADMINS_CONFIGURED.format(user_id=user_id))
        return
    if verb == "remove":
        async with sessionmaker.begin() as session:
            removed = await remove_admin(session, user_id)
            if removed:
                actor = Actor.chat(message.chat.id)
                await audit.record(session, actor, AuditAction.REMOVE_ADMIN, details={"user_id": user_id})
        await message.answer(
            (texts.ADMINS_REMOVED if removed else texts.ADMINS_NOT_ONE).format(user_id=user_id)
        )
        return
    try:
        role, bots = _role_and_bots(rest[1:])
    except RoleError as error:
        await message.answer(texts.ADMINS_REFUSED.format(reason=error))
        return
    if verb == "add":
        await _add(message, sessionmaker, user_id, name=None, role=role or Role.VIEWER, bots=bots)
        return
    if role is None:
        await message.answer(texts.ADMINS_USAGE)
        return
    try:
        async with sessionmaker.begin() as session:
            await set_role(session, user_id, role, bot_codenames=bots)
            details = {"user_id": user_id, "role": role.value, "bots": bots or "all"}
            await audit.record(session, Actor.chat(message.chat.id), AuditAction.SET_ROLE, details=details)
    except RoleError as error:
        await message.answer(texts.ADMINS_REFUSED.format(reason=error))
        return
    await message.answer(
        texts.ADMINS_CHANGED.format(
            user_id=user_id, role=role, bots=", ".join(bots or []) or texts.ADMINS_ALL_BOTS
        )
    )


async def got_person(
    message: Message, state: FSMContext, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A forwarded message of theirs, or their user id; anything else is asked again."""
    origin = message.forward_origin
    user_id: int | None = None
    name: str | None = None
    if origin is not None and origin.type == "user":
        sender = getattr(origin, "sender_user", None)
        if sender is not None:
            user_id, name = sender.id, sender.full_name
    elif origin is not None and origin.type == "hidden_user":
        await message.answer(texts.ADMINS_HIDDEN_SENDER)
        return
    elif message.text:
        user_id = _user_id(message.text)
    if user_id is None:
        await message.answer(texts.ADMINS_ASK_PERSON_AGAIN)
        return
    if user_id in settings.admin_ids:
        await state.clear()
        await message.answer(texts.ADMINS_CONFIGURED.format(user_id=user_id))
        return
    data = await state.get_data()
    await state.clear()
    await _add(message, sessionmaker, user_id, name=name, role=Role(data["role"]), bots=data.get("bots"))


def create_router() -> Router:
    """The /admins handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="admins")
    router.message.register(admins, Command("admins"))
    router.message.register(got_person, Admins.waiting_person, F.text | F.forward_origin)
    return router
