"""Target bots, their users, admins, campaigns and per-recipient deliveries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntId, UTCDateTime, utcnow


class CampaignStatus(enum.StrEnum):
    """Where a campaign is in its lifecycle."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNSTARTED_CAMPAIGN_STATUSES = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
"""Not sent yet: the message and the time may still change, and the campaign may start."""
ACTIVE_CAMPAIGN_STATUSES = frozenset({CampaignStatus.SENDING, CampaignStatus.PAUSED})
"""Started and not over: it has delivery rows, and workers send (or may again after a pause)."""
FINAL_CAMPAIGN_STATUSES = frozenset(
    {CampaignStatus.COMPLETED, CampaignStatus.FAILED, CampaignStatus.CANCELLED}
)
"""Over for good: it never sends again."""
STOPPED_CAMPAIGN_STATUSES = frozenset({CampaignStatus.CANCELLED, CampaignStatus.FAILED})
"""Ended before every recipient was tried: its pending rows are to be cancelled."""
CANCELLABLE_CAMPAIGN_STATUSES = UNSTARTED_CAMPAIGN_STATUSES | ACTIVE_CAMPAIGN_STATUSES
"""An admin may cancel a campaign in these."""
DELETABLE_CAMPAIGN_STATUSES = frozenset({CampaignStatus.DRAFT})
"""An admin may delete a campaign in these (it has no deliveries to account for)."""


class DeliveryStatus(enum.StrEnum):
    """What happened to one recipient of one campaign."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; the request may be in flight
    SENT = "sent"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"
    UNCONFIRMED = "unconfirmed"  # the request timed out or its worker died: it may have arrived
    CANCELLED = "cancelled"
    # ---- A/B tests (issue 17, `panel.abtest`)
    WAITING = "waiting"  # the rest of an A/B test: sent the winner once it is chosen
    HELD_OUT = "held_out"  # an A/B test's holdout: never sent, on purpose


FINAL_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.UNAVAILABLE,
        DeliveryStatus.UNCONFIRMED,
        DeliveryStatus.CANCELLED,
        DeliveryStatus.HELD_OUT,
    }
)
UNFINISHED_DELIVERY_STATUSES = frozenset(
    {DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.WAITING}
)
"""Not final yet: a campaign with such rows is not done."""
UNSUCCESSFUL_DELIVERY_STATUSES = frozenset(
    {DeliveryStatus.FAILED, DeliveryStatus.UNAVAILABLE, DeliveryStatus.UNCONFIRMED}
)
"""Tried, and not known to have arrived."""


def _str_enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class TargetBot(Base):
    """A bot whose users receive broadcasts."""

    __tablename__ = "bots"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    codename: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(32), default="telegram", server_default="telegram")
    sealed_token: Mapped[str] = mapped_column(String(512))
    """The bot's token encrypted under SECRET_KEY (panel/secrets.py); opened only to call Telegram."""
    username: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(256))
    rate_per_s: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    paid_broadcast: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    frequency_cap_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """A user who received any campaign of this bot within these hours is left out (0: off)."""
    approval_threshold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Campaigns reaching at least this many users need a second admin's approval (0: never)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never show the token
        return f"TargetBot(id={self.id!r}, codename={self.codename!r})"


class User(Base):
    """A user of a target bot; the target bots fill this table."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("bot_id", "chat_id"),
        Index("ix_users_audience", "bot_id", "platform", "is_unavailable"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32), default="telegram", server_default="telegram")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_unavailable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    unavailable_reason: Mapped[str | None] = mapped_column(String(256))
    unavailable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Custom attributes imported from CSV columns beyond the known ones (`plan`, `city`...)."""


class Admin(Base):
    """Someone allowed to use the control bot."""

    __tablename__ = "admins"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str | None] = mapped_column(String(256))
    timezone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="owner", server_default="owner")
    """owner, editor, sender or viewer (`panel.roles`); over every bot unless `admin_bots` lists some."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdminLanguage(Base):
    """The language the control bot and the workers speak with an admin: the one they chose
    (/language, the CLI), else the last one their Telegram client sent. Apart from `admins`,
    because the owners of ADMIN_IDS have no row there, and a row there would keep someone an
    admin after they left ADMIN_IDS."""

    __tablename__ = "admin_languages"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(8))
    """A code of `panel.i18n.LANGUAGES`: `en`, `ru`."""
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when the admin picked it; False when it follows their Telegram client's language."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AdminBot(Base):
    """A bot an admin's role is limited to; an admin with no rows here has it over every bot."""

    __tablename__ = "admin_bots"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("admins.user_id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)


class Campaign(Base):
    """One announcement to every available user of one target bot."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_due", "status", "scheduled_at"),
        Index("ix_campaigns_group", "group_id", "group_position"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="RESTRICT"))
    platform: Mapped[str] = mapped_column(String(32), default="telegram", server_default="telegram")
    # {"text": str, "entities": [MessageEntity as dict, ...]}; room for media and buttons.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # `SendOptions.to_json()`: silent, protect, link_preview, pin. NULL reads as the defaults.
    send_options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    audience_filter: Mapped[str | None] = mapped_column(Text)
    """A segment expression (`panel.segments`) the audience must match; None: every available user."""
    status: Mapped[CampaignStatus] = mapped_column(
        _str_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    successful_sents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_sents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unavailable_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unconfirmed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Delivered messages pinned in their chats (send option `pin`); not a delivery state.
    pinned_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set once, by whichever worker sends the final summary (a compare-and-set keeps it single).
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A retry of the failed: its audience is the parent's recipients whose send failed on a
    # transient error (and, with `retry_unconfirmed`, those left unconfirmed), not the bot's users.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    retry_unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Tracked links (panel/links.py): None follows the default (on when LINKS_BASE_URL is set).
    track_links: Mapped[bool | None] = mapped_column(Boolean)
    approval_state: Mapped[str | None] = mapped_column(String(16))
    """None (never asked), pending, approved or rejected (`panel.approval`)."""
    approval_requested_by: Mapped[int | None] = mapped_column(BigInteger)
    approval_decided_by: Mapped[int | None] = mapped_column(BigInteger)
    approval_note: Mapped[str | None] = mapped_column(Text)
    """Why it was rejected."""
    approval_fingerprint: Mapped[str | None] = mapped_column(String(64))
    """The content, audience and options approved; any change after approval voids it."""
    # ---- expiry, "Delete after…" (issue 14): the recall starts this long after the sending ends,
    # once (`expiry_started_at` is its compare-and-set).
    expire_after_s: Mapped[int | None] = mapped_column(Integer)
    expiry_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # ---- opt-outs by topic (issue 15)
    topic: Mapped[str | None] = mapped_column(String(32))
    """One of the bot's topics (`panel.topics`): users who opted out of it are left out."""
    unsubscribe_button: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    """Whether an "Unsubscribe from <topic>" button goes under the message (the tracker answers it)."""
    # ---- campaign groups (issue 15): one announcement through several bots, one copy per person.
    group_id: Mapped[int | None] = mapped_column(BigInteger)
    """The id of the group's first campaign, on every campaign of the group (None: not grouped)."""
    group_position: Mapped[int | None] = mapped_column(Integer)
    """This campaign's place in the admin's order of bots (0 first): a person reached by an
    earlier sibling's bot is left out of this one's audience."""
    # ---- A/B tests (issue 17, `panel.abtest`): the variants are in `campaign_variants`; a
    # campaign with `ab_seed` set is a test. Held-out rows are not in `total_recipients`.
    ab_seed: Mapped[str | None] = mapped_column(String(32))
    """Draws each recipient's group (`panel.abtest.assign`): the same seed, the same groups."""
    ab_holdout_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ab_window_s: Mapped[int | None] = mapped_column(Integer)
    """How long after the start the variants are compared before the winner goes to the rest."""
    ab_measure: Mapped[str | None] = mapped_column(String(24))
    """`clicks` (unique click rate) or `clicks-minus-blocks` (that less the block rate)."""
    ab_winner: Mapped[str | None] = mapped_column(String(1))
    ab_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_out_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def finished_count(self) -> int:
        """Recipients in a final state."""
        return (
            self.successful_sents
            + self.failed_sents
            + self.unavailable_count
            + self.unconfirmed_count
            + self.cancelled_count
        )


class Segment(Base):
    """A saved segment expression, reused by name (`/segments`, `broadcast segments`)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    expression: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One recipient of one campaign, and what happened when it was sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id"),
        Index("ix_deliveries_pending", "campaign_id", "status", "id"),
        Index("ix_deliveries_user_sent", "user_id", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DeliveryStatus] = mapped_column(
        _str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_message_ids: Mapped[list[int] | None] = mapped_column(JSON)
    """Every message the delivery sent, when it is more than one: an album's items, then the
    follow-up message with its buttons (recall and edit reach each)."""
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    variant: Mapped[str | None] = mapped_column(String(8))
    """An A/B test's group of this recipient: a variant's label, `holdout` or `rest` (else None)."""


class ActionKind(enum.StrEnum):
    """What an after-send action does to a campaign's delivered messages."""

    RECALL = "recall"
    # ---- edit sent messages (issue 14)
    EDIT = "edit"


class ActionStatus(enum.StrEnum):
    """Where an after-send action is: running until every recipient's step is final."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryActionStatus(enum.StrEnum):
    """What an after-send action did to one recipient's messages."""

    PENDING = "pending"
    CLAIMED = "claimed"  # a worker holds it; the request may be in flight
    DONE = "done"  # deleted (or found already gone after an earlier try of ours)
    GONE = "gone"  # not there on the first try: the user deleted the chat or the message
    TOO_OLD = "too_old"  # past Telegram's 48-hour window for deleting
    UNAVAILABLE = "unavailable"  # the user blocked the bot, or the chat is gone
    FAILED = "failed"  # any other refusal, or errors past the last try
    CANCELLED = "cancelled"  # the action was cancelled before this step


FINAL_DELIVERY_ACTION_STATUSES = frozenset(DeliveryActionStatus) - {
    DeliveryActionStatus.PENDING,
    DeliveryActionStatus.CLAIMED,
}


class CampaignAction(Base):
    """One after-send action on a campaign (a recall): who asked, when, where its progress goes."""

    __tablename__ = "campaign_actions"
    __table_args__ = (Index("ix_campaign_actions_campaign", "campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[ActionKind] = mapped_column(_str_enum(ActionKind, "action_kind"))
    status: Mapped[ActionStatus] = mapped_column(
        _str_enum(ActionStatus, "action_status"), default=ActionStatus.RUNNING
    )
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set once, by whichever worker sends the summary (a compare-and-set keeps it single).
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # ---- edit sent messages (issue 14): the campaign's content history lives in its edits.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """An edit's new message (`MessageContent.to_json()` form), set in the campaign in the same
    transaction; None for a recall."""
    previous_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The campaign's message before this edit (the first edit's is what was sent first)."""


class DeliveryAction(Base):
    """One recipient's step of an after-send action: claimed, tried and recorded like a send."""

    __tablename__ = "delivery_actions"
    __table_args__ = (
        UniqueConstraint("action_id", "delivery_id"),
        Index("ix_delivery_actions_pending", "action_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("campaign_actions.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[DeliveryActionStatus] = mapped_column(
        _str_enum(DeliveryActionStatus, "delivery_action_status"), default=DeliveryActionStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One change someone made, as it was made: appended, never updated or deleted (the
    migration's triggers refuse both). Campaign and bot ids are kept without foreign keys, so
    an entry outlives the deleted draft it tells of."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_campaign", "campaign_id", "id"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    """The admin's Telegram user id; None for the CLI (an operator at the server) and the workers."""
    source: Mapped[str] = mapped_column(String(16))
    """Where the change came from: chat, cli or scheduler."""
    action: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    bot_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# ---------------------------------------------------------------- tracked links (panel/links.py)


class LinkTargetRow(Base):
    """Where a campaign's tracked link leads, by its index (`panel.links.link_targets`).

    Written before the first send; no foreign key, so a link keeps redirecting after its
    campaign is deleted."""

    __tablename__ = "link_targets"

    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    link_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(256))
    """The button's label; None for a link in the text."""


class LinkClick(Base):
    """One open of a tracked link by one recipient (no foreign key: see `LinkTargetRow`)."""

    __tablename__ = "link_clicks"
    __table_args__ = (Index("ix_link_clicks_campaign", "campaign_id", "link_index", "chat_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    link_index: Mapped[int] = mapped_column(Integer)
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- the report chart's events


class CampaignEventKind(enum.StrEnum):
    """What happened to a campaign's sending at a moment (`CampaignEvent`)."""

    PAUSED = "paused"
    RESUMED = "resumed"
    FLOOD_WAIT = "flood_wait"
    """Telegram answered 429: every send of the token waited `seconds` (one event per pause)."""


class CampaignEvent(Base):
    """One moment of a campaign's sending the report chart marks: a pause, a resume, a 429's
    wait. Appended only (`panel.campaign_events`); gone with its campaign."""

    __tablename__ = "campaign_events"
    __table_args__ = (Index("ix_campaign_events_campaign", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[CampaignEventKind] = mapped_column(_str_enum(CampaignEventKind, "campaign_event_kind"))
    seconds: Mapped[float | None] = mapped_column(Float)
    """How long a flood wait's pause was (None for the other kinds)."""


# ---------------------------------------------------------------- topics and opt-outs (issue 15)


class BotTopic(Base):
    """A topic a target bot's campaigns may have (`news`, `offers`), which users may opt out of."""

    __tablename__ = "bot_topics"

    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicOptOut(Base):
    """A user who tapped "Unsubscribe from <topic>" under a bot's message (written by the tracker
    in the target bot, `broadcast_tracker`): left out of that bot's campaigns of the topic.
    No foreign key: the tracker may write it before the user's row."""

    __tablename__ = "user_topic_optouts"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- A/B tests (panel/abtest.py)


class CampaignVariant(Base):
    """One variant of an A/B-tested campaign: its share of the audience and, past A, its message."""

    __tablename__ = "campaign_variants"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    label: Mapped[str] = mapped_column(String(1), primary_key=True)
    """A, B, C or D."""
    share_percent: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The variant's message (`MessageContent.to_json()`); None for A, which is the campaign's own."""
    send_options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The variant's send options; None: the campaign's."""
