"""From a batch of in-flight orders to ONE signed Hyperliquid action, and from its answer back to order updates.

The core base hands the connector every order queued in one event-loop tick; here they become one
``order`` action (one nonce, one signature, one request, one rate-limit charge of ``1 + n // 40``) and
each status of the reply is mapped back to its order. Cancels go the same way as one ``cancelByCloid``,
modifies as one ``batchModify`` (its reply has the ``order`` shape: one status per modify, the replacement's).

Outcome rules: a reply is definite (each order gets OPEN / FILLED / EXPIRED / FAILED from its status);
a top-level ``{"status":"err"}`` is a definite rejection of the whole batch (``ExchangeRejection``);
anything else (timeout, dropped connection, 5xx, unreadable reply) propagates so the base marks the
batch PENDING_SUBMIT_UNKNOWN and reconciliation asks ``orderStatus`` by cloid. An action is never resent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import ExchangeRejection, InvalidOrderError, TransportError
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.hyperliquid.constants import action_weight
from wingbeat.hyperliquid.rest import HyperliquidRestClient, classify_exchange_error
from wingbeat.hyperliquid.schemas import MalformedMessageError
from wingbeat.hyperliquid.schemas_exchange import (
    ErrorStatus,
    ExchangeReply,
    FilledStatus,
    PendingStatus,
    RestingStatus,
    parse_exchange_reply,
)
from wingbeat.hyperliquid.signing import SupportsSignDigest, sign_l1_action
from wingbeat.hyperliquid.wire import (
    Cloid,
    Grouping,
    LimitType,
    ModifySpec,
    OrderSpec,
    PriorityFee,
    Tif,
    TriggerType,
    check_priority_orders,
    limit_order_wire,
    order_wire,
)
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = [
    "ActionSender",
    "cancel_results",
    "modify_results",
    "modify_spec",
    "order_grouping",
    "order_spec",
    "order_to_wire",
    "order_updates",
]

_logger = logging.getLogger("wingbeat.hyperliquid.order_placement")

_TIF_BY_ORDER_TYPE: Mapping[OrderType, Tif] = {
    OrderType.LIMIT: "Gtc",
    OrderType.LIMIT_MAKER: "Alo",
    OrderType.MARKET: "Ioc",  # Hyperliquid has no market orders: an aggressive IOC limit stands in
}
_TIF_BY_TIME_IN_FORCE: Mapping[TimeInForce, Tif] = {
    TimeInForce.GTC: "Gtc",
    TimeInForce.IOC: "Ioc",
    TimeInForce.ALO: "Alo",
}

# immutable, so one of each is shared by every spec (enum members as constants: this runs once per order sent)
_LIMIT_TYPES: Mapping[Tif, LimitType] = {tif: LimitType(tif) for tif in ("Gtc", "Ioc", "Alo")}
_LIMIT, _GTC, _BUY, _CLOSE = OrderType.LIMIT, TimeInForce.GTC, TradeType.BUY, PositionAction.CLOSE
_OPEN = OrderState.OPEN


def _tif(order: InFlightOrder) -> Tif:
    kind = order.order_type
    if kind is _LIMIT:
        return "Gtc" if order.time_in_force is _GTC else _TIF_BY_TIME_IN_FORCE[order.time_in_force]
    return _TIF_BY_ORDER_TYPE[kind]


def order_spec(order: InFlightOrder, asset: int, trigger: TriggerType | None = None) -> OrderSpec:
    """The wire spec of one tracked order: tif from the order type, reduce-only for CLOSE, its cloid."""
    tif = _tif(order)
    return OrderSpec(
        asset=asset,
        is_buy=order.trade_type is _BUY,
        price=order.price,
        size=order.amount,
        reduce_only=order.reduce_only or order.position_action is _CLOSE,
        order_type=trigger if trigger is not None else _LIMIT_TYPES[tif],
        cloid=Cloid.from_str(order.client_order_id),
    )


def order_to_wire(order: InFlightOrder, asset: int, trigger: TriggerType | None = None) -> dict[str, Any]:
    """``order_wire(order_spec(order, asset, trigger))``, the wire dict of one tracked order: a limit order's
    is built without the spec and cloid objects (:func:`~wingbeat.hyperliquid.wire.limit_order_wire`)."""
    if trigger is not None:
        return order_wire(order_spec(order, asset, trigger))
    return limit_order_wire(asset, order.trade_type is _BUY, order.price, order.amount,
                            order.reduce_only or order.position_action is _CLOSE, _tif(order), order.client_order_id)


def order_grouping(wires: Sequence[Mapping[str, Any]], priority_fee: int | None) -> Grouping:
    """The ``grouping`` of a batch of wire orders: the priority fee ``{"p": priority_fee}`` when one is set and
    the venue accepts it on this batch (every order Ioc, or every order Alo and none reduce-only), else ``"na"``.
    A batch that does not qualify goes out without the fee rather than split into two actions."""
    if priority_fee is None:
        return "na"
    try:
        check_priority_orders(wires)
    except InvalidOrderError:
        return "na"
    return PriorityFee(priority_fee)


def modify_spec(order: InFlightOrder, asset: int) -> ModifySpec:
    """The ``batchModify`` entry of an order with a modification queued: addressed by the venue's oid (by
    cloid while none is known), the replacement at the new price resting the remainder, with the same cloid
    (so the client order id stays the order's through the new oid)."""
    mod = order.modification
    if mod is None:
        raise ValueError(f"order {order.client_order_id} has no modification")
    spec = order_spec(order, asset)
    cloid = spec.cloid
    assert cloid is not None
    oid = order.exchange_order_id
    return ModifySpec(
        oid=int(oid) if oid is not None and oid.isdigit() else cloid,
        order=OrderSpec(asset=asset, is_buy=spec.is_buy, price=mod.price, size=mod.remainder,
                        reduce_only=spec.reduce_only, order_type=spec.order_type, cloid=cloid),
    )


def modify_results(orders: Sequence[InFlightOrder], reply: ExchangeReply, now: float) -> list[OrderUpdate | str]:
    """Per modify, in order: the replacement's update (resting -> OPEN, filled -> FILLED, with the new oid)
    or the venue's refusal text (e.g. "Cannot modify canceled or filled order."). A single error for a batch
    of several is the venue's refusal of all of them; a status missing from a short reply is an unknown
    outcome, left to reconciliation (reported as "no status")."""
    statuses = reply.statuses
    if len(statuses) == 1 and len(orders) > 1 and isinstance(statuses[0], ErrorStatus):
        return [statuses[0].message] * len(orders)
    if len(statuses) != len(orders):
        _logger.error("batchModify reply has %d statuses for %d modifies", len(statuses), len(orders))
    results: list[OrderUpdate | str] = []
    for order, status in zip(orders, statuses, strict=False):
        if isinstance(status, RestingStatus):
            results.append(_update(order, now, OrderState.OPEN, status.oid))
        elif isinstance(status, FilledStatus):  # the replacement crossed: the venue's size is the remainder
            results.append(_update(order, now, OrderState.FILLED, status.oid, filled=status.total_sz))
        elif isinstance(status, ErrorStatus):
            results.append(status.message)
        else:
            results.append(_update(order, now, OrderState.OPEN))
    return results


def _update(order: InFlightOrder, now: float, state: OrderState, oid: int | None = None,
            reason: str | None = None, filled: Decimal | None = None) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order.client_order_id,
        trading_pair=order.trading_pair,
        update_timestamp=now,
        new_state=state,
        exchange_order_id=None if oid is None else str(oid),
        reason=reason,
        filled_amount=filled,
    )


def order_updates(orders: Sequence[InFlightOrder], reply: ExchangeReply, now: float) -> list[OrderUpdate | None]:
    """One update per order, in order, from the statuses of an ``order`` reply; None for a resting order
    already OPEN under the oid the reply names (the ``orderUpdates`` push came first: nothing to apply).

    resting -> OPEN; filled with the whole size -> FILLED; filled with less (an IOC) -> EXPIRED (the
    remainder was cancelled); error -> FAILED with the exchange's text; waitingForTrigger/Fill -> OPEN.
    A ``filled`` status carries ``totalSz`` as the update's ``filled_amount``: the order's fills come later
    over the user stream and are fetched if they do not.
    A single error for a batch of several is Hyperliquid's pre-validation refusal of all of them.
    Statuses missing from a short reply leave their orders unknown (reconciliation decides).
    """
    statuses = reply.statuses
    if len(statuses) == 1 and len(orders) > 1 and isinstance(statuses[0], ErrorStatus):
        reason = statuses[0].message
        return [_update(o, now, OrderState.FAILED, reason=reason) for o in orders]
    if len(statuses) != len(orders):
        _logger.error(
            "order reply has %d statuses for %d orders; the rest is reconciled", len(statuses), len(orders)
        )
    updates: list[OrderUpdate | None] = []
    for i, order in enumerate(orders):
        if i >= len(statuses):
            updates.append(_update(order, now, OrderState.PENDING_SUBMIT_UNKNOWN))
            continue
        status = statuses[i]
        if isinstance(status, RestingStatus):
            if order.current_state is _OPEN and order.exchange_order_id == str(status.oid):
                updates.append(None)
            else:
                updates.append(_update(order, now, OrderState.OPEN, status.oid))
        elif isinstance(status, FilledStatus):
            if status.total_sz >= order.amount:
                updates.append(_update(order, now, OrderState.FILLED, status.oid, filled=status.total_sz))
            else:
                updates.append(
                    _update(
                        order,
                        now,
                        OrderState.EXPIRED,
                        status.oid,
                        f"immediate-or-cancel remainder of {order.amount - status.total_sz} "
                        "cancelled by the exchange",
                        status.total_sz,
                    )
                )
        elif isinstance(status, ErrorStatus):
            updates.append(_update(order, now, OrderState.FAILED, reason=status.message))
        elif isinstance(status, PendingStatus):
            updates.append(_update(order, now, OrderState.OPEN))
    return updates


def cancel_results(count: int, reply: ExchangeReply) -> list[bool | str]:
    """One result per cancel: True when accepted, else the exchange's refusal text."""
    statuses = reply.statuses
    if len(statuses) == 1 and count > 1 and isinstance(statuses[0], ErrorStatus):
        return [statuses[0].message] * count
    results: list[bool | str] = []
    for i in range(count):
        status = statuses[i] if i < len(statuses) else None
        if isinstance(status, PendingStatus) and status.is_success:
            results.append(True)
        elif isinstance(status, ErrorStatus):
            results.append(status.message)
        else:
            results.append(f"unexpected cancel status {status!r}")
    return results


class ActionSender:
    """Signs L1 actions and sends them: over the websocket ``post`` when one is given and up, else REST.

    One call = one rate-limit charge of ``1 + batch // 40``, then one nonce (from ``nonces``), one signature
    and one request: the budget is spent before signing, so a wait for it never ages the nonce or the
    deadline. ``valid_for`` sets ``expiresAfter``: the exchange refuses the action if it arrives later, so
    an action that got no answer is known to be absent once that moment has passed. A ``{"status":"err"}``
    reply raises :class:`ExchangeRejection` (definite); transport faults propagate as the core's
    ``TransportError`` / ``RequestTimeout`` (unknown outcome). Nothing is ever retried here.
    """

    __slots__ = (
        "_clock",
        "_is_mainnet",
        "_nonces",
        "_rest",
        "_signer",
        "_vault_address",
        "_ws",
        "requests_sent",
        "sent_over_ws",
    )

    def __init__(
        self,
        signer: SupportsSignDigest,
        rest: HyperliquidRestClient,
        *,
        nonces: Callable[[], int],
        is_mainnet: bool,
        vault_address: str | None = None,
        ws: HyperliquidWebSocket | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = signer
        self._rest = rest
        self._nonces = nonces
        self._is_mainnet = is_mainnet
        self._vault_address = vault_address.lower() if vault_address else None
        self._ws = ws
        self._clock = clock
        self.requests_sent = 0
        """Actions sent so far (each a single request), for metrics and batching tests."""
        self.sent_over_ws = 0
        """How many of them went over the websocket ``post`` method."""

    def envelope(
        self, action: Mapping[str, Any], nonce: int, expires_after: int | None = None
    ) -> dict[str, Any]:
        """The signed ``/exchange`` body of ``action`` (always with ``vaultAddress`` and ``expiresAfter``)."""
        signature = sign_l1_action(
            self._signer, action, self._vault_address, nonce, expires_after, self._is_mainnet
        )
        return {
            "action": action,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": self._vault_address,
            "expiresAfter": expires_after,
        }

    async def send(
        self, action: Mapping[str, Any], *, batch_length: int = 1, valid_for: float | None = None
    ) -> ExchangeReply:
        """Sign and send ``action``; return the decoded reply (``ok`` True) or raise."""
        # the IP budget is shared by REST and websocket posts: spend it first (within the request's deadline:
        # RateLimitedError, nothing sent, when it cannot be had in time), then sign
        timeout = self._rest.timeout
        started = time.monotonic()
        await self._rest.limiter.acquire(action_weight(batch_length), timeout=timeout)
        left = max(timeout - (time.monotonic() - started), 0.001)
        payload = self._signed(action, valid_for)
        self.requests_sent += 1
        ws = self._ws
        # only a socket that is down BEFORE sending may fall back to REST: once the frame has left, a
        # failure is an unknown outcome and resending could place the orders twice
        if ws is not None and ws.connected:
            self.sent_over_ws += 1
            raw = await ws.post_action(payload, timeout=left)
        else:
            raw = await self._rest.exchange(payload, weight=0)  # already charged above
        return _decoded_reply(raw, action.get("type"))

    def send_now(
        self, action: Mapping[str, Any], *, batch_length: int = 1, valid_for: float | None = None
    ) -> Awaitable[ExchangeReply] | None:
        """:meth:`send` for a caller that must not yield: over the websocket, written before this returns.

        Returns what awaits the decoded reply (with :meth:`send`'s exceptions), or None when the action
        cannot go at once (no websocket up, or busy; the rate budget not there now): nothing was sent then.
        """
        ws = self._ws
        # the budget last: it is not given back when the frame cannot be written after all
        if ws is None or not ws.can_post_now or not self._rest.limiter.try_acquire(action_weight(batch_length)):
            return None
        pending = ws.post_action_now(self._signed(action, valid_for), timeout=self._rest.timeout)
        if pending is None:  # the budget spent stays spent: the venue would have charged a request the same
            return None
        self.requests_sent += 1
        self.sent_over_ws += 1
        return self._decode_later(pending, action.get("type"))

    def _signed(self, action: Mapping[str, Any], valid_for: float | None) -> dict[str, Any]:
        # signed last, once the budget is spent: a wait for it never ages the nonce or the deadline
        expires_after = None if valid_for is None else int((self._clock() + valid_for) * 1000)
        return self.envelope(action, self._nonces(), expires_after)

    @staticmethod
    async def _decode_later(pending: Awaitable[Any], action_type: object) -> ExchangeReply:
        # the type only: the action itself (a dict per order) is garbage once its frame is written
        return _decoded_reply(await pending, action_type)


def _decoded_reply(raw: Any, action_type: object) -> ExchangeReply:
    try:
        reply = parse_exchange_reply(raw)
    except MalformedMessageError as exc:
        # the exchange may have applied it: unknown outcome, reconciliation decides
        raise TransportError(f"unreadable {action_type} reply: {exc}") from None
    if not reply.ok:
        text = reply.error or "refused"
        raise ExchangeRejection(text, code=classify_exchange_error(text))
    return reply
