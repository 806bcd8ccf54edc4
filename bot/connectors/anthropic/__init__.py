"""The `anthropic` admin connector: the Anthropic Admin API (members, usage, spend limits)."""

from bot.connectors.anthropic.connector import AnthropicConnector, build

__all__ = ["AnthropicConnector", "build"]
