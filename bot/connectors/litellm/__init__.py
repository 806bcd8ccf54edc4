"""The `litellm` admin connector: a LiteLLM proxy's users, budgets and spend logs."""

from bot.connectors.litellm.connector import LiteLLMConnector, build

__all__ = ["LiteLLMConnector", "build"]
