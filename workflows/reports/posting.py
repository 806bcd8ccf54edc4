"""Posting the quarterly review at the start of each quarter, once.

Each audience's review of a quarter is claimed under a key, as alert firings are (rule
`~review`, the audience, the quarter), in the transaction that queues it: however many
replicas run the job, and however often it restarts, each is posted once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from workflows.alerts.records import NewFiring
from workflows.alerts.running import admin_recipients, owner_recipients
from workflows.messages import ADMIN_CHANNEL, Outgoing, group_channel
from workflows.policy import Policy
from workflows.ports import ReportingUnitOfWork
from workflows.reports.periods import Span, previous_quarter, quarter_of
from workflows.reports.review import group_reviews, review_query
from workflows.reports.review_messages import admins_review, owners_review

REVIEWS = "~review"
"""The firing key's rule id of the quarterly reviews."""
POSTED_FROM = time(9)
"""The local time on a quarter's first day from which its predecessor's review goes out."""
POSTING_DAYS = 7
"""A server down at the start of a quarter still posts the review within its first week."""


def due_quarter(policy: Policy, now: datetime) -> Span | None:
    """The quarter whose review is due at `now`: the one before, from 09:00 on the first day
    of the new one and for a week; None at any other time."""
    local = now.astimezone(policy.org.zone)
    current = quarter_of(local.date())
    start = datetime.combine(current.first_day, POSTED_FROM, tzinfo=policy.org.zone)
    if not start <= local < start + timedelta(days=POSTING_DAYS):
        return None
    return previous_quarter(local.date())


def post_quarterly_reviews(
    uow_factory: Callable[[], ReportingUnitOfWork], policy: Policy, *, now: datetime
) -> list[str]:
    """Queue the review of the quarter just ended for each group's owners and for the admins,
    each once; returns the channels it went to now (`admin`, `group:<name>`)."""
    span = due_quarter(policy, now)
    if span is None:
        return []
    audiences = [ADMIN_CHANNEL] + [group_channel(g.name) for g in policy.groups]
    with uow_factory() as uow:
        claimed = uow.alerts.claim(
            [NewFiring(REVIEWS, audience, span.label, None, {}) for audience in audiences],
            now=now,
            again_after=None,
        )
        posting = {subject for _rule, subject, _period in claimed}
        if not posting:
            return []
        data = uow.reports.review(review_query(policy, span, now, None))
        reviews = group_reviews(policy, data, group=None, now=now)
        sent = []
        for audience in audiences:
            if audience not in posting:
                continue
            if audience == ADMIN_CHANNEL:
                message = admins_review(policy, reviews, data, span=span)
                recipients = admin_recipients(policy)
            else:
                name = audience.removeprefix("group:")
                review = next(r for r in reviews if r.group == name)
                message = owners_review(policy, review, data, span=span)
                recipients = owner_recipients(policy, name)
            for recipient in recipients:
                uow.notifications.add(Outgoing(recipient=recipient, message=message), at=now)
            sent.append(audience)
        uow.commit()
    return sent
