"""Qatysu's bot. aiogram's types are built on first use (bot/channels/telegram/lazy_types.py): installed here,
before anything imports aiogram."""

from bot.channels.telegram import lazy_types as _lazy_types

_lazy_types.install()
