"""What the control bot is waiting for from an admin (FSM states, kept in Redis)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Compose(StatesGroup):
    """The /new conversation."""

    choosing_bot = State()
    waiting_text = State()
    waiting_buttons = State()
    waiting_follow_up = State()
    waiting_name = State()
    reviewing = State()
    waiting_audience = State()
    waiting_topic = State()


class Admins(StatesGroup):
    """/admins add without an id: who the new admin is."""

    waiting_person = State()


class Approving(StatesGroup):
    """Rejecting an approval request: why."""

    waiting_reason = State()


class CardButtons(StatesGroup):
    """New URL buttons for a draft, from its card."""

    waiting_grid = State()


class Scheduling(StatesGroup):
    """Choosing when a campaign goes out."""

    waiting_time = State()
    confirming = State()


# ---- edit sent messages (issue 14)


class SentEdit(StatesGroup):
    """Correcting a campaign's delivered messages, from its card."""

    waiting_text = State()
    waiting_grid = State()
    confirming = State()


# ---- expiry, "Delete after…" (issue 14)


class ExpiryStates(StatesGroup):
    """How long after its sending ends a campaign is deleted, from its card."""

    waiting_delay = State()


# ---- the guided segment builder (issue 15)


class SegmentBuilder(StatesGroup):
    """/segments new: conditions by button or typed, then a name."""

    building = State()
    waiting_name = State()


# ---- A/B tests (issue 17)


class AbTestStates(StatesGroup):
    """Making a draft an A/B test, from its card: variant B, its buttons, the split, the window."""

    waiting_variant = State()
    waiting_buttons = State()
    waiting_split = State()
    waiting_window = State()
    choosing_measure = State()
