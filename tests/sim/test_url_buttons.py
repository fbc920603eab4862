"""URL buttons on sent messages: checked like Telegram, kept on the recipient's message."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.support.sim import TOKEN
from tgsim.simulator import Simulator

KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Read", "url": "https://example.com/post"}, {"text": "Shop", "url": "http://shop.example"}],
        [
            {"text": "News", "url": "tg://resolve?domain=news"},
            {"text": "Channel", "url": "https://t.me/news"},
        ],
    ]
}


async def _post(sim: Simulator, method: str, *, form: dict[str, Any] | None = None, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http:
        url = f"{sim.base_url}/bot{TOKEN}/{method}"
        async with http.post(url, data=form, json=body) as response:
            return await response.json()


async def test_url_buttons_reach_the_recipient_from_json_and_form_bodies(sim: Simulator) -> None:
    sim.add_user(TOKEN, 42)
    as_json = await _post(sim, "sendMessage", body={"chat_id": 42, "text": "hi", "reply_markup": KEYBOARD})
    as_form = await _post(
        sim, "sendMessage", form={"chat_id": "42", "text": "hi", "reply_markup": json.dumps(KEYBOARD)}
    )
    assert as_json["ok"] and as_form["ok"]
    assert as_json["result"]["reply_markup"] == KEYBOARD
    rows = [[("Read", "https://example.com/post"), ("Shop", "http://shop.example")]]
    rows.append([("News", "tg://resolve?domain=news"), ("Channel", "https://t.me/news")])
    assert [entry.url_buttons for entry in sim.chat(TOKEN, 42).bot_messages] == [rows, rows]


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "Shop", "url": "htp://x"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": "Shop", "url": "https://"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": "Shop", "url": "shop.example"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": "Shop", "url": "https://a b"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": " ", "url": "https://shop.example"}, "Bad Request: BUTTON_TEXT_INVALID"),
    ],
)
async def test_a_bad_url_button_is_refused_on_every_send_method(
    sim: Simulator, button: dict[str, str], description: str
) -> None:
    sim.add_user(TOKEN, 42)
    markup = {"inline_keyboard": [[button]]}
    for method, params in (("sendMessage", {"text": "hi"}), ("sendPhoto", {"photo": "https://x.org/a.jpg"})):
        answer = await _post(sim, method, body={"chat_id": 42, **params, "reply_markup": markup})
        assert (answer["error_code"], answer["description"]) == (400, description)
    assert sim.chat(TOKEN, 42).bot_messages == []
