"""Every Redis key of a deployment starts with its queue name, so two deployments share a Redis."""

from __future__ import annotations

from panel.keys import RedisKeys
from panel.queue import batch_job_id


def every_key(keys: RedisKeys) -> list[str]:
    """One key of each kind (the rate key of one token, the progress key of each part, ...)."""
    return [
        keys.worker("host:1:abc"),
        keys.lease(batch_job_id(7, 1, 500, queue_name=keys.queue_name)),
        keys.rate("123456:token"),
        keys.claim("start:7"),
        *(keys.progress(7, part) for part in ("lock", "text", "sample")),
        keys.media_upload(7),
        keys.seen(7),
        keys.batch_job_prefix(),
        batch_job_id(7, 1, 500, queue_name=keys.queue_name),
        keys.fsm_prefix,
        keys.health_check,
    ]


def test_every_key_starts_with_the_queue_name() -> None:
    for queue_name in ("broadcast", "broadcast-demo"):
        keys = every_key(RedisKeys(queue_name))
        assert all(key.startswith(f"{queue_name}:") for key in keys), keys
        assert len(set(keys)) == len(keys)  # no two kinds share a key


def test_keys_of_two_deployments_never_collide() -> None:
    first, second = every_key(RedisKeys("broadcast")), every_key(RedisKeys("broadcast-demo"))
    assert not set(first) & set(second)
    # Nor does a scan for one deployment's keys (`<queue name>:*`) find the other's.
    assert not [key for key in second if key.startswith("broadcast:")]


def test_the_token_never_appears_in_its_key() -> None:
    assert "123456:token" not in RedisKeys("broadcast").rate("123456:token")
