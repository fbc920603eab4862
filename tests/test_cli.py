"""The `broadcast` command as a user runs it: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cli.main import build_parser, main
from models import Campaign
from panel.db import create_engine, create_sessionmaker
from panel.greetings import rendered, values_of
from panel.settings import SettingsError, load_settings, mask_token
from tests.processes import broadcast_cli
from tests.support.engine import ADMIN_CHAT_ID, CONTROL_TOKEN
from tests.support.sim import TOKEN
from tgsim.simulator import Simulator


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


async def _stored_contents(database_url: str) -> list[tuple[int, dict[str, Any]]]:
    """The id and content of every campaign in the database, oldest first."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.execute(select(Campaign).order_by(Campaign.id))
            return [(campaign.id, campaign.content) for campaign in found.scalars()]
    finally:
        await engine.dispose()


async def _cli_with_a_bot(sim: Simulator, database_url: str, tmp_path: Path) -> dict[str, str]:
    """A migrated database with target bot `news` (checked with the simulator); the CLI's env."""
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url}
    for command in (("db", "upgrade"), ("bots", "add", "--codename", "news", "--token", TOKEN)):
        code, _, err = await broadcast_cli(*command, env=env, cwd=tmp_path)
        assert code == 0, err
    return env


async def test_campaigns_create_html_stores_the_text_and_its_entities(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    env = await _cli_with_a_bot(sim, database_url, tmp_path)
    html = (
        '<b>Hi {first_name|there}</b>, <a href="https://example.com/sale">20% off</a> 😀 <i>today</i> &lt;3'
    )
    code, out, err = await broadcast_cli(
        "campaigns", "create", "--bot", "news", "--html", html, env=env, cwd=tmp_path
    )
    assert code == 0, err
    [(campaign_id, content)] = await _stored_contents(database_url)
    assert out.strip() == str(campaign_id)
    assert content["text"] == "Hi {first_name|there}, 20% off 😀 today <3"
    assert content["entities"] == [
        {"type": "bold", "offset": 0, "length": 21},
        {"type": "text_link", "offset": 23, "length": 7, "url": "https://example.com/sale"},
        {"type": "italic", "offset": 34, "length": 5},
    ]
    assert content["personalised"] is True
    # Each recipient's entities move with their name and stay on their words.
    got = rendered(content, values_of("🎉Ann", None, None))
    assert got["text"] == "Hi 🎉Ann, 20% off 😀 today <3"
    words = got["text"].encode("utf-16-le")
    assert [
        words[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le") for e in got["entities"]
    ] == ["Hi 🎉Ann", "20% off", "today"]


async def test_campaigns_create_refuses_bad_html_as_telegram_does_and_creates_nothing(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    env = await _cli_with_a_bot(sim, database_url, tmp_path)
    for html, reason in (
        ("<b>Sale</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("😀 Sale <blink>now</blink>", 'Unsupported start tag "blink" at byte offset 10'),
        ("<b>Sale", 'Can\'t find end tag corresponding to start tag "b"'),
    ):
        code, out, err = await broadcast_cli(
            "campaigns", "create", "--bot", "news", "--html", html, env=env, cwd=tmp_path
        )
        assert (code, out) == (1, "")
        assert err == f"broadcast: --html: Bad Request: can't parse entities: {reason}; nothing was created\n"
    code, _, err = await broadcast_cli(
        "campaigns", "create", "--bot", "news", "--text", "x", "--html", "<b>x</b>", env=env, cwd=tmp_path
    )
    assert code == 2 and "argument --html: not allowed with argument --text" in err
    assert await _stored_contents(database_url) == []


def test_campaigns_create_html_is_a_caption_with_a_file_or_an_album(tmp_path: Path) -> None:
    from cli.campaigns import _album_of, _message_of

    photo, clip = tmp_path / "a.jpg", tmp_path / "b.mp4"
    for path in (photo, clip):
        path.write_bytes(b"bytes of " + path.name.encode())
    given: dict[str, object] = {
        "text": None,
        "html": "<b>New</b> 日本 <i>in</i>",
        "kind": None,
        "buttons": [],
    }
    content, kind, _ = _message_of(argparse.Namespace(**given, file=photo, forward=None, copy=False))
    bold, italic = {"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 7, "length": 2}
    assert (kind, content.text, content.entities) == ("photo", "New 日本 in", (bold, italic))
    album, _ = _album_of(argparse.Namespace(**given, file=None, album=[photo, clip], follow_up=None))
    assert [(item.caption, item.entities) for item in album.album] == [
        ("New 日本 in", (bold, italic)),
        ("", ()),
    ]


async def test_campaigns_create_html_caption_keeps_its_entities_through_the_upload(
    sim: Simulator, database_url: str, tmp_path: Path
) -> None:
    env = await _cli_with_a_bot(sim, database_url, tmp_path)
    sim.add_bot(CONTROL_TOKEN, username="cli_control")
    sim.add_user(CONTROL_TOKEN, ADMIN_CHAT_ID, first_name="Admin")
    env |= {"BOT_TOKEN": CONTROL_TOKEN, "ADMIN_IDS": str(ADMIN_CHAT_ID)}
    photo = tmp_path / "launch.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a launch photo " + bytes(range(256)))
    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        "news",
        "--file",
        str(photo),
        "--html",
        "🌸 <b>Spring</b> sale",
        env=env,
        cwd=tmp_path,
    )
    assert code == 0, err
    [(campaign_id, content)] = await _stored_contents(database_url)
    assert out.strip() == str(campaign_id)
    (posted,) = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages
    assert (content["media"]["file_id"], content["text"]) == (posted.file_id, "🌸 Spring sale")
    assert content["entities"] == [{"type": "bold", "offset": 3, "length": 6}]
