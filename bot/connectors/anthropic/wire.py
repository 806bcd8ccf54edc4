"""The Anthropic Admin API's JSON, as far as capdesk reads it (unknown fields are ignored).

The authority is the official `anthropic` Python SDK (2.10), whose types are generated from
Anthropic's OpenAPI description: `types/organization/` (users, RBAC groups and their members,
spend summaries, increase requests), `types/beta/organization/` (the analytics cost
report) and `pagination.py` (which pages carry `has_more`). The tests in
`tests/connectors/test_anthropic_contract.py` check these models against those types in both
directions. The usage reports (`usage_report/claude_code`, `usage_report/messages`) are not in
that SDK; their shapes follow the API reference (https://platform.claude.com/docs/en/api/admin/
usage_report).

Every field the SDK marks optional has a default here, so an answer that leaves it out, or
sends null, is read the same way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Period = Literal["daily", "weekly", "monthly"]
"""`SpendLimitPeriod`: the window a spend limit resets over."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Page(_Wire):
    """A cursor page: `data` and `next_page`; `has_more`, where the endpoint sends it, may only
    end the list early (`SyncPageCursor`, `SyncReportPageCursor`)."""

    next_page: str | None = None
    has_more: bool | None = None

    @property
    def following(self) -> str | None:
        """The cursor of the next page, or None at the end."""
        return None if self.has_more is False else self.next_page or None


class User(_Wire):
    """`OrganizationUser`."""

    id: str
    email: str
    name: str = ""
    role: str = "user"


class UserPage(_Wire):
    """`SyncPage[OrganizationUser]`: paged by `after_id`; `has_more` is optional."""

    data: list[User]
    has_more: bool | None = None
    last_id: str | None = None

    @property
    def following(self) -> str | None:
        if self.has_more is False or not self.data:
            return None
        return self.last_id or None


class Actor(_Wire):
    """Who a row is about. The SDK's actor unions share this shape: a user (`user_actor`, with
    `user_id`; the email is null once the account is deleted) or a key or service account
    (`scoped_api_key_actor`, `api_actor`, `service_account_actor`, `federated_actor`), which
    is no member of capdesk's."""

    type: str
    user_id: str | None = None
    email_address: str | None = None
    deleted: bool = False

    @property
    def member_id(self) -> str | None:
        """The user id of a member's row; None for keys, service accounts and federated actors."""
        return self.user_id if self.type == "user_actor" else None


class Scope(_Wire):
    """A spend-limit scope or source: `user`, `seat_tier`, `rbac_group`, `organization`,
    `organization_service`, `workspace` or `usage_tier`, with the identifier of its kind."""

    type: str
    user_id: str | None = None
    seat_tier: str | None = None
    rbac_group_id: str | None = None
    workspace_id: str | None = None
    service: str | None = None


class SpendSummary(_Wire):
    """`SpendSummary`: one (member, period) row of `GET .../spend_limits/effective`."""

    actor: Actor
    amount: str | None = None
    """The effective limit in minor units, as a decimal string; None: no limit at this period."""
    currency: str = "USD"
    period: Period
    period_to_date_spend: str = "0"
    source: Scope | None = None
    """Where the limit comes from: `user` for the member's own, else what it is inherited from."""
    spend_limit_id: str | None = None


class SpendSummaryPage(_Page):
    """`SyncPageCursor[SpendSummary]`: `data` and `next_page`, no `has_more`."""

    data: list[SpendSummary]


class IncreaseRequest(_Wire):
    """`SpendLimitIncreaseRequest`; pending ones carry a live `spend_summary` at their period."""

    id: str
    actor: Actor
    created_at: str
    period: Period
    status: Literal["pending", "approved", "denied"]
    spend_summary: SpendSummary | None = None


class IncreaseRequestPage(_Page):
    """`SyncPageCursor[SpendLimitIncreaseRequest]`: `data` and `next_page`, no `has_more`."""

    data: list[IncreaseRequest]


class RbacGroup(_Wire):
    """`RBACGroup` (Claude Enterprise); names are not unique, ids are."""

    id: str
    name: str


class RbacGroupPage(_Page):
    """`SyncPageCursor[RBACGroup]`."""

    data: list[RbacGroup]


class RbacGroupMember(_Wire):
    """`RBACGroupMember`."""

    user_id: str
    email: str


class RbacGroupMemberPage(_Page):
    """`SyncPageCursor[RBACGroupMember]`."""

    data: list[RbacGroupMember]


class CostMetrics(_Wire):
    amount: str
    """Post-discount cost in fractional cents, as a decimal string."""
    currency: str = "USD"
    requests: int | None = None


class CostGroup(_Wire):
    actor: Actor | None = None
    """Set with `group_by[]=actor`; null for usage no identity is attributed to."""


class CostItem(_Wire):
    """`BetaAnalyticsCostItem`: one (time bucket, actor) row of `GET .../analytics/cost`."""

    cost: CostMetrics
    starting_at: str
    ending_at: str
    group: CostGroup = CostGroup()


class CostPage(_Page):
    """`SyncReportPageCursor[BetaAnalyticsCostItem]`: `data`, `next_page`, maybe `has_more`."""

    data: list[CostItem]


class ReportActor(_Wire):
    """The Claude Code report's actor: `user_actor` (email) or `api_actor` (key name)."""

    type: str
    email_address: str | None = None


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
    actor: ReportActor
    core_metrics: CoreMetrics = CoreMetrics()
    model_breakdown: list[ModelUsage] = []


class ClaudeCodePage(_Page):
    data: list[ClaudeCodeRecord]


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


class MessagesPage(_Page):
    data: list[MessagesBucket]
