"""The order state machine: every legal transition is allowed, every other one refused."""

from __future__ import annotations

import itertools

import pytest

from wingbeat.core.order_state import FINAL_STATES, OrderState, allowed_transitions, can_transition

S = OrderState
# Written out from the contract (docs/ARCHITECTURE.md), independently of the module's own table.
LEGAL: dict[OrderState, set[OrderState]] = {
    S.PENDING_CREATE: {S.PENDING_SUBMIT_UNKNOWN, S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.FAILED, S.CANCELED,
                       S.EXPIRED, S.PENDING_CANCEL},
    S.PENDING_SUBMIT_UNKNOWN: {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.FAILED, S.CANCELED, S.EXPIRED,
                               S.PENDING_CANCEL},
    S.OPEN: {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED, S.FAILED},
    S.PARTIALLY_FILLED: {S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED, S.FAILED},
    S.PENDING_CANCEL: {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.FAILED},
    S.CANCELED: set(),
    S.FILLED: set(),
    S.FAILED: set(),
    S.EXPIRED: set(),
}
ALL_PAIRS = list(itertools.product(OrderState, OrderState))


@pytest.mark.parametrize(("current", "new"), [(a, b) for a, b in ALL_PAIRS if b in LEGAL[a]])
def test_legal_transition_is_allowed(current: OrderState, new: OrderState) -> None:
    assert can_transition(current, new)


@pytest.mark.parametrize(("current", "new"), [(a, b) for a, b in ALL_PAIRS if b not in LEGAL[a]])
def test_illegal_transition_is_refused(current: OrderState, new: OrderState) -> None:
    assert not can_transition(current, new)


def test_final_states_are_exactly_the_four_terminal_ones_and_lead_nowhere() -> None:
    assert {s for s in OrderState if s.is_final} == {S.CANCELED, S.FILLED, S.FAILED, S.EXPIRED} == FINAL_STATES
    for state in FINAL_STATES:
        assert allowed_transitions(state) == frozenset()


def test_staying_in_the_same_state_is_not_a_transition() -> None:
    assert not any(can_transition(s, s) for s in OrderState)


def test_is_submitted_only_once_the_exchange_confirmed() -> None:
    assert not S.PENDING_CREATE.is_submitted
    assert not S.PENDING_SUBMIT_UNKNOWN.is_submitted
    assert not S.FAILED.is_submitted
    assert S.OPEN.is_submitted and S.CANCELED.is_submitted and S.FILLED.is_submitted
