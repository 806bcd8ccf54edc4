"""The request state machine (SPEC 5): every pair of states, allowed or refused."""

from __future__ import annotations

import itertools

import pytest

from workflows.model import TRANSITIONS, IllegalTransition, RequestStatus, check_transition

S = RequestStatus

ALLOWED = {
    (S.PENDING, S.APPROVED),
    (S.PENDING, S.DENIED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.EXPIRED),
    (S.APPROVED, S.APPLYING),
    (S.APPLYING, S.APPLIED),
    (S.APPLYING, S.FAILED),
    (S.FAILED, S.APPLYING),  # an admin's Retry
    (S.APPLIED, S.REVERTED),
}
"""SPEC 5, written out independently of the table in the code."""

PAIRS = list(itertools.product(RequestStatus, RequestStatus))


@pytest.mark.parametrize(("current", "new"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_states(current: RequestStatus, new: RequestStatus) -> None:
    if (current, new) in ALLOWED:
        check_transition(current, new)
    else:
        with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
            check_transition(current, new)


def test_the_table_names_every_state() -> None:
    assert set(TRANSITIONS) == set(RequestStatus)


@pytest.mark.parametrize("final", [S.REVERTED, S.DENIED, S.CANCELLED, S.EXPIRED])
def test_final_states_lead_nowhere(final: RequestStatus) -> None:
    assert TRANSITIONS[final] == frozenset()
