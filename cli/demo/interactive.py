"""`broadcast demo --interactive`: the terminal is Ada's chat with the control bot."""

from __future__ import annotations

import asyncio

from cli.demo.screen import ChatMirror, Printer
from cli.demo.stack import ADMIN_ID, CONTROL_TOKEN, Stack
from tgsim.entities import parse_html
from tgsim.simulator import Simulator


async def chat(stack: Stack, say: Printer) -> int:
    """The terminal is Ada's chat with the control bot."""
    sim = stack.sim
    mirror = ChatMirror(sim, say, numbered=True)
    say.step(
        "You are Ada, an admin. Type messages and commands (/new, /campaigns, /help…); HTML like "
        "<b>bold</b> is sent as formatting. A number taps that button of the latest message with "
        "buttons. Ctrl-D or :q quits."
    )
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/start")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async def mirror_forever() -> None:
        while not stop.is_set():
            mirror.refresh()
            await asyncio.sleep(0.3)

    watcher = asyncio.create_task(mirror_forever())
    try:
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None or line.strip() == ":q":
                return 0
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.strip().isdigit():
                _press_numbered(sim, say, int(line.strip()))
                continue
            try:
                text, entities = parse_html(line)
            except Exception:
                text, entities = line, []
            sim.send_message(CONTROL_TOKEN, ADMIN_ID, text, entities=entities or None)
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await watcher


def _read_line() -> str | None:
    try:
        return input()
    except EOFError:
        return None


def _press_numbered(sim: Simulator, say: Printer, number: int) -> None:
    with_buttons = [e for e in sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if e.buttons]
    if not with_buttons:
        say.step("No message has buttons yet.")
        return
    entry = with_buttons[-1]
    if not 1 <= number <= len(entry.buttons):
        say.step(f"The latest message has buttons 1 to {len(entry.buttons)}.")
        return
    label, data = entry.buttons[number - 1]
    say.admin_taps(label)
    sim.press_button(CONTROL_TOKEN, ADMIN_ID, entry.message_id, data=data)
