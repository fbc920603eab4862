"""Imports run one way: bot/ and jobs/ use panel/ and models/, never each other.

Inside the bot, a handler module imports no other handler module: what two conversations
share (a prompt, a parser) lives in a module of `bot/` that handles nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "models": {"panel", "bot", "jobs", "cli", "tgsim", "aiogram", "arq"},
    # The shared domain talks to Telegram through neither client: aiogram belongs to the bot.
    "panel": {"bot", "jobs", "cli", "tgsim", "aiogram", "linktracker"},
    "bot": {"jobs", "cli", "tgsim"},
    # The workers send through their own lean client (jobs.engine.sendclient), never aiogram.
    "jobs": {"bot", "cli", "tgsim", "aiogram"},
    "tgsim": {"panel", "models", "bot", "jobs", "cli"},
    # The tracker runs inside the owners' target bots: aiogram and SQLAlchemy only, none of the panel.
    "broadcast_tracker": {"panel", "models", "bot", "jobs", "cli", "tgsim", "arq"},
    # The link service answers redirects from the shared domain and the tables alone.
    "linktracker": {"bot", "jobs", "cli", "tgsim", "aiogram", "arq"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, dotted in full (`from a import b` counts as `a` and `a.b`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import cannot be told apart here; in bot/handlers/ any is a sibling.
            module = "." * node.level + (node.module or "")
            names.add(module)
            joint = "" if module.endswith(".") else "."
            names.update(f"{module}{joint}{alias.name}" for alias in node.names)
    return names


def handler_imports(path: Path) -> set[str]:
    """The handler modules (or relative imports) that the module at `path` imports."""
    return {name for name in imported_modules(path) if name.startswith((".", "bot.handlers."))}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    breaches = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_top_levels(path) & FORBIDDEN[package])
    ]
    assert breaches == []


def test_the_checker_sees_a_breach(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from jobs.worker import create_worker\nimport bot.app\n", encoding="utf-8")
    assert imported_top_levels(module) == {"jobs", "bot"}


def test_no_handler_module_imports_another() -> None:
    files = sorted((ROOT / "bot" / "handlers").glob("*.py"))
    assert len(files) > 1, "bot/handlers/ has no handler modules"
    breaches = [
        f"{path.relative_to(ROOT)} imports {name}" for path in files for name in sorted(handler_imports(path))
    ]
    assert breaches == []


def test_the_handler_checker_sees_a_breach(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from bot.handlers.sendnow import ask\n"
        "from bot.handlers import schedule\n"
        "from . import compose\n"
        "from bot.prompts import ask_time\n",
        encoding="utf-8",
    )
    assert handler_imports(module) == {
        "bot.handlers.sendnow",
        "bot.handlers.sendnow.ask",
        "bot.handlers.schedule",
        ".",
        ".compose",
    }
