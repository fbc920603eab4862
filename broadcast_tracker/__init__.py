"""Keep a broadcast panel's `users` table true from inside an aiogram target bot.

Two lines in the bot: ``setup_tracker(dp, "sqlite+aiosqlite:///panel.db", bot_id=1)``. Every update's
user is recorded (name, language, last seen); a block (``my_chat_member`` → ``kicked``) marks them
unavailable, an unblock or any message marks them available again. Writes are batched: one upsert
per flush interval. A tap on the "Unsubscribe from <topic>" button the panel puts under a
broadcast is answered, recorded in ``user_topic_optouts`` at once, and offered an Undo.
This package imports nothing of the panel: only aiogram and SQLAlchemy.
"""

from broadcast_tracker.table import user_topic_optouts, users
from broadcast_tracker.tracker import OptOutTexts, Tracker, setup_tracker

__all__ = ["OptOutTexts", "Tracker", "setup_tracker", "user_topic_optouts", "users"]
