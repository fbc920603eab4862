"""Segments: rules over a bot's users, written as one line of text and compiled to SQLAlchemy.

    language in (ru, uk) and active within 30d and not received 12
    joined after 2026-01-01 or (plan = pro and not city = Berlin)

Rules: `language in (a, b)` / `language = a`; `joined before|after YYYY-MM-DD`; `active within
N(d|h)` (seen by the bot in the last N days or hours); `received ID` (got campaign ID);
`subscribed TOPIC` (has not opted out of the bot's topic TOPIC, `panel.topics`);
`NAME = VALUE` / `NAME != VALUE` over the custom attributes imported from CSV columns. `and`
binds tighter than `or`; `not` and parentheses as usual. The text is parsed here into an
expression tree and then into SQLAlchemy clauses with bound values: no SQL text from an admin
ever reaches the database. A mistake raises SegmentError with the position and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models import Campaign, Delivery, DeliveryStatus, Segment, TopicOptOut, User, utcnow

MAX_EXPRESSION_CHARS = 2000
KEYWORDS = frozenset({"and", "or", "not", "in", "language", "joined", "before", "after", "active", "within"})
RULES_HINT = "a rule (language, joined, active, received, subscribed, or an attribute such as plan = pro)"
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:[dh])?(?![\w-]))|(?P<date>\d{4}-\d{2}-\d{2})|(?P<word>[A-Za-z_][\w.-]*)"
    r"|(?P<string>\"[^\"]*\")|(?P<op>!=|=|\(|\)|,))"
)


class SegmentError(ValueError):
    """A segment expression that does not parse: `position` is the 1-based character."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"at character {position}: {message}")
        self.position = position


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int
    """1-based character where the token starts."""


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    index = 0
    while index < len(text):
        if text[index:].strip() == "":
            break
        match = _TOKEN.match(text, index)
        if match is None or match.lastgroup is None:
            start = index + len(text[index:]) - len(text[index:].lstrip())
            raise SegmentError(start + 1, f"unexpected “{text[start]}”")
        kind = match.lastgroup
        found.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        index = match.end()
    return found


# ---------------------------------------------------------------- the expression tree


@dataclass(frozen=True, slots=True)
class Language:
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Joined:
    after: bool
    day: date


@dataclass(frozen=True, slots=True)
class ActiveWithin:
    period: timedelta


@dataclass(frozen=True, slots=True)
class Received:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class Subscribed:
    topic: str


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: str
    equal: bool


@dataclass(frozen=True, slots=True)
class Not:
    operand: Rule


@dataclass(frozen=True, slots=True)
class AllOf:
    operands: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    operands: tuple[Rule, ...]


Rule = Language | Joined | ActiveWithin | Received | Subscribed | Attribute | Not | AllOf | AnyOf


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _end_position(self) -> int:
        return len(self.text.rstrip()) + 1

    def _expected(self, what: str) -> SegmentError:
        token = self._peek()
        if token is None:
            return SegmentError(self._end_position(), f"expected {what}, found the end")
        return SegmentError(token.position, f"expected {what}, found “{token.text}”")

    def _op(self, text: str) -> bool:
        """Take the punctuation `text` if it comes next."""
        token = self._peek()
        if token is None or token.kind != "op" or token.text != text:
            return False
        self.index += 1
        return True

    def _take(self, *, kind: str | None = None, word: str | None = None) -> _Token | None:
        token = self._peek()
        if token is None:
            return None
        if kind is not None and token.kind != kind:
            return None
        if word is not None and not (token.kind == "word" and token.text.lower() == word):
            return None
        self.index += 1
        return token

    def _need(self, what: str, *, kind: str | None = None, word: str | None = None) -> _Token:
        token = self._take(kind=kind, word=word)
        if token is None:
            raise self._expected(what)
        return token

    def parse(self) -> Rule:
        if not self.tokens:
            raise SegmentError(1, f"expected {RULES_HINT}, found nothing")
        rule = self._or()
        if self._peek() is not None:
            raise self._expected("“and”, “or” or the end")
        return rule

    def _or(self) -> Rule:
        operands = [self._and()]
        while self._take(word="or"):
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def _and(self) -> Rule:
        operands = [self._not()]
        while self._take(word="and"):
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def _not(self) -> Rule:
        if self._take(word="not"):
            return Not(self._not())
        return self._atom()

    def _atom(self) -> Rule:
        if self._op("("):
            rule = self._or()
            if not self._op(")"):
                raise self._expected("“)”")
            return rule
        token = self._peek()
        if token is None or token.kind != "word":
            raise self._expected(RULES_HINT)
        name = token.text.lower()
        self.index += 1
        if name == "language":
            return self._language()
        if name == "joined":
            when = self._need("“before” or “after”", kind="word")
            if when.text.lower() not in ("before", "after"):
                raise SegmentError(when.position, f"expected “before” or “after”, found “{when.text}”")
            day = self._need("a date like 2026-01-31", kind="date")
            try:
                parsed = date.fromisoformat(day.text)
            except ValueError:
                raise SegmentError(day.position, f"“{day.text}” is not a date") from None
            return Joined(after=when.text.lower() == "after", day=parsed)
        if name == "active":
            self._need("“within”", word="within")
            period = self._need("a period like 30d or 12h", kind="number")
            if period.text[-1] not in "dh":
                raise SegmentError(
                    period.position, f"expected a period like 30d or 12h, found “{period.text}”"
                )
            amount = int(period.text[:-1])
            return ActiveWithin(timedelta(days=amount) if period.text[-1] == "d" else timedelta(hours=amount))
        if name == "received":
            campaign = self._need("a campaign id", kind="number")
            if not campaign.text.isdigit():
                raise SegmentError(campaign.position, f"expected a campaign id, found “{campaign.text}”")
            return Received(int(campaign.text))
        following = self._peek()
        if name == "subscribed" and not (following is not None and following.kind == "op"):
            # `subscribed news`; an attribute called subscribed (`subscribed = yes`) stays one.
            topic = self._need("a topic such as news", kind="word")
            return Subscribed(topic.text.lower())
        if name in KEYWORDS:
            raise SegmentError(token.position, f"expected {RULES_HINT}, found “{token.text}”")
        equal = self._op("=")
        if not equal and not self._op("!="):
            raise self._expected(f"“=” or “!=” after the attribute “{token.text}”")
        value = self._peek()
        if value is None or value.kind not in ("word", "string", "number", "date"):
            raise self._expected(f"a value for “{token.text}”")
        self.index += 1
        text = value.text[1:-1] if value.kind == "string" else value.text
        return Attribute(token.text, text, equal=equal)

    def _language(self) -> Rule:
        if self._take(word="in"):
            if not self._op("("):
                raise self._expected("“(” and a list of language codes")
            codes = [self._need("a language code", kind="word").text.lower()]
            while self._op(","):
                codes.append(self._need("a language code", kind="word").text.lower())
            if not self._op(")"):
                raise self._expected("“,” or “)”")
            return Language(tuple(codes))
        if not self._op("="):
            raise self._expected("“in (…)” or “= code” after “language”")
        return Language((self._need("a language code", kind="word").text.lower(),))


def parse_segment(text: str) -> Rule:
    """The rule tree of a segment expression; SegmentError says where and what was expected."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SegmentError(MAX_EXPRESSION_CHARS + 1, f"the expression is longer than {MAX_EXPRESSION_CHARS}")
    return _Parser(text).parse()


# ---------------------------------------------------------------- to SQLAlchemy


def segment_clause(rule: Rule, *, now: datetime | None = None) -> ColumnElement[bool]:
    """The WHERE clause over `users` that a rule stands for (values bound, never inlined)."""
    now = now or utcnow()
    # Each rule is TRUE or FALSE, never NULL, so `not` selects exactly the others (a user with no
    # language or no such attribute is outside `language = x` and inside `not language = x`).
    if isinstance(rule, Language):
        return and_(User.language_code.is_not(None), User.language_code.in_(rule.codes))
    if isinstance(rule, Joined):
        moment = datetime.combine(rule.day, datetime.min.time(), tzinfo=UTC)
        return User.created_at >= moment if rule.after else User.created_at < moment
    if isinstance(rule, ActiveWithin):
        return and_(User.last_seen_at.is_not(None), User.last_seen_at >= now - rule.period)
    if isinstance(rule, Received):
        return exists(
            select(Delivery.id).where(
                Delivery.user_id == User.id,
                Delivery.campaign_id == rule.campaign_id,
                Delivery.status == DeliveryStatus.SENT,
            )
        )
    if isinstance(rule, Subscribed):
        return not_(
            exists(
                select(TopicOptOut.chat_id).where(
                    TopicOptOut.bot_id == User.bot_id,
                    TopicOptOut.chat_id == User.chat_id,
                    TopicOptOut.topic == rule.topic,
                )
            )
        )
    if isinstance(rule, Attribute):
        value: ColumnElement[str] = User.attributes[rule.name].as_string()
        matches = and_(value.is_not(None), value == rule.value)
        return matches if rule.equal else not_(matches)
    if isinstance(rule, Not):
        return not_(segment_clause(rule.operand, now=now))
    if isinstance(rule, AllOf):
        return and_(true(), *(segment_clause(operand, now=now) for operand in rule.operands))
    return or_(false(), *(segment_clause(operand, now=now) for operand in rule.operands))


def recently_reached(bot_id: int, hours: int, *, now: datetime | None = None) -> ColumnElement[bool]:
    """Users who received any campaign of `bot_id` in the last `hours` (the bot's frequency cap)."""
    since = (now or utcnow()) - timedelta(hours=hours)
    return exists(
        select(Delivery.id)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(
            Delivery.user_id == User.id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.finished_at >= since,
            Campaign.bot_id == bot_id,
        )
    )


def segment_where(text: str | None, *, now: datetime | None = None) -> ColumnElement[bool]:
    """The clause for an expression (None or empty: everyone)."""
    if not text or not text.strip():
        return true()
    return segment_clause(parse_segment(text), now=now)


async def count_segment(
    session: AsyncSession, bot_ids: Sequence[int], text: str | None, *, now: datetime | None = None
) -> dict[int, int]:
    """How many available users of each bot the expression selects now."""
    where = segment_where(text, now=now)
    rows = await session.execute(
        select(User.bot_id, func.count())
        .where(User.bot_id.in_(list(bot_ids)), User.is_unavailable.is_(False), where)
        .group_by(User.bot_id)
    )
    counts = {int(bot_id): 0 for bot_id in bot_ids}
    counts.update({int(bot_id): int(count) for bot_id, count in rows})
    return counts


# ---------------------------------------------------------------- saved segments

MAX_NAME_CHARS = 64
_NAME = re.compile(r"^[\w-]{1,64}$")


async def save_segment(
    session: AsyncSession, name: str, expression: str, *, created_by: int | None = None
) -> Segment:
    """Save (or replace) the segment `name`; the expression is checked first (SegmentError)."""
    if not _NAME.match(name):
        raise SegmentError(1, f"a segment's name is 1-{MAX_NAME_CHARS} letters, digits, _ or -; not “{name}”")
    parse_segment(expression)
    segment = await get_segment(session, name)
    if segment is None:
        segment = Segment(name=name, expression=expression.strip(), created_by=created_by)
        session.add(segment)
    else:
        segment.expression = expression.strip()
    await session.flush()
    return segment


async def get_segment(session: AsyncSession, name: str) -> Segment | None:
    """The saved segment called `name`, if any."""
    return await session.scalar(select(Segment).where(Segment.name == name))


async def list_segments(session: AsyncSession) -> list[Segment]:
    """Every saved segment, by name."""
    return list((await session.execute(select(Segment).order_by(Segment.name))).scalars())
