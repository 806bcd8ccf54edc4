"""The local playground (SPEC section 9): a Slack-like workspace in the browser.

With no chat credentials `capdesk serve` starts it (see `open_playground`): pick a person of
the sandbox org, type `/capdesk ...`, read DMs and channels, click buttons, fill modals. Under
it the real Slack adapter runs against `bot.slack.emulator`.
"""

from bot.slack.playground.launch import Playground, open_playground

__all__ = ["Playground", "open_playground"]
