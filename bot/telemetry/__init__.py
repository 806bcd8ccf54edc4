"""The OTLP/HTTP receiver of `capdesk serve`: Claude Code's metrics and events, counted live."""

from bot.telemetry.receiver import TelemetryReceiver

__all__ = ["TelemetryReceiver"]
