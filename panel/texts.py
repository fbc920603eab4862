"""Every string that reaches an admin, in one module so it can be translated later.

Sections are owned by feature: the control bot's conversation and the engine's progress
messages. Numbers use thousands separators; dates are shown in the admin's time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def number(value: int) -> str:
    """`12345` → `12,345`."""
    return f"{value:,}"


def duration(span: timedelta) -> str:
    """A short human duration: `45 s`, `3 min 20 s`, `2 h 5 min`."""
    seconds = max(int(span.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


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
NOTICE_PAUSED_CONTENT = (
    "⏸ Campaign #{campaign_id}{name} is paused: Telegram refused the message for {streak} recipients "
    "in a row with “{error}”. Fix the message and resume, or cancel the campaign."
)
PAUSED_CONTENT_REASON = "Telegram refused the message: {error}"
NOTICE_PAUSED_FILE = (
    "⏸ Campaign #{campaign_id}{name} is paused: its file could not be passed on to the target bot "
    "(“{error}”). Resume it to try again, or cancel it."
)
PAUSED_FILE_REASON = "The file could not be passed on to the target bot: {error}"
UPLOADS_FAILED = "{count} uploads in a row went unanswered or failed, the last with “{error}”"
CLI_FILE_CAPTION = "📎 {name}: uploaded from the command line for a new campaign."
FILE_NO_CONTROL_BOT = "the workers have no control bot token to fetch the file with"
FAILED_UNAUTHORIZED_REASON = "The target bot's token was refused by Telegram (401 Unauthorized)."


# --- Conversation (control bot) ------------------------------------------------------------

# Commands shown in Telegram's menu (setMyCommands).
COMMAND_DESCRIPTIONS = {
    "new": "Compose a new announcement",
    "campaigns": "List campaigns and manage them",
    "segments": "Saved audience rules and their counts",
    "report": "A campaign's chart and figures",
    "export": "A campaign's delivery ledger as CSV",
    "audit": "Who changed what, and when",
    "admins": "Admins, their roles and bots (owners)",
    "sendnow": "Send a draft now",
    "schedule": "Schedule a draft for later",
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
    "/segments [name rule] — saved audience rules and their counts, or save one\n"
    "/report id — a campaign's chart and figures; /export id — its ledger as CSV\n"
    "/audit [id] — who changed what, and when (of one campaign with its id)\n"
    "/admins — admins, their roles and bots (owners)\n"
    "/sendnow [id] — send a draft now\n"
    "/schedule [id] — send a draft later\n"
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
CHOOSE_BOT_BUTTON = "{codename} · {users} users"
CHOOSE_BOT_AGAIN = "Tap one of the bots above, or /cancel."
BOT_GONE = "That bot no longer exists. Send /new to start again."
TARGET_CHOSEN = "Target: {bot} — {users} users."
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
NAME_TOO_LONG = (
    "That name is {length} characters long; keep it under {limit}. Send a shorter name, or tap Skip."
)
NAME_NOT_TEXT = "The name must be text. Send a name, or tap Skip."
NOT_COMPOSING = "This draft is closed. Send /new to compose another."
PREVIEW_AS = "👆 Shown as {who} will see it: each recipient gets their own name."
PREVIEW_AS_NOBODY = "👆 Shown with the fallbacks: each recipient gets their own name."
TEST_AS_YOU = "It greets you as a user of {bot}."
TEST_AS_NOBODY = "You are not a user of {bot}, so the test shows the fallbacks."
COMPOSE_PREVIEW_NOTE = "☝️ This is exactly what recipients will see."
COMPOSE_CARD = (
    "{title}\n\n"
    "Name: {name}\n"
    "Bot: {bot}\n"
    "Audience: {audience} users{excluded}\n"
    "Sending takes about {duration} at {rate} messages/s."
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
CONFIRM_SEND = (
    "Send #{campaign_id} {name} now?\n\nBot: {bot}\nAudience: {audience} users\nTakes about {duration}."
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
COUNTS_NOT_STARTED = "{audience} users"
COUNTS_PROGRESS = "{sent}/{total} sent"
CARD = "#{campaign_id} {name}\n{status}{reason}\n\nBot: {bot}\n{timeline}\n{counts}\n\nMessage:\n{preview}"
CARD_REASON = " — {reason}"
CARD_CREATED = "Created {when}"
CARD_SCHEDULED = "Goes out {when}"
CARD_STARTED = "Started {when}"
CARD_FINISHED = "Finished {when}"
CARD_AUDIENCE = "Audience now: {audience} users"
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
    """A moment in the admin's zone: `Tue 1 Dec 2026, 18:30`."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def status_label(status: str) -> str:
    """`sending` → `📤 Sending`."""
    return STATUS_LABELS.get(status, status)


def content_kind(content_type: str) -> str:
    """A Telegram content type as a sentence subject: `sticker` → `Stickers`."""
    kinds = {
        "photo": "Photos",
        "video": "Videos",
        "animation": "GIFs",
        "sticker": "Stickers",
        "voice": "Voice messages",
        "video_note": "Video messages",
        "audio": "Audio files",
        "document": "Files",
        "poll": "Polls",
        "location": "Locations",
        "contact": "Contacts",
        "dice": "Dice",
    }
    return kinds.get(content_type, "This kind of message")


# --- URL buttons under a campaign's message (panel.buttons) ------------------------------------

BUTTONS_NO_SEPARATOR = "line {line}: `{button}` has no ` - ` between the label and the link"
BUTTONS_NO_LINK = "line {line}: `{button}` has no link"
BUTTONS_NO_LABEL = "line {line}: `{button}` has no label"
BUTTONS_LABEL_TOO_LONG = "line {line}: the label of `{button}` is {length} characters; at most {limit}"
BUTTONS_BAD_LINK = "line {line}: `{link}` is not an http(s) or tg:// link"
BUTTONS_ROW_TOO_WIDE = "line {line} has {count} buttons; Telegram shows at most {limit} in a row"
BUTTONS_TOO_MANY = "The grid has {count} buttons; at most {limit} in all"
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
EXPORT_CAPTION = "Delivery ledger of campaign #{campaign_id}{name}: {rows} rows (CSV, times in UTC)."
REPORT_CHART_CAPTION = "Campaign #{campaign_id}{name}: messages per second by outcome."
# --- After the send: recall -----------------------------------------------------------------

BTN_RECALL = "🗑 Recall"
BTN_YES_RECALL = "Yes, delete them"
RECALL_CONFIRM = (
    "Recall campaign #{campaign_id}: delete its message from {recallable} chats ({messages} messages)."
    "{too_old_line} This cannot be undone."
)
RECALL_TOO_OLD_LINE = (
    "\n{too_old} chats got it more than 48 hours ago: Telegram no longer lets a bot delete it there, "
    "so it stays."
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
RETRY_CONFIRM = (
    "Retry campaign #{campaign_id}: a new campaign with the same message goes now to the {retryable} "
    "recipients whose send failed on a temporary error (Telegram's server errors, timeouts, the "
    "network). Nobody who got it, and nobody unavailable now."
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
APPROVAL_NEEDED = (
    "This campaign reaches {audience} users; campaigns of this bot reaching {threshold} or more need "
    "a second admin's approval."
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
EDIT_CONFIRM = (
    "Edit {count} sent messages of campaign #{campaign_id}? At the bot's rate it takes about {duration}."
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
