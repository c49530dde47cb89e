"""Telegram channel: python-telegram-bot's `Bot`, kept out of the web request path."""
