"""The tracker installs on its own into a target bot's environment (tracker/pyproject.toml).

What this proves, offline and in a few seconds:

- the wheel built from tracker/ (as `pip install ./tracker` builds it) holds the one top-level
  package `broadcast_tracker`, so it cannot shadow a bot's own `bot`, `models`, `handlers` or
  `config`, and its `Requires-Dist` names only aiogram and SQLAlchemy (with its asyncio extra),
  plus aiosqlite and asyncpg behind the `sqlite` and `postgresql` extras;
- installed by pip into a fresh venv that sees nothing but that wheel and the installed
  distributions its requirements lead to (aiogram's and SQLAlchemy's own dependencies included,
  the panel's and its other dependencies absent), it imports and works: a target bot with
  packages of its own named `bot`, `models`, `handlers` and `config`, first on its path, imports
  the tracker (which takes none of those names), still gets its own packages, feeds an update
  through a dispatcher with the tracker set up, and the user lands in a SQLite file's `users`.
  So the declared requirements are enough and nothing of the panel is needed.

It does not download anything: the dependencies are the ones installed in this interpreter's
environment, linked into the venv one distribution at a time, not fetched from an index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Each requirement the wheel may name, and its marker (the extra that asks for it).
ALLOWED = {
    "aiogram": None,
    "sqlalchemy": None,
    "aiosqlite": 'extra == "sqlite"',
    "asyncpg": 'extra == "postgresql"',
}
# Of the panel, and of what it pulls that the tracker does not need.
PANEL = ("panel", "jobs", "cli", "tgsim", "linktracker")
ABSENT = (*PANEL, "arq", "redis", "matplotlib", "cryptography", "babel")

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path) -> str:
    """Run `command` without PYTHONPATH, which would put this checkout in view."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracker's wheel, built by pip from a copy of tracker/ and broadcast_tracker/ side by side.

    A copy, so the in-tree build's `build/` and `*.egg-info` stay out of the work tree."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in ("tracker", "broadcast_tracker"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    project = source / "tracker"
    pip_wheel = (sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps")
    _run(*pip_wheel, "--wheel-dir", out, project, cwd=project)
    (built,) = out.glob("broadcast_tracker-*.whl")
    return built


def _metadata(wheel: Path) -> tuple[set[str], list[Requirement]]:
    """The wheel's top-level names and its `Requires-Dist` requirements."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(metadata).decode())
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    return top_level, [Requirement(line) for line in message.get_all("Requires-Dist") or []]


def test_the_wheel_holds_only_the_tracker_and_needs_only_aiogram_and_sqlalchemy(wheel: Path) -> None:
    top_level, requirements = _metadata(wheel)
    assert top_level == {"broadcast_tracker"}
    sources = (PROJECT_ROOT / "broadcast_tracker").glob("*.py")
    in_tree = {path.relative_to(PROJECT_ROOT).as_posix() for path in sources}
    with zipfile.ZipFile(wheel) as archive:
        assert in_tree <= set(archive.namelist())
    needed = {
        canonicalize_name(requirement.name): str(requirement.marker) if requirement.marker else None
        for requirement in requirements
    }
    assert needed == ALLOWED
    # Without it SQLAlchemy 2.1 comes without greenlet, and its async engine fails to import.
    (sqlalchemy,) = (r for r in requirements if canonicalize_name(r.name) == "sqlalchemy")
    assert sqlalchemy.extras == {"asyncio"}


def _closure(requirements: list[Requirement], extras: set[str]) -> set[str]:
    """The installed distributions `requirements` (with `extras`) lead to, transitively."""
    found: set[str] = set()
    todo = [(requirement, extras) for requirement in requirements]
    while todo:
        requirement, wanted = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in wanted | {""}
        ):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            pytest.fail(f"{name}, which the tracker's requirements lead to, is not installed here")
        found.add(name)
        todo += [(Requirement(line), set(requirement.extras)) for line in dist.requires or []]
    return found


def _link_distributions(names: set[str], into: Path) -> None:
    """Link each distribution's top-level files and directories (and its dist-info) into `into`."""
    into.mkdir()
    for name in names:
        dist = distribution(name)
        assert dist.files is not None, f"{name} has no RECORD"
        for top in {file.parts[0] for file in dist.files}:
            if top in ("..", "__pycache__") or (into / top).exists():
                continue
            target = Path(str(dist.locate_file(top)))
            if target.exists():
                (into / top).symlink_to(target)


TARGET_BOT = """
import asyncio, importlib.util, sqlite3, sys
from pathlib import Path

import broadcast_tracker
from broadcast_tracker import setup_tracker
from broadcast_tracker.table import metadata

# The tracker took none of the bot's names, though they were first on the path.
taken = [name for name in ("bot", "config", "handlers", "models") if name in sys.modules]
assert not taken, f"broadcast_tracker imported the bot's {taken}"

import bot, config, handlers, models  # the target bot's own packages
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import create_async_engine

here = Path.cwd()
for module in (bot, config, handlers, models):
    assert Path(module.__file__).is_relative_to(here), module.__file__
assert Path(broadcast_tracker.__file__).is_relative_to(sys.prefix), broadcast_tracker.__file__
absent = [name for name in sys.argv[1:] if importlib.util.find_spec(name) is not None]
assert not absent, f"importable here: {absent}"


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite:///bot.sqlite3")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    dp = Dispatcher()
    tracker = setup_tracker(dp, engine, bot_id=7)
    telegram = Bot("42:TOKEN")
    update = Update.model_validate(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1001, "type": "private"},
                "from": {"id": 1001, "is_bot": False, "first_name": "Ada", "language_code": "en"},
                "text": "/start",
            },
        },
        context={"bot": telegram},
    )
    await dp.feed_update(telegram, update)
    assert await tracker.flush() == 1
    await telegram.session.close()
    await engine.dispose()


asyncio.run(main())
with sqlite3.connect("bot.sqlite3") as connection:
    print(connection.execute("SELECT bot_id, chat_id, first_name, is_unavailable FROM users").fetchall())
"""


def test_a_target_bot_runs_the_tracker_with_only_its_declared_requirements(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    pip = (sys.executable, "-m", "pip", "--python", python)
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    # What `pip install broadcast-tracker[sqlite]` would install, taken from this environment:
    # linked into a directory of its own that a path line in a .pth file adds to the venv.
    _, requirements = _metadata(wheel)
    dependencies = _closure(requirements, {"sqlite"})
    assert {"aiogram", "sqlalchemy", "aiosqlite"} <= dependencies
    assert dependencies.isdisjoint({"broadcast-panel", *ABSENT})
    _link_distributions(dependencies, tmp_path / "dependencies")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(_run(python, "-c", purelib, cwd=tmp_path).strip())
    (site_packages / "dependencies.pth").write_text(f"{tmp_path / 'dependencies'}\n")

    # The target bot, with the package names bots commonly have.
    bot = tmp_path / "bot"
    for package in ("bot", "models", "handlers"):
        (bot / package).mkdir(parents=True)
        (bot / package / "__init__.py").write_text(f"NAME = {package!r}\n")
    (bot / "config.py").write_text("TOKEN = '42:TOKEN'\n")
    (bot / "main.py").write_text(TARGET_BOT)

    output = _run(python, "main.py", *ABSENT, cwd=bot)
    assert output.strip() == "[(7, 1001, 'Ada', 0)]"
