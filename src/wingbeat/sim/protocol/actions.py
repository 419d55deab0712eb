"""``/exchange`` requests of the local exchange: parse, re-serialise, verify, dispatch.

A request goes through the same steps as on Hyperliquid:

1. the body is decoded into typed fields (a body that does not fit is answered HTTP 422 with
   axum's text, a body that is not JSON HTTP 400);
2. the action is rebuilt from those fields in the exchange's canonical field order, and the
   signer recovered from *that* (so a client that signed its keys in another order recovers some
   other address, exactly as in production);
3. the signer is mapped to an account (the account itself or an approved agent), an optional
   ``vaultAddress`` to the vault it trades for;
4. ``expiresAfter``, the signer's nonce window and the address rate limit are checked;
5. the engine applies the action and the answer is wrapped in Hyperliquid's envelope.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple, cast

import orjson

from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid import wire
from wingbeat.hyperliquid.signing import SignatureError, recover_signer
from wingbeat.sim.protocol.perp_deploy_actions import (
    PERP_DEPLOY_ACTIONS,
    PerpDeployMalformed,
    SetOracle,
    dispatch_perp_deploy,
    parse_perp_deploy,
)
from wingbeat.sim.protocol.rate_limits import AddressLimitExceeded, RateLimiter
from wingbeat.sim.protocol.transfer_actions import (
    TRANSFER_ACTIONS,
    USER_SIGNED_TRANSFERS,
    Transfer,
    TransferMalformed,
    dispatch_transfer,
    parse_transfer,
)
from wingbeat.sim.protocol.twap_actions import TWAP_ACTIONS, TwapMalformed, dispatch_twap, parse_twap
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineError, OrderRequest, TriggerSpec

__all__ = ["ActionProcessor", "ActionResult", "NonceTracker", "ParseFailure", "ParsedAction"]

_log = logging.getLogger("wingbeat.sim.protocol.actions")

_DAY_MS = 86_400_000
_CLOID = re.compile(r"0x[0-9a-fA-F]{32}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_NONCES_KEPT = 100
# user-signed actions: recovered with their own EIP-712 type, signed by the account itself
_USER_SIGNED = frozenset({"approveAgent"}) | USER_SIGNED_TRANSFERS


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A body that cannot be an action: HTTP ``status`` and axum's plain-text ``text``."""

    status: int
    text: str


class ParsedAction(NamedTuple):
    """An ``/exchange`` body decoded and rebuilt canonically, not yet verified.

    A named tuple rather than a frozen dataclass: one is built per request, and a frozen
    dataclass sets each of its fields through ``object.__setattr__``.
    """

    action_type: str
    canonical: dict[str, Any]
    nonce: int
    signature: dict[str, Any]
    vault_address: str | None
    expires_after: int | None
    batch_length: int
    fields: Any  # the typed payload the dispatcher needs (orders, cancels, ...)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The answer to one action: HTTP ``status`` and either a JSON ``payload`` or a plain ``text``.

    ``applied`` is True when the engine ran the action (what the lost-answer fault needs to know).
    """

    status: int
    payload: Any = None
    text: str | None = None
    applied: bool = False

    def body(self) -> bytes:
        """The HTTP body bytes."""
        if self.text is not None:
            return self.text.encode()
        return orjson.dumps(self.payload)


def _err(message: str) -> ActionResult:
    return ActionResult(200, {"status": "err", "response": message})


def _ok(response: dict[str, Any]) -> ActionResult:
    return ActionResult(200, {"status": "ok", "response": response}, applied=True)


_DEFAULT_OK: dict[str, Any] = {"type": "default"}


class _Malformed(Exception):
    pass


# -- decoding helpers: strict JSON types, as serde would demand ---------------------------------
# (each reads its key itself rather than through _field: they run a dozen times per request)
def _field(obj: Mapping[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _Malformed(f"missing field `{key}`") from None


def _int(obj: Mapping[str, Any], key: str) -> int:
    try:
        value = obj[key]
    except KeyError:
        raise _Malformed(f"missing field `{key}`") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(f"{key}: invalid type: expected u64")
    return value


def _signed_int(obj: Mapping[str, Any], key: str) -> int:
    value = _field(obj, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{key}: invalid type: expected i64")
    return value


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    value = _field(obj, key)
    if not isinstance(value, bool):
        raise _Malformed(f"{key}: invalid type: expected a boolean")
    return value


def _str(obj: Mapping[str, Any], key: str) -> str:
    try:
        value = obj[key]
    except KeyError:
        raise _Malformed(f"missing field `{key}`") from None
    if not isinstance(value, str):
        raise _Malformed(f"{key}: invalid type: expected a string")
    return value


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what}: invalid type: expected a map")
    return value


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    try:
        value = obj[key]
    except KeyError:
        raise _Malformed(f"missing field `{key}`") from None
    if not isinstance(value, list):
        raise _Malformed(f"{key}: invalid type: expected a sequence")
    return value


def _cloid(value: Any) -> str:
    if not isinstance(value, str) or _CLOID.fullmatch(value) is None:
        raise _Malformed(f"invalid cloid {value!r}")
    return value.lower()


def _address(value: Any, what: str) -> str:
    if not isinstance(value, str) or _ADDRESS.fullmatch(value) is None:
        raise _Malformed(f"{what}: invalid address")
    return value.lower()


def _order_spec(value: Any) -> wire.OrderSpec:
    return wire.order_spec_from_wire(_obj(value, "order"))


def _order_request(spec: wire.OrderSpec) -> OrderRequest:
    """The engine's view of a decoded order."""
    kind = spec.order_type
    trigger = None
    tif = None
    if isinstance(kind, wire.TriggerType):
        trigger = TriggerSpec(is_market=kind.is_market, trigger_px=kind.trigger_px, tpsl=kind.tpsl)
    else:
        tif = kind.tif
    return OrderRequest(
        asset=spec.asset,
        is_buy=spec.is_buy,
        price=spec.price,
        size=spec.size,
        reduce_only=spec.reduce_only,
        tif=tif,
        trigger=trigger,
        cloid=None if spec.cloid is None else spec.cloid.raw,
    )


# wire number string -> (value, canonical string), filled by the full decoding path: prices and
# sizes repeat (a tick grid, a few lot sizes), and decoding + re-formatting one costs ~1 us
_numbers: dict[str, tuple[Decimal, str]] = {}
_NUMBERS_KEPT = 65_536
_TIFS = frozenset(("Gtc", "Ioc", "Alo"))
_Decoded = tuple[OrderRequest, dict[str, Any]]


def _known_number(value: Any) -> tuple[Decimal, str] | None:
    return _numbers.get(value) if type(value) is str else None


def _decode_order(value: Any) -> _Decoded | wire.OrderSpec:
    """One order wire: (engine request, canonical wire) when it is a well-formed limit order whose
    numbers were seen before, else the ``OrderSpec`` of the full decoder (which raises on anything
    malformed, with its own message) for `_finish_order`."""
    if type(value) is dict:
        a, b, r, t, c = value.get("a"), value.get("b"), value.get("r"), value.get("t"), value.get("c")
        price, size = _known_number(value.get("p")), _known_number(value.get("s"))
        limit = t.get("limit") if type(t) is dict else None
        tif = limit.get("tif") if type(limit) is dict else None
        if (
            type(a) is int
            and a >= 0
            and type(b) is bool
            and type(r) is bool
            and price is not None
            and size is not None
            and type(tif) is str
            and tif in _TIFS
            and (c is None or (type(c) is str and _CLOID.fullmatch(c) is not None))
        ):
            cloid = None if c is None else c.lower()
            # the key order of wire.order_wire (test_actions checks they agree)
            canonical = {"a": a, "b": b, "p": price[1], "s": size[1], "r": r, "t": {"limit": {"tif": tif}}}
            if cloid is not None:
                canonical["c"] = cloid
            request = OrderRequest(
                asset=a,
                is_buy=b,
                price=price[0],
                size=size[0],
                reduce_only=r,
                tif=cast(wire.Tif, tif),  # one of _TIFS
                cloid=cloid,
            )
            return request, canonical
    return _order_spec(value)


def _finish_order(decoded: _Decoded | wire.OrderSpec) -> _Decoded:
    if not isinstance(decoded, wire.OrderSpec):
        return decoded
    canonical = _order_wire(decoded)
    if len(_numbers) >= _NUMBERS_KEPT:
        _numbers.clear()  # bounded: the strings come from the network
    for text in (canonical["p"], canonical["s"]):
        # the value of the canonical text itself: "50000.0" decodes to another exponent
        _numbers[text] = (Decimal(text), text)
    return _order_request(decoded), canonical


def _order_wire(spec: wire.OrderSpec) -> dict[str, Any]:
    """``wire.order_wire``, except that a zero price or size is the engine's to refuse (Hyperliquid
    answers it in the order's status, and a position TP/SL of size 0 covers the whole position)."""
    if spec.price and spec.size:
        return wire.order_wire(spec)
    one = Decimal(1)
    canonical = wire.order_wire(replace(spec, price=spec.price or one, size=spec.size or one))
    if not spec.price:
        canonical["p"] = "0"
    if not spec.size:
        canonical["s"] = "0"
    return canonical


def _oid(value: Any) -> int | wire.Cloid:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return wire.Cloid.from_str(_cloid(value))


_PRIORITY = "priority"


def _priority_allowed(orders: Sequence[OrderRequest]) -> bool:
    tifs = {o.tif for o in orders}
    return tifs == {"Ioc"} or (tifs == {"Alo"} and not any(o.reduce_only for o in orders))


def _grouping(action: Mapping[str, Any]) -> tuple[str, str | dict[str, int]]:
    """(the engine's grouping, the canonical one) of an order action. A priority fee ``{"p": rate}``
    (Hyperliquid docs, "Priority fees") is the engine's ``priority``: checked, then placed as ``na``."""
    raw = _field(action, "grouping")
    if isinstance(raw, Mapping):
        if set(raw) != {"p"}:
            raise _Malformed(f'unknown grouping {dict(raw)!r}, expected {{"p": <rate>}}')
        rate = _int(raw, "p")
        return _PRIORITY, wire.PriorityFee(rate).to_wire()
    if raw not in ("na", "normalTpsl", "positionTpsl"):
        raise _Malformed(f"unknown variant `{raw}`, expected one of `na`, `normalTpsl`, `positionTpsl`")
    return raw, raw


def _parse_action(action: Mapping[str, Any], nonce: int, chain: str) -> tuple[dict[str, Any], int, Any]:
    """(canonical action, batch length, typed fields) of one action; _Malformed when it does not fit.

    The canonical dict is built from the decoded fields, never copied from the received dict, so
    key order and number format are the exchange's and not the client's: ``wire``'s builders, or
    for orders and cancels by cloid (most of the traffic) the same shapes written out here in one
    pass (tests check they agree with the builders).
    """
    kind = _str(action, "type")
    if kind == "order":
        decoded = [_decode_order(o) for o in _list(action, "orders")]
        grouping, wired = _grouping(action)
        builder = None
        if action.get("builder") is not None:
            b = _obj(action["builder"], "builder")
            builder = wire.Builder(_address(_field(b, "b"), "builder"), _int(b, "f"))
        if not decoded:
            raise InvalidOrderError("an order action needs at least one order")
        orders = [_finish_order(d) for d in decoded]
        # the shape of wire.order_action, from orders already in canonical form
        canonical: dict[str, Any] = {"type": "order", "orders": [w for _, w in orders], "grouping": wired}
        if builder is not None:
            canonical["builder"] = {"b": builder.address, "f": builder.fee_tenths_bp}
        builder_fee = None if builder is None else (builder.address, builder.fee_tenths_bp)
        return canonical, len(orders), ([r for r, _ in orders], grouping, builder_fee)
    if kind == "cancel":
        cancels = [
            (_int(c, "a"), _int(c, "o")) for c in (_obj(c, "cancel") for c in _list(action, "cancels"))
        ]
        return wire.cancel_action(cancels), len(cancels), cancels
    if kind == "cancelByCloid":
        by_cloid = [
            (_int(c, "asset"), _cloid(_field(c, "cloid")))
            for c in (_obj(c, "cancel") for c in _list(action, "cancels"))
        ]
        if not by_cloid:
            raise InvalidOrderError("a cancelByCloid action needs at least one cancel")
        # the shape of wire.cancel_by_cloid_action; _cloid validated and lowercased the ids
        canonical = {"type": "cancelByCloid", "cancels": [{"asset": a, "cloid": c} for a, c in by_cloid]}
        return canonical, len(by_cloid), by_cloid
    if kind in ("modify", "batchModify"):
        items = [action] if kind == "modify" else [_obj(m, "modify") for m in _list(action, "modifies")]
        modifies = [
            wire.ModifySpec(oid=_oid(_field(m, "oid")), order=_order_spec(_field(m, "order"))) for m in items
        ]
        if kind == "modify":
            canonical = wire.modify_action(modifies[0])
        else:
            canonical = wire.batch_modify_action(modifies)
        return canonical, len(modifies), modifies
    if kind == "scheduleCancel":
        time_ms = None if action.get("time") is None else _int(action, "time")
        return wire.schedule_cancel_action(time_ms), 1, time_ms
    if kind == "updateLeverage":
        lev = (_int(action, "asset"), _bool(action, "isCross"), _int(action, "leverage"))
        return wire.update_leverage_action(lev[0], is_cross=lev[1], leverage=lev[2]), 1, lev
    if kind == "updateIsolatedMargin":
        margin = (_int(action, "asset"), _bool(action, "isBuy"), _signed_int(action, "ntli"))
        amount = Decimal(margin[2]).scaleb(-6)
        return wire.update_isolated_margin_action(margin[0], is_buy=margin[1], amount_usd=amount), 1, margin
    if kind == "noop":
        return {"type": "noop"}, 1, None
    if kind == "approveAgent":
        agent = _address(_field(action, "agentAddress"), "agentAddress")
        # the official SDK deletes an empty agentName after signing it as ""
        name = action.get("agentName") or ""
        if not isinstance(name, str):
            raise _Malformed("agentName: invalid type: expected a string")
        canonical = {
            "type": "approveAgent",
            "signatureChainId": _str(action, "signatureChainId"),
            "hyperliquidChain": chain,
            "agentAddress": agent,
            "agentName": name,
            "nonce": nonce,
        }
        return canonical, 1, (agent, name)
    if kind in TWAP_ACTIONS:
        try:
            canonical, twap = parse_twap(action)
        except TwapMalformed as exc:
            raise _Malformed(str(exc)) from None
        return canonical, 1, twap
    if kind in PERP_DEPLOY_ACTIONS:
        try:
            canonical, deploy = parse_perp_deploy(action)
        except PerpDeployMalformed as exc:
            raise _Malformed(str(exc)) from None
        return canonical, 1, deploy
    if kind in TRANSFER_ACTIONS:
        try:
            canonical, transfer = parse_transfer(action, chain)
        except TransferMalformed as exc:
            raise _Malformed(str(exc)) from None
        return canonical, 1, transfer
    raise _Malformed(f"unknown variant `{kind}`")


def parse_request(body: bytes | Any, chain: str) -> ParsedAction | ParseFailure:
    """Decode an ``/exchange`` body (bytes, or an already decoded JSON value from a ws post)."""
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return ParseFailure(400, f"Failed to parse the request body as JSON: {exc}")
    try:
        envelope = _obj(body, "body")
        action = _obj(_field(envelope, "action"), "action")
        nonce = _int(envelope, "nonce")
        signature = _obj(_field(envelope, "signature"), "signature")
        sig = {"r": _str(signature, "r"), "s": _str(signature, "s"), "v": _int(signature, "v")}
        vault = envelope.get("vaultAddress")
        vault_address = None if vault is None else _address(vault, "vaultAddress")
        expires_after = None if envelope.get("expiresAfter") is None else _int(envelope, "expiresAfter")
        canonical, batch_length, fields = _parse_action(action, nonce, chain)
    except (_Malformed, InvalidOrderError) as exc:
        return ParseFailure(422, f"Failed to deserialize the JSON body into the target type: {exc}")
    return ParsedAction(
        action_type=canonical["type"],
        canonical=canonical,
        nonce=nonce,
        signature=sig,
        vault_address=vault_address,
        expires_after=expires_after,
        batch_length=batch_length,
        fields=fields,
    )


@dataclass(slots=True)
class _SignerNonces:
    heap: list[int] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)


class NonceTracker:
    """Hyperliquid's nonce rule per signer: the 100 highest nonces are kept, a new one must be
    unused, above the smallest kept once 100 are kept, and within ``(now - 2 days, now + 1 day)``."""

    def __init__(self, kept: int = _NONCES_KEPT) -> None:
        self._kept = kept
        self._signers: dict[str, _SignerNonces] = {}

    def check_and_use(self, signer: str, nonce: int, now_ms: int) -> str | None:
        """Record ``nonce`` for ``signer``; the exchange's error text when it is refused."""
        state = self._signers.get(signer)
        if state is None:
            state = self._signers[signer] = _SignerNonces()
        if nonce in state.seen:
            return f"Invalid nonce: duplicate nonce {nonce}"
        low = now_ms - 2 * _DAY_MS
        if len(state.heap) >= self._kept:
            low = max(low, state.heap[0])
        if nonce <= low:
            return f"Invalid nonce: nonce too low {nonce} < {low}"
        high = now_ms + _DAY_MS
        if nonce >= high:
            return f"Invalid nonce: nonce too high {nonce} > {high}"
        heapq.heappush(state.heap, nonce)
        state.seen.add(nonce)
        if len(state.heap) > self._kept:
            state.seen.discard(heapq.heappop(state.heap))
        return None


class ActionProcessor:
    """Verifies and applies ``/exchange`` actions against one engine."""

    def __init__(
        self,
        engine: ExchangeEngine,
        limiter: RateLimiter,
        *,
        is_mainnet: bool,
        clock: Callable[[], int],
    ) -> None:
        self._engine = engine
        self._limiter = limiter
        self._clock = clock
        self.is_mainnet = is_mainnet
        self.chain = "Mainnet" if is_mainnet else "Testnet"
        self.nonces = NonceTracker()
        self._vault_leaders: dict[str, str] = {}
        # wraps each execution (the state file pins the clock and logs the action before the answer)
        self.recorder: Callable[[ParsedAction], contextlib.AbstractContextManager[object]] | None = None

    def requests_used(self, address: str) -> int:
        """Actions ``address`` has sent so far (what ``userRateLimit`` reports)."""
        return self._limiter.used(address)

    def requests_cap(self, address: str) -> int:
        """The request cap of ``address`` (what ``userRateLimit`` reports as ``nRequestsCap``)."""
        return self._limiter.cap(address)

    def register_vault(self, vault: str, leader: str) -> None:
        """Let ``leader`` (or its agents) trade for ``vault`` by setting ``vaultAddress``."""
        self._vault_leaders[vault.lower()] = leader.lower()
        self._vault_leader(vault.lower())

    def _vault_leader(self, vault: str) -> str | None:
        """The registered leader of ``vault``, marked on the vault's account once it exists (the
        engine's accounts carry what info and transfers need)."""
        leader = self._vault_leaders.get(vault)
        acct = self._engine.accounts.get(vault)
        if acct is not None and leader is not None and acct.vault_leader is None:
            acct.vault_leader = leader  # registered before it was funded
        return leader

    def _acts_for(self, target: str, account: str) -> bool:
        """Whether ``account`` may act for ``target`` through ``vaultAddress``: as the leader of
        a registered vault, or as the master of a sub-account."""
        if self._vault_leader(target) == account:
            return True
        acct = self._engine.accounts.get(target)
        return acct is not None and acct.master == account

    def parse(self, body: bytes | Any) -> ParsedAction | ParseFailure:
        """Decode a body for this exchange's chain."""
        return parse_request(body, self.chain)

    def handle(self, body: bytes | Any) -> ActionResult:
        """Parse and execute one request body."""
        parsed = self.parse(body)
        if isinstance(parsed, ParseFailure):
            return ActionResult(parsed.status, text=parsed.text)
        return self.execute(parsed)

    def execute(self, parsed: ParsedAction) -> ActionResult:
        """Verify and apply one parsed action; never raises for anything a client can send."""
        recorder = self.recorder
        if recorder is None:
            result = self._execute(parsed)
        else:
            with recorder(parsed):
                result = self._execute(parsed)
        if not result.applied and _log.isEnabledFor(logging.DEBUG):
            _log.debug("refused %s (nonce %d): %s", parsed.action_type, parsed.nonce, result.payload)
        return result

    def _execute(self, parsed: ParsedAction) -> ActionResult:
        try:
            signer = recover_signer(
                parsed.canonical,
                parsed.signature,
                nonce=parsed.nonce,
                vault_address=parsed.vault_address,
                expires_after=parsed.expires_after,
                is_mainnet=self.is_mainnet,
            )
        except SignatureError:
            return _err("Unable to recover signer.")
        user_signed = parsed.action_type in _USER_SIGNED
        account = (
            (signer if self._engine.has_account(signer) else None)
            if user_signed
            else self._engine.account_for_signer(signer)
        )
        if account is None:
            return _err(f"User or API Wallet {signer} does not exist.")
        now = self._clock()
        if parsed.expires_after is not None and parsed.expires_after < now:
            # a stale action costs five times its weight against the address budget
            with contextlib.suppress(AddressLimitExceeded):
                self._charge(account, 5 * parsed.batch_length, now, parsed.action_type)
            return _err(f"Action already expired: expiresAfter {parsed.expires_after} < now {now}")
        nonce_error = self.nonces.check_and_use(signer, parsed.nonce, now)
        if nonce_error is not None:
            return _err(nonce_error)
        user = account
        if parsed.vault_address is not None and not user_signed:
            if not self._acts_for(parsed.vault_address, account):
                return _err(f"Vault not registered: {parsed.vault_address}")
            user = parsed.vault_address
        try:
            self._charge(user, parsed.batch_length, now, parsed.action_type)
        except AddressLimitExceeded as exc:
            return _err(exc.message)
        try:
            return self._dispatch(user, parsed)
        except EngineError as exc:
            return ActionResult(200, {"status": "err", "response": exc.message}, applied=True)

    def _charge(self, user: str, count: int, now: int, action_type: str) -> None:
        is_cancel = action_type in ("cancel", "cancelByCloid", "scheduleCancel")
        self._limiter.charge_address(user, max(count, 1), now, is_cancel=is_cancel)

    def _dispatch(self, user: str, parsed: ParsedAction) -> ActionResult:
        engine = self._engine
        kind = parsed.action_type
        fields = parsed.fields
        if kind == "order":
            orders, grouping, builder = fields
            if grouping == _PRIORITY:
                # CHOSEN: the refusal's text is ours (the docs name the rule, not the message); the fee itself
                # is not charged (no staking balances here) and the priority changes nothing on a venue that
                # applies actions one at a time
                if not _priority_allowed(orders):
                    return _err(
                        "a priority fee needs every order of the batch Ioc, or every order Alo and "
                        "not reduce-only"
                    )
                grouping = "na"
            statuses = self._place(user, orders, grouping, builder)
            return _ok({"type": "order", "data": {"statuses": statuses}})
        if kind == "cancel":
            return _ok({"type": "cancel", "data": {"statuses": engine.cancel(user, fields)}})
        if kind == "cancelByCloid":
            return _ok({"type": "cancel", "data": {"statuses": engine.cancel_by_cloid(user, fields)}})
        if kind in ("modify", "batchModify"):
            statuses = self._modify(user, fields)
            if kind == "batchModify":
                return _ok({"type": "order", "data": {"statuses": statuses}})
            status = statuses[0]
            if isinstance(status, dict) and "error" in status:
                return ActionResult(200, {"status": "err", "response": status["error"]}, applied=True)
            return _ok(_DEFAULT_OK)
        if kind == "scheduleCancel":
            engine.schedule_cancel(user, fields)
        elif kind == "updateLeverage":
            engine.update_leverage(user, *fields)
        elif kind == "updateIsolatedMargin":
            engine.update_isolated_margin(user, *fields)
        elif kind == "approveAgent":
            agent, name = fields
            engine.approve_agent(user, agent, name)
        elif kind in TWAP_ACTIONS:
            return _ok(dispatch_twap(engine, user, fields))
        elif isinstance(fields, SetOracle):
            return _ok(dispatch_perp_deploy(engine, user, fields))
        elif isinstance(fields, Transfer):
            if fields.kind == "vaultTransfer":
                self._vault_leader(fields.fields["vault"])
            return _ok(dispatch_transfer(engine, user, fields))
        return _ok(_DEFAULT_OK)

    def _place(
        self, user: str, orders: list[OrderRequest], grouping: str, builder: tuple[str, int] | None
    ) -> list[Any]:
        return self._engine.place_orders(user, orders, grouping, builder)

    def _modify(self, user: str, modifies: list[wire.ModifySpec]) -> list[Any]:
        pairs = [
            (m.oid.raw if isinstance(m.oid, wire.Cloid) else m.oid, _order_request(m.order)) for m in modifies
        ]
        return self._engine.batch_modify(user, pairs)
