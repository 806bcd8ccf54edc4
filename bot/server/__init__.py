"""`capdesk serve`: one aiohttp server for Slack, health, readiness and metrics."""
