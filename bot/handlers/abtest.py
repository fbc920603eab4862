"""🧪 A/B test, from a draft's card: variant B, its buttons, the split, the window and the measure
(`panel.abtest`); and "🏆 X wins" on a sending test's card, to pick the winner before the window ends."""

from __future__ import annotations

from datetime import timedelta

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards
from bot.callbacks import AbTestAction, AbTestCallback, CampaignAction, CampaignCallback
from bot.states import AbTestStates
from models import CampaignStatus
from panel import abtest, actions, campaigns, texts
from panel.audit import Actor
from panel.buttons import Buttons, ButtonsError, parse_buttons
from panel.content import ContentError, MessageContent
from panel.settings import Settings

NO_BUTTONS = "0"


async def ask_for_variant(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The draft card's "A/B test": variant B's message first."""
    async with sessionmaker() as session:
        campaign = await campaigns.get_campaign(session, callback_data.campaign_id)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if campaign is None:
        await query.message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id))
        return
    if campaign.status is not CampaignStatus.DRAFT:
        await query.message.answer(texts.AB_NOT_A_DRAFT.format(campaign_id=campaign.id))
        return
    await state.set_state(AbTestStates.waiting_variant)
    await state.set_data({"campaign_id": campaign.id})
    await query.message.answer(texts.ASK_AB_VARIANT.format(campaign_id=campaign.id))


async def got_variant(message: Message, state: FSMContext) -> None:
    """Variant B's text, its formatting kept; then its buttons."""
    assert message.text is not None
    entities = [entity.model_dump(mode="json", exclude_none=True) for entity in message.entities or ()]
    try:
        content = MessageContent(text=message.text, entities=tuple(entities))
    except ContentError as exc:
        await message.answer(texts.AB_SPLIT_REFUSED.format(reason=str(exc).rstrip(".")))
        return
    await state.update_data(variant=content.to_json())
    await state.set_state(AbTestStates.waiting_buttons)
    await message.answer(texts.ASK_AB_BUTTONS)


async def variant_not_text(message: Message) -> None:
    """A photo, file or sticker as variant B."""
    await message.answer(texts.AB_VARIANT_NOT_TEXT)


async def got_buttons(message: Message, state: FSMContext) -> None:
    """Variant B's URL buttons as in compose, or 0 for none; then the split."""
    assert message.text is not None
    typed = message.text.strip()
    buttons = Buttons()
    if typed != NO_BUTTONS:
        try:
            buttons = parse_buttons(typed)
        except ButtonsError as exc:
            await message.answer(texts.AB_BUTTONS_REFUSED.format(reason=str(exc).rstrip(".")))
            return
    data = await state.get_data()
    content = MessageContent.from_json(data["variant"])
    variant = MessageContent(text=content.text, entities=content.entities, buttons=buttons)
    await state.update_data(variant=variant.to_json())
    await state.set_state(AbTestStates.waiting_split)
    await message.answer(texts.ASK_AB_SPLIT)


async def got_split(message: Message, state: FSMContext) -> None:
    """ "10 10 5": A's, B's and the holdout's percents; then the window."""
    assert message.text is not None
    try:
        split = abtest.parse_split(message.text, 2)
    except abtest.AbTestError as exc:
        await message.answer(texts.AB_SPLIT_REFUSED.format(reason=exc))
        return
    await state.update_data(shares=list(split.shares), holdout=split.holdout)
    await state.set_state(AbTestStates.waiting_window)
    await message.answer(texts.ASK_AB_WINDOW)


async def got_window(message: Message, state: FSMContext) -> None:
    """ "2h": how long the test runs; then the measure, as buttons."""
    assert message.text is not None
    try:
        window = abtest.parse_window(message.text)
    except abtest.AbTestError as exc:
        await message.answer(texts.AB_WINDOW_REFUSED.format(reason=exc))
        return
    await state.update_data(window_s=int(window.total_seconds()))
    await state.set_state(AbTestStates.choosing_measure)
    campaign_id = int((await state.get_data())["campaign_id"])
    await message.answer(texts.ASK_AB_MEASURE, reply_markup=keyboards.ab_measures(campaign_id))


async def step_not_text(message: Message) -> None:
    """Anything but text at the buttons, split or window step."""
    await message.answer(texts.AB_STEP_NOT_TEXT)


async def measure_not_tapped(message: Message) -> None:
    """Typing where a measure button is expected."""
    await message.answer(texts.AB_TAP_MEASURE)


async def chose_measure(
    query: CallbackQuery,
    callback_data: AbTestCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The measure: the test is set (the split, window and variant B as given)."""
    data = await state.get_data()
    if await state.get_state() != AbTestStates.choosing_measure.state or int(data.get("campaign_id", 0)) != (
        callback_data.campaign_id
    ):
        await query.answer(texts.AB_STALE_TAP)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        measure = abtest.Measure(callback_data.value)
        split = abtest.validate_split(data["shares"], int(data["holdout"]))
        window = timedelta(seconds=int(data["window_s"]))
        changed = await actions.set_ab_test(
            sessionmaker,
            callback_data.campaign_id,
            contents=[data["variant"]],
            split=split,
            window=window,
            measure=measure,
            actor=Actor.chat(query.from_user.id),
        )
    except (abtest.AbTestError, ValueError) as exc:
        await state.clear()
        await query.message.answer(texts.AB_REFUSED.format(reason=exc))
        return
    await state.clear()
    if not changed:
        await query.message.answer(texts.AB_NOT_A_DRAFT.format(campaign_id=callback_data.campaign_id))
        return
    await query.message.answer(
        texts.AB_SET.format(
            campaign_id=callback_data.campaign_id,
            split=abtest.split_line(split),
            holdout=split.holdout,
            window=texts.duration(window),
            measure=texts.AB_MEASURES[measure.value],
        )
    )


async def pick_winner(
    query: CallbackQuery,
    callback_data: AbTestCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    settings: Settings,
) -> None:
    """ "🏆 B wins" on a sending test's card: B goes to the rest now."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        released = await actions.pick_ab_winner(
            sessionmaker,
            arq_pool,
            callback_data.campaign_id,
            callback_data.value,
            queue_name=settings.queue_name,
            actor=Actor.chat(query.from_user.id),
        )
    except abtest.AbTestError as exc:
        await query.message.answer(texts.AB_REFUSED.format(reason=exc))
        return
    if released is None:
        await query.message.answer(texts.AB_WINNER_REFUSED.format(campaign_id=callback_data.campaign_id))
        return
    await query.message.answer(
        texts.AB_WINNER_SET.format(
            label=callback_data.value,
            campaign_id=callback_data.campaign_id,
            released=texts.number(released),
        )
    )


def create_router() -> Router:
    """Setting a draft's A/B test up, and picking a winner, on a new router."""
    router = Router(name="abtest")
    router.callback_query.register(
        ask_for_variant, CampaignCallback.filter(F.action == CampaignAction.AB_TEST)
    )
    router.callback_query.register(chose_measure, AbTestCallback.filter(F.action == AbTestAction.MEASURE))
    router.callback_query.register(pick_winner, AbTestCallback.filter(F.action == AbTestAction.PICK))
    not_command = ~F.text.startswith("/")
    router.message.register(got_variant, AbTestStates.waiting_variant, F.text, not_command)
    router.message.register(variant_not_text, AbTestStates.waiting_variant, ~F.text)
    router.message.register(got_buttons, AbTestStates.waiting_buttons, F.text, not_command)
    router.message.register(got_split, AbTestStates.waiting_split, F.text, not_command)
    router.message.register(got_window, AbTestStates.waiting_window, F.text, not_command)
    for waiting in (AbTestStates.waiting_buttons, AbTestStates.waiting_split, AbTestStates.waiting_window):
        router.message.register(step_not_text, waiting, ~F.text)
    router.message.register(measure_not_tapped, AbTestStates.choosing_measure)
    return router
