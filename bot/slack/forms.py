"""Opening the request and deny forms (modals) from a command, a button or a shortcut."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.slack.surface import Surface
from bot.slack.views import RequestPrefill, deny_modal, raise_cap_modal, request_modal
from workflows.alerts.forms import raise_cap_form
from workflows.model import Member, Request, RequestKind
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


def _summary(surface: Surface, request_id: int) -> str | None:
    with surface.app.uow() as uow:
        request = uow.requests.get(request_id)
        if request is None:
            return None
        requester = uow.members.get(request.requester)
    name = requester.name if requester else request.requester
    return f"{request.ref}: {name} asks for {what(request)} · {request.reason}"


async def open_deny_form(surface: Surface, *, trigger_id: str, request_id: int) -> bool:
    """The deny modal asking for a reason; False when the request does not exist."""
    summary = await surface.run(_summary, surface, request_id)
    if summary is None:
        return False
    await _open(surface, trigger_id, deny_modal(request_id=request_id, summary=summary))
    return True


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
