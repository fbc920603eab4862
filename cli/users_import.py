"""Import a target bot's users from CSV: upsert valid rows, report malformed ones by line."""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from models import User, utcnow
from panel.segments import KEYWORDS

logger = logging.getLogger(__name__)

REQUIRED_COLUMN = "chat_id"
OPTIONAL_COLUMNS = ("username", "first_name", "last_name", "language_code")
COLUMN_LIMITS = {"username": 64, "first_name": 256, "last_name": 256, "language_code": 16}
ATTRIBUTE_NAME = re.compile(r"^[a-z_][\w.-]{0,63}$")
ATTRIBUTE_VALUE_LIMIT = 256
INT64_MAX = 2**63 - 1
CHUNK_ROWS = 20_000
MAX_REPORTED_ERRORS = 20


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (missing, not UTF-8, no chat_id column)."""


@dataclass(slots=True)
class RowError:
    """A malformed row: its line number in the file and what is wrong."""

    line: int
    reason: str


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def imported(self) -> int:
        """Valid distinct rows written."""
        return self.inserted + self.updated


def check_utf8(path: Path) -> None:
    """Raise `ImportFileError` unless `path` is readable UTF-8 text, before anything is written."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path}: not UTF-8 text (bad byte near offset {offset + exc.start:,}); save the file as UTF-8"
        ) from None


def parse_rows(path: Path, report: ImportReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line, row)` for each valid row; malformed rows are counted in `report`."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError(
                f"{path}: the file is empty; the first line must name the columns"
            ) from None
        except csv.Error as exc:
            raise ImportFileError(f"{path}: the header line is not valid CSV: {exc}") from None
        names = [name.strip().lower() for name in header]
        if REQUIRED_COLUMN not in names:
            raise ImportFileError(
                f"{path}: no chat_id column in the header (found: {', '.join(names) or 'nothing'})"
            )
        chat_index = names.index(REQUIRED_COLUMN)
        optional = [(name, names.index(name)) for name in OPTIONAL_COLUMNS if name in names]
        # Any other column is a custom attribute, kept as JSON and usable in segments (plan = pro);
        # a name a segment rule could not spell (or a word of the rules) is ignored as before.
        extra = [
            (name, index)
            for index, name in enumerate(names)
            if name != REQUIRED_COLUMN
            and name not in OPTIONAL_COLUMNS
            and ATTRIBUTE_NAME.match(name)
            and name not in KEYWORDS
        ]
        width = len(names)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                _reject(report, reader.line_num, f"not valid CSV: {exc}")
                continue
            line = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            report.rows_read += 1
            if len(cells) != width:
                _reject(report, line, f"expected {width} fields, found {len(cells)}")
                continue
            raw_chat = cells[chat_index].strip()
            try:
                chat_id = int(raw_chat)
            except ValueError:
                _reject(report, line, f"chat_id {raw_chat[:32]!r} is not a whole number")
                continue
            if chat_id == 0 or abs(chat_id) > INT64_MAX:
                _reject(report, line, f"chat_id {chat_id} is out of range")
                continue
            row: dict[str, Any] = {"chat_id": chat_id}
            bad = None
            for name, index in optional:
                value = cells[index].strip()
                if len(value) > COLUMN_LIMITS[name]:
                    bad = f"{name} is longer than {COLUMN_LIMITS[name]} characters"
                    break
                row[name] = value or None
            attributes = {}
            for name, index in extra:
                value = cells[index].strip()
                if len(value) > ATTRIBUTE_VALUE_LIMIT:
                    bad = f"{name} is longer than {ATTRIBUTE_VALUE_LIMIT} characters"
                    break
                if value:
                    attributes[name] = value
            if extra:
                row["attributes"] = attributes or None
            if bad:
                _reject(report, line, bad)
                continue
            yield line, row


def _reject(report: ImportReport, line: int, reason: str) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(RowError(line=line, reason=reason))


async def import_users(
    engine: AsyncEngine, path: Path, *, bot_id: int, platform: str = "telegram"
) -> ImportReport:
    """Upsert the users in the CSV at `path` into `bot_id`'s audience.

    A malformed row is reported and skipped; the valid rows are imported in chunks.
    """
    check_utf8(path)
    report = ImportReport()
    dialect = engine.dialect.name
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    columns_seen: set[str] = set()

    async with engine.connect() as connection:
        before = int(
            (
                await connection.execute(select(func.count()).select_from(User).where(User.bot_id == bot_id))
            ).scalar_one()
        )

    chunk: dict[int, dict[str, Any]] = {}
    distinct_rows = 0

    async def flush() -> None:
        nonlocal distinct_rows
        if not chunk:
            return
        now = utcnow()
        rows = [{**row, "bot_id": bot_id, "platform": platform, "created_at": now} for row in chunk.values()]
        statement = insert(User)
        updates = {name: getattr(statement.excluded, name) for name in columns_seen}
        upsert = (
            statement.on_conflict_do_update(index_elements=["bot_id", "chat_id"], set_=updates)
            if updates
            else statement.on_conflict_do_nothing(index_elements=["bot_id", "chat_id"])
        )
        async with engine.begin() as connection:
            await connection.execute(upsert, rows)
        distinct_rows += len(rows)
        chunk.clear()

    for _line, row in parse_rows(path, report):
        columns_seen.update(name for name in (*OPTIONAL_COLUMNS, "attributes") if name in row)
        if row["chat_id"] in chunk:
            report.duplicates += 1
        chunk[row["chat_id"]] = row
        if len(chunk) >= CHUNK_ROWS:
            await flush()
    await flush()

    async with engine.connect() as connection:
        after = int(
            (
                await connection.execute(select(func.count()).select_from(User).where(User.bot_id == bot_id))
            ).scalar_one()
        )
    report.inserted = after - before
    # Rows repeated across chunks were written twice but are one user.
    report.updated = max(distinct_rows - report.inserted, 0)
    return report
