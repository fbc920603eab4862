"""The `broadcast` command as a user runs it: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from panel.settings import SettingsError, load_settings, mask_token


def broadcast(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    result = broadcast("--help")
    assert result.returncode == 0
    for command in ("db", "bots", "users", "admins"):
        assert command in result.stdout


@pytest.mark.parametrize("command", [("db", "upgrade"), ("bots", "add"), ("users", "import"), ("admins", "add")])
def test_every_subcommand_has_help(command: tuple[str, str]) -> None:
    result = broadcast(*command, "--help")
    assert result.returncode == 0
    assert "usage: broadcast" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS: expected comma-separated Telegram user ids"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must start with sqlite+aiosqlite://"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: does not look like a bot token"),
    ],
)
def test_malformed_setting_stops_with_one_line(variable: str, value: str, expected: str, tmp_path: Path) -> None:
    result = broadcast("admins", "list", env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_load_settings_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^REDIS_URL: "):
        load_settings(redis_url="http://nope")


def test_admins_round_trip_through_the_cli(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "ADMIN_IDS": "7"}
    assert broadcast("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    refused = broadcast("admins", "add", "42", "--tz", "Nowhere/Town", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "unknown time zone" in refused.stderr
    assert broadcast("admins", "add", "42", "--name", "Ann", "--tz", "Europe/Berlin", env=env, cwd=tmp_path).returncode == 0
    listing = broadcast("admins", "list", env=env, cwd=tmp_path)
    assert "7  (ADMIN_IDS)" in listing.stdout
    assert "42  Ann" in listing.stdout and "Europe/Berlin" in listing.stdout


def test_tokens_are_masked() -> None:
    assert mask_token("123456:ABCDEFGHIJ") == "123456:AB…IJ"
    assert "CDEFGH" not in mask_token("123456:ABCDEFGHIJ")
