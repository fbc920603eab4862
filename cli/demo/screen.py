"""What the demo draws in the terminal: its narration, the admin's chat with the control bot as it
changes (new messages and edits), and a progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from cli.demo.stack import ADMIN_ID, CONTROL_TOKEN, TARGET_TOKEN
from cli.terminal import boxed, progress_bar, render_buttons, render_text
from tgsim.simulator import ChatEntry, Simulator

BAR_LINE_INTERVAL_S = 3.0
"""How often a progress line is written when the output is not a terminal."""


class Printer:
    """Writes the demo's narration and the admin's chat to the terminal."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.bar_shown = False
        self.bar_printed_at = 0.0

    def step(self, text: str) -> None:
        self.end_bar()
        marker = "\033[1;35m▶\033[0m" if self.colour else ">"
        print(f"{marker} {text}", flush=True)

    def admin_says(self, text: str, entities: list[dict[str, Any]] | None = None) -> None:
        self.end_bar()
        body = render_text(text, entities or [], colour=self.colour)
        print(boxed("Ada (admin) →", body, [], colour=self.colour), flush=True)

    def admin_taps(self, button: str) -> None:
        self.end_bar()
        print(f"  Ada taps [{button}]", flush=True)

    def show(self, who: str, entry: ChatEntry, *, numbered: bool = False) -> None:
        """Print a bot message the first time, and again whenever its text or keyboard changes."""
        self.end_bar()
        body = render_text(
            entry.text or entry.caption or "", entry.entities or entry.caption_entities, colour=self.colour
        )
        buttons = (
            render_buttons(entry.reply_markup)
            if numbered
            else [" ".join(f"[{text}]" for text, _ in entry.buttons)]
            if entry.buttons
            else []
        )
        title = f"{who} (message {entry.message_id}{', edited' if entry.edit_count else ''})"
        print(boxed(title, body, buttons, colour=self.colour), flush=True)

    def bar(self, done: int, total: int, suffix: str) -> None:
        line = f"  {progress_bar(done, total)} {done:,}/{total:,} {suffix}"
        if sys.stdout.isatty():
            print(f"\r\033[K{line}", end="", flush=True)
            self.bar_shown = True
        elif time.monotonic() - self.bar_printed_at >= BAR_LINE_INTERVAL_S or done >= total:
            # A log file gets a line every few seconds, not a redraw every half second.
            self.bar_printed_at = time.monotonic()
            print(line, flush=True)

    def end_bar(self) -> None:
        if self.bar_shown:
            print(flush=True)
            self.bar_shown = False


class ChatMirror:
    """Prints the admin's chat with the control bot as it changes: new messages and edits."""

    def __init__(self, sim: Simulator, say: Printer, *, numbered: bool = False) -> None:
        self.sim = sim
        self.say = say
        self.numbered = numbered
        self.seen: dict[tuple[str, int], tuple[str, str]] = {}

    def refresh(self) -> list[ChatEntry]:
        fresh = []
        for token, who in ((CONTROL_TOKEN, "Broadcast Panel"), (TARGET_TOKEN, "Demo News bot")):
            for entry in self.sim.chat(token, ADMIN_ID).bot_messages:
                fingerprint = (entry.text or entry.caption or "", repr(entry.reply_markup))
                if self.seen.get((token, entry.message_id)) != fingerprint:
                    self.seen[(token, entry.message_id)] = fingerprint
                    self.say.show(who, entry, numbered=self.numbered and token == CONTROL_TOKEN)
                    fresh.append(entry)
        return fresh

    async def wait_for(self, predicate: Callable[[ChatEntry], bool], *, timeout_s: float = 20.0) -> ChatEntry:
        """The newest bot message matching `predicate`, printing everything on the way."""

        def probe() -> ChatEntry | None:
            self.refresh()
            matches = [e for e in self.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if predicate(e)]
            return matches[-1] if matches else None

        try:
            return await self.sim.wait_until(probe, timeout_s=timeout_s)
        except TimeoutError:
            raise TimeoutError(f"the control bot did not answer within {timeout_s:.0f} s") from None
