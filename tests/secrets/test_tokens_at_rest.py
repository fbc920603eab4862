"""Target bot tokens are stored encrypted under SECRET_KEY, rotate to a new key, and a missing or
malformed key stops the program in one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from panel.db import create_engine
from panel.migrations import upgrade
from panel.secrets import TokenBox, TokenError, generate_key, is_sealed
from panel.settings import SettingsError, load_settings
from tests.processes import broadcast_cli
from tests.support.keys import TEST_SECRET_KEY
from tgsim.simulator import Simulator

TOKEN = "400321:AAatRestTokenThatMustNeverBeStoredPlain"


def test_a_sealed_token_opens_only_under_its_key_and_refuses_tampering() -> None:
    old, new = generate_key(), generate_key()
    sealed = TokenBox([old]).seal(TOKEN)
    assert is_sealed(sealed) and TOKEN not in sealed and TOKEN.split(":")[1] not in sealed
    assert TokenBox([old]).seal(TOKEN) != sealed  # a fresh IV each time: equal tokens do not show
    assert TokenBox([old]).open(sealed) == TOKEN
    with pytest.raises(TokenError) as wrong_key:
        TokenBox([new]).open(sealed)
    assert TOKEN not in str(wrong_key.value)
    body = sealed.removeprefix("fernet:")
    tampered = "fernet:" + body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(TokenError):
        TokenBox([old]).open(tampered)
    with pytest.raises(TokenError, match="unencrypted"):
        TokenBox([old]).open(TOKEN)

    rotating = TokenBox([new, old])  # the new key writes, the old one still reads
    assert rotating.open(sealed) == TOKEN and not rotating.is_current(sealed)
    resealed = rotating.reseal(sealed)
    assert rotating.is_current(resealed) and TokenBox([new]).open(resealed) == TOKEN


def test_a_malformed_or_missing_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match=r"^SECRET_KEY: key 2 is not a Fernet key"):
        load_settings(secret_key=f"{TEST_SECRET_KEY},not-a-key")
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(SettingsError, match=r"^SECRET_KEY: missing"):
        load_settings(_env_file=None).require_secret_keys()


async def test_the_migration_encrypts_existing_tokens(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0011")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO bots (codename, platform, token, rate_per_s, paid_broadcast, created_at)"
                    " VALUES ('old', 'telegram', :token, 30, false, CURRENT_TIMESTAMP)"
                ),
                {"token": TOKEN},
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            stored = (await connection.execute(text("SELECT sealed_token FROM bots"))).scalar_one()
    finally:
        await engine.dispose()
    assert is_sealed(stored) and TOKEN.split(":")[1] not in stored
    assert TokenBox([TEST_SECRET_KEY]).open(stored) == TOKEN


async def test_cli_rotate_moves_every_token_to_the_new_key(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    sim.add_bot(TOKEN, username="at_rest_bot", first_name="At Rest")
    old, new = TEST_SECRET_KEY, generate_key()
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url, "SECRET_KEY": old}
    assert (await broadcast_cli("db", "upgrade", env=env, cwd=tmp_path))[0] == 0
    code, out, err = await broadcast_cli(
        "bots", "add", "--codename", "rest", "--token", TOKEN, env=env, cwd=tmp_path
    )
    assert code == 0, err

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            before = (await connection.execute(text("SELECT sealed_token FROM bots"))).scalar_one()
        assert TokenBox([old]).open(before) == TOKEN

        # The new key alone cannot read what the old one wrote: the CLI says so in one line.
        code, out, err = await broadcast_cli(
            "secrets", "rotate", env={**env, "SECRET_KEY": new}, cwd=tmp_path
        )
        assert code == 1 and "cannot be decrypted" in err and "nothing was changed" in err, err
        assert TOKEN.split(":")[1] not in out + err

        rotating = {**env, "SECRET_KEY": f"{new},{old}"}
        code, out, err = await broadcast_cli("bots", "list", env=rotating, cwd=tmp_path)
        assert code == 0 and "older key" in out, out
        code, out, err = await broadcast_cli("secrets", "rotate", env=rotating, cwd=tmp_path)
        assert code == 0 and "re-encrypted 1 of 1" in out, out + err
        code, out, err = await broadcast_cli("secrets", "rotate", env=rotating, cwd=tmp_path)
        assert code == 0 and "already" in out, out + err

        async with engine.connect() as connection:
            after = (await connection.execute(text("SELECT sealed_token FROM bots"))).scalar_one()
    finally:
        await engine.dispose()
    assert after != before and TokenBox([new]).open(after) == TOKEN
    code, out, err = await broadcast_cli("bots", "list", env={**env, "SECRET_KEY": new}, cwd=tmp_path)
    assert code == 0 and "older key" not in out and "encrypted" in out, out


async def test_processes_that_open_tokens_stop_without_a_key(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "", "BOT_TOKEN": "123:abc", "ADMIN_IDS": "1"}
    for command in (("worker", "--burst"), ("bot",), ("run",), ("secrets", "rotate")):
        code, out, err = await broadcast_cli(*command, env=env, cwd=tmp_path)
        assert code == 2, (command, out, err)
        assert err.strip().splitlines() == [
            "broadcast: configuration error: SECRET_KEY: missing; target bot tokens are stored encrypted"
            " under it (make one with `broadcast secrets generate`)"
        ], (command, err)
    code, out, err = await broadcast_cli("secrets", "generate", env=env, cwd=tmp_path)
    assert code == 0 and load_settings(secret_key=out.strip()).require_secret_keys() == (out.strip(),)
