"""The texts of the control bot's cards, filled from campaigns and audiences (no Telegram calls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.schedule_parse import ParsedTime, ParseFailure, Rollover, ScheduleParseError
from models import UNSTARTED_CAMPAIGN_STATUSES, Campaign, CampaignStatus
from panel import texts
from panel.audience import Audience, CampaignView, bot_label
from panel.campaigns import Counters, effective_rate, estimate_duration
from panel.content import MessageContent, messages_per_recipient
from panel.groups import Share, share_line
from panel.links import has_links
from panel.progress import counter_numbers
from panel.send_options import LinkPreview, SendOptions, offers_link_preview

PREVIEW_CHARS = 300


def name_or_dash(name: str | None) -> str:
    """A campaign name, or a dash when it has none."""
    return name or texts.NO_NAME


def summary_card(
    *, name: str | None, audience: Audience, rule: str | None = None, topic: str | None = None
) -> str:
    """The card under the preview of a message being composed (`rule`: its segment, if any;
    `topic`: its topic, whose opted-out users are counted apart)."""
    left_out = texts.COMPOSE_EXCLUDED_SEGMENT if rule else texts.COMPOSE_EXCLUDED
    excluded = left_out.format(count=texts.number(audience.excluded)) if audience.excluded else ""
    if audience.capped:
        excluded += texts.COMPOSE_CAPPED.format(
            count=texts.number(audience.capped), hours=audience.bot.frequency_cap_hours
        )
    if audience.opted_out and topic:
        excluded += texts.COMPOSE_OPTED_OUT.format(count=texts.number(audience.opted_out), topic=topic)
    card = texts.COMPOSE_CARD.format(
        title=texts.COMPOSE_PREVIEW_NOTE,
        name=name_or_dash(name),
        bot=bot_label(audience.bot),
        audience=audience.available,
        excluded=excluded,
        duration=texts.duration(audience.duration),
        rate=texts.number(audience.rate_per_s),
    )
    return card + ("\n" + texts.CARD_SEGMENT.format(rule=rule) if rule else "")


def group_summary_card(
    *, name: str | None, shares: Sequence[Share], content: Mapping[str, Any], rule: str | None = None
) -> str:
    """The card under the preview of a message composed for several bots: each bot's share after
    the one-copy rule, and how long sending takes (the bots send in parallel)."""
    durations = [
        estimate_duration(
            share.reached, effective_rate(share.bot, content), messages_each=messages_per_recipient(content)
        )
        for share in shares
    ]
    card = texts.COMPOSE_GROUP_CARD.format(
        title=texts.COMPOSE_PREVIEW_NOTE,
        name=name_or_dash(name),
        bots=" → ".join(bot_label(share.bot) for share in shares),
        audience=share_line(shares),
        duration=texts.duration(max(durations, default=timedelta(0))),
    )
    return card + ("\n" + texts.CARD_SEGMENT.format(rule=rule) if rule else "")


def confirm_send(view: CampaignView) -> str:
    """The question before a campaign goes out now."""
    campaign, audience = view.campaign, view.audience
    text = texts.CONFIRM_SEND.format(
        campaign_id=campaign.id,
        name=f"«{campaign.name}»" if campaign.name else "",
        bot=bot_label(audience.bot),
        audience=audience.available,
        duration=texts.duration(audience.duration),
    ).replace("  ", " ")
    if audience.available == 0 and not view.group_lines:
        text += texts.CONFIRM_SEND_EMPTY.format(bot=bot_label(audience.bot))
    if view.group_lines:  # a group goes out as one: every bot's share
        text += "\n\n" + "\n".join(view.group_lines)
    return text


def moved_on(campaign: Campaign) -> str:
    """Why an action no longer applies: the campaign's current state."""
    return texts.MOVED_ON.format(campaign_id=campaign.id, status=texts.status_label(campaign.status).lower())


def time_confirmation(campaign_id: int, parsed: ParsedTime, timezone: str) -> str:
    """The echo of an understood send time, in the admin's zone and in UTC."""
    if parsed.rollover is Rollover.TODAY:
        note = texts.NOTE_TODAY
    elif parsed.rollover is Rollover.TOMORROW:
        note = texts.NOTE_TOMORROW.format(clock=f"{parsed.local:%H:%M}")
    else:
        note = ""
    return texts.CONFIRM_TIME.format(
        campaign_id=campaign_id,
        when=texts.when_local(parsed.when, timezone),
        timezone=timezone,
        utc=f"{parsed.when:%H:%M}"
        if _same_day(parsed.when, parsed.local)
        else texts.when_local(parsed.when, "UTC"),
        note=note,
    )


def _same_day(utc: datetime, local: datetime) -> bool:
    return utc.date() == local.date()


def time_refusal(error: ScheduleParseError, typed: str, timezone: str) -> str:
    """What was wrong with a typed send time."""
    if error.failure is ParseFailure.IN_PAST:
        if error.local is not None:
            return texts.TIME_IN_PAST.format(when=texts.when_local(error.local, timezone))
        return texts.TIME_IN_PAST_PLAIN
    if error.failure is ParseFailure.NONEXISTENT and error.local is not None:
        return texts.TIME_NONEXISTENT.format(when=f"{error.local:%Y-%m-%d %H:%M}", timezone=timezone)
    if error.failure is ParseFailure.NO_TIME:
        return texts.TIME_NO_TIME.format(value=typed.strip()[:40])
    if error.failure is ParseFailure.BAD_DATE:
        return texts.TIME_BAD_DATE
    if error.failure is ParseFailure.BAD_CLOCK:
        return texts.TIME_BAD_CLOCK
    if error.failure is ParseFailure.TOO_FAR:
        return texts.TIME_TOO_FAR
    return texts.TIME_UNREADABLE.format(value=typed.strip()[:40])


def _counts_line(campaign: Campaign, audience: int) -> str:
    if campaign.status in UNSTARTED_CAMPAIGN_STATUSES:
        return texts.COUNTS_NOT_STARTED.format(audience=audience)
    counters = Counters.of(campaign)
    return texts.COUNTS_PROGRESS.format(sent=texts.number(counters.sent), total=texts.number(counters.total))


def campaign_list(
    campaigns: Sequence[Campaign], audiences: dict[int, int], *, offset: int, total: int, timezone: str
) -> str:
    """A page of the campaign list: one line per campaign."""
    lines = [
        texts.LIST_TITLE.format(first=offset + 1, last=offset + len(campaigns), total=texts.number(total)),
        "",
    ]
    for campaign in campaigns:
        lines.append(
            texts.LIST_LINE.format(
                campaign_id=campaign.id,
                status=texts.status_label(campaign.status),
                name=campaign.name or texts.UNNAMED,
                date=texts.when_local(
                    campaign.scheduled_at or campaign.started_at or campaign.created_at, timezone
                ),
                counts=_counts_line(campaign, audiences.get(campaign.bot_id, 0)),
            )
        )
    return "\n".join(lines)


def send_options_line(campaign: Campaign) -> str | None:
    """The campaign's send options for its card, or None when they are the defaults."""
    options = SendOptions.from_json(campaign.send_options)
    found = []
    if options.silent:
        found.append(texts.CARD_OPTION_SILENT)
    if options.protect:
        found.append(texts.CARD_OPTION_PROTECT)
    if options.link_preview is not LinkPreview.ON and offers_link_preview(campaign.content):
        state = texts.LINK_PREVIEW_LABELS[options.link_preview.value]
        found.append(texts.CARD_OPTION_LINK_PREVIEW.format(state=state))
    if campaign.track_links is False and has_links(campaign.content):
        found.append(texts.CARD_OPTION_UNTRACKED)
    if options.pin:
        if campaign.status in UNSTARTED_CAMPAIGN_STATUSES:
            found.append(texts.CARD_OPTION_PIN_UNSTARTED)
        else:
            found.append(texts.CARD_OPTION_PIN.format(pinned=texts.number(campaign.pinned_count)))
    return texts.CARD_OPTIONS.format(options=" · ".join(found)) if found else None


def campaign_card(view: CampaignView, *, timezone: str) -> str:
    """A campaign's details: state, bot, times, counters and the start of its message."""
    campaign = view.campaign
    timeline = [texts.CARD_CREATED.format(when=texts.when_local(campaign.created_at, timezone))]
    if campaign.scheduled_at and campaign.status is CampaignStatus.SCHEDULED:
        timeline.append(texts.CARD_SCHEDULED.format(when=texts.when_local(campaign.scheduled_at, timezone)))
    if campaign.started_at:
        timeline.append(texts.CARD_STARTED.format(when=texts.when_local(campaign.started_at, timezone)))
    if campaign.completed_at:
        timeline.append(texts.CARD_FINISHED.format(when=texts.when_local(campaign.completed_at, timezone)))
    if campaign.status in UNSTARTED_CAMPAIGN_STATUSES:
        counts = texts.CARD_AUDIENCE.format(audience=view.audience.available)
    else:
        counters = Counters.of(campaign)
        counts = texts.CARD_COUNTERS.format(**counter_numbers(counters))
    content = MessageContent.from_json(campaign.content)
    preview = content.preview_text()
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS].rstrip() + "…"
    options = send_options_line(campaign)
    if options:
        counts += "\n" + options
    if content.buttons:
        preview += "\n\n" + texts.CARD_BUTTONS.format(grid=content.buttons.to_text())
    if view.group_lines:
        counts += "\n" + "\n".join(view.group_lines)
    if campaign.topic:  # opt-outs by topic
        button = texts.CARD_TOPIC_BUTTON if campaign.unsubscribe_button else ""
        counts += "\n" + texts.CARD_TOPIC.format(topic=campaign.topic, button=button)
    return texts.CARD.format(
        campaign_id=campaign.id,
        name=campaign.name or texts.UNNAMED,
        status=texts.status_label(campaign.status),
        reason=texts.CARD_REASON.format(reason=campaign.status_reason) if campaign.status_reason else "",
        bot=bot_label(view.audience.bot),
        timeline="\n".join(timeline),
        counts=counts,
        preview=preview,
    )
