"""Every string that reaches an admin, in one module, in English; `panel.i18n` translates them.

Sections are owned by feature: the control bot's conversation and the engine's progress
messages. An upper-case constant read from outside (`texts.HELP`) comes back in the current
language (`panel.i18n.speaking`, set per update by the control bot); a count that changes the
wording is a `Plural`. Numbers and dates are written for the language; dates are shown in the
admin's time zone. After adding or changing a text, run `scripts/i18n.sh` (README, "Languages").
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from panel import i18n
from panel.i18n import N_, Plural

sys.modules[__name__].__class__ = i18n.TranslatedModule


def number(value: int) -> str:
    """`12345` → `12,345` (Russian: `12 345`)."""
    return i18n.number(value)


def decimal(value: float) -> str:
    """`1234.5` → `1,234.5` (Russian: `1 234,5`)."""
    return i18n.decimal(value)


def duration(span: timedelta) -> str:
    """A short human duration: `45 s`, `3 min 20 s`, `2 h 5 min` (Russian: `2 ч 5 мин`)."""
    seconds = max(int(span.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = DURATION_HOURS_MINUTES if minutes else DURATION_HOURS
    elif minutes:
        text = DURATION_MINUTES_SECONDS if secs else DURATION_MINUTES
    else:
        text = DURATION_SECONDS
    return i18n.gettext(text).format(hours=hours, minutes=minutes, seconds=secs)


DURATION_HOURS_MINUTES = "{hours} h {minutes} min"
DURATION_HOURS = "{hours} h"
DURATION_MINUTES_SECONDS = "{minutes} min {seconds} s"
DURATION_MINUTES = "{minutes} min"
DURATION_SECONDS = "{seconds} s"


# --- Progress and summary (engine) ---------------------------------------------------------

PROGRESS_TITLE = "📣 Campaign #{campaign_id}{name}"
PROGRESS_STATUS = {
    "sending": "Sending…",
    "paused": "⏸ Paused",
    "completed": "✅ Completed",
    "failed": "❌ Failed",
    "cancelled": "🛑 Cancelled",
}
PROGRESS_REASON = "Reason: {reason}"
PROGRESS_BAR = "{bar} {percent}%"
PROGRESS_COUNTS = (
    "Sent: {sent}\nFailed: {failed}\nUnavailable: {unavailable}\nUnconfirmed: {unconfirmed}\n"
    "Remaining: {remaining} of {total}"
)
PROGRESS_RATE = "Rate: {rate}/s · ETA {eta}"
PROGRESS_RATE_UNKNOWN = "Rate: measuring…"
BUTTON_PAUSE = "⏸ Pause"
BUTTON_RESUME = "▶️ Resume"
BUTTON_CANCEL = "🛑 Cancel"

SUMMARY_TITLE = "🏁 Campaign #{campaign_id}{name} finished: {status}"
SUMMARY_COUNTS = (
    "Recipients: {total}\nSent: {sent}\nFailed: {failed}\nUnavailable: {unavailable}\n"
    "Unconfirmed (may have arrived): {unconfirmed}\nCancelled: {cancelled}"
)
SUMMARY_PINNED = "📌 Pinned: {pinned}"
SUMMARY_TIMING = "Duration: {duration} · average {rate}/s"
SUMMARY_ERRORS_HEADER = "Errors:"
SUMMARY_ERROR_LINE = "• {description}: {count}"

NOTICE_UNSCHEDULED = (
    "⏰ Campaign #{campaign_id}{name} was due at {due} but the workers were down for too long "
    "(more than {cutoff} late), so it was not sent. It is a draft again: send or reschedule it."
)
UNSCHEDULED_REASON = "Not sent: it was {late} late when the workers came back (cutoff {cutoff})."
NOTICE_PAUSED_CONTENT = Plural(
    "⏸ Campaign #{campaign_id}{name} is paused: Telegram refused the message for {streak} recipient "
    "in a row with “{error}”. Fix the message and resume, or cancel the campaign.",
    "⏸ Campaign #{campaign_id}{name} is paused: Telegram refused the message for {streak} recipients "
    "in a row with “{error}”. Fix the message and resume, or cancel the campaign.",
    count="streak",
)
PAUSED_CONTENT_REASON = "Telegram refused the message: {error}"
NOTICE_PAUSED_FILE = (
    "⏸ Campaign #{campaign_id}{name} is paused: its file could not be passed on to the target bot "
    "(“{error}”). Resume it to try again, or cancel it."
)
PAUSED_FILE_REASON = "The file could not be passed on to the target bot: {error}"
UPLOADS_FAILED = Plural(
    "{count} upload in a row went unanswered or failed, the last with “{error}”",
    "{count} uploads in a row went unanswered or failed, the last with “{error}”",
    count="count",
)
CLI_FILE_CAPTION = "📎 {name}: uploaded from the command line for a new campaign."
FILE_NO_CONTROL_BOT = "the workers have no control bot token to fetch the file with"
FAILED_UNAUTHORIZED_REASON = "The target bot's token was refused by Telegram (401 Unauthorized)."


# --- Conversation (control bot) ------------------------------------------------------------

# Commands shown in Telegram's menu (setMyCommands).
COMMAND_DESCRIPTIONS = {
    "new": "Compose a new announcement",
    "campaigns": "List campaigns and manage them",
    "segments": "Saved audience rules and their counts",
    "topics": "Each bot's opt-out topics",
    "report": "A campaign's chart and figures",
    "export": "A campaign's delivery ledger as CSV",
    "audit": "Who changed what, and when",
    "admins": "Admins, their roles and bots (owners)",
    "sendnow": "Send a draft now",
    "schedule": "Schedule a draft for later",
    "language": "Choose the bot's language",
    "cancel": "Leave the current step",
    "help": "What this bot can do",
    "start": "Start",
}

# Button texts: the demo and the tests press these by text, keep them stable.
BTN_OPTION_SILENT = "🔕 Silent: {state}"
BTN_OPTION_LINK_PREVIEW = "🔗 Link preview: {state}"
BTN_OPTION_PROTECT = "🔒 Protect content: {state}"
BTN_OPTION_PIN = "📌 Pin after sending: {state}"
OPTION_ON = "on"
OPTION_OFF = "off"
LINK_PREVIEW_LABELS = {
    "on": "on",
    "off": "off",
    "small": "small",
    "large": "large",
    "above": "above the text",
}
CARD_OPTIONS = "Options: {options}"
CARD_OPTION_SILENT = "🔕 silent"
CARD_OPTION_PROTECT = "🔒 protected"
CARD_OPTION_LINK_PREVIEW = "🔗 link preview {state}"
CARD_OPTION_PIN = "📌 pinned ({pinned})"
CARD_OPTION_PIN_UNSTARTED = "📌 pin after sending"
BTN_SEND_NOW = "🚀 Send now"
BTN_SCHEDULE = "🗓 Schedule"
BTN_TEST = "🧪 Test to me"
BTN_EDIT = "✏️ Edit message"
BTN_SAVE = "💾 Save draft"
BTN_DISCARD = "🗑 Discard"
BTN_SKIP = "Skip"
BTN_FORWARD_AS_IS = "↪️ Forward as is"
BTN_COPY_POST = "📋 Copy"
BTN_CONFIRM = "✅ Confirm"
BTN_CHANGE = "✏️ Change"
BTN_NOT_NOW = "✖️ Not now"
BTN_UNSCHEDULE = "↩️ Unschedule"
BTN_RESCHEDULE = "🗓 Move"
BTN_PAUSE = "⏸ Pause"
BTN_RESUME = "▶️ Resume"
BTN_CANCEL_CAMPAIGN = "⏹ Cancel campaign"
BTN_DUPLICATE = "📄 Duplicate"
BTN_DELETE = "🗑 Delete draft"
BTN_YES_CANCEL = "Yes, cancel it"
BTN_YES_DELETE = "Yes, delete it"
BTN_NO = "No"
BTN_REFRESH = "🔄 Refresh"
BTN_BACK = "« Back to list"
BTN_PREV = "‹ Newer"
BTN_NEXT = "Older ›"

STATUS_LABELS = {
    "draft": "📝 Draft",
    "scheduled": "🗓 Scheduled",
    "sending": "📤 Sending",
    "paused": "⏸ Paused",
    "completed": "✅ Completed",
    "failed": "❌ Failed",
    "cancelled": "⏹ Cancelled",
}

NOT_ALLOWED = "Sorry, this bot is private."
NOT_ALLOWED_ANSWER = "Not allowed."

HELP = (
    "I send announcements to the users of your bots.\n\n"
    "/new — compose an announcement\n"
    "/campaigns — list campaigns, open one to act on it\n"
    "/segments [name rule] — saved audience rules and their counts, or save one; /segments new builds one\n"
    "/topics — each bot's topics and who opted out of them\n"
    "/report id — a campaign's chart and figures; /export id — its ledger as CSV\n"
    "/audit [id] — who changed what, and when (of one campaign with its id)\n"
    "/admins — admins, their roles and bots (owners)\n"
    "/sendnow [id] — send a draft now\n"
    "/schedule [id] — send a draft later\n"
    "/language — the bot's language\n"
    "/cancel — leave the current step\n\n"
    "Times are shown in {timezone}."
)
WELCOME = "Hi {name}! " + HELP

CANCELLED_STEP = "Stopped {what}. Nothing was sent."
CANCELLED_COMPOSE = "composing; the draft was not saved"
CANCELLED_SCHEDULE = "scheduling; campaign #{campaign_id} stays as it was"
CANCELLED_OTHER = "what we were doing"
NOTHING_TO_CANCEL = "There is nothing to cancel. /help lists what I can do."
UNKNOWN_COMMAND = "I don't know {command}. /help lists what I can do."
UNKNOWN_INPUT = "I'm not waiting for anything right now. /new composes an announcement; /help lists the rest."
STILL_WAITING = "I'm still waiting for {what}. /cancel stops."
WAITING_FOR_BOT = "a tap on one of the bots"
WAITING_FOR_BUTTON = "a tap on the buttons under the summary"
STALE_BUTTON = "That button is out of date."
STALE_QUESTION = "That question is closed; nothing changed."
SOMETHING_WENT_WRONG = "Something went wrong, try again."

# Composing.
NO_BOTS = (
    "There is no target bot yet. Add one from the server:\n"
    "broadcast bots add <codename> <token>\n"
    "then send /new again."
)
CHOOSE_BOT = "Which bot's users should receive it?"
CHOOSE_BOT_BUTTON = Plural("{codename} · {users} user", "{codename} · {users} users", count="users")
CHOOSE_BOT_AGAIN = "Tap one of the bots above, or /cancel."
BOT_GONE = "That bot no longer exists. Send /new to start again."
TARGET_CHOSEN = Plural("Target: {bot} — {users} user.", "Target: {bot} — {users} users.", count="users")
ASK_MESSAGE = (
    "Send the message exactly as recipients should see it: text, or a photo, video or file with a "
    "caption. Bold, italics, links and the rest of the formatting are kept. Or forward a post "
    "from a channel."
)
ASK_MESSAGE_AGAIN = "Send the new text of the message."
WAITING_FOR_MESSAGE = "the message text"
UNSUPPORTED_KIND = (
    "{kind} can't be broadcast: send a text message, or a photo, video or file (with a caption if you like)."
)
CONTENT_REFUSED = "{reason} Send the message again."
ASK_NAME = "Give it a name for the campaign list (only admins see it), or tap Skip."
WAITING_FOR_NAME = "a name (or Skip)"
NAME_TOO_LONG = Plural(
    "That name is {length} character long; keep it under {limit}. Send a shorter name, or tap Skip.",
    "That name is {length} characters long; keep it under {limit}. Send a shorter name, or tap Skip.",
    count="length",
)
NAME_NOT_TEXT = "The name must be text. Send a name, or tap Skip."
NOT_COMPOSING = "This draft is closed. Send /new to compose another."
PREVIEW_AS = "👆 Shown as {who} will see it: each recipient gets their own name."
PREVIEW_AS_NOBODY = "👆 Shown with the fallbacks: each recipient gets their own name."
TEST_AS_YOU = "It greets you as a user of {bot}."
TEST_AS_NOBODY = "You are not a user of {bot}, so the test shows the fallbacks."
COMPOSE_PREVIEW_NOTE = "☝️ This is exactly what recipients will see."
COMPOSE_CARD = Plural(
    "{title}\n\nName: {name}\nBot: {bot}\nAudience: {audience} user{excluded}\n"
    "Sending takes about {duration} at {rate} messages/s.",
    "{title}\n\nName: {name}\nBot: {bot}\nAudience: {audience} users{excluded}\n"
    "Sending takes about {duration} at {rate} messages/s.",
    count="audience",
)
COMPOSE_EXCLUDED = " ({count} unavailable left out)"
COMPOSE_CAPPED = ", {count} left out by the {hours} h cap"
COMPOSE_EXCLUDED_SEGMENT = " ({count} outside the segment or unavailable left out)"
NO_NAME = "—"
TEST_SENT = "Test sent to you through {bot}. Check that chat."
TEST_NOT_STARTED = (
    "{bot} can't write to you: you haven't started it (or blocked it). "
    "Open {bot}, press Start, then tap Test again."
)
TEST_FAILED = "The test could not be sent through {bot}: {error}"
TEST_BOT_UNAUTHORIZED = "{bot} refused its token (revoked?). Check it with `broadcast bots list`."
SAVED = "Saved as draft #{campaign_id}. Find it in /campaigns, or send it with /sendnow {campaign_id}."
DISCARDED = "Discarded. Nothing was saved."

# Send now.
CONFIRM_SEND = Plural(
    "Send #{campaign_id} {name} now?\n\nBot: {bot}\nAudience: {audience} user\nTakes about {duration}.",
    "Send #{campaign_id} {name} now?\n\nBot: {bot}\nAudience: {audience} users\nTakes about {duration}.",
    count="audience",
)
CONFIRM_SEND_EMPTY = "\n\n⚠️ Nobody would receive it: {bot} has no available users."
STARTING = "🚀 Starting #{campaign_id}. The live progress appears below."
ALREADY_STARTING = "Already started."
SEND_NOT_NOW = "Not sent. #{campaign_id} stays as it was: /campaigns."
PICK_TO_SEND = "Which one should go out now?"
PICK_TO_SCHEDULE = "Which one should be scheduled?"
NOTHING_TO_SEND = "There is no draft to send. Compose one with /new."
NOTHING_TO_SCHEDULE = "There is no draft to schedule. Compose one with /new."
BAD_CAMPAIGN_ID = "“{value}” is not a campaign number. Try /{command} 12, or just /{command}."
NO_SUCH_CAMPAIGN = "There is no campaign #{campaign_id}."
MOVED_ON = "#{campaign_id} is {status} now, so that's no longer possible."

# Scheduling.
ASK_TIME = (
    "When should #{campaign_id} go out? Your time zone is {timezone}.\n"
    "For example: 18:30 · tomorrow 9:00 · in 2 hours · mon 10am · 2026-12-01 18:30"
)
WAITING_FOR_TIME = "a time"
TIME_UNREADABLE = (
    "I can't read “{value}” as a time. Try 18:30, tomorrow 9:00, in 2 hours, mon 10am or 2026-12-01 18:30."
)
TIME_NO_TIME = "Which time that day? Add a clock time, e.g. “{value} 9:00”."
TIME_BAD_DATE = "There is no such date. Use year-month-day, e.g. 2026-12-01 18:30."
TIME_BAD_CLOCK = "That's not a clock time. Use 24-hour 18:30, or 6:30pm."
TIME_IN_PAST = "{when} has already passed. Send a time in the future."
TIME_IN_PAST_PLAIN = "That time has already passed. Send a time in the future."
TIME_NONEXISTENT = "{when} doesn't exist in {timezone}: the clocks skip that hour. Pick another time."
TIME_TOO_FAR = "That's more than a year away. Send a nearer time."
CONFIRM_TIME = "#{campaign_id} goes out {when} ({timezone}) — {utc} UTC.{note}\n\nRight?"
NOTE_TODAY = "\nThat's today."
NOTE_TOMORROW = "\nThat's tomorrow: {clock} today has already passed."
SCHEDULED = "🗓 Scheduled #{campaign_id} for {when} ({timezone}). /campaigns to move or unschedule it."

# Campaign list and card.
NO_CAMPAIGNS = "No campaigns yet. Compose one with /new."
LIST_TITLE = "Campaigns {first}–{last} of {total} (newest first). Tap one to open it."
LIST_LINE = "#{campaign_id} {status} · {name} · {date} · {counts}"
LIST_BUTTON = "#{campaign_id} {name}"
UNNAMED = "(no name)"
COUNTS_NOT_STARTED = Plural("{audience} user", "{audience} users", count="audience")
COUNTS_PROGRESS = "{sent}/{total} sent"
CARD = "#{campaign_id} {name}\n{status}{reason}\n\nBot: {bot}\n{timeline}\n{counts}\n\nMessage:\n{preview}"
CARD_REASON = " — {reason}"
CARD_CREATED = "Created {when}"
CARD_SCHEDULED = "Goes out {when}"
CARD_STARTED = "Started {when}"
CARD_FINISHED = "Finished {when}"
CARD_AUDIENCE = Plural("Audience now: {audience} user", "Audience now: {audience} users", count="audience")
CARD_COUNTERS = (
    "Sent {sent} of {total} · failed {failed} · unavailable {unavailable} · "
    "unconfirmed {unconfirmed} · cancelled {cancelled}"
)
CONFIRM_CANCEL = "Cancel #{campaign_id}? Recipients not reached yet will not get it."
CONFIRM_DELETE = "Delete draft #{campaign_id}? This can't be undone."
DONE_PAUSED = "Paused."
DONE_RESUMED = "Resuming."
DONE_CANCELLED = "Cancelled."
DONE_DELETED = "Draft #{campaign_id} deleted."
DONE_DUPLICATED = "Copied as draft #{campaign_id}."
DONE_UNSCHEDULED = "Unscheduled: #{campaign_id} is a draft again."
KEPT = "Kept."


def when_local(moment: datetime, timezone: str) -> str:
    """A moment in the admin's zone: `Tue 1 Dec 2026, 18:30` (Russian: `вт 1 дек. 2026, 18:30`)."""
    return i18n.moment(moment.astimezone(ZoneInfo(timezone)))


def status_label(status: str) -> str:
    """`sending` → `📤 Sending`."""
    label = STATUS_LABELS.get(status)
    return status if label is None else i18n.gettext(label)


def content_kind(content_type: str) -> str:
    """A Telegram content type as a sentence subject: `sticker` → `Stickers`."""
    kinds = {
        "photo": N_("Photos"),
        "video": N_("Videos"),
        "animation": N_("GIFs"),
        "sticker": N_("Stickers"),
        "voice": N_("Voice messages"),
        "video_note": N_("Video messages"),
        "audio": N_("Audio files"),
        "document": N_("Files"),
        "poll": N_("Polls"),
        "location": N_("Locations"),
        "contact": N_("Contacts"),
        "dice": N_("Dice"),
    }
    return i18n.gettext(kinds.get(content_type, N_("This kind of message")))


# --- URL buttons under a campaign's message (panel.buttons) ------------------------------------

BUTTONS_NO_SEPARATOR = "line {line}: `{button}` has no ` - ` between the label and the link"
BUTTONS_NO_LINK = "line {line}: `{button}` has no link"
BUTTONS_NO_LABEL = "line {line}: `{button}` has no label"
BUTTONS_LABEL_TOO_LONG = "line {line}: the label of `{button}` is {length} characters; at most {limit}"
BUTTONS_BAD_LINK = "line {line}: `{link}` is not an http(s) or tg:// link"
BUTTONS_ROW_TOO_WIDE = Plural(
    "line {line} has {count} button; Telegram shows at most {limit} in a row",
    "line {line} has {count} buttons; Telegram shows at most {limit} in a row",
    count="count",
)
BUTTONS_TOO_MANY = Plural(
    "The grid has {count} button; at most {limit} in all",
    "The grid has {count} buttons; at most {limit} in all",
    count="count",
)
BUTTONS_EMPTY = "The grid has no buttons"
ASK_BUTTONS = (
    "Add buttons under the message? Send them one row per line, buttons in a row separated by |, "
    "each as Label - link, e.g.\n"
    "Read more - https://example.com/post | Shop - https://shop.example\n"
    "Links may be http(s)://, https://t.me/... or tg://. Or tap Skip."
)
ASK_BUTTONS_ALBUM = (
    "Album received ({items} items). Add buttons? Telegram allows none on an album, so they go "
    "in a short message right after it. Send them one row per line, buttons in a row separated "
    "by |, each as Label - link, e.g.\n"
    "Read more - https://example.com/post | Shop - https://shop.example\n"
    "Or tap Skip."
)
ASK_FOLLOW_UP = (
    "Now the text of the message that carries these buttons under the album (formatting and "
    "greetings like {{first_name|friend}} work as in any message)."
)
FOLLOW_UP_REFUSED = "{reason} Send the text of the buttons' message again."
FOLLOW_UP_NOT_TEXT = "The buttons' message is text: send its text, or /cancel."
ASK_BUTTONS_AGAIN = "Send the new buttons, one row per line (Label - link | Label - link)."
WAITING_FOR_BUTTONS = "the buttons (or Skip)"
BUTTONS_REFUSED = "{reason}. Send the buttons again (nothing else was lost), or tap Skip."
BUTTONS_NOT_TEXT = "Buttons are typed as text: Label - link | Label - link. Send them, or tap Skip."
CARD_BUTTONS = "Buttons:\n{grid}"
BTN_EDIT_BUTTONS = "🔘 Edit buttons"
BTN_REMOVE_BUTTONS = "✖️ Remove buttons"
BUTTONS_SAVED = "Buttons of campaign #{campaign_id} saved."
BUTTONS_REMOVED = "Buttons of campaign #{campaign_id} removed."
BUTTONS_REFUSED_ON_CARD = "{reason}. Send the buttons again, or /cancel to keep them as they are."
BUTTONS_NOT_TEXT_ON_CARD = "Buttons are typed as text: Label - link | Label - link. Send them, or /cancel."

CHANNEL_POST_HOW = (
    "This post comes from {channel}. Forward it as is (with the «Forwarded from» header and its "
    "view counter), or send a copy (no header; buttons and options allowed)?"
)
CHANNEL_UNREADABLE = (
    "{bot} can't read {channel}, so it can't send this post: nothing was sent. Add {bot} to the "
    "channel and choose again, or send another message."
)
CHANNEL_POST_AGAIN = "Forward the post from its channel again."

# ---------------------------------------------------------------- segments in the chat
AUDIENCE_EVERYONE = "🎯 Audience: everyone"
AUDIENCE_SEGMENT = "🎯 Audience: a segment"
ASK_AUDIENCE = (
    "Who should get it? Send a rule, e.g.\n"
    "language in (ru, uk) and active within 30d and not received 12\n"
    "or the name of a saved segment ({saved}), or everyone."
)
AUDIENCE_REFUSED = "{reason}. Send the rule again, a saved segment's name, or everyone."
AUDIENCE_NOT_TEXT = "A rule is text: send it, a saved segment's name, or everyone."
CARD_SEGMENT = "Segment: {rule}"
SEGMENTS_NONE = (
    "No saved segments yet. Save one with /segments NAME RULE, e.g.\n/segments ru-active {example}"
)
SEGMENTS_LIST = "Saved segments (available users per bot now):\n{lines}"
SEGMENT_LINE = "• {name}: {rule}\n   {counts}"
SEGMENT_SAVED = "Saved segment {name}: {rule}\n{counts}"
SEGMENT_REFUSED = "{reason}. Nothing was saved: send /segments NAME RULE again."
# Reports and exports (issue 17).
REPORT_NO_CAMPAIGN = "There is no campaign #{campaign_id}."
REPORT_NO_DELIVERIES = (
    "Campaign #{campaign_id} is {status} and has not sent anything yet, so there is nothing to "
    "report or export. Once it has started, try again."
)
REPORT_USAGE = "Which campaign? Send /{command} 12 (the number is on its card in /campaigns)."
REPORT_PREPARING = "Preparing the {what} of campaign #{campaign_id}…"
REPORT_WHAT_CSV = "export"
REPORT_WHAT_CHART = "report"
REPORT_FAILED = "The {what} of campaign #{campaign_id} could not be made; the error is in the bot's log."
EXPORT_CAPTION = Plural(
    "Delivery ledger of campaign #{campaign_id}{name}: {rows} row (CSV, times in UTC).",
    "Delivery ledger of campaign #{campaign_id}{name}: {rows} rows (CSV, times in UTC).",
    count="rows",
)
REPORT_CHART_CAPTION = "Campaign #{campaign_id}{name}: messages per second by outcome."
# --- After the send: recall -----------------------------------------------------------------

BTN_RECALL = "🗑 Recall"
BTN_YES_RECALL = "Yes, delete them"
RECALL_CONFIRM = (
    "Recall campaign #{campaign_id}: delete its message from {recallable} chats ({messages} messages)."
    "{too_old_line} This cannot be undone."
)
RECALL_TOO_OLD_LINE = Plural(
    "\n{too_old} chat got it more than 48 hours ago: Telegram no longer lets a bot delete it there, "
    "so it stays.",
    "\n{too_old} chats got it more than 48 hours ago: Telegram no longer lets a bot delete it there, "
    "so it stays.",
    count="too_old",
)
RECALL_STOPS_SENDING = "\nThe campaign is still sending: it stops first (nobody else gets it)."
RECALL_NOTHING_SENT = "Campaign #{campaign_id} has no delivered message to recall."
RECALL_ALL_TOO_OLD = (
    "Campaign #{campaign_id} reached every chat more than 48 hours ago: Telegram no longer lets a bot "
    "delete it ({too_old} chats)."
)
RECALL_ALREADY_DONE = "Campaign #{campaign_id} was already recalled."
RECALL_ALREADY_RUNNING = "Campaign #{campaign_id} is being recalled now:\n\n{progress}"
RECALL_STARTED = "Recall of campaign #{campaign_id} started: the progress follows."
RECALL_TITLE = "🗑 Recall of campaign #{campaign_id}{name}"
RECALL_STATUS = {
    "running": "deleting",
    "paused": "paused",
    "completed": "done",
    "cancelled": "cancelled",
}
RECALL_LINE_STATUS = "Status: {status}"
RECALL_LINE_PROGRESS = "{bar} {done}/{total} ({percent}%)"
RECALL_LINE_COUNTS = (
    "Deleted: {deleted} · already gone: {gone} · too old: {too_old} · unavailable: {unavailable} · "
    "failed: {failed}"
)
RECALL_LINE_CANCELLED = "Not tried (cancelled): {cancelled}"
RECALL_SUMMARY_TITLE = "✅ Recall of campaign #{campaign_id}{name} {status}"
RECALL_SUMMARY_GONE = "Already gone means the user had deleted the message or the chat."
BTN_CANCEL_RECALL = "⏹ Stop the recall"
RECALL_CANCELLED = "Recall of campaign #{campaign_id} stopped: the messages not deleted yet stay."
RECALL_NOT_RUNNING = "That recall is not running any more."
RECALLED_REASON = "recalled by {admin}"

# --- After the send: retry the failed -------------------------------------------------------

BTN_RETRY = "🔁 Retry failed ({count})"
BTN_RETRY_CONFIRM = "Send to {count}"
BTN_RETRY_WITH_UNCONFIRMED = "⚠️ Also the {count} unconfirmed"
RETRY_NAME = "Retry of #{campaign_id}{name}"
RETRY_CONFIRM = Plural(
    "Retry campaign #{campaign_id}: a new campaign with the same message goes now to the {retryable} "
    "recipient whose send failed on a temporary error (Telegram's server errors, timeouts, the "
    "network). Nobody who got it, and nobody unavailable now.",
    "Retry campaign #{campaign_id}: a new campaign with the same message goes now to the {retryable} "
    "recipients whose send failed on a temporary error (Telegram's server errors, timeouts, the "
    "network). Nobody who got it, and nobody unavailable now.",
    count="retryable",
)
RETRY_UNCONFIRMED_WARNING = (
    "\n\n⚠️ {unconfirmed} more are unconfirmed: their send timed out, so the message may have arrived. "
    "Include them only if a second copy is acceptable."
)
RETRY_STARTED = "Retry #{child_id} of campaign #{campaign_id} is sending."
RETRY_NOT_FINISHED = "Campaign #{campaign_id} is not finished: retry its failed recipients once it is."
RETRY_NOTHING = "Campaign #{campaign_id} has no failed recipient to retry."
RETRY_ALREADY = "Campaign #{campaign_id} was retried already as #{child_id}: retry from that one."
CARD_RETRY_OF = "🔁 Retry of #{parent_id}"
CARD_RETRIES = "🔁 Retried as {children} · reached together: {reach}"
BTN_PAUSE_RECALL = "⏸ Pause"
BTN_RESUME_RECALL = "▶️ Resume"
RECALL_PAUSED = "Recall of campaign #{campaign_id} paused."
RECALL_RESUMED = "Recall of campaign #{campaign_id} resumed."

# ---------------------------------------------------------------- the audit log
AUDIT_TITLE_ALL = "🧾 Audit log, newest first"
AUDIT_TITLE_CAMPAIGN = "🧾 Audit log of campaign #{campaign_id}, newest first"
AUDIT_LINE = "{when} · {who}: {what}"
AUDIT_EMPTY = "Nothing recorded yet."
AUDIT_EMPTY_CAMPAIGN = "Nothing recorded for campaign #{campaign_id}."
AUDIT_USAGE = "Use /audit for everything, or /audit 12 for campaign #12 alone, not “{value}”."
BTN_AUDIT_OLDER = "◀ Older"
BTN_AUDIT_NEWEST = "⏮ Newest"

# ---------------------------------------------------------------- roles
ROLE_REFUSED = "That needs the {role} role; ask an owner. Nothing was changed."
ROLE_REFUSED_ANSWER = "That needs the {role} role."
ADMINS_LIST = (
    "👥 Admins\n\n{lines}\n\n"
    "/admins add ID [role] [bot,bot] — add one (a viewer unless you name the role; no bots: every bot)\n"
    "/admins add [role] [bot,bot] — then forward me a message of theirs\n"
    "/admins set ID role [bot,bot] — change a role\n"
    "/admins remove ID\n"
    "Roles: owner, editor (compose, schedule), sender (send, pause, cancel, recall), viewer (read)."
)
ADMINS_LINE_CONFIGURED = "{user_id} · owner of every bot (ADMIN_IDS)"
ADMINS_LINE = "{user_id} {name} · {role} of {bots}"
ADMINS_ALL_BOTS = "every bot"
ADMINS_NONE = "Only the owners from ADMIN_IDS."
ADMINS_USAGE = (
    "Use /admins add ID [role] [bot,bot], /admins set ID role [bot,bot] or /admins remove ID "
    "(ID: their Telegram user id)."
)
ADMINS_ASK_PERSON = "Forward me a message they wrote, or send their Telegram user id. /cancel stops."
ADMINS_ASK_PERSON_AGAIN = (
    "That is neither a forwarded message of theirs nor a user id. Try again, or /cancel."
)
ADMINS_HIDDEN_SENDER = (
    "Their privacy settings hide who sent that message. Send their Telegram user id instead, or /cancel."
)
ADMINS_ADDED = "Added {user_id}: {role} of {bots}."
ADMINS_CHANGED = "{user_id} is now {role} of {bots}."
ADMINS_REMOVED = "Removed admin {user_id}."
ADMINS_NOT_ONE = "{user_id} is not an admin (owners from ADMIN_IDS are changed in the settings)."
ADMINS_CONFIGURED = "{user_id} is an owner through ADMIN_IDS; change that in the settings."
ADMINS_REFUSED = "{reason}. Nothing was changed."

# ---------------------------------------------------------------- tracked links (panel/links.py)

BTN_OPTION_TRACK_LINKS = "📊 Track links: {state}"
CARD_OPTION_UNTRACKED = "📊 links not tracked"
CLICKS_TOTAL = "📊 Clicks: {unique} people · {total} opens"
CLICKS_LINK = "• {label}: {unique} people · {total} opens"
CLICKS_TEXT_LINK = "link {url}"
LINKS_TRACK_NEEDS_BASE_URL = (
    "--track: LINKS_BASE_URL is not set, so there is no link service to send the links through; "
    "set it (and run `broadcast links serve`) or leave --track out"
)

# ---------------------------------------------------------------- four-eyes approval
NEEDS_APPROVAL_REASON = "it needs a second admin's approval and has none"
NEEDS_APPROVAL_UNSCHEDULED = (
    "Campaign #{campaign_id} was due but not sent: it needs a second admin's approval. It is a draft "
    "again; ask for approval with /sendnow {campaign_id}."
)
APPROVAL_NEEDED = Plural(
    "This campaign reaches {audience} user; campaigns of this bot reaching {threshold} or more need "
    "a second admin's approval.",
    "This campaign reaches {audience} users; campaigns of this bot reaching {threshold} or more need "
    "a second admin's approval.",
    count="audience",
)
BTN_ASK_APPROVAL = "🙋 Ask for approval"
APPROVAL_ASKED = "Asked for approval of #{campaign_id}: {approvers} can decide. You will hear back here."
APPROVAL_NOBODY = (
    "Nobody else may approve #{campaign_id}: add an admin with the sender or owner role for this bot "
    "(/admins). Nothing was sent."
)
APPROVAL_PENDING_ALREADY = "#{campaign_id} is waiting for approval already."
APPROVAL_REQUEST = "🙋 Approval asked by {asker} for campaign #{campaign_id}\n\n{card}"
BTN_APPROVE = "✅ Approve"
BTN_REJECT = "✖ Reject"
APPROVAL_APPROVED = "✅ Approved by you: #{campaign_id}. {asker} can send it now."
APPROVAL_APPROVED_ASKER = (
    "✅ Campaign #{campaign_id} was approved by {approver}. Send it with /sendnow {campaign_id}."
)
APPROVAL_ASK_REASON = "Why is #{campaign_id} rejected? The reason goes to {asker}. /cancel keeps it waiting."
APPROVAL_REJECTED = "✖ Rejected: #{campaign_id}. {asker} has been told why."
APPROVAL_REJECTED_ASKER = "✖ Campaign #{campaign_id} was rejected by {approver}: {reason}"
APPROVAL_REFUSED = "{reason}."
APPROVAL_REASON_TEXT = "Send the reason as text, or /cancel."
SEND_NEEDS_APPROVAL = (
    "#{campaign_id} needs a second admin's approval first: /sendnow {campaign_id} asks for it."
)

# ---------------------------------------------------------------- the block rate
BLOCK_RATE = "🚫 Blocked the bot within 72 h: {blocked} of {recipients} ({rate:.2f}%)"
BLOCK_RATE_BASELINE = " · the bot's other {others} users, same hours: {rate:.2f}%"
BLOCK_RATE_NO_BASELINE = " · no baseline (every user of the bot received it)"
BLOCK_RATE_SO_FAR = " · so far"
# --- After the send: edit sent messages (issue 14) ------------------------------------------

BTN_EDIT_SENT = "✏️ Edit sent messages"
BTN_EDIT_SENT_BUTTONS = "🔘 New buttons instead"
BTN_EDIT_SENT_TEXT = "✏️ New text instead"
BTN_YES_EDIT = "Yes, edit {count}"
BTN_EDIT_CANCEL = "✖️ Cancel"
ASK_EDIT_TEXT = (
    "Campaign #{campaign_id}: send the corrected {what} (formatting is kept). It replaces the {what} "
    "in every chat the message reached; recipients not reached yet get the new version.\n\n"
    "Now it reads:\n{current}"
)
ASK_EDIT_BUTTONS = (
    "Campaign #{campaign_id}: send the new button grid, one row a line, buttons in a row apart "
    "with |, e.g.\nOpen the shop - https://example.com | Help - https://t.me/help"
)
EDIT_WHAT_TEXT = "text"
EDIT_WHAT_CAPTION = "caption"
EDIT_PREVIEW = "✏️ Edit of campaign #{campaign_id}\n\nBefore:\n{old}\n\nAfter:\n{new}"
EDIT_CONFIRM = Plural(
    "Edit {count} sent message of campaign #{campaign_id}? At the bot's rate it takes about {duration}.",
    "Edit {count} sent messages of campaign #{campaign_id}? At the bot's rate it takes about {duration}.",
    count="count",
)
EDIT_CONFIRM_SENDING = "\nThe campaign is still sending: recipients not reached yet get the new version."
EDIT_NOT_TEXT = "Send the corrected {what} as a text message (a file or sticker can't replace it)."
EDIT_REFUSED = "That edit can't be made: {reason}. Send another, or /cancel."
EDIT_CANNOT = "Campaign #{campaign_id} can't be edited so: {reason}."
EDIT_NOTHING_SENT = "Campaign #{campaign_id} has no sent message to edit."
EDIT_ALREADY_RUNNING = "Campaign #{campaign_id} is being edited now:\n\n{progress}"
EDIT_RECALLED = "Campaign #{campaign_id} was recalled: there is no message left to edit."
EDIT_STARTED = "Edit of campaign #{campaign_id} started: the progress follows."
EDIT_ABORTED = "Nothing edited."
EDIT_EXPIRED = "That edit is no longer waiting: tap ✏️ Edit sent messages on the card again."
EDIT_TITLE = "✏️ Edit of campaign #{campaign_id}{name}"
EDIT_STATUS = {
    "running": "editing",
    "paused": "paused",
    "completed": "done",
    "cancelled": "cancelled",
}
EDIT_LINE_COUNTS = "Edited: {edited} · message gone: {gone} · unavailable: {unavailable} · failed: {failed}"
EDIT_SUMMARY_TITLE = "✅ Edit of campaign #{campaign_id}{name} {status}"
EDIT_SUMMARY_GONE = "Message gone means the user had deleted the message or the chat."
BTN_CANCEL_EDIT = "⏹ Stop the edit"
EDIT_PAUSED = "Edit of campaign #{campaign_id} paused."
EDIT_RESUMED = "Edit of campaign #{campaign_id} resumed."
EDIT_CANCELLED = "Edit of campaign #{campaign_id} stopped: the messages not edited yet stay as they were."
EDIT_NOT_RUNNING = "That edit is not running any more."
EDIT_MISMATCH_FORWARD = "a forwarded post is Telegram's copy of the channel's post: it can't be edited"
EDIT_MISMATCH_COPY_TEXT = "a copied post keeps the channel's text: only its buttons can change"
EDIT_MISMATCH_ALBUM_BUTTONS = (
    "this album was sent without a follow-up message, and Telegram allows no buttons on an album"
)
EDIT_MISMATCH_ALBUM_NO_BUTTONS = "an album's buttons are in its follow-up message: give it at least one"
EDIT_UNCHANGED = "that is what the message says already"
EDIT_HISTORY_ORIGINAL = "sent first"
EDIT_HISTORY_EDIT = "edit #{action_id} by {by}"

# --- After the send: expiry, "Delete after…" (issue 14) -------------------------------------

BTN_EXPIRY = "⌛ Delete after…"
ASK_EXPIRY = (
    "Campaign #{campaign_id}: how long after the sending ends should the message be deleted from "
    "every chat? 1 to 47 hours, e.g. 6h, 90 min, or a time like tomorrow 9:00 ({timezone}). "
    "Send 0 to keep it for good.{current}"
)
EXPIRY_CURRENT = "\nNow: deleted {after} after the sending ends."
EXPIRY_RANGE = "the delay is {after}: it can be 1 to 47 hours"
EXPIRY_TOO_LATE = (
    "the sending takes about {takes}, and Telegram lets a bot delete its messages only within 48 hours, "
    "so the first recipients' copies could not be deleted {after} after it ends: at most {longest}"
)
EXPIRY_UNREADABLE = "“{typed}” is no delay: write it like 6h, 90 min or tomorrow 9:00"
EXPIRY_NOT_TEXT = "Write the delay as text, like 6h or tomorrow 9:00, or /cancel."
EXPIRY_REFUSED = "That can't be the expiry: {reason}. Send another, or /cancel."
EXPIRY_SET = "Campaign #{campaign_id} will be deleted from every chat {after} after its sending ends."
EXPIRY_CLEARED = "Campaign #{campaign_id} stays in every chat: no expiry."
EXPIRY_TOO_LATE_NOW = "Campaign #{campaign_id} has ended already: its expiry can't change now."
CARD_EXPIRY = "⌛ Deleted {after} after the sending ends"
NOTICE_EXPIRED = (
    "⌛ Campaign #{campaign_id}{name} has expired ({after} after it was sent): it is being deleted from "
    "every chat, and unpinned with it. The recall's progress follows."
)

# --- The guided segment builder (issue 15) -------------------------------------------------

BUILDER_TITLE = "🧩 New segment"
BUILDER_RULE = "Rule: {rule}"
BUILDER_EVERYONE = "everyone (no condition yet)"
BUILDER_COUNTS = "Users now: {counts}"
BUILDER_HINT = (
    "Tap to add a condition (all of them must hold; a second tap on a language takes it out), or type "
    "a rule to add it, e.g. not received 12, or plan = pro."
)
BTN_BUILDER_LANGUAGE = "🌐 {code} ({count})"
BTN_BUILDER_LANGUAGE_ON = "✓ {code} ({count})"
BTN_BUILDER_ACTIVE = "🟢 active {period}"
BTN_BUILDER_INACTIVE = "💤 not active {period}"
BTN_BUILDER_JOINED = "🆕 joined last {period}"
BTN_BUILDER_TOPIC = "🏷 subscribed {topic}"
BTN_BUILDER_TOPIC_ON = "✓ subscribed {topic}"
BTN_BUILDER_UNDO = "↩️ Undo"
BTN_BUILDER_SAVE = "💾 Save…"
BTN_BUILDER_CANCEL = "✖ Cancel"
BUILDER_NOTHING_TO_UNDO = "Nothing to undo."
BUILDER_TYPED_REFUSED = "Not added: {reason}. The rule stays as it was; type another, or tap a button."
BUILDER_NOT_TEXT = "Type a rule to add it, or tap a button under the segment."
BUILDER_ASK_NAME = (
    "Rule: {rule}\nWhat is its name? Letters, digits, _ or -, e.g. active_ru. /cancel keeps building."
)
BUILDER_NAME_REFUSED = "{reason}. Send another name, or /cancel to keep building."
BUILDER_CANCELLED = "Segment discarded; nothing was saved."
BUILDER_GONE = "This builder is closed; start another with /segments new."

# --- Outages of the route to Telegram (issue 18) --------------------------------------------

UNREACHABLE_TIME_FORMAT = "%H:%M:%S UTC"
PROGRESS_UNREACHABLE = "⚠️ Telegram can't be reached since {since}; retrying. Nobody is marked failed for it."
PROGRESS_UNREACHABLE_OVER = (
    "Telegram couldn't be reached from {since} to {until}; sending carried on by itself."
)

# --- One announcement through several bots, one copy per person (issue 15) ------------------

CHOOSE_BOTS_BUTTON = "📚 Several bots…"
CHOOSE_BOTS = (
    "Tap the bots in the order you prefer, then Done. A person who uses several of them gets one "
    "copy, through the first bot in your order that can reach them."
)
CHOOSE_BOTS_PICKED = "{position}. {codename} · {users} users"
BTN_BOTS_DONE = "✅ Done"
CHOOSE_BOTS_NONE = "Tap at least one bot first."
CHOOSE_BOTS_TOO_MANY = "At most {limit} bots in one announcement."
TARGETS_CHOSEN = "Targets, in this order: {bots}."
GROUP_AUDIENCE = "Audience, one copy per person: {shares} — {total} in all"
GROUP_AUDIENCE_SHARE = "{bot} {users}"
GROUP_AUDIENCE_VIA = " ({users} already reached via {bots})"
GROUP_PART = "Bot {position} of {bots} of group #{group_id}: {bot}"
GROUP_SHARES = "Group: {shares}"
GROUP_SHARE = "{bot} {sent}/{total}"
CARD_GROUP = "Group #{group_id}: {campaigns} (one copy per person; actions apply to every bot)"
CLI_GROUP_CREATED = "group #{group_id}: {bots} campaigns, one per bot, in this order:"
COMPOSE_GROUP_CARD = (
    "{title}\n\n"
    "Name: {name}\n"
    "Bots, in this order: {bots}\n"
    "{audience}\n"
    "Sending takes about {duration}, every bot at its own rate, all at once."
)

# --- Opt-outs by topic (issue 15) -------------------------------------------------------------

UNSUBSCRIBE_BUTTON = "🔕 Unsubscribe from {topic}"
"""Under a campaign's message, in the target bot: recipients read it (the tracker answers the tap)."""
COMPOSE_OPTED_OUT = ", {count} opted out of {topic} left out"
CARD_TOPIC = "🏷 Topic: {topic}{button}"
CARD_TOPIC_BUTTON = " · with an unsubscribe button"
BTN_TOPIC = "🏷 Topic: {topic}"
TOPIC_NONE = "none"
BTN_UNSUBSCRIBE_TOGGLE = "🔕 Unsubscribe button: {state}"
ASK_TOPIC = (
    "Which topic is this campaign? Its recipients who unsubscribed from that topic are left out. "
    "Topics of {bots}: {topics}. Send one, or none."
)
NO_TOPICS_YET = "none yet (add one with /topics)"
TOPIC_REFUSED = "{reason}. Send a topic, or none."
TOPIC_NOT_TEXT = "A topic is text: send its name, or none."
UNSUBSCRIBE_REFUSED = "No unsubscribe button: {reason}."
CAMPAIGN_TOPIC_REFUSED = "Not saved: {reason}."
TOPICS_LIST = (
    "🏷 Topics, with how many unsubscribed from each:\n{lines}\n\n"
    "Add or remove one: /topics BOT add TOPIC, /topics BOT remove TOPIC."
)
TOPICS_LINE = "{bot}: {topics}"
TOPIC_COUNT = "{topic} ({count} unsubscribed)"
TOPICS_USAGE = "Write it as /topics BOT add TOPIC or /topics BOT remove TOPIC, e.g. /topics news add offers."
TOPICS_REFUSED = "Not changed: {reason}."
TOPIC_ADDED = "{bot} has the topic {topic} now: campaigns may have it, and their recipients can unsubscribe."
TOPIC_REMOVED = "{bot} no longer has the topic {topic} (who unsubscribed from it is kept, should it return)."


# --- The admin's language (issue 16) ---------------------------------------------------------

LANGUAGE_ASK = "Which language should I speak with you? Now: English."
LANGUAGE_SET = "From now on I speak English with you. /language changes it."
# Each language named in itself, on the /language buttons: not translated.
LANGUAGE_BUTTONS = (("en", "English"), ("ru", "Русский"))

# Checks of a composed message and its preview on cards (panel.content, panel.greetings).
CONTENT_KIND_REFUSED = "{kind} can't be broadcast."
CONTENT_FILE_TOO_BIG = "The file is {size_mb} MB; bots can pass on files of up to 20 MB."
CONTENT_CAPTION_TOO_LONG = "A caption is {length} characters long; Telegram allows {limit}."
CONTENT_ALBUM_SIZE = "An album has 2 to 10 items; this one has {count}."
CONTENT_ALBUM_MIXED = "An album has photos and videos, or files only, not both."
CONTENT_ALBUM_BUTTONS_NEED_TEXT = "An album's buttons go in a follow-up message: it needs a text."
CONTENT_ALBUM_TEXT_IN_CAPTIONS = "An album's text goes in its items' captions."
CONTENT_FOLLOW_UP_TOO_LONG = "The follow-up message is {length} characters long; Telegram allows {limit}."
CONTENT_CHANNEL_POST_WITH_FILE = "A channel post is sent as it is, without another file."
CONTENT_FORWARD_WITH_BUTTONS = "A forwarded post can't have buttons; copy it instead."
CONTENT_EMPTY = "The message is empty."
CONTENT_TEXT_TOO_LONG = "The message is {length} characters long; Telegram allows {limit}."
CONTENT_CAPTION_OF_MEDIA_TOO_LONG = "The caption is {length} characters long; Telegram allows {limit}."
GREETING_LONE_CLOSE = "a lone “}}” at character {position}: write }}}} for a brace"
GREETING_LONE_OPEN = "a lone “{{” at character {position}: write {{{{ for a brace"
GREETING_UNKNOWN = "unknown placeholder {placeholder}: the known ones are {known}"
GREETING_TOO_LONG = (
    "with the longest names Telegram allows {what} is {longest} characters long; "
    "the limit is {limit}: shorten it by {over}"
)
GREETING_EMPTY_WITHOUT_NAME = (
    "someone with no name would get an empty message: give the placeholder a fallback, "
    "e.g. {{first_name|friend}}"
)
GREETING_WHAT_TEXT = "this text"
GREETING_WHAT_ITEM_CAPTION = "the caption of item {number}"
PREVIEW_FORWARDED_POST = "📢 Forwarded post"
PREVIEW_COPIED_POST = "📢 Copied post"
PREVIEW_ALBUM = "🗂 Album of {count}"
PREVIEW_PHOTO = "🖼 Photo"
PREVIEW_VIDEO = "🎬 Video"
PREVIEW_FILE = "📎 File"

# The report chart (panel.report_chart): its title, axes and legend.
CHART_TITLE = "Campaign #{campaign_id}{name}: messages per second{started}"
CHART_STARTED = ", from {moment} UTC"
CHART_X_MINUTES = "minutes since the first message"
CHART_X_SECONDS = "seconds since the first message"
CHART_Y = "messages per second{every}"
CHART_EVERY = ", per {seconds} s"
CHART_EMPTY = "no message finished yet"
CHART_LEGEND = "{outcome} ({count})"
CHART_PAUSES = "paused ({count})"
CHART_FLOOD_WAITS = "429, sends waited ({count})"
CHART_CLICKS = "link clicks ({count})"
CHART_CLICKS_LATER = "link clicks ({count}; {later} more after the last message)"
CHART_CLICKS_Y = "link clicks per {seconds} s"
CHART_OUTCOMES = {
    "sent": "sent",
    "failed": "failed",
    "unavailable": "unavailable",
    "unconfirmed": "unconfirmed",
    "cancelled": "cancelled",
}

# Refusals of approvals and roles (panel.approval, panel.roles), in the chat and the CLI.
APPROVAL_ERROR_NO_CAMPAIGN = "there is no campaign #{campaign_id}"
APPROVAL_ERROR_NOT_WAITING = "campaign #{campaign_id} has no request waiting for a decision"
APPROVAL_ERROR_OWN_REQUEST = "you asked for this approval; a second admin has to decide"
APPROVAL_ERROR_CLI_REQUEST = "this approval was asked for from the CLI; an admin has to decide in the chat"
APPROVAL_NOBODY_REACHED = "nobody"
APPROVAL_WHO_ADMIN = "admin {user_id}"
APPROVAL_WHO_CLI = "the CLI"
APPROVAL_ERROR_CHANGED = "campaign #{campaign_id} changed after the request; ask again"
ROLE_ERROR_UNKNOWN = "unknown role {role}; use one of {roles}"
ROLE_ERROR_NOT_ADMIN = "{user_id} is not an admin; add them first"
ROLE_ERROR_NO_BOT = "there is no target bot {codename}"


# --- A/B tests with a holdout (issue 17) ----------------------------------------------------

AB_SPLIT_COUNT = "an A/B test has 2 to 4 variants"
AB_SPLIT_SHARE = "variant {label} gets {share}%: each variant gets 1 to 50%"
AB_SPLIT_HOLDOUT = "the holdout is {share}%: it can be 0 to 50%"
AB_SPLIT_SUM = "the shares add up to {total}%: at most 100%"
AB_SPLIT_UNREADABLE = "“{typed}” is no split: write the percents like 10 10 5 (A, B, then the holdout)"
AB_SPLIT_LENGTH = "{variants} variants need {needed} numbers: each variant's percent, then the holdout's"
AB_WINDOW_UNREADABLE = "“{typed}” is no test window: write it like 2h, 90m or 1d"
AB_WINDOW_RANGE = "the test window can be 1 minute to 7 days"
AB_VARIANT_TEXT_ONLY = "variants B to D are text messages (with buttons, if you like): no media or forwards"
AB_NOT_FOR_RETRY = "a retry of the failed resends what they missed: it can't be an A/B test"
AB_NO_SUCH_VARIANT = "there is no variant {label}"
AB_MEASURES = {
    "clicks": "unique click rate",
    "clicks-minus-blocks": "click rate minus block rate",
}
AB_CARD_TITLE = "🧪 A/B test, winner by {measure}:"
AB_CARD_VARIANT = (
    "  {label}{crown}: {sent} sent · {clickers} clicked ({click_rate:.2f}%) · "
    "{blocked} blocked ({block_rate:.2f}%) · {note}"
)
AB_TOO_EARLY = "too early to tell"
AB_NOT_SURE = "too early to tell (p = {p:.2f})"
AB_SURE = "a real difference (p = {p:.3f})"
AB_CARD_HOLDOUT = "  Holdout: {held} got nothing · {blocked} blocked ({block_rate:.2f}%): the baseline"
AB_CARD_WINNER = "  🏆 {label} won: it goes to the other {rest}"
AB_CARD_WAITING = "  ⏳ The other {rest} wait: the winner goes to them {window} after the start"
AB_DRAFT_LINE = "🧪 A/B test: {split} · holdout {holdout}% · rest {rest}% · window {window} · by {measure}"
AB_NOT_A_DRAFT = "Campaign #{campaign_id} is no longer a draft: its A/B test can't change now."
AB_SET = (
    "Campaign #{campaign_id} is an A/B test now: {split}, holdout {holdout}%, window {window}, by {measure}."
)
AB_WINNER_SET = "Variant {label} won campaign #{campaign_id}: it goes to the other {released} recipients."
AB_WINNER_REFUSED = (
    "Campaign #{campaign_id} has no winner to pick: it is not an A/B test that is sending, "
    "or its winner is chosen already."
)
NOTICE_AB_WINNER = (
    "🏆 Campaign #{campaign_id}{name}: the test window is over and variant {label} won by {measure}. "
    "It goes to the other {released} recipients now."
)
BTN_AB_PICK = "🏆 {label} wins"
BTN_AB_TEST = "🧪 A/B test"
ASK_AB_VARIANT = (
    "Campaign #{campaign_id}: send variant B, the message the second group gets instead (text, with "
    "buttons as in compose if you like). Variant A is the campaign's own message. /cancel to stop."
)
AB_VARIANT_NOT_TEXT = "Variant B is a text message: send it as text, or /cancel."
ASK_AB_SPLIT = (
    "Now the split, in percent: A, B, then the holdout (who get nothing), e.g. 10 10 5. "
    "The others wait for the winner."
)
AB_SPLIT_REFUSED = "That can't be the split: {reason}. Send another, or /cancel."
ASK_AB_WINDOW = "How long is the test before the winner goes to the others? e.g. 2h, 90m or 1d."
AB_WINDOW_REFUSED = "That can't be the window: {reason}. Send another, or /cancel."
ASK_AB_MEASURE = "Which variant wins?"
BTN_AB_MEASURE_CLICKS = "Most clicks"
BTN_AB_MEASURE_CLICKS_BLOCKS = "Clicks minus blocks"
ASK_AB_BUTTONS = (
    "Variant B's URL buttons, as in compose: a row per line, like Shop - https://shop.example | "
    "News - https://t.me/news. Send 0 for none."
)
AB_BUTTONS_REFUSED = "Those can't be the buttons: {reason}. Send others, 0 for none, or /cancel."
AB_STEP_NOT_TEXT = "Write it as text, or /cancel."
AB_TAP_MEASURE = "Tap one of the two buttons above, or /cancel."
AB_STALE_TAP = "That question is closed: start the A/B test again from the card."
AB_REFUSED = "That A/B test can't be: {reason}."
EDIT_AB_TEST = (
    "Campaign #{campaign_id} is an A/B test: its recipients got different variants, so one edit can't "
    "correct them all. Recall it, or duplicate it and send the corrected message."
)
