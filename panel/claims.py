"""One-shot claims in Redis: the first caller of an action within a while wins, later ones stop.

A double tap, two admins confirming together, a refusal repeated to a stranger: each is
claimed under the deployment's queue name (`RedisKeys.claim`) and expires by itself.
"""

from __future__ import annotations

from redis.asyncio import Redis

from panel.keys import RedisKeys


async def claim_once(redis: Redis, name: str, *, ttl_s: int, namespace: str) -> bool:
    """Whether this caller is the first to claim `name` (within `ttl_s`); later callers get False.

    `namespace` is the deployment's queue name, so deployments sharing a Redis stay apart.
    """
    return bool(await redis.set(RedisKeys(namespace).claim(name), "1", nx=True, ex=ttl_s))


async def release_claim(redis: Redis, name: str, *, namespace: str) -> None:
    """Forget a claim, so the action can be tried again."""
    await redis.delete(RedisKeys(namespace).claim(name))
