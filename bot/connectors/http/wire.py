"""The generic admin contract's JSON (`manifests/admin-api.openapi.yaml`)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Member(_Wire):
    email: str
    name: str
    tier: str
    monthly_cap_cents: int | None = Field(ge=0)
    active: bool
    id: str = ""


class MemberPage(_Wire):
    members: list[Member]
    next_cursor: str | None


class Usage(_Wire):
    email: str
    day: date | None = None
    hour: datetime | None = None
    spend_cents: int = Field(ge=0)
    commands: int = Field(ge=0)


class UsagePage(_Wire):
    usage: list[Usage]
    next_cursor: str | None
