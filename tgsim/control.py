"""The user side over HTTP: JSON endpoints under `/sim/...` mirroring the `Simulator` methods."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tgsim.settings import FaultSettings, LimitSettings
from tgsim.world import Json

if TYPE_CHECKING:
    from tgsim.simulator import Simulator

logger = logging.getLogger(__name__)

Endpoint = Callable[[web.Request], Awaitable[web.Response]]


def _reply(result: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps({"ok": status == 200, "result": result}, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


async def _body(request: web.Request) -> Json:
    query: Json = dict(request.query)
    if not request.body_exists:
        return query
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return {**query, **body}


def _fields(cls: type, body: Json) -> Json:
    names = {f.name for f in dataclasses.fields(cls)}
    return {key: value for key, value in body.items() if key in names}


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    """Register `/sim/...` on `app`, acting on `sim`."""

    def endpoint(action: Callable[[Json], Any]) -> Endpoint:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await _body(request)
                result = action(body)
                if isinstance(result, Awaitable):
                    result = await result
            except (KeyError, ValueError, TypeError, LookupError) as error:
                return _reply(f"{type(error).__name__}: {error}", 400)
            except Exception as error:
                if type(error).__name__ in ("SimError", "TimeoutError"):
                    return _reply(f"{type(error).__name__}: {error}", 400)
                logger.exception("control endpoint failed")
                return _reply(f"{type(error).__name__}: {error}", 500)
            return _reply(result)

        return handle

    def add_bot(body: Json) -> Any:
        limits = LimitSettings(**_fields(LimitSettings, body["limits"])) if body.get("limits") else None
        faults = FaultSettings(**_fields(FaultSettings, body["faults"])) if body.get("faults") else None
        return sim.add_bot(
            body["token"],
            username=body.get("username"),
            first_name=body.get("first_name"),
            paid_broadcast=bool(body.get("paid_broadcast", False)),
            limits=limits,
            faults=faults,
        )

    def add_users(body: Json) -> Any:
        token, state = body["token"], body.get("state", "active")
        if "chat_id" in body:
            sim.add_user(
                token,
                int(body["chat_id"]),
                first_name=body.get("first_name"),
                username=body.get("username"),
                language_code=body.get("language_code"),
                state=state,
            )
            return {"known": len(sim.world.bots[token].members)}
        if "chat_ids" in body:
            chat_ids: Any = [int(chat_id) for chat_id in body["chat_ids"]]
        else:
            start = int(body.get("start", 1))
            chat_ids = range(start, start + int(body["count"]))
        return {"known": sim.add_users(token, chat_ids, state=state)}

    def send(body: Json) -> Any:
        photo = base64.b64decode(body["photo_base64"]) if body.get("photo_base64") else None
        return sim.send_message(
            body["token"],
            int(body["chat_id"]),
            body.get("text"),
            entities=body.get("entities"),
            photo=photo,
            caption=body.get("caption"),
        )

    def press(body: Json) -> Any:
        query_id = sim.press_button(
            body["token"],
            int(body["chat_id"]),
            int(body["message_id"]),
            data=body.get("data"),
            text=body.get("text"),
        )
        return {"callback_query_id": query_id}

    async def open_url(body: Json) -> Any:
        opened = await sim.open_url_button(
            body["token"],
            int(body["chat_id"]),
            int(body["message_id"]),
            text=body.get("text"),
            index=int(body.get("index", 0)),
        )
        return dataclasses.asdict(opened)

    def block(body: Json) -> Any:
        sim.block(body["token"], int(body["chat_id"]))
        return True

    def unblock(body: Json) -> Any:
        sim.unblock(body["token"], int(body["chat_id"]))
        return True

    def user_state(body: Json) -> Any:
        sim.set_user_state(body["token"], int(body["chat_id"]), body["state"])
        return True

    def chat(body: Json) -> Any:
        return sim.chat(body["token"], int(body["chat_id"])).to_json()

    def stats(body: Json) -> Any:
        return sim.stats(body["token"]).to_json()

    def reset_stats(body: Json) -> Any:
        sim.reset_stats(body.get("token"))
        return True

    def faults(body: Json) -> Any:
        return dataclasses.asdict(sim.set_faults(body["token"], **_fields(FaultSettings, body)))

    def limits(body: Json) -> Any:
        return dataclasses.asdict(sim.set_limits(body["token"], **_fields(LimitSettings, body)))

    def storm(body: Json) -> Any:
        sim.storm(body["token"], float(body["duration_s"]), int(body.get("retry_after_s", 1)))
        return True

    async def wait_message(body: Json) -> Any:
        entry = await sim.wait_for_message(
            body["token"],
            int(body["chat_id"]),
            after_id=int(body.get("after_id", 0)),
            timeout_s=float(body.get("timeout_s", 5.0)),
        )
        return entry.to_json()

    def bots(body: Json) -> Any:
        return [
            {
                **bot.user_json(),
                "token": bot.token,
                "users": len(bot.members),
                "paid_broadcast": bot.paid_broadcast,
            }
            for bot in sim.world.bots.values()
        ]

    router = app.router
    router.add_get("/sim/health", endpoint(lambda body: True))
    router.add_get("/sim/bots", endpoint(bots))
    router.add_post("/sim/bots", endpoint(add_bot))
    router.add_post("/sim/users", endpoint(add_users))
    router.add_post("/sim/users/state", endpoint(user_state))
    router.add_post("/sim/send", endpoint(send))
    router.add_post("/sim/press", endpoint(press))
    router.add_post("/sim/open_url", endpoint(open_url))
    router.add_post("/sim/block", endpoint(block))
    router.add_post("/sim/unblock", endpoint(unblock))
    router.add_get("/sim/chat", endpoint(chat))
    router.add_get("/sim/stats", endpoint(stats))
    router.add_post("/sim/stats/reset", endpoint(reset_stats))
    router.add_post("/sim/faults", endpoint(faults))
    router.add_post("/sim/limits", endpoint(limits))
    router.add_post("/sim/storm", endpoint(storm))
    router.add_post("/sim/wait/message", endpoint(wait_message))
