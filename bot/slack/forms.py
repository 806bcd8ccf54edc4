"""Opening the request and deny forms (modals) from a command, a button or a shortcut."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.slack.surface import Surface
from bot.slack.views import RequestPrefill, deny_modal, raise_cap_modal, request_modal
from workflows.alerts.forms import raise_cap_form
from workflows.model import Member, Request, RequestKind
from workflows.requests.announce import name_of
from workflows.requests.deciding import decidable
from workflows.requests.grammar import RequestDraft
from workflows.requests.texts import what


def _member(surface: Surface, email: str) -> Member | None:
    with surface.app.uow() as uow:
        return uow.members.get(email)


async def open_request_form(
    surface: Surface,
    *,
    trigger_id: str,
    email: str,
    kind: RequestKind,
    draft: RequestDraft | None = None,
) -> None:
    """The request modal, prefilled with what the person already said."""
    member = await surface.run(_member, surface, email)
    policy = surface.app.policy
    prefill = None
    if draft is not None:
        cap = member.cap_cents if member else 0
        prefill = RequestPrefill.from_draft(draft, cap_cents=cap, zone=policy.org.zone)
    view = request_modal(
        kind=kind, policy=policy, member_tier=member.tier if member else None, prefill=prefill
    )
    await _open(surface, trigger_id, view)


def extension_of(request: Request) -> RequestDraft:
    """A new request for what an ending grant gave."""
    return RequestDraft(
        request.kind,
        f"Extending {request.ref}",
        add_cents=request.amount_cents,
        tier=request.target_tier,
    )


def _summary(surface: Surface, actor: str, request_id: int) -> str:
    app = surface.app
    request = decidable(app.uow(), app.policy, request_id=request_id, actor=actor)
    with app.uow() as uow:
        name = name_of(uow, request.requester)
    return f"{request.ref}: {name} asks for {what(request)} · {request.reason}"


async def open_deny_form(surface: Surface, *, trigger_id: str, actor: str, request_id: int) -> None:
    """The deny modal asking for a reason; Refusal, as Approve gives it, when `actor` may not
    decide on the request (or it is decided already, or gone)."""
    summary = await surface.run(_summary, surface, actor, request_id)
    await _open(surface, trigger_id, deny_modal(request_id=request_id, summary=summary))


async def open_raise_cap_form(
    surface: Surface, *, trigger_id: str, actor: str, member: str
) -> None:
    """The "Raise cap" modal for a member named in an alert; Refusal when not entitled."""
    app = surface.app
    form = await surface.run(
        raise_cap_form, app.uow(), app.policy, actor=actor, email=member, now=app.clock.now()
    )
    await _open(surface, trigger_id, raise_cap_modal(form))


async def _open(surface: Surface, trigger_id: str, view: dict[str, object]) -> None:
    try:
        await surface.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        surface.metrics.slack_api_error("views.open", str(exc.response.get("error")))
        raise
