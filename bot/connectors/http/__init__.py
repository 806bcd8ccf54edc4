"""The `http` admin connector: any backend that implements capdesk's admin contract."""

from bot.connectors.http.connector import HttpContractConnector, build

__all__ = ["HttpContractConnector", "build"]
