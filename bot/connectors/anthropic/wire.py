"""The Anthropic Admin API's JSON, as far as capdesk reads it (unknown fields are ignored).

Sources: https://platform.claude.com/docs/en/api/admin/users/list,
https://platform.claude.com/docs/en/api/admin-api/claude-code/get-claude-code-usage-report,
https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages,
https://platform.claude.com/docs/en/api/admin/spend_limits/increase_requests/approve.md and
the types of github.com/anthropics/anthropic-sdk-python (spend limits, spend summaries,
increase requests).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Wire):
    id: str
    email: str
    name: str = ""
    role: str = "user"


class UserPage(_Wire):
    data: list[User]
    has_more: bool
    last_id: str | None = None


class Actor(_Wire):
    """A user (`user_actor`, with an email) or an API key (`api_actor`, `scoped_api_key_actor`)."""

    type: str
    email_address: str | None = None
    user_id: str | None = None


class Cost(_Wire):
    amount: float
    """Minor units (cents for USD)."""
    currency: str = "USD"


class ModelUsage(_Wire):
    estimated_cost: Cost
    model: str = ""


class CoreMetrics(_Wire):
    num_sessions: int = 0


class ClaudeCodeRecord(_Wire):
    actor: Actor
    core_metrics: CoreMetrics = CoreMetrics()
    model_breakdown: list[ModelUsage] = []


class ClaudeCodePage(_Wire):
    data: list[ClaudeCodeRecord]
    has_more: bool
    next_page: str | None = None


class CacheCreation(_Wire):
    ephemeral_1h_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0


class MessagesResult(_Wire):
    account_id: str | None = None
    model: str | None = None
    uncached_input_tokens: int = 0
    cache_creation: CacheCreation = CacheCreation()
    cache_read_input_tokens: int = 0
    output_tokens: int = 0


class MessagesBucket(_Wire):
    starting_at: str
    results: list[MessagesResult]


class MessagesPage(_Wire):
    data: list[MessagesBucket]
    has_more: bool
    next_page: str | None = None


class Scope(_Wire):
    type: str
    user_id: str | None = None
    seat_tier: str | None = None


class SpendSummary(_Wire):
    """One row of `GET /v1/organizations/spend_limits/effective`."""

    actor: Actor
    amount: str | None
    """The effective limit in minor units, as a decimal string; None for no limit."""
    period: str
    period_to_date_spend: str = "0"
    source: Scope | None = None


class SpendSummaryPage(_Wire):
    data: list[SpendSummary]
    has_more: bool
    next_page: str | None = None


class IncreaseRequest(_Wire):
    id: str
    actor: Actor
    created_at: str
    period: str
    status: Literal["pending", "approved", "denied"] | str
    spend_summary: SpendSummary | None = None


class IncreaseRequestPage(_Wire):
    data: list[IncreaseRequest]
    has_more: bool
    next_page: str | None = None
