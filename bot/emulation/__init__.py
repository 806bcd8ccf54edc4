"""Plumbing the chat-platform emulators share (`bot.slack.emulator`, `bot.teams.emulator`):
injected failures, the HTTP client towards the bot, the `async with` lifecycle."""
