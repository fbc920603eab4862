"""The Bot API side of the simulator over HTTP: body parsing, envelopes, fault injection, files."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from tgsim import errors, methods
from tgsim.errors import ApiError
from tgsim.methods import Call, Upload
from tgsim.settings import FaultSettings
from tgsim.world import BotRecord, World

logger = logging.getLogger(__name__)

_JSON = "application/json"


@dataclass(slots=True)
class FaultPlan:
    """What the fault injector decided for one send-type request."""

    before_s: float
    after_s: float
    outcome: str
    """"ok", "server_error", "hang_before" or "hang_after"."""
    status: int = 200
    stalled_s: float = 0.0
    """How much longer a stall of the route kept the request from the gate (part of `before_s`)."""


def draw_fault_plan(faults: FaultSettings, rng: random.Random, *, elapsed_s: float = 0.0) -> FaultPlan:
    """Draw the faults of one request (always four draws from `rng`, the bot's seeded RNG).

    `elapsed_s`: when the request is sent, counted from the bot's first faulted send request
    (the start of a latency drift and of the stalls).
    """
    jitter, outcome_draw, status_draw, side_draw = (
        rng.uniform(-1.0, 1.0),
        rng.random(),
        rng.random(),
        rng.random(),
    )
    latency = max(0.0, faults.mean_latency_s(elapsed_s) + jitter * faults.latency_jitter_s)
    before = latency * faults.latency_before_gate_share
    plan = FaultPlan(before_s=before, after_s=latency - before, outcome="ok")
    stall_end_s = faults.stall_end_s(elapsed_s + before)
    if stall_end_s is not None:
        # A stalled path delivers what it held when it recovers: together, at the stall's end.
        plan.stalled_s = stall_end_s - (elapsed_s + before)
        plan.before_s = stall_end_s - elapsed_s
    if outcome_draw < faults.server_error_share:
        plan.outcome = "server_error"
        plan.status = 502 if status_draw < 0.5 else 500
    elif outcome_draw < faults.server_error_share + faults.hang_share:
        plan.outcome = "hang_after" if side_draw < 0.5 else "hang_before"
    return plan


def envelope_response(body: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.Response(body=json.dumps(body, ensure_ascii=False).encode(), status=status, content_type=_JSON)


def error_response(error: ApiError) -> web.Response:
    """The Bot API error envelope."""
    return envelope_response(error.envelope(), error.status)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus the body: urlencoded, multipart (files become `Upload`) or JSON."""
    params: dict[str, Any] = dict(request.query) if request.query_string else {}
    if not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read()
                params[part.name] = Upload(part.filename, part.headers.get("Content-Type"), bytes(data))
            else:
                params[part.name] = await part.text()
        return params
    raw = await request.read()
    if content_type == _JSON:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise errors.bad_request("Bad Request: can't parse JSON object") from None
        if isinstance(body, dict):
            params.update(body)
        return params
    params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


class BotApiServer:
    """Answers `/bot<token>/<method>` and `/file/bot<token>/<path>` for a `World`."""

    def __init__(self, world: World, closing: asyncio.Event) -> None:
        self.world = world
        self.closing = closing

    def add_routes(self, app: web.Application) -> None:
        """Register the Bot API routes."""
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)

    async def handle_method(self, request: web.Request) -> web.Response:
        """One Bot API call."""
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return error_response(ApiError(401, errors.UNAUTHORIZED))
        method = request.match_info["method"].lower()
        bot.stats.requests[method] += 1
        try:
            params = await read_params(request)
            if method in methods.SEND_METHODS and not bot.faults.is_clean():
                result = await self._call_with_faults(bot, method, params)
            else:
                result = await self._call(bot, method, params)
        except ApiError as error:
            bot.stats.error(error.status, error.description)
            return error_response(error)
        except Exception:
            logger.exception("simulator failed on %s", method)
            bot.stats.error(500, errors.INTERNAL)
            return error_response(ApiError(500, errors.INTERNAL))
        return envelope_response({"ok": True, "result": result})

    async def _call(
        self, bot: BotRecord, method: str, params: dict[str, Any], *, at: float | None = None
    ) -> Any:
        """Answer one call; `at`: when it reaches Telegram (the rate gate's time), default now."""
        now = time.monotonic() if at is None else at
        call = Call(world=self.world, bot=bot, params=params, now=now, closing=self.closing)
        handler = methods.HANDLERS.get(method)
        if handler is not None:
            return handler(call)
        async_handler = methods.ASYNC_HANDLERS.get(method)
        if async_handler is not None:
            return await async_handler(call)
        raise ApiError(404, errors.NOT_FOUND)

    async def _call_with_faults(self, bot: BotRecord, method: str, params: dict[str, Any]) -> Any:
        sent_at = time.monotonic()
        if bot.faults_started_at is None:
            bot.faults_started_at = sent_at
        plan = draw_fault_plan(bot.faults, bot.rng, elapsed_s=sent_at - bot.faults_started_at)
        if plan.stalled_s > 0:
            bot.stats.faults["stalled"] += 1
        # The request reaches the gate when the network delay has passed, not when this event
        # loop wakes up for it (its timers tick in whole milliseconds and late under load).
        reaches_gate_at = sent_at + plan.before_s
        if plan.before_s > 0:
            await asyncio.sleep(plan.before_s)
        if plan.outcome == "server_error":
            bot.stats.faults["server_error"] += 1
            raise ApiError(plan.status, errors.BAD_GATEWAY if plan.status == 502 else errors.INTERNAL)
        if plan.outcome == "hang_before":
            bot.stats.faults["hang_before_delivery"] += 1
            await self._hang(bot.faults.hang_s)
            raise ApiError(502, errors.BAD_GATEWAY)
        try:
            # Calls reach the gate in the order they are answered (its window expects that).
            bot.last_gate_at = at = max(reaches_gate_at, bot.last_gate_at)
            result = await self._call(bot, method, params, at=at)
        finally:
            if plan.outcome == "hang_after":
                bot.stats.faults["hang_after_delivery"] += 1
                await self._hang(bot.faults.hang_s)
            if plan.after_s > 0:
                await asyncio.sleep(plan.after_s)
        return result

    async def _hang(self, hang_s: float) -> None:
        # Waiting on the closing event lets the simulator stop without waiting out a hang.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), hang_s)

    async def handle_file(self, request: web.Request) -> web.Response:
        """A file download for the bot that owns the file."""
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return error_response(ApiError(401, errors.UNAUTHORIZED))
        record = self.world.files_by_path.get(request.match_info["path"])
        if record is None or record.owner_bot_id != bot.bot_id:
            return error_response(ApiError(404, errors.NOT_FOUND))
        return web.Response(body=record.data, content_type=record.mime_type or "application/octet-stream")
