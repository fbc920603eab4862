"""A non-editable install works without the checkout: it carries every package and the migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from models import Base

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("panel", "models", "bot", "jobs", "tgsim", "cli", "broadcast_tracker", "linktracker")
BUILD_INPUTS = ("pyproject.toml", "README.md", "alembic", *PACKAGES)

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run `command` without PYTHONPATH, which would put this checkout (and its egg-info) in view."""
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as `pip install .` builds it, from a copy of the tree.

    A copy, so the build's `build/` and `*.egg-info` stay out of the work tree."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in BUILD_INPUTS:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source, cwd=source)
    (built,) = out.glob("broadcast_panel-*.whl")
    return built


def test_the_wheel_holds_every_module_and_migration(wheel: Path) -> None:
    in_tree = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for package in PACKAGES
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    migrations = {
        "panel/migration_scripts/" + path.relative_to(PROJECT_ROOT / "alembic").as_posix()
        for path in (PROJECT_ROOT / "alembic").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    assert in_tree - in_wheel == set(), "add the missing packages to [tool.setuptools] packages"
    assert migrations - in_wheel == set()
    # The translation catalogs ride along as package data: without them a Russian admin would crash.
    catalogs = {path.relative_to(PROJECT_ROOT).as_posix() for path in (PROJECT_ROOT / "panel").rglob("*.po")}
    assert catalogs and catalogs - in_wheel == set()


def test_an_installed_broadcast_migrates_a_new_database(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    pip = (sys.executable, "-m", "pip", "--python", python)
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The dependencies come from this interpreter's environment: a path line in a .pth file adds
    # its site-packages after the new venv's own, without running the .pth files there (one of
    # which would put this checkout back on the path). Written after the install, so pip does not
    # find the project installed already.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(_run(python, "-c", purelib, cwd=tmp_path).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")

    database = tmp_path / "panel.sqlite3"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    output = _run(venv / "bin" / "broadcast", "db", "upgrade", cwd=tmp_path, env=env)
    assert "database is at revision head" in output

    where = _run(python, "-c", "import panel, sys; print(panel.__file__)", cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv)
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {*Base.metadata.tables, "alembic_version"}
