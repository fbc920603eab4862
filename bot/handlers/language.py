"""/language: the admin picks the language the control bot speaks with them (English, Russian)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards
from bot.callbacks import LanguageCallback
from bot.commands import command_menu
from bot.edits import edit_text
from panel import i18n, texts
from panel.admins import set_language
from panel.audit import Actor


async def ask_language(message: Message) -> None:
    """`/language`: the languages as buttons, saying which one is spoken now."""
    await message.answer(texts.LANGUAGE_ASK, reply_markup=keyboards.language_picker())


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A language tapped: store it, answer in it, and show this admin the command menu in it."""
    language = callback_data.language.value
    async with sessionmaker() as session, session.begin():
        await set_language(session, query.from_user.id, language, actor=Actor.chat(query.from_user.id))
    with i18n.speaking(language):
        await query.answer()
        if isinstance(query.message, Message):
            await edit_text(query.message, texts.LANGUAGE_SET)
        menu = command_menu()
    await bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id=query.from_user.id))


def create_router() -> Router:
    """The /language handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="language")
    router.message.register(ask_language, Command("language"))
    router.callback_query.register(choose_language, LanguageCallback.filter())
    return router
