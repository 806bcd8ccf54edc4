"""The LiteLLM proxy's JSON, as far as capdesk reads it (unknown fields are ignored).

Sources: https://docs.litellm.ai/docs/proxy/users (users, budgets, `budget_duration`),
the proxy's own code at github.com/BerriAI/litellm:
litellm/proxy/management_endpoints/internal_user_endpoints.py (`/user/list` answers
`{users, total, page, page_size, total_pages}`, `/user/info`, `/user/update`) and
litellm/proxy/spend_tracking/spend_management_endpoints.py (`/spend/logs` with
`start_date`, `end_date`, `summarize=false` lists one row per request: `user`, `spend` in
USD, `startTime`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Wire):
    user_id: str
    user_email: str | None = None
    user_alias: str | None = None
    max_budget: float | None = None
    """USD; None for no budget."""
    budget_duration: str | None = None
    spend: float = 0.0


class UserPage(_Wire):
    users: list[User]
    page: int = 1
    total_pages: int = 1


class UserInfo(_Wire):
    user_id: str | None = None
    user_info: User | None = None


class SpendLog(_Wire):
    request_id: str = ""
    user: str | None = None
    spend: float = 0.0
    startTime: str
