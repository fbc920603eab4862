"""🧪 A/B test from a draft's card: variant B, its buttons, the split, the window and the measure,
each refusal keeping the admin at the step; then a sending test's card shows each variant's
figures (the ledger's) and "🏆 B wins" sends B to the rest."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from arq.worker import Worker
from sqlalchemy import select, update

from bot.states import AbTestStates
from models import FINAL_DELIVERY_STATUSES, AuditEntry, Campaign, CampaignStatus, Delivery, DeliveryStatus
from panel import abtest, actions, texts
from panel.audit import CLI, AuditAction
from panel.buttons import parse_buttons
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import (
    ADMIN_ID,
    NEWS_TOKEN,
    NEWS_USERS,
    ControlBot,
    fsm_state,
    open_card,
)


async def test_a_draft_becomes_an_ab_test_from_its_card(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        draft = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Sale: 20% off"), name="Sale"
        )
        campaign_id = draft.id
    card = await open_card(control, campaign_id, "Sale")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_AB_TEST)
    question = await control.reply(after_id=before)
    assert question.text == texts.ASK_AB_VARIANT.format(campaign_id=campaign_id)

    photo = control.send(photo=b"\xff\xd8\xff\xe0 jpeg" * 10)
    assert (await control.reply(after_id=photo)).text == texts.AB_VARIANT_NOT_TEXT
    assert await fsm_state(control) == AbTestStates.waiting_variant.state
    assert (await control.say("Sale: half price today")).text == texts.ASK_AB_BUTTONS

    refusal = await control.say("Shop https://shop.example")
    assert (refusal.text or "").startswith("Those can't be the buttons:")
    assert await fsm_state(control) == AbTestStates.waiting_buttons.state
    assert (await control.say("Shop - https://shop.example/b")).text == texts.ASK_AB_SPLIT

    for typed, reason in (
        ("60 10 5", texts.AB_SPLIT_SHARE.format(label="A", share=60)),
        ("40 40 30", texts.AB_SPLIT_SUM.format(total=110)),
        ("10 10", texts.AB_SPLIT_LENGTH.format(variants=2, needed=3)),
        ("half", texts.AB_SPLIT_UNREADABLE.format(typed="half")),
    ):
        answer = await control.say(typed)
        assert answer.text == texts.AB_SPLIT_REFUSED.format(reason=reason), typed
    assert await fsm_state(control) == AbTestStates.waiting_split.state
    assert (await control.say("10 10 5")).text == texts.ASK_AB_WINDOW

    answer = await control.say("soon")
    assert answer.text == texts.AB_WINDOW_REFUSED.format(
        reason=texts.AB_WINDOW_UNREADABLE.format(typed="soon")
    )
    answer = await control.say("9d")
    assert answer.text == texts.AB_WINDOW_REFUSED.format(reason=texts.AB_WINDOW_RANGE)
    measures = await control.say("2h")
    assert measures.text == texts.ASK_AB_MEASURE
    assert (await control.say("clicks")).text == texts.AB_TAP_MEASURE
    before = control.last_id()
    await control.press(measures.message_id, texts.BTN_AB_MEASURE_CLICKS_BLOCKS)
    done = await control.reply(after_id=before)
    assert done.text == texts.AB_SET.format(
        campaign_id=campaign_id,
        split="A 10% · B 10%",
        holdout=5,
        window=texts.duration(timedelta(hours=2)),
        measure=texts.AB_MEASURES["clicks-minus-blocks"],
    )
    assert await fsm_state(control) is None

    async with control.sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        variants = await abtest.variants_of(session, campaign_id)
        entry = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == AuditAction.SET_AB_TEST.value)
            )
        ).one()
    assert campaign.ab_seed is not None and campaign.ab_window_s == 7200
    assert (campaign.ab_holdout_percent, campaign.ab_measure) == (5, "clicks-minus-blocks")
    assert [(v.label, v.share_percent) for v in variants] == [("A", 10), ("B", 10)]
    assert variants[0].content is None  # A is the campaign's own message
    assert (
        variants[1].content
        == MessageContent(
            "Sale: half price today", buttons=parse_buttons("Shop - https://shop.example/b")
        ).to_json()
    )
    assert (entry.actor_id, entry.campaign_id) == (ADMIN_ID, campaign_id)

    await control.press(card.message_id, texts.BTN_REFRESH)
    await control.wait_text(
        card.message_id, "🧪 A/B test: A 10% · B 10% · holdout 5% · rest 75% · window 2 h"
    )


async def test_the_card_of_a_sending_test_shows_the_ledgers_figures_and_picks_the_winner(
    control: ControlBot, worker: Worker
) -> None:
    async with control.sessionmaker() as session, session.begin():
        draft = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Variant A"), name="Test"
        )
        campaign_id = draft.id
    assert await actions.set_ab_test(
        control.sessionmaker,
        campaign_id,
        contents=[MessageContent("Variant B").to_json()],
        split=abtest.Split((40, 40), 10),
        window=timedelta(days=1),
        measure=abtest.Measure.CLICKS,
        actor=CLI,
    )
    # 12 users: a random seed may leave nobody for the rest (0.9 ** 12 of the time), and then the
    # test ends with A and B and has no winner to pick. A seed whose draw fills every group.
    split = abtest.Split((40, 40), 10)
    seed = next(
        f"card-{n}"
        for n in range(1000)
        if {abtest.assign(f"card-{n}", chat_id, split) for chat_id in NEWS_USERS}
        == {"A", "B", "holdout", "rest"}
    )
    async with control.sessionmaker() as session, session.begin():
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(ab_seed=seed))
    outcome = await actions.start(
        control.sessionmaker, control.arq_pool, campaign_id, queue_name=control.settings.queue_name, actor=CLI
    )
    assert outcome is actions.StartOutcome.STARTED

    async def ledger() -> list[Delivery]:
        async with control.sessionmaker() as session:
            found = await session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id))
            return list(found.all())

    for _ in range(200):
        rows = await ledger()
        if rows and all(r.status in FINAL_DELIVERY_STATUSES for r in rows if r.variant in ("A", "B")):
            break
        await asyncio.sleep(0.05)
    async with control.sessionmaker() as session:
        stored = await session.get(Campaign, campaign_id)
        assert stored is not None
        assert stored.ab_seed == seed
    groups = {chat_id: abtest.assign(seed, chat_id, split) for chat_id in NEWS_USERS}
    assert {r.chat_id: r.variant for r in rows} == groups

    card = await open_card(control, campaign_id, "Test")
    async with control.sessionmaker() as session:
        stored = await session.get(Campaign, campaign_id)
        assert stored is not None
        figures = await abtest.ab_figures(session, stored)
    shown = abtest.render_figures(figures)
    assert figures is not None and shown is not None
    for variant in figures.variants:  # the card's counts are the ledger's
        sent = [r for r in rows if r.variant == variant.label and r.status is DeliveryStatus.SENT]
        assert variant.sent == len(sent) == list(groups.values()).count(variant.label)
    card = await control.wait_text(card.message_id, shown)
    assert "too early to tell" in shown  # a dozen recipients tell nothing
    labels = [text for text, _ in card.buttons]
    assert texts.BTN_AB_PICK.format(label="A") in labels and texts.BTN_AB_PICK.format(label="B") in labels

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_AB_PICK.format(label="B"))
    rest = list(groups.values()).count(abtest.REST)
    answer = await control.reply(after_id=before)
    assert answer.text == texts.AB_WINNER_SET.format(label="B", campaign_id=campaign_id, released=rest)
    for _ in range(200):
        async with control.sessionmaker() as session:
            stored = await session.get(Campaign, campaign_id)
        if stored is not None and stored.status is CampaignStatus.COMPLETED:
            break
        await asyncio.sleep(0.05)
    assert stored is not None and stored.status is CampaignStatus.COMPLETED and stored.ab_winner == "B"
    for chat_id, group in groups.items():
        texts_seen = [m.text for m in control.sim.chat(NEWS_TOKEN, chat_id).bot_messages]
        want = {"A": ["Variant A"], "B": ["Variant B"], abtest.REST: ["Variant B"], abtest.HOLDOUT: []}
        assert texts_seen == want[group], (chat_id, group)
    # A second tap (a stale card) is refused: the winner is chosen.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_AB_PICK.format(label="A"))
    answer = await control.reply(after_id=before)
    assert answer.text == texts.AB_WINNER_REFUSED.format(campaign_id=campaign_id)
