"""The `broadcast` command as a user runs it: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import build_parser, main
from panel.settings import SettingsError, load_settings, mask_token


def broadcast(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
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
    for command in ("db", "bots", "users", "admins", "campaigns", "worker", "bot", "run", "demo", "sandbox"):
        assert f"    {command} " in result.stdout


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _leaf_commands(sub, (*prefix, name)) or [(*prefix, name)]
    return found


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _leaf_commands(build_parser())
    assert ("campaigns", "status") in commands and ("db", "upgrade") in commands
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        output = capsys.readouterr().out
        assert output.startswith(f"usage: broadcast {' '.join(command)}"), command
        assert len(output.splitlines()) > 3, command


def test_malformed_setting_in_a_real_process_stops_with_one_line(tmp_path: Path) -> None:
    result = broadcast("admins", "list", env={"ADMIN_IDS": "12,abc"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "broadcast: configuration error: ADMIN_IDS: "
        "expected comma-separated Telegram user ids, e.g. 12345,67890"
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS: expected comma-separated Telegram user ids"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must start with sqlite+aiosqlite://"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: does not look like a bot token"),
    ],
)
def test_malformed_setting_stops_with_one_line(
    variable: str,
    value: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as exit_info:
        main(["admins", "list"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.strip().count("\n") == 0
    assert expected in error


def test_load_settings_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^REDIS_URL: "):
        load_settings(redis_url="http://nope")


def test_admins_round_trip_through_the_cli(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ADMIN_IDS", "7")
    assert main(["db", "upgrade"]) == 0
    with pytest.raises(SystemExit) as refused:
        main(["admins", "add", "42", "--tz", "Nowhere/Town"])
    assert refused.value.code == 1
    assert "unknown time zone 'Nowhere/Town'" in capsys.readouterr().err
    assert main(["admins", "add", "42", "--name", "Ann", "--tz", "Europe/Berlin"]) == 0
    capsys.readouterr()
    assert main(["admins", "list"]) == 0
    listing = capsys.readouterr().out
    assert "7  (ADMIN_IDS)" in listing
    assert "42  Ann" in listing and "Europe/Berlin" in listing


def test_tokens_are_masked() -> None:
    assert mask_token("123456:ABCDEFGHIJ") == "123456:AB…IJ"
    assert "CDEFGH" not in mask_token("123456:ABCDEFGHIJ")


def test_campaigns_create_checks_the_message_before_uploading_anything(tmp_path: Path) -> None:
    from cli.campaigns import _message_of
    from cli.common import CommandError
    from panel.content import MessageContent

    photo = tmp_path / "launch.JPG"
    photo.write_bytes(b"\xff\xd8 photo")

    def message(**given: object) -> tuple[MessageContent, str | None, bytes | None]:
        args = argparse.Namespace(
            **(
                {"text": None, "file": None, "kind": None, "buttons": [], "forward": None, "copy": False}
                | given
            )
        )
        return _message_of(args)

    content, kind, data = message(file=photo, text="Caption")
    assert (kind, data) == ("photo", b"\xff\xd8 photo")
    assert (content.text, content.media is not None) == ("Caption", True)
    assert message(file=photo, kind="document")[1] == "document"
    clip, empty = tmp_path / "clip.MP4", tmp_path / "empty.pdf"
    clip.write_bytes(b"video")
    empty.write_bytes(b"")
    assert message(file=clip)[1] == "video"
    assert message(text="Just words")[1:] == (None, None)
    for given, reason in (
        ({}, "give the message with --text, or a photo, video or file with --file"),
        ({"kind": "photo", "text": "x"}, "--kind goes with --file"),
        ({"file": photo, "text": "c" * 1025}, "The caption is 1,025 characters long; Telegram allows 1,024."),
        ({"file": tmp_path / "nope.jpg"}, "--file: cannot read"),
        ({"file": empty}, "--file: empty.pdf is empty"),
        ({"text": " "}, "The message is empty."),
        ({"text": "Hi {frist_name}"}, "unknown placeholder {frist_name}: the known ones are {first_name}"),
        ({"text": "50% off } today"}, "a lone “}” at character 9: write }} for a brace"),
    ):
        with pytest.raises(CommandError) as refused:
            message(**given)
        assert str(refused.value).startswith(reason), (given, refused.value)


def test_campaigns_create_checks_an_album_before_uploading_anything(tmp_path: Path) -> None:
    from cli.campaigns import _album_of
    from cli.common import CommandError
    from panel.content import MessageContent

    photo, clip, report = tmp_path / "a.jpg", tmp_path / "b.mp4", tmp_path / "c.pdf"
    for path in (photo, clip, report):
        path.write_bytes(b"bytes of " + path.name.encode())

    def album(*paths: Path, **given: object) -> tuple[MessageContent, list[tuple[Path, str, bytes]]]:
        args = argparse.Namespace(
            **(
                {
                    "text": None,
                    "file": None,
                    "kind": None,
                    "buttons": [],
                    "follow_up": None,
                    "album": list(paths),
                }
                | given
            )
        )
        return _album_of(args)

    content, files = album(photo, clip, text="Caption")
    assert [item.caption for item in content.album] == ["Caption", ""]
    assert [(path, kind) for path, kind, _ in files] == [(photo, "photo"), (clip, "video")]
    for paths, given, error in (
        ((photo,), {}, "--album: An album has 2 to 10 items; this one has 1."),
        ((photo, report), {}, "--album: An album has photos and videos, or files only, not both."),
        ((photo, clip), {"file": photo}, "--album goes without --file"),
        ((photo, clip), {"buttons": ["Go - https://example.com"]}, "--album with --button needs --follow-up"),
        ((photo, clip), {"follow_up": "Tap"}, "--album with --button needs --follow-up"),
        ((photo, clip), {"buttons": ["Go -"], "follow_up": "Tap"}, "--album: line 1"),
        ((photo, clip), {"text": "Hi {frist}"}, "--album: unknown placeholder {frist}"),
        ((photo, tmp_path / "nope.jpg"), {}, "--album: cannot read"),
    ):
        with pytest.raises(CommandError) as caught:
            album(*paths, **given)
        assert str(caught.value).startswith(error)
