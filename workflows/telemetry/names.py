"""The telemetry Claude Code exports, by the names its monitoring documentation gives them.

From the Claude Code documentation, "Monitoring" (`monitoring-usage`), sections "Metrics",
"Metric details", "Events", "Standard attributes" and "Common configuration variables":

- metrics (counters; the meter is `com.anthropic.claude_code`): `claude_code.session.count`,
  `claude_code.lines_of_code.count` (attribute `type`: `added`, `removed`),
  `claude_code.pull_request.count`, `claude_code.commit.count`, `claude_code.cost.usage`
  (unit `USD`, attribute `model`), `claude_code.token.usage` (unit `tokens`, attribute `type`:
  `input`, `output`, `cacheRead`, `cacheCreation`), `claude_code.code_edit_tool.decision`
  and `claude_code.active_time.total` (unit `s`, attribute `type`: `user`, `cli`);
- events (log records): `claude_code.user_prompt` when a person submits a prompt,
  `claude_code.tool_result` when a tool completes, `claude_code.api_request`, and more; the
  record's body is the full name and its `event.name` attribute the name without the
  `claude_code.` prefix. Every event carries `event.sequence`, "a monotonically increasing
  counter for ordering events within a session";
- standard attributes on both: `user.email` (when signed in through OAuth),
  `organization.id`, `session.id`, `user.id`, `user.account_uuid`, `terminal.type`, and the
  keys of `OTEL_RESOURCE_ATTRIBUTES`; on Bedrock, Vertex and Foundry there is no account, and
  the documentation suggests adding the person's identity through `OTEL_RESOURCE_ATTRIBUTES`
  (`enduser.id=jdoe@example.com`);
- defaults: metrics are exported every 60 s (`OTEL_METRIC_EXPORT_INTERVAL=60000`), events
  every 5 s (`OTEL_LOGS_EXPORT_INTERVAL=5000`), and metrics in delta temporality
  (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, default `delta`); `cumulative` is
  allowed. The dollars are estimates ("Cost metrics are approximations").
- what is never sent unless an organisation opts in: prompt text (`OTEL_LOG_USER_PROMPTS`),
  tool parameters and input (`OTEL_LOG_TOOL_DETAILS`), raw API bodies. capdesk keeps none of
  them whatever is sent: only the counts below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PREFIX = "claude_code."

COST = "claude_code.cost.usage"
TOKENS = "claude_code.token.usage"
SESSIONS = "claude_code.session.count"
LINES = "claude_code.lines_of_code.count"
COMMITS = "claude_code.commit.count"
PULL_REQUESTS = "claude_code.pull_request.count"
ACTIVE_TIME = "claude_code.active_time.total"

USER_PROMPT = "claude_code.user_prompt"
TOOL_RESULT = "claude_code.tool_result"

SESSION_ID = "session.id"
EVENT_NAME = "event.name"
EVENT_SEQUENCE = "event.sequence"
TYPE = "type"

FIELDS = (
    "cost_micros",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_creation",
    "sessions",
    "lines_added",
    "lines_removed",
    "commits",
    "pull_requests",
    "active_ms",
    "prompts",
    "tool_runs",
)
"""What is kept per person per hour, every one a whole number."""

# (metric, its `type` attribute or "" for any) -> (field, factor to whole units)
METRIC_FIELDS: Mapping[tuple[str, str], tuple[str, int]] = MappingProxyType(
    {
        (COST, ""): ("cost_micros", 1_000_000),
        (TOKENS, "input"): ("tokens_input", 1),
        (TOKENS, "output"): ("tokens_output", 1),
        (TOKENS, "cacheRead"): ("tokens_cache_read", 1),
        (TOKENS, "cacheCreation"): ("tokens_cache_creation", 1),
        (SESSIONS, ""): ("sessions", 1),
        (LINES, "added"): ("lines_added", 1),
        (LINES, "removed"): ("lines_removed", 1),
        (COMMITS, ""): ("commits", 1),
        (PULL_REQUESTS, ""): ("pull_requests", 1),
        (ACTIVE_TIME, ""): ("active_ms", 1000),
    }
)
TYPED_METRICS = frozenset({TOKENS, LINES})
"""Metrics whose `type` attribute picks the field; for the others it is ignored."""

EVENT_FIELDS: Mapping[str, str] = MappingProxyType(
    {USER_PROMPT: "prompts", TOOL_RESULT: "tool_runs"}
)


def metric_field(name: str, kind: str) -> tuple[str, int] | None:
    """The field a data point of metric `name` with `type` attribute `kind` adds to, if any."""
    return METRIC_FIELDS.get((name, kind if name in TYPED_METRICS else ""))


def event_field(*names: str) -> str | None:
    """The field an event adds to, from any of the names a record gives (its event name, its
    body, its `event.name` attribute), with or without the `claude_code.` prefix."""
    for name in names:
        full = name if name.startswith(PREFIX) else PREFIX + name
        if full in EVENT_FIELDS:
            return EVENT_FIELDS[full]
    return None
