"""A/B tests (issue 17): a campaign's variants, the split of its audience, and the winner.

A test campaign has 2-4 variants (A is the campaign's own message, B-D their own) each sent to
a share of the audience, a holdout share that gets nothing, and the rest, which waits. Each
recipient's group is drawn from a hash of the campaign's seed and their chat id (`assign`): the
same seed always gives the same groups, and the group is recorded on the delivery row. Once the
test window is over (or when an admin picks), the winner by the campaign's measure is sent to
the rest. Functions taking an `AsyncSession` never commit; the caller owns the transaction.
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ACTIVE_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
    CampaignVariant,
    Delivery,
    DeliveryStatus,
    User,
    utcnow,
)
from models.tables import LinkClick
from panel import texts
from panel.block_rate import WINDOW as BLOCK_WINDOW
from panel.block_rate import blocked_between

LABELS = "ABCD"
HOLDOUT = "holdout"
REST = "rest"
MAX_SHARE_PERCENT = 50
MIN_SAMPLE = 30
"""Fewer recipients than this in a variant: too early to tell, whatever the p-value."""
SIGNIFICANCE = 0.05
LINK_INDEX_STRIDE = 1000
"""Variant B's tracked links are numbered from 1000, C's from 2000...: one campaign, no clash."""
MAX_WINDOW = timedelta(days=7)
ASSIGN_CHUNK = 5000


class Measure(enum.StrEnum):
    """What makes a variant the winner."""

    CLICKS = "clicks"
    """The unique click rate: recipients who opened any tracked link, of those reached."""
    CLICKS_MINUS_BLOCKS = "clicks-minus-blocks"
    """The unique click rate less the rate of recipients who blocked the bot."""


class AbTestError(ValueError):
    """A test that cannot be set up or decided; the message is for the admin."""


# ---------------------------------------------------------------- pure functions


@dataclass(frozen=True, slots=True)
class Split:
    """The shares of the audience, in percent: one per variant (A, B...), and the holdout's."""

    shares: tuple[int, ...]
    holdout: int

    @property
    def labels(self) -> str:
        return LABELS[: len(self.shares)]

    @property
    def rest(self) -> int:
        return 100 - sum(self.shares) - self.holdout


def split_line(split: Split) -> str:
    """ "A 10% · B 10%": the variants' shares, for the admin."""
    return " · ".join(f"{label} {share}%" for label, share in zip(split.labels, split.shares, strict=True))


def validate_split(shares: Sequence[int], holdout: int) -> Split:
    """The split, or `AbTestError`: 2-4 variants of 1-50% each, a holdout of 0-50%, at most 100%."""
    if not 2 <= len(shares) <= len(LABELS):
        raise AbTestError(texts.AB_SPLIT_COUNT)
    for label, share in zip(LABELS, shares, strict=False):
        if not 1 <= share <= MAX_SHARE_PERCENT:
            raise AbTestError(texts.AB_SPLIT_SHARE.format(label=label, share=share))
    if not 0 <= holdout <= MAX_SHARE_PERCENT:
        raise AbTestError(texts.AB_SPLIT_HOLDOUT.format(share=holdout))
    if sum(shares) + holdout > 100:
        raise AbTestError(texts.AB_SPLIT_SUM.format(total=sum(shares) + holdout))
    return Split(tuple(shares), holdout)


def parse_split(typed: str, variants: int) -> Split:
    """ "10 10 5" (or "10,10,5"): each variant's percent, then the holdout's."""
    parts = [part for part in re.split(r"[\s,;/]+", typed.strip().rstrip("%")) if part]
    try:
        numbers = [int(part.rstrip("%")) for part in parts]
    except ValueError:
        raise AbTestError(texts.AB_SPLIT_UNREADABLE.format(typed=typed[:40])) from None
    if len(numbers) != variants + 1:
        raise AbTestError(texts.AB_SPLIT_LENGTH.format(variants=variants, needed=variants + 1))
    return validate_split(numbers[:-1], numbers[-1])


_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hours?|d|days?)\s*$", re.IGNORECASE)


def parse_window(typed: str) -> timedelta:
    """ "2h", "90m", "1d": the test window, 1 minute to 7 days."""
    match = _WINDOW.match(typed)
    if match is None:
        raise AbTestError(texts.AB_WINDOW_UNREADABLE.format(typed=typed[:40]))
    amount, unit = float(match.group(1)), match.group(2).lower()
    scale = {"m": 60, "h": 3600, "d": 86400}[unit[0]]
    window = timedelta(seconds=round(amount * scale))
    if not timedelta(minutes=1) <= window <= MAX_WINDOW:
        raise AbTestError(texts.AB_WINDOW_RANGE)
    return window


def draw(seed: str, chat_id: int) -> float:
    """A recipient's point in [0, 1): the same for the same seed and chat id, evenly spread."""
    digest = hashlib.sha256(f"{seed}:{chat_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(seed: str, chat_id: int, split: Split) -> str:
    """A recipient's group: a variant's label, `holdout` or `rest`, by where their point falls."""
    point = draw(seed, chat_id) * 100
    edge = 0
    for label, share in zip(LABELS, split.shares, strict=False):
        edge += share
        if point < edge:
            return label
    return HOLDOUT if point < edge + split.holdout else REST


def two_proportion_p(successes_a: int, total_a: int, successes_b: int, total_b: int) -> float | None:
    """The two-sided p-value of a pooled two-proportion z-test (None: nothing to compare)."""
    if total_a <= 0 or total_b <= 0:
        return None
    pooled = (successes_a + successes_b) / (total_a + total_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if spread == 0:
        return None if successes_a + successes_b == 0 or pooled == 1 else 1.0
    z = (successes_a / total_a - successes_b / total_b) / spread
    return math.erfc(abs(z) / math.sqrt(2))


def new_seed() -> str:
    """A campaign's assignment seed."""
    return secrets.token_hex(16)


# ---------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class VariantFigures:
    """One group's figures, from the ledger: rows, sent, unique clickers, blocked."""

    label: str
    recipients: int
    sent: int
    clickers: int
    blocked: int

    @property
    def click_rate(self) -> float:
        return self.clickers / self.sent if self.sent else 0.0

    @property
    def block_rate(self) -> float:
        base = self.sent if self.label != HOLDOUT else self.recipients
        return self.blocked / base if base else 0.0

    def score(self, measure: Measure) -> float:
        """The variant's figure under `measure` (higher is better)."""
        if measure is Measure.CLICKS_MINUS_BLOCKS:
            return self.click_rate - self.block_rate
        return self.click_rate

    def to_json(self) -> dict[str, object]:
        return {
            "variant": self.label,
            "recipients": self.recipients,
            "sent": self.sent,
            "clickers": self.clickers,
            "click_rate": round(self.click_rate, 6),
            "blocked": self.blocked,
            "block_rate": round(self.block_rate, 6),
        }


@dataclass(frozen=True, slots=True)
class AbFigures:
    """A test campaign's groups and its decision."""

    measure: Measure
    variants: tuple[VariantFigures, ...]
    holdout: VariantFigures
    rest: VariantFigures
    winner: str | None
    window: timedelta | None
    decided_at: datetime | None

    def leader(self) -> str:
        """The best variant by the measure; a tie goes to the earliest label."""
        best = max(self.variants, key=lambda v: (v.score(self.measure), -LABELS.index(v.label)))
        return best.label

    def p_value(self, label: str) -> float | None:
        """`label`'s clickers against the best of the other variants'."""
        this = next(v for v in self.variants if v.label == label)
        others = [v for v in self.variants if v.label != label]
        other = max(others, key=lambda v: v.score(self.measure))
        return two_proportion_p(this.clickers, this.sent, other.clickers, other.sent)

    def to_json(self) -> dict[str, object]:
        return {
            "measure": self.measure.value,
            "variants": [{**v.to_json(), "p_value": _rounded(self.p_value(v.label))} for v in self.variants],
            "holdout": self.holdout.to_json(),
            "rest": self.rest.to_json(),
            "winner": self.winner,
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


async def variants_of(session: AsyncSession, campaign_id: int) -> list[CampaignVariant]:
    """A test campaign's variants, A first (empty: not a test)."""
    rows = await session.execute(
        select(CampaignVariant)
        .where(CampaignVariant.campaign_id == campaign_id)
        .order_by(CampaignVariant.label)
    )
    return list(rows.scalars().all())


async def ab_figures(
    session: AsyncSession, campaign: Campaign, *, now: datetime | None = None
) -> AbFigures | None:
    """The figures of a test campaign from its ledger (None: not a test, or not started)."""
    if campaign.ab_seed is None or campaign.started_at is None:
        return None
    labels = [v.label for v in await variants_of(session, campaign.id)]
    start = campaign.started_at
    end = (campaign.completed_at or now or utcnow()) + BLOCK_WINDOW
    clicked = exists().where(LinkClick.campaign_id == campaign.id, LinkClick.chat_id == Delivery.chat_id)
    blocked = exists().where(User.id == Delivery.user_id, blocked_between(start, end))
    sent = Delivery.status == DeliveryStatus.SENT
    rows = await session.execute(
        select(
            Delivery.variant,
            func.count(),
            func.count().filter(sent),
            func.count().filter(and_(sent, clicked)),
            func.count().filter(and_(sent | (Delivery.variant == HOLDOUT), blocked)),
        )
        .where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.variant)
    )
    found = {str(v): (int(n), int(s or 0), int(c or 0), int(b or 0)) for v, n, s, c, b in rows.all()}

    def figures(label: str) -> VariantFigures:
        return VariantFigures(label, *found.get(label, (0, 0, 0, 0)))

    return AbFigures(
        measure=Measure(campaign.ab_measure or Measure.CLICKS),
        variants=tuple(figures(label) for label in labels),
        holdout=figures(HOLDOUT),
        rest=figures(REST),
        winner=campaign.ab_winner,
        window=None if campaign.ab_window_s is None else timedelta(seconds=campaign.ab_window_s),
        decided_at=campaign.ab_decided_at,
    )


def render_figures(figures: AbFigures | None) -> str | None:
    """The card's lines of a test: each variant's figures and how sure the difference is."""
    if figures is None:
        return None
    lines = [texts.AB_CARD_TITLE.format(measure=texts.AB_MEASURES[figures.measure.value])]
    for variant in figures.variants:
        p_value = figures.p_value(variant.label)
        if min(v.sent for v in figures.variants) < MIN_SAMPLE or p_value is None or p_value >= SIGNIFICANCE:
            note = texts.AB_TOO_EARLY if p_value is None else texts.AB_NOT_SURE.format(p=p_value)
        else:
            note = texts.AB_SURE.format(p=p_value)
        lines.append(
            texts.AB_CARD_VARIANT.format(
                label=variant.label,
                crown=" 🏆" if variant.label == figures.winner else "",
                sent=texts.number(variant.sent),
                clickers=texts.number(variant.clickers),
                click_rate=variant.click_rate * 100,
                blocked=texts.number(variant.blocked),
                block_rate=variant.block_rate * 100,
                note=note,
            )
        )
    holdout = figures.holdout
    if holdout.recipients:
        lines.append(
            texts.AB_CARD_HOLDOUT.format(
                held=texts.number(holdout.recipients),
                blocked=texts.number(holdout.blocked),
                block_rate=holdout.block_rate * 100,
            )
        )
    if figures.winner is not None:
        lines.append(
            texts.AB_CARD_WINNER.format(label=figures.winner, rest=texts.number(figures.rest.recipients))
        )
    elif figures.window is not None:
        lines.append(
            texts.AB_CARD_WAITING.format(
                rest=texts.number(figures.rest.recipients), window=texts.duration(figures.window)
            )
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- setting a test up


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def configure(
    session: AsyncSession,
    campaign_id: int,
    *,
    contents: Sequence[Mapping[str, Any]],
    split: Split,
    window: timedelta,
    measure: Measure,
) -> bool:
    """Make a draft an A/B test: variant A is its own message, `contents` are B, C...; the
    split's shares are A's, B's... Replaces an earlier setup; False when it is no longer a draft."""
    if len(contents) + 1 != len(split.shares):
        raise AbTestError(texts.AB_SPLIT_LENGTH.format(variants=len(contents) + 1, needed=len(contents) + 2))
    for content in contents:
        if content.get("media") or content.get("album") or content.get("channel_post"):
            raise AbTestError(texts.AB_VARIANT_TEXT_ONLY)
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status is not CampaignStatus.DRAFT:
        return False
    if campaign.parent_id is not None:
        raise AbTestError(texts.AB_NOT_FOR_RETRY)
    await session.execute(delete(CampaignVariant).where(CampaignVariant.campaign_id == campaign_id))
    session.add_all(
        CampaignVariant(
            campaign_id=campaign_id,
            label=label,
            share_percent=share,
            content=None if index == 0 else dict(contents[index - 1]),
        )
        for index, (label, share) in enumerate(zip(split.labels, split.shares, strict=True))
    )
    campaign.ab_seed = campaign.ab_seed or new_seed()
    campaign.ab_holdout_percent = split.holdout
    campaign.ab_window_s = int(window.total_seconds())
    campaign.ab_measure = measure.value
    campaign.ab_winner = None
    campaign.ab_decided_at = None
    # An approval covers what it saw: variants it never saw void it (`panel.approval`).
    campaign.approval_fingerprint = None
    await session.flush()
    return True


async def inherit(session: AsyncSession, parent: Campaign, child: Campaign) -> None:
    """A retry of a test's failed recipients: the same variants and winner, so each recipient is
    sent what their group got (`assign_retry` gives each their parent row's group)."""
    if parent.ab_seed is None:
        return
    for variant in await variants_of(session, parent.id):
        session.add(
            CampaignVariant(
                campaign_id=child.id,
                label=variant.label,
                share_percent=variant.share_percent,
                content=variant.content,
                send_options=variant.send_options,
            )
        )
    child.ab_seed = parent.ab_seed
    child.ab_measure = parent.ab_measure
    child.ab_winner = parent.ab_winner
    child.ab_decided_at = parent.ab_decided_at
    await session.flush()


async def assign_retry(session: AsyncSession, campaign_id: int, parent_id: int) -> None:
    """Each recipient of a test's retry in the group of their row in the parent campaign."""
    parent_row = Delivery.__table__.alias("parent_row")
    await session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id)
        .values(
            variant=select(parent_row.c.variant)
            .where(parent_row.c.campaign_id == parent_id, parent_row.c.user_id == Delivery.user_id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )


async def split_of(session: AsyncSession, campaign: Campaign) -> Split | None:
    """A test campaign's split (None: not a test)."""
    variants = await variants_of(session, campaign.id)
    if campaign.ab_seed is None or not variants:
        return None
    return Split(tuple(v.share_percent for v in variants), campaign.ab_holdout_percent)


async def assign_deliveries(session: AsyncSession, campaign: Campaign, *, now: datetime | None = None) -> int:
    """Record each frozen recipient's group (`assign`): variants stay pending, the holdout is
    held out (final, never sent), the rest waits for the winner. Returns the held-out count."""
    split = await split_of(session, campaign)
    if split is None or campaign.ab_seed is None:
        return 0
    seed = campaign.ab_seed
    groups: dict[str, list[int]] = {}
    rows = await session.execute(
        select(Delivery.id, Delivery.chat_id).where(Delivery.campaign_id == campaign.id)
    )
    for delivery_id, chat_id in rows.all():
        groups.setdefault(assign(seed, int(chat_id), split), []).append(int(delivery_id))
    held_out = 0
    for group, ids in groups.items():
        values: dict[str, object] = {"variant": group}
        if group == HOLDOUT:
            values |= {"status": DeliveryStatus.HELD_OUT, "finished_at": now or utcnow()}
            held_out = len(ids)
        elif group == REST:
            values |= {"status": DeliveryStatus.WAITING}
        for first in range(0, len(ids), ASSIGN_CHUNK):
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids[first : first + ASSIGN_CHUNK]))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    return held_out


# ---------------------------------------------------------------- deciding


async def decide(
    session: AsyncSession, campaign_id: int, label: str, *, now: datetime | None = None
) -> int | None:
    """Make `label` the winner of a sending or paused test that has none (a compare-and-set) and
    release the rest to it. The number of released rows; None when nothing changed."""
    label = label.strip().upper()
    has_label = exists().where(CampaignVariant.campaign_id == campaign_id, CampaignVariant.label == label)
    changed = _rowcount(
        await session.execute(
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                Campaign.ab_seed.is_not(None),
                Campaign.ab_winner.is_(None),
                Campaign.status.in_(list(ACTIVE_CAMPAIGN_STATUSES)),
                has_label,
            )
            .values(ab_winner=label, ab_decided_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if not changed:  # the write came first (SQLite takes its lock up front): now say why not
        labels = {variant.label for variant in await variants_of(session, campaign_id)}
        if labels and label not in labels:
            raise AbTestError(texts.AB_NO_SUCH_VARIANT.format(label=label[:8]))
        return None
    return _rowcount(
        await session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.WAITING)
            .values(status=DeliveryStatus.PENDING)
            .execution_options(synchronize_session=False)
        )
    )


async def due_decisions(session: AsyncSession, *, now: datetime | None = None) -> list[Campaign]:
    """Test campaigns sending or paused whose window is over and that have no winner yet."""
    now = now or utcnow()
    rows = await session.execute(
        select(Campaign).where(
            Campaign.ab_seed.is_not(None),
            Campaign.ab_winner.is_(None),
            Campaign.ab_window_s.is_not(None),
            Campaign.started_at.is_not(None),
            Campaign.status.in_(list(ACTIVE_CAMPAIGN_STATUSES)),
        )
    )
    return [
        campaign
        for campaign in rows.scalars().all()
        if campaign.started_at is not None
        and campaign.started_at + timedelta(seconds=campaign.ab_window_s or 0) <= now
    ]


@dataclass(frozen=True, slots=True)
class CardLines:
    """What a campaign's card shows of its A/B test: the lines, and its variants' labels."""

    text: str
    labels: str


async def card_lines(session: AsyncSession, campaign: Campaign) -> CardLines | None:
    """A test campaign's lines for its card: the setup of a draft or scheduled test, each
    variant's figures once it has started (None: not a test)."""
    split = await split_of(session, campaign)
    if split is None:
        return None
    figures = await ab_figures(session, campaign)
    if figures is not None:
        text = render_figures(figures)
        assert text is not None
        return CardLines(text, split.labels)
    window = timedelta(seconds=campaign.ab_window_s or 0)
    return CardLines(
        texts.AB_DRAFT_LINE.format(
            split=split_line(split),
            holdout=split.holdout,
            rest=split.rest,
            window=texts.duration(window),
            measure=texts.AB_MEASURES[Measure(campaign.ab_measure or Measure.CLICKS).value],
        ),
        split.labels,
    )
