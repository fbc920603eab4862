"""/new: target bot → message → optional buttons → optional name → summary card with a preview
and the next step.

Everything typed so far lives in the FSM data (Redis), so a restart of the bot loses nothing;
the campaign row is created only when the admin saves, sends or schedules it, so Discard and
/cancel leave nothing behind.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, MessageOriginChannel
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, prompts, views
from bot.callbacks import ComposeAction, ComposeCallback, SendOptionCallback
from bot.edits import edit_buttons, edit_text
from bot.prompts import ask_confirmation, ask_time
from bot.states import Compose
from bot.target import TestSendResult, can_read_chat, send_content, send_test
from models import TargetBot
from panel import audit, groups, texts, topics
from panel import campaigns as lifecycle
from panel.audience import Audience, audience_of, bot_audiences, bot_label, sample_user
from panel.audit import Actor, AuditAction
from panel.buttons import Buttons
from panel.claims import claim_once
from panel.content import AlbumItem, ChannelPost, ContentError, Media, MessageContent
from panel.greetings import PERSONALISED_KEY, GreetingError, personalise, rendered, values_of
from panel.groups import MAX_GROUP_BOTS
from panel.keys import RedisKeys
from panel.links import has_links
from panel.roles import Access
from panel.secrets import open_token
from panel.segments import SegmentError, get_segment, list_segments, parse_segment
from panel.send_options import LinkPreview, SendOptions, offers_link_preview
from panel.settings import Settings

MAX_NAME_CHARS = 100
CARD_CLAIM_TTL_S = 3600
ALBUM_QUIET_S = 1.0
"""An album's items arrive as separate messages: it is complete when none came for this long."""
ALBUM_TTL_S = 600


def _content(data: dict[str, Any], *, post_key: str = "channel_post") -> MessageContent:
    media = data.get("media")
    post = data.get(post_key)
    return MessageContent(
        text=data["text"],
        entities=tuple(data.get("entities") or ()),
        media=Media.from_json(media) if media else None,
        buttons=Buttons.from_json(data.get("buttons")),
        channel_post=ChannelPost.from_json(post) if post else None,
        album=tuple(AlbumItem.from_json(item) for item in data.get("album") or ()),
    )


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """The message as it is stored: marked personalised when it greets by name (a channel post
    goes as the channel has it)."""
    content = _content(data)
    return content.to_json() if content.channel_post is not None else personalise(content.to_json())


async def _as_seen_by(
    sessionmaker: async_sessionmaker[AsyncSession],
    data: dict[str, Any],
    stored: dict[str, Any],
    *,
    chat_id: int | None = None,
) -> tuple[MessageContent, str | None]:
    """The message as one user of the target bot gets it, and who (None: the fallbacks).

    `chat_id`: that user's own row (Test to me); otherwise a user of the audience with a name.
    """
    if PERSONALISED_KEY not in stored:
        return MessageContent.from_json(stored), None
    # Only a message that greets by name gets here: a channel post is never personalised.
    async with sessionmaker() as session:
        user = await sample_user(session, int(data["bot_id"]), chat_id=chat_id)
    if user is None:
        return MessageContent.from_json(rendered(stored, {})), None
    values = values_of(user.first_name, user.last_name, user.username)
    who = values["full_name"] or (f"@{user.username}" if user.username else f"user {user.chat_id}")
    return MessageContent.from_json(rendered(stored, values)), who


LINKS_TRACKING_KEY = "links_tracking"
"""In the conversation's data: whether this deployment tracks links (LINKS_BASE_URL is set)."""


def _options(data: dict[str, Any]) -> SendOptions:
    """The send options chosen on the card so far (the defaults until a toggle is tapped)."""
    return SendOptions.from_json(data.get("send_options"))


def _summary_keyboard(data: dict[str, Any]) -> InlineKeyboardMarkup:
    offer = offers_link_preview(_content(data).to_json())
    # Tracked links: offered when the deployment has a link service and the message has a link.
    tracking = None
    if data.get(LINKS_TRACKING_KEY) and has_links(_content(data).to_json()):
        tracking = _options(data).tracks_links(True)
    return keyboards.summary_actions(
        _options(data),
        offer_link_preview=offer,
        audience_filter=data.get("audience_filter"),
        track_links=tracking,
        topic=data.get("topic"),
        unsubscribe_button=bool(data.get("unsubscribe_button")),
    )


async def _target_bot(
    query: CallbackQuery, sessionmaker: async_sessionmaker[AsyncSession], data: dict[str, Any]
) -> TargetBot | None:
    """The draft's target bot, or None once the tap is answered that it is gone."""
    async with sessionmaker() as session:
        target_bot = await lifecycle.get_bot(session, int(data["bot_id"]))
    if target_bot is None:
        await query.answer(texts.BOT_GONE, show_alert=True)
    return target_bot


async def _audience(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot_id: int,
    content: dict[str, Any] | None = None,
    audience_filter: str | None = None,
    topic: str | None = None,
) -> Audience | None:
    async with sessionmaker() as session:
        target_bot = await lifecycle.get_bot(session, bot_id)
        if target_bot is None:
            return None
        return await audience_of(
            session, target_bot, content=content, audience_filter=audience_filter, topic=topic
        )


async def _ask_for_message(message: Message, state: FSMContext, audience: Audience) -> None:
    await state.update_data(bot_id=audience.bot.id)
    await state.set_state(Compose.waiting_text)
    await message.answer(
        texts.TARGET_CHOSEN.format(bot=bot_label(audience.bot), users=audience.available)
        + "\n\n"
        + texts.ASK_MESSAGE
    )


async def _show_summary(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The preview exactly as recipients see it, then the card with the next steps."""
    data = await state.get_data()
    rule = data.get("audience_filter")
    audience = await _audience(
        sessionmaker, int(data["bot_id"]), _content(data).to_json(), rule, topic=data.get("topic")
    )
    if audience is None:
        await state.clear()
        await message.answer(texts.BOT_GONE)
        return
    assert message.bot is not None  # a message the dispatcher handed over has its bot
    stored = _stored(data)
    shown, who = await _as_seen_by(sessionmaker, data, stored)
    if shown.channel_post is not None:
        # The control bot may not read the channel: it previews the admin's own forward of the post.
        shown = _content(data, post_key="preview_post")
    await send_content(message.bot, message.chat.id, shown)
    card = views.summary_card(name=data.get("name"), audience=audience, rule=rule, topic=data.get("topic"))
    bot_ids = [int(bot_id) for bot_id in data.get("bot_ids") or ()]
    if len(bot_ids) > 1:  # several bots: each one's share after the one-copy rule
        async with sessionmaker() as session:
            found = await groups.shares(session, [(bot_id, rule, data.get("topic")) for bot_id in bot_ids])
        card = views.group_summary_card(
            name=data.get("name"), shares=found, content=_content(data).to_json(), rule=rule
        )
    if PERSONALISED_KEY in stored:
        card += "\n\n" + (texts.PREVIEW_AS.format(who=who) if who else texts.PREVIEW_AS_NOBODY)
    await message.answer(card, reply_markup=_summary_keyboard(data))
    await state.set_state(Compose.reviewing)
    await state.update_data(reviewed=True)


async def new(
    message: Message,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    access: Access,
) -> None:
    """Start composing: choose the target bot of the admin's scope (skipped when there is one)."""
    await state.clear()
    await state.update_data({LINKS_TRACKING_KEY: settings.links_base_url is not None})
    async with sessionmaker() as session:
        audiences = await bot_audiences(session, bot_ids=access.bot_ids)
    if not audiences:
        await message.answer(texts.NO_BOTS)
        return
    if len(audiences) == 1:
        await _ask_for_message(message, state, audiences[0])
        return
    await state.set_state(Compose.choosing_bot)
    await message.answer(texts.CHOOSE_BOT, reply_markup=keyboards.bot_picker(audiences))


async def pick_bot(
    query: CallbackQuery,
    callback_data: ComposeCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The target bot is chosen: ask for the message."""
    audience = await _audience(sessionmaker, callback_data.bot_id)
    if audience is None:
        await query.answer(texts.BOT_GONE, show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await _ask_for_message(query.message, state, audience)


async def bot_not_picked(message: Message) -> None:
    """Typing instead of choosing a bot."""
    await message.answer(texts.CHOOSE_BOT_AGAIN)


async def _scoped_audiences(sessionmaker: async_sessionmaker[AsyncSession], access: Access) -> list[Audience]:
    async with sessionmaker() as session:
        return await bot_audiences(session, bot_ids=access.bot_ids)


async def pick_several(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """📚 Several bots…: the toggles, numbered in the order they are tapped."""
    await query.answer()
    await state.update_data(bot_order=[])
    if isinstance(query.message, Message):
        audiences = await _scoped_audiences(sessionmaker, access)
        await edit_text(query.message, texts.CHOOSE_BOTS, reply_markup=keyboards.bots_toggle(audiences, []))


async def toggle_bot(
    query: CallbackQuery,
    callback_data: ComposeCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    access: Access,
) -> None:
    """A bot tapped in the several-bots picker: added last to the order, or taken out of it."""
    order = [int(bot_id) for bot_id in (await state.get_data()).get("bot_order") or []]
    audiences = await _scoped_audiences(sessionmaker, access)
    if callback_data.bot_id not in {audience.bot.id for audience in audiences}:
        await query.answer(texts.BOT_GONE, show_alert=True)
        return
    if callback_data.bot_id in order:
        order.remove(callback_data.bot_id)
    elif len(order) >= MAX_GROUP_BOTS:
        await query.answer(texts.CHOOSE_BOTS_TOO_MANY.format(limit=MAX_GROUP_BOTS), show_alert=True)
        return
    else:
        order.append(callback_data.bot_id)
    await state.update_data(bot_order=order)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, keyboards.bots_toggle(audiences, order))


async def bots_done(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Done in the several-bots picker: one bot is the usual draft, more are a group."""
    order = [int(bot_id) for bot_id in (await state.get_data()).get("bot_order") or []]
    if not order:
        await query.answer(texts.CHOOSE_BOTS_NONE, show_alert=True)
        return
    async with sessionmaker() as session:
        found = await groups.shares(session, [(bot_id, None, None) for bot_id in order])
    if len(found) != len(order):
        await query.answer(texts.BOT_GONE, show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await edit_buttons(query.message, None)
    await state.update_data(bot_id=order[0], bot_ids=order, bot_order=None)
    await state.set_state(Compose.waiting_text)
    await query.message.answer(
        texts.TARGETS_CHOSEN.format(bots=" → ".join(bot_label(share.bot) for share in found))
        + "\n"
        + groups.share_line(found)
        + "\n\n"
        + texts.ASK_MESSAGE
    )


async def got_message(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The message to broadcast, formatting kept through its entities."""
    assert message.text is not None
    entities = [entity.model_dump(mode="json", exclude_none=True) for entity in message.entities or ()]
    try:
        content = MessageContent(text=message.text, entities=tuple(entities))
        personalise(content.to_json())  # placeholders are checked here, filled per recipient
    except (ContentError, GreetingError) as error:
        await message.answer(texts.CONTENT_REFUSED.format(reason=str(error)))
        return
    await _keep_message(message, state, sessionmaker, content)


async def got_channel_post(message: Message, state: FSMContext) -> None:
    """A post forwarded from a channel: ask whether it goes out forwarded as is or copied."""
    origin = message.forward_origin
    assert isinstance(origin, MessageOriginChannel)
    text = message.text if message.text is not None else message.caption or ""
    found = message.entities if message.text is not None else message.caption_entities
    await state.update_data(
        pending_post={
            "from_chat_id": origin.chat.id,
            "message_id": origin.message_id,
            "channel": origin.chat.title or str(origin.chat.id),
            "preview_chat_id": message.chat.id,
            "preview_message_id": message.message_id,
            "text": text,
            "entities": [entity.model_dump(mode="json", exclude_none=True) for entity in found or ()],
        }
    )
    await message.answer(
        texts.CHANNEL_POST_HOW.format(channel=origin.chat.title or origin.chat.id),
        reply_markup=keyboards.channel_post_modes(),
    )


async def pick_post_mode(
    query: CallbackQuery,
    callback_data: ComposeCallback,
    state: FSMContext,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Forward as is / Copy: first the target bot must be able to read the channel, with its own token."""
    data = await state.get_data()
    pending = data.get("pending_post")
    if not pending or not isinstance(query.message, Message):
        await query.answer(texts.CHANNEL_POST_AGAIN, show_alert=True)
        return
    target_bots = []
    for bot_id in data.get("bot_ids") or [data["bot_id"]]:  # each bot of a group forwards it itself
        target_bot = await _target_bot(query, sessionmaker, {"bot_id": bot_id})
        if target_bot is None:
            return
        target_bots.append(target_bot)
    await query.answer()
    for target_bot in target_bots:
        readable = await can_read_chat(
            open_token(settings, target_bot.sealed_token),
            api_url=settings.telegram_api_url,
            chat_id=int(pending["from_chat_id"]),
        )
        if not readable:
            label = f"@{target_bot.username}" if target_bot.username else target_bot.codename
            await query.message.answer(texts.CHANNEL_UNREADABLE.format(bot=label, channel=pending["channel"]))
            return
    mode = "forward" if callback_data.action is ComposeAction.FORWARD_POST else "copy"
    try:
        content = MessageContent(
            text=str(pending["text"]),
            entities=tuple(pending["entities"]),
            channel_post=ChannelPost(int(pending["from_chat_id"]), int(pending["message_id"]), mode),
        )
    except ContentError as error:
        await query.message.answer(texts.CONTENT_REFUSED.format(reason=str(error)))
        return
    await edit_buttons(query.message, None)
    preview = ChannelPost(int(pending["preview_chat_id"]), int(pending["preview_message_id"]), mode)
    await state.update_data(pending_post=None, preview_post=preview.to_json())
    await _keep_message(query.message, state, sessionmaker, content)


async def got_media(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A photo, video or file with its caption (formatting kept through the caption's entities)."""
    entities = [
        entity.model_dump(mode="json", exclude_none=True) for entity in message.caption_entities or ()
    ]
    try:
        content = MessageContent(
            text=message.caption or "", entities=tuple(entities), media=_media_of(message)
        )
        personalise(content.to_json())  # placeholders are checked here, filled per recipient
    except (ContentError, GreetingError) as error:
        await message.answer(texts.CONTENT_REFUSED.format(reason=str(error)))
        return
    await _keep_message(message, state, sessionmaker, content)


async def got_album_item(
    message: Message,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    """One photo, video or file of an album. Telegram delivers an album as separate messages with
    one `media_group_id`: each is kept in Redis, and the handler of the last one to arrive (none
    came after it for `ALBUM_QUIET_S`) composes the campaign from all of them, in their order."""
    assert message.media_group_id is not None
    key = RedisKeys(settings.queue_name).album(message.chat.id, message.media_group_id)
    entities = [e.model_dump(mode="json", exclude_none=True) for e in message.caption_entities or ()]
    item = {
        "message_id": message.message_id,
        **_media_of(message).to_json(),
        "caption": message.caption or "",
        "caption_entities": entities,
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(item))
        pipe.expire(key, ALBUM_TTL_S)
        arrived, _ = await pipe.execute()
    await asyncio.sleep(ALBUM_QUIET_S)
    if await redis.llen(key) != arrived:  # type: ignore[misc]
        return  # a later item completes the album
    claim = f"album:{message.chat.id}:{message.media_group_id}"
    if not await claim_once(redis, claim, ttl_s=ALBUM_TTL_S, namespace=settings.queue_name):
        return
    found: list[bytes] = await redis.lrange(key, 0, -1)  # type: ignore[misc]
    items = sorted((json.loads(raw) for raw in found), key=lambda item: int(item["message_id"]))
    await redis.delete(key)
    if await state.get_state() != Compose.waiting_text.state:
        return  # /cancel while the album was arriving
    try:
        content = MessageContent("", album=tuple(AlbumItem.from_json(i) for i in items))
    except ContentError as error:
        await message.answer(texts.CONTENT_REFUSED.format(reason=str(error)))
        return
    await _keep_message(message, state, sessionmaker, content)


def _media_of(message: Message) -> Media:
    kind = "photo" if message.photo else "video" if message.video else "document"
    found = message.photo[-1] if message.photo else message.video or message.document
    assert found is not None
    return Media.from_json({"kind": kind, **found.model_dump(exclude_none=True)})


async def _keep_message(
    message: Message,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    content: MessageContent,
) -> None:
    """The composed message goes into the draft: on to the buttons, or back to the summary when editing."""
    media = content.media.to_json() if content.media else None
    post = content.channel_post.to_json() if content.channel_post else None
    album = [item.to_json() for item in content.album] or None
    await state.update_data(
        text=content.text, entities=list(content.entities), media=media, channel_post=post, album=album
    )
    if post is not None and post["mode"] == "forward":
        # forwardMessage takes no buttons: straight on past that step.
        await state.update_data(buttons=None)
        await _after_buttons(message, state, sessionmaker)
        return
    if album is not None:
        # An album's buttons need their own message, so they are asked for again with it.
        await state.update_data(buttons=None)
        await state.set_state(Compose.waiting_buttons)
        prompt = texts.ASK_BUTTONS_ALBUM.format(items=len(album))
        await message.answer(prompt, reply_markup=keyboards.skip_buttons())
        return
    if (await state.get_data()).get("reviewed"):
        await _show_summary(message, state, sessionmaker)
        return
    await state.set_state(Compose.waiting_buttons)
    await message.answer(texts.ASK_BUTTONS, reply_markup=keyboards.skip_buttons())


async def _after_buttons(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """On to the name, or back to the summary when the draft was already reviewed."""
    if (await state.get_data()).get("reviewed"):
        await _show_summary(message, state, sessionmaker)
        return
    await state.set_state(Compose.waiting_name)
    await message.answer(texts.ASK_NAME, reply_markup=keyboards.skip_name())


async def got_buttons(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The grid of URL buttons; a mistake is named and the step asked again, the draft untouched."""
    buttons = await prompts.read_grid(message, texts.BUTTONS_REFUSED)
    if buttons is None:
        return
    await state.update_data(buttons=buttons.to_json())
    if (await state.get_data()).get("album"):
        await state.set_state(Compose.waiting_follow_up)
        await message.answer(texts.ASK_FOLLOW_UP)
        return
    await _after_buttons(message, state, sessionmaker)


async def got_follow_up(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The text of the message that carries an album's buttons after it."""
    assert message.text is not None
    entities = [entity.model_dump(mode="json", exclude_none=True) for entity in message.entities or ()]
    data = await state.get_data()
    try:
        content = MessageContent(
            text=message.text,
            entities=tuple(entities),
            buttons=Buttons.from_json(data.get("buttons")),
            album=tuple(AlbumItem.from_json(item) for item in data.get("album") or ()),
        )
        personalise(content.to_json())  # placeholders are checked here, filled per recipient
    except (ContentError, GreetingError) as error:
        await message.answer(texts.FOLLOW_UP_REFUSED.format(reason=str(error)))
        return
    await state.update_data(text=content.text, entities=list(content.entities))
    await _after_buttons(message, state, sessionmaker)


async def follow_up_not_text(message: Message) -> None:
    """A photo or sticker as the buttons' message."""
    await message.answer(texts.FOLLOW_UP_NOT_TEXT)


async def skip_buttons(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """No buttons."""
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await state.update_data(buttons=None)
        await _after_buttons(query.message, state, sessionmaker)


async def buttons_not_text(message: Message) -> None:
    """A sticker or photo as the buttons."""
    await message.answer(texts.BUTTONS_NOT_TEXT)


async def unsupported_message(message: Message) -> None:
    """Stickers, polls, voice...: not broadcastable; ask for a message that is."""
    await message.answer(texts.UNSUPPORTED_KIND.format(kind=texts.content_kind(message.content_type)))


async def got_name(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The campaign's name, shown to admins only."""
    assert message.text is not None
    name = " ".join(message.text.split())
    if len(name) > MAX_NAME_CHARS:
        await message.answer(texts.NAME_TOO_LONG.format(length=len(name), limit=MAX_NAME_CHARS))
        return
    await state.update_data(name=name or None)
    await _show_summary(message, state, sessionmaker)


async def skip_name(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """No name."""
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await state.update_data(name=None)
        await _show_summary(query.message, state, sessionmaker)


async def name_not_text(message: Message) -> None:
    """A sticker or photo as a name."""
    await message.answer(texts.NAME_NOT_TEXT)


async def toggle_option(query: CallbackQuery, callback_data: SendOptionCallback, state: FSMContext) -> None:
    """Flip one send option (the link preview moves to its next choice); the card shows the new state."""
    data = await state.get_data()
    options = _options(data).toggled(callback_data.option.value)
    await state.update_data(send_options=options.to_json())
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, _summary_keyboard({**data, "send_options": options.to_json()}))


async def test_to_me(
    query: CallbackQuery,
    state: FSMContext,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Send the message to the admin through the target bot, as recipients will get it."""
    data = await state.get_data()
    target_bot = await _target_bot(query, sessionmaker, data)
    if target_bot is None:
        return
    await query.answer()
    assert query.bot is not None
    stored = _stored(data)
    shown, who = await _as_seen_by(sessionmaker, data, stored, chat_id=query.from_user.id)
    outcome = await send_test(
        open_token(settings, target_bot.sealed_token),
        api_url=settings.telegram_api_url,
        chat_id=query.from_user.id,
        content=shown,
        control=query.bot,
        options=_options(data),
    )
    label = f"@{target_bot.username}" if target_bot.username else target_bot.codename
    if outcome.result is TestSendResult.SENT:
        reply = texts.TEST_SENT.format(bot=label)
        if PERSONALISED_KEY in stored:
            reply += " " + (texts.TEST_AS_YOU if who else texts.TEST_AS_NOBODY).format(bot=label)
    elif outcome.result is TestSendResult.NOT_STARTED:
        reply = texts.TEST_NOT_STARTED.format(bot=label)
    elif outcome.result is TestSendResult.UNAUTHORIZED:
        reply = texts.TEST_BOT_UNAUTHORIZED.format(bot=label)
    else:
        reply = texts.TEST_FAILED.format(bot=label, error=outcome.detail)
    if isinstance(query.message, Message):
        await query.message.answer(reply)


async def edit_message(query: CallbackQuery, state: FSMContext) -> None:
    """Replace the message; the name and bot stay."""
    await query.answer()
    await state.set_state(Compose.waiting_text)
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await query.message.answer(texts.ASK_MESSAGE_AGAIN)


async def finish(
    query: CallbackQuery,
    callback_data: ComposeCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
    admin_timezone: str,
) -> None:
    """Save, send now, schedule or discard the composed message: each card acts once."""
    message = query.message if isinstance(query.message, Message) else None
    card_key = f"card:{query.from_user.id}:{message.message_id if message else query.id}"
    if not await claim_once(redis, card_key, ttl_s=CARD_CLAIM_TTL_S, namespace=settings.queue_name):
        await query.answer(texts.NOT_COMPOSING)
        return
    data = await state.get_data()
    await state.clear()
    await query.answer()
    if callback_data.action is ComposeAction.DISCARD:
        if message is not None:
            await edit_text(message, texts.DISCARDED)
        return
    content = _content(data)
    options = _options(data)
    if not offers_link_preview(content.to_json()):  # the message was edited and lost its link
        options = replace(options, link_preview=LinkPreview.ON)
    try:
        async with sessionmaker() as session, session.begin():
            # Several bots make a group (`panel.groups`): one draft per bot, in the chosen order.
            created = await groups.create_group(
                session,
                bot_ids=[int(bot_id) for bot_id in data.get("bot_ids") or [data["bot_id"]]],
                content=content,
                name=data.get("name"),
                created_by=query.from_user.id,
                options=options,
            )
            for sibling in created:
                sibling.content = _stored(data)
                sibling.audience_filter = data.get("audience_filter")
                if data.get("topic"):  # opt-outs by topic: each bot has the topic (checked when typed)
                    await topics.set_campaign_topic(
                        session,
                        sibling,
                        str(data["topic"]),
                        unsubscribe_button=bool(data.get("unsubscribe_button")),
                    )
                await audit.record(
                    session,
                    Actor.chat(query.from_user.id),
                    AuditAction.CREATE,
                    campaign_id=sibling.id,
                    bot_id=sibling.bot_id,
                )
            campaign = created[0]
    except lifecycle.CampaignError:
        if message is not None:
            await edit_text(message, texts.BOT_GONE)
        return
    except topics.TopicError as error:  # a topic removed while composing
        if message is not None:
            await edit_text(message, texts.CAMPAIGN_TOPIC_REFUSED.format(reason=str(error)))
        return
    if message is None:
        return
    await edit_buttons(message, None)
    if callback_data.action is ComposeAction.SAVE:
        await message.answer(texts.SAVED.format(campaign_id=campaign.id))
    elif callback_data.action is ComposeAction.SEND_NOW:
        await ask_confirmation(message, sessionmaker, campaign.id)
    else:
        await ask_time(message, state, sessionmaker, campaign.id, admin_timezone)


async def choose_audience(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """🎯 Audience: ask for a segment rule, a saved segment's name, or everyone."""
    await query.answer()
    async with sessionmaker() as session:
        saved = [segment.name for segment in await list_segments(session)]
    await state.set_state(Compose.waiting_audience)
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await query.message.answer(texts.ASK_AUDIENCE.format(saved=", ".join(saved) or "none yet"))


async def got_audience(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The rule (or a saved segment, or everyone); a mistake is named with its position."""
    assert message.text is not None
    typed = " ".join(message.text.split())
    rule: str | None = None
    if typed.lower() not in ("everyone", "all"):
        async with sessionmaker() as session:
            saved = await get_segment(session, typed)
        rule = saved.expression if saved is not None else typed
        try:
            parse_segment(rule)
        except SegmentError as error:
            await message.answer(texts.AUDIENCE_REFUSED.format(reason=str(error)))
            return
    await state.update_data(audience_filter=rule)
    await _show_summary(message, state, sessionmaker)


def _bot_ids(data: dict[str, Any]) -> list[int]:
    """The draft's bots: the group's, in order, or its one bot."""
    return [int(bot_id) for bot_id in data.get("bot_ids") or [data["bot_id"]]]


async def choose_topic(
    query: CallbackQuery, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """🏷 Topic: ask which of the bot's topics the campaign is (or none)."""
    await query.answer()
    data = await state.get_data()
    async with sessionmaker() as session:
        names = []
        known: set[str] | None = None
        for bot_id in _bot_ids(data):
            target_bot = await lifecycle.get_bot(session, bot_id)
            names.append(target_bot.codename if target_bot else f"#{bot_id}")
            found = set(await topics.list_topics(session, bot_id))
            known = found if known is None else known & found  # a group's bots all need it
    await state.set_state(Compose.waiting_topic)
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        listed = ", ".join(sorted(known or ())) or texts.NO_TOPICS_YET
        await query.message.answer(texts.ASK_TOPIC.format(bots=", ".join(names), topics=listed))


async def got_topic(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The campaign's topic, which every bot of the draft must have; none takes it away."""
    assert message.text is not None
    typed = message.text.strip().lower()
    data = await state.get_data()
    if typed in ("none", "no", "-", "нет"):
        await state.update_data(topic=None, unsubscribe_button=False)
        await _show_summary(message, state, sessionmaker)
        return
    try:
        async with sessionmaker() as session:
            for bot_id in _bot_ids(data):
                typed = await topics.check_campaign_topic(session, bot_id, typed)
    except topics.TopicError as error:
        await message.answer(texts.TOPIC_REFUSED.format(reason=str(error)))
        return
    await state.update_data(topic=typed)
    await _show_summary(message, state, sessionmaker)


async def topic_not_text(message: Message) -> None:
    """A sticker or photo as the topic."""
    await message.answer(texts.TOPIC_NOT_TEXT)


async def toggle_unsubscribe_button(query: CallbackQuery, state: FSMContext) -> None:
    """🔕 Unsubscribe button: on or off, when the message can carry it."""
    data = await state.get_data()
    wanted = not data.get("unsubscribe_button")
    refusal = topics.button_refusal(_content(data).to_json()) if wanted else None
    if refusal is not None or not data.get("topic"):
        await query.answer(texts.UNSUBSCRIBE_REFUSED.format(reason=refusal or "no topic"), show_alert=True)
        return
    await state.update_data(unsubscribe_button=wanted)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, _summary_keyboard({**data, "unsubscribe_button": wanted}))


async def audience_not_text(message: Message) -> None:
    """A sticker or photo as the rule."""
    await message.answer(texts.AUDIENCE_NOT_TEXT)


async def stale_button(query: CallbackQuery) -> None:
    """A button of a draft that is no longer being composed."""
    await query.answer(texts.NOT_COMPOSING)


async def expecting_a_button(message: Message) -> None:
    """Typing while the summary card waits for a tap."""
    await message.answer(texts.STILL_WAITING.format(what=texts.WAITING_FOR_BUTTON))


def create_router() -> Router:
    """The /new conversation's handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="compose")
    router.message.register(new, Command("new"))
    router.callback_query.register(
        pick_bot, Compose.choosing_bot, ComposeCallback.filter(F.action == ComposeAction.PICK_BOT)
    )
    router.callback_query.register(
        pick_several, Compose.choosing_bot, ComposeCallback.filter(F.action == ComposeAction.PICK_SEVERAL)
    )
    router.callback_query.register(
        toggle_bot, Compose.choosing_bot, ComposeCallback.filter(F.action == ComposeAction.TOGGLE_BOT)
    )
    router.callback_query.register(
        bots_done, Compose.choosing_bot, ComposeCallback.filter(F.action == ComposeAction.BOTS_DONE)
    )
    router.message.register(bot_not_picked, Compose.choosing_bot, ~F.text.startswith("/"))
    router.message.register(got_channel_post, Compose.waiting_text, F.forward_origin.type == "channel")
    router.callback_query.register(
        pick_post_mode,
        Compose.waiting_text,
        ComposeCallback.filter(F.action.in_({ComposeAction.FORWARD_POST, ComposeAction.COPY_POST})),
    )
    router.message.register(got_message, Compose.waiting_text, F.text, ~F.text.startswith("/"))
    router.message.register(
        got_album_item, Compose.waiting_text, F.media_group_id, F.photo | F.video | F.document
    )
    router.message.register(got_media, Compose.waiting_text, F.photo | F.video | F.document)
    router.message.register(unsupported_message, Compose.waiting_text, ~F.text)
    router.message.register(got_buttons, Compose.waiting_buttons, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        skip_buttons, Compose.waiting_buttons, ComposeCallback.filter(F.action == ComposeAction.SKIP_BUTTONS)
    )
    router.message.register(buttons_not_text, Compose.waiting_buttons, ~F.text)
    router.message.register(got_follow_up, Compose.waiting_follow_up, F.text, ~F.text.startswith("/"))
    router.message.register(follow_up_not_text, Compose.waiting_follow_up, ~F.text)
    router.message.register(got_name, Compose.waiting_name, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        skip_name, Compose.waiting_name, ComposeCallback.filter(F.action == ComposeAction.SKIP_NAME)
    )
    router.message.register(name_not_text, Compose.waiting_name, ~F.text)
    router.callback_query.register(
        test_to_me, Compose.reviewing, ComposeCallback.filter(F.action == ComposeAction.TEST)
    )
    router.callback_query.register(
        edit_message, Compose.reviewing, ComposeCallback.filter(F.action == ComposeAction.EDIT)
    )
    router.callback_query.register(
        finish,
        Compose.reviewing,
        ComposeCallback.filter(
            F.action.in_(
                {ComposeAction.SAVE, ComposeAction.SEND_NOW, ComposeAction.SCHEDULE, ComposeAction.DISCARD}
            )
        ),
    )
    router.callback_query.register(toggle_option, Compose.reviewing, SendOptionCallback.filter())
    router.callback_query.register(
        choose_audience, Compose.reviewing, ComposeCallback.filter(F.action == ComposeAction.AUDIENCE)
    )
    router.message.register(got_audience, Compose.waiting_audience, F.text, ~F.text.startswith("/"))
    router.message.register(audience_not_text, Compose.waiting_audience, ~F.text)
    router.callback_query.register(
        choose_topic, Compose.reviewing, ComposeCallback.filter(F.action == ComposeAction.TOPIC)
    )
    router.callback_query.register(
        toggle_unsubscribe_button,
        Compose.reviewing,
        ComposeCallback.filter(F.action == ComposeAction.UNSUBSCRIBE_BUTTON),
    )
    router.message.register(got_topic, Compose.waiting_topic, F.text, ~F.text.startswith("/"))
    router.message.register(topic_not_text, Compose.waiting_topic, ~F.text)
    router.callback_query.register(stale_button, ComposeCallback.filter())
    router.callback_query.register(stale_button, SendOptionCallback.filter())
    router.message.register(expecting_a_button, Compose.reviewing, ~F.text.startswith("/"))
    return router
