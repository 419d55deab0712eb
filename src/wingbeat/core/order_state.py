"""The order state machine: every state an order can be in and the only transitions allowed between them.

State changes go through :func:`can_transition`; the tracker refuses (and logs) anything else, so a late
or duplicated exchange message can never move an order backwards or out of a final state.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["FINAL_STATES", "OrderState", "allowed_transitions", "can_transition"]


class OrderState(Enum):
    """Life cycle of an order as the client knows it.

    PENDING_CREATE: tracked (and journaled), request not answered yet. PENDING_SUBMIT_UNKNOWN: the request
    may have reached the exchange but the answer was lost; reconciliation decides. OPEN / PARTIALLY_FILLED:
    resting on the book. PENDING_CANCEL: a cancel was sent. CANCELED, FILLED, FAILED and EXPIRED (an IOC
    remainder) are final.
    """

    PENDING_CREATE = "PENDING_CREATE"
    PENDING_SUBMIT_UNKNOWN = "PENDING_SUBMIT_UNKNOWN"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    FILLED = "FILLED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"

    # Set once below for every member: plain attribute reads, because hashing an Enum member runs Python
    # code and these checks sit on the per-update hot path.
    _final: bool
    _submitted: bool
    _allowed: frozenset[str]

    @property
    def is_final(self) -> bool:
        """True when nothing can change this state any more (CANCELED, FILLED, FAILED, EXPIRED)."""
        return self._final

    @property
    def is_submitted(self) -> bool:
        """True once the exchange has confirmed it knows the order (any state but the two pending-submit ones
        and FAILED)."""
        return self._submitted


FINAL_STATES: frozenset[OrderState] = frozenset(
    {OrderState.CANCELED, OrderState.FILLED, OrderState.FAILED, OrderState.EXPIRED}
)
_NOT_CONFIRMED = frozenset({OrderState.PENDING_CREATE, OrderState.PENDING_SUBMIT_UNKNOWN, OrderState.FAILED})

_S = OrderState
_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.PENDING_CREATE: frozenset(
        {_S.PENDING_SUBMIT_UNKNOWN, _S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.FAILED, _S.CANCELED,
         _S.EXPIRED, _S.PENDING_CANCEL}
    ),
    _S.PENDING_SUBMIT_UNKNOWN: frozenset(
        {_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.FAILED, _S.CANCELED, _S.EXPIRED, _S.PENDING_CANCEL}
    ),
    # FAILED from a confirmed state: the order was lost (the venue no longer knows it).
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.PENDING_CANCEL, _S.CANCELED, _S.EXPIRED, _S.FAILED}),
    _S.PARTIALLY_FILLED: frozenset({_S.FILLED, _S.PENDING_CANCEL, _S.CANCELED, _S.EXPIRED, _S.FAILED}),
    # OPEN from PENDING_CANCEL: the venue refused the cancel and the order still rests.
    _S.PENDING_CANCEL: frozenset(
        {_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.EXPIRED, _S.FAILED}
    ),
    _S.CANCELED: frozenset(),
    _S.FILLED: frozenset(),
    _S.FAILED: frozenset(),
    _S.EXPIRED: frozenset(),
}


for _state in OrderState:
    _state._final = _state in FINAL_STATES
    _state._submitted = _state not in _NOT_CONFIRMED
    _state._allowed = frozenset(s.value for s in _TRANSITIONS[_state])


def can_transition(current: OrderState, new: OrderState) -> bool:
    """Whether an order in ``current`` may move to ``new`` (staying in the same state is not a transition)."""
    return new._value_ in current._allowed


def allowed_transitions(current: OrderState) -> frozenset[OrderState]:
    """Every state reachable in one step from ``current``."""
    return _TRANSITIONS[current]
