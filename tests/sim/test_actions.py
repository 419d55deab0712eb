"""``/exchange`` processing without sockets: canonical re-serialisation, signer, nonces, dispatch."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wingbeat.hyperliquid.signing import address_from_public_key, sign_agent, sign_l1_action
from wingbeat.sim.protocol.actions import ActionProcessor, ActionResult, NonceTracker
from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS, RateLimitConfig, RateLimiter
from wingbeat.sim.venue.engine import ExchangeEngine

NOW = 1_700_000_000_000
DAY = 86_400_000


def _new_key() -> tuple[str, str]:
    import coincurve

    secret = secrets.token_bytes(32)
    address = address_from_public_key(coincurve.PrivateKey(secret).public_key)
    return "0x" + secret.hex(), address


class Harness:
    """An engine and an action processor on a frozen clock, plus a funded throwaway key."""

    def __init__(self, limits: RateLimitConfig = RELAXED_RATE_LIMITS) -> None:
        self.now = NOW
        clock: Callable[[], int] = lambda: self.now  # noqa: E731 - the clock reads the mutable field
        self.engine = ExchangeEngine(clock=clock)
        self.processor = ActionProcessor(self.engine, RateLimiter(limits), is_mainnet=False, clock=clock)
        self.key, self.address = _new_key()
        self.engine.fund(self.address, Decimal(1_000_000))
        self._nonce = NOW

    def next_nonce(self) -> int:
        self._nonce += 1
        return self._nonce

    def body(
        self,
        action: dict[str, Any],
        *,
        key: str | None = None,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
        signed_action: dict[str, Any] | None = None,
    ) -> bytes:
        nonce = self.next_nonce() if nonce is None else nonce
        sig = sign_l1_action(key or self.key, signed_action or action, vault, nonce, expires_after, False)
        envelope = {
            "action": action,
            "nonce": nonce,
            "signature": sig,
            "vaultAddress": vault,
            "expiresAfter": expires_after,
        }
        return orjson.dumps(envelope)

    def post(self, action: dict[str, Any], **kw: Any) -> ActionResult:
        return self.processor.handle(self.body(action, **kw))


def _order(
    px: str = "50000", sz: str = "0.001", *, tif: str = "Gtc", cloid: str | None = None
) -> dict[str, Any]:
    wire: dict[str, Any] = {"a": 0, "b": True, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": tif}}}
    if cloid is not None:
        wire["c"] = cloid
    return {"type": "order", "orders": [wire], "grouping": "na"}


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_signed_order_rests_and_answers_in_hyperliquid_envelope(h: Harness) -> None:
    result = h.post(_order(cloid="0x" + "ab" * 16))
    assert result.status == 200 and result.applied
    status = result.payload["response"]["data"]["statuses"][0]
    assert result.payload["status"] == "ok" and result.payload["response"]["type"] == "order"
    assert status["resting"]["cloid"] == "0x" + "ab" * 16
    assert isinstance(status["resting"]["oid"], int)


def test_keys_sent_in_another_order_are_rebuilt_canonically_and_verify(h: Harness) -> None:
    action = _order()
    shuffled = {
        "grouping": "na",
        "orders": [dict(reversed(list(action["orders"][0].items())))],
        "type": "order",
    }
    result = h.processor.handle(h.body(shuffled, signed_action=action))
    assert result.payload["status"] == "ok"


def test_client_that_signed_keys_in_wrong_order_recovers_another_address(h: Harness) -> None:
    action = _order()
    wrong = {"type": "order", "grouping": "na", "orders": action["orders"]}
    result = h.processor.handle(h.body(wrong, signed_action=wrong))
    message = result.payload["response"]
    assert result.payload["status"] == "err"
    assert message.startswith("User or API Wallet 0x") and message.endswith(" does not exist.")
    assert h.address not in message


def test_trailing_zero_price_signed_verbatim_fails_as_in_production(h: Harness) -> None:
    result = h.post(_order(px="50000.0"))
    assert result.payload["status"] == "err"
    assert "does not exist" in result.payload["response"]


def test_unknown_signer_is_answered_does_not_exist(h: Harness) -> None:
    other_key, other_address = _new_key()
    result = h.post(_order(), key=other_key)
    assert result.payload == {
        "status": "err",
        "response": f"User or API Wallet {other_address} does not exist.",
    }


def test_malformed_signature_is_unable_to_recover_signer(h: Harness) -> None:
    envelope = orjson.loads(h.body(_order()))
    envelope["signature"] = {"r": "0xzz", "s": "0x1", "v": 27}
    result = h.processor.handle(orjson.dumps(envelope))
    assert result.payload == {"status": "err", "response": "Unable to recover signer."}


def test_replayed_nonce_is_refused_and_not_applied_twice(h: Harness) -> None:
    body = h.body(_order())
    assert h.processor.handle(body).payload["status"] == "ok"
    nonce = orjson.loads(body)["nonce"]
    replay = h.processor.handle(body)
    assert replay.payload == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
    assert not replay.applied
    assert len(h.engine.accounts[h.address].open_orders) == 1


def test_nonce_outside_the_time_window_is_too_low_or_too_high(h: Harness) -> None:
    low = h.post(_order(), nonce=NOW - 2 * DAY - 5)
    assert low.payload["response"].startswith(f"Invalid nonce: nonce too low {NOW - 2 * DAY - 5} < ")
    high = h.post(_order(), nonce=NOW + DAY + 5)
    assert high.payload["response"] == f"Invalid nonce: nonce too high {NOW + DAY + 5} > {NOW + DAY}"


def test_nonce_tracker_keeps_the_100_highest_per_signer() -> None:
    tracker = NonceTracker()
    for n in range(1, 101):
        assert tracker.check_and_use("0xa", NOW + n, NOW) is None
    assert tracker.check_and_use("0xa", NOW, NOW) == f"Invalid nonce: nonce too low {NOW} < {NOW + 1}"
    assert tracker.check_and_use("0xa", NOW + 500, NOW) is None
    assert tracker.check_and_use("0xb", NOW, NOW) is None, "another signer has its own set"


def test_expired_action_is_refused(h: Harness) -> None:
    result = h.post(_order(), expires_after=NOW - 1)
    assert result.payload["status"] == "err"
    assert result.payload["response"].startswith("Action already expired")
    assert not h.engine.accounts[h.address].open_orders


def test_action_with_future_expiry_is_applied(h: Harness) -> None:
    assert h.post(_order(), expires_after=NOW + 60_000).payload["status"] == "ok"


def test_approved_agent_without_name_signs_for_the_account(h: Harness) -> None:
    agent_key, agent_address = _new_key()
    nonce = h.next_nonce()
    action: dict[str, Any] = {
        "type": "approveAgent",
        "agentAddress": agent_address,
        "agentName": "",
        "nonce": nonce,
    }
    sig = sign_agent(h.key, action, False)
    del action["agentName"]  # what the official SDK posts for an unnamed agent
    envelope = {
        "action": action,
        "nonce": nonce,
        "signature": sig,
        "vaultAddress": None,
        "expiresAfter": None,
    }
    assert h.processor.handle(orjson.dumps(envelope)).payload == {
        "status": "ok",
        "response": {"type": "default"},
    }
    placed = h.post(_order(), key=agent_key)
    assert "resting" in placed.payload["response"]["data"]["statuses"][0]
    assert len(h.engine.accounts[h.address].open_orders) == 1


def test_vault_address_trades_for_a_registered_vault_only(h: Harness) -> None:
    _, vault = _new_key()
    h.engine.fund(vault, Decimal(100_000))
    refused = h.post(_order(), vault=vault)
    assert refused.payload == {"status": "err", "response": f"Vault not registered: {vault}"}
    h.processor.register_vault(vault, h.address)
    assert h.post(_order(), vault=vault).payload["status"] == "ok"
    assert len(h.engine.accounts[vault].open_orders) == 1
    assert not h.engine.accounts[h.address].open_orders


def test_cancel_and_cancel_by_cloid_answer_cancel_statuses(h: Harness) -> None:
    cloid = "0x" + "01" * 16
    oid = h.post(_order()).payload["response"]["data"]["statuses"][0]["resting"]["oid"]
    h.post(_order(px="49000", cloid=cloid))
    cancel = h.post({"type": "cancel", "cancels": [{"a": 0, "o": oid}, {"a": 0, "o": 1}]})
    statuses = cancel.payload["response"]["data"]["statuses"]
    assert cancel.payload["response"]["type"] == "cancel"
    assert statuses[0] == "success"
    assert statuses[1]["error"].startswith("Order was never placed, already canceled, or filled.")
    by_cloid = h.post({"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": cloid}]})
    assert by_cloid.payload["response"] == {"type": "cancel", "data": {"statuses": ["success"]}}


def test_modify_and_batch_modify(h: Harness) -> None:
    oid = h.post(_order()).payload["response"]["data"]["statuses"][0]["resting"]["oid"]
    new_order = _order(px="49000")["orders"][0]
    single = h.post({"type": "modify", "oid": oid, "order": new_order})
    assert single.payload == {"status": "ok", "response": {"type": "default"}}
    (live,) = h.engine.accounts[h.address].open_orders.values()
    assert live.limit_px == Decimal("49000")
    batch = h.post({"type": "batchModify", "modifies": [{"oid": 42, "order": new_order}]})
    assert batch.payload["response"]["type"] == "order"
    assert "error" in batch.payload["response"]["data"]["statuses"][0]


def test_leverage_schedule_cancel_and_noop_answer_default(h: Harness) -> None:
    default = {"status": "ok", "response": {"type": "default"}}
    assert h.post({"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 10}).payload == default
    assert h.post({"type": "scheduleCancel", "time": NOW + 60_000}).payload == default
    assert h.post({"type": "noop"}).payload == default
    too_high = h.post({"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 500})
    assert too_high.payload["status"] == "err"


def test_bodies_that_do_not_deserialise_get_axum_texts(h: Harness) -> None:
    bad_json = h.processor.handle(b"{not json")
    assert bad_json.status == 400 and bad_json.text is not None
    assert bad_json.text.startswith("Failed to parse the request body as JSON")
    unknown = h.processor.handle(h.body({"type": "teleport"}))
    assert unknown.status == 422 and unknown.text is not None
    assert unknown.text.startswith("Failed to deserialize the JSON body into the target type")
    wrong_type = orjson.loads(h.body(_order()))
    wrong_type["action"]["orders"][0]["p"] = 50000
    assert h.processor.handle(orjson.dumps(wrong_type)).status == 422
    no_nonce = orjson.loads(h.body(_order()))
    del no_nonce["nonce"]
    assert h.processor.handle(orjson.dumps(no_nonce)).status == 422


def test_address_rate_limit_answers_the_exchange_text() -> None:
    h = Harness(RateLimitConfig(address_initial_buffer=1, exhausted_interval_ms=10_000))
    assert h.post({"type": "noop"}).payload["status"] == "ok"
    assert h.post({"type": "noop"}).payload["status"] == "ok"  # the once-per-10s allowance
    refused = h.post({"type": "noop"})
    assert refused.payload["status"] == "err"
    assert refused.payload["response"].startswith("Too many cumulative requests sent (3 > 1)")


def test_usd_send_is_verified_then_moves_the_usdc(h: Harness) -> None:
    from wingbeat.hyperliquid.signing import sign_usd_transfer_action

    nonce = h.next_nonce()
    action: dict[str, Any] = {
        "destination": "0x" + "11" * 20,
        "amount": "1",
        "time": nonce,
        "type": "usdSend",
    }
    sig = sign_usd_transfer_action(h.key, action, False)
    envelope = {
        "action": action,
        "nonce": nonce,
        "signature": sig,
        "vaultAddress": None,
        "expiresAfter": None,
    }
    result = h.processor.handle(orjson.dumps(envelope))
    assert result.payload == {"status": "ok", "response": {"type": "default"}}
    assert h.engine.accounts["0x" + "11" * 20].balance == 1
    forged = dict(envelope, action=dict(action, amount="2"))  # signed for 1, posted as 2
    assert h.processor.handle(orjson.dumps(forged)).payload["status"] == "err"
    assert h.engine.accounts["0x" + "11" * 20].balance == 1


def test_update_isolated_margin_reaches_the_engine_with_signed_ntli(h: Harness) -> None:
    refused = h.post({"type": "updateIsolatedMargin", "asset": 0, "isBuy": True, "ntli": -1_500_000})
    assert refused.payload == {
        "status": "err",
        "response": "Cannot update margin for a position that is not isolated.",
    }
    assert (
        h.post({"type": "updateLeverage", "asset": 0, "isCross": False, "leverage": 5}).payload["status"]
        == "ok"
    )
    seller_key, seller_address = _new_key()
    h.engine.fund(seller_address, Decimal(100_000))
    sell = _order(px="50000", sz="0.01")
    sell["orders"][0]["b"] = False
    assert "resting" in h.post(sell, key=seller_key).payload["response"]["data"]["statuses"][0]
    assert (
        "filled"
        in h.post(_order(px="50000", sz="0.01", tif="Ioc")).payload["response"]["data"]["statuses"][0]
    )
    added = h.post({"type": "updateIsolatedMargin", "asset": 0, "isBuy": True, "ntli": 1_500_000})
    assert added.payload == {"status": "ok", "response": {"type": "default"}}
    assert h.engine.accounts[h.address].isolated_margin[0] >= Decimal("1.5")


def test_expired_actions_cost_five_times_and_never_crash_when_the_budget_is_spent() -> None:
    h = Harness(RateLimitConfig(address_initial_buffer=6))
    first = h.post({"type": "noop"}, expires_after=NOW - 1)
    assert first.payload["response"].startswith("Action already expired")
    assert h.processor.requests_used(h.address) == 5
    for _ in range(2):  # over budget (once allowed, then refused): still the expiry answer
        again = h.post({"type": "noop"}, expires_after=NOW - 1)
        assert again.payload["response"].startswith("Action already expired")


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
_order_wire = st.fixed_dictionaries(
    {
        "a": st.integers(-1, 5) | st.text(max_size=3),
        "b": st.booleans() | st.none(),
        "p": st.sampled_from(["50000", "1e3", "-1", "0", "abc", "0.000000001", "NaN", "Infinity"])
        | st.integers(-(2**63), 2**63 - 1),
        "s": st.sampled_from(["0.001", "0", "-0.1", "1e-9", "x"]),
        "r": st.booleans(),
        "t": st.sampled_from([{"limit": {"tif": "Gtc"}}, {"limit": {"tif": "Bad"}}, {"trigger": {}}, {}])
        | _json,
    }
)
_action = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["order", "cancel", "batchModify", "modify", "approveAgent"])}
    ).flatmap(
        lambda base: st.fixed_dictionaries(
            {
                **{k: st.just(v) for k, v in base.items()},
                "orders": st.lists(_order_wire, max_size=3),
                "grouping": st.sampled_from(["na", "x"]) | _json,
                "cancels": _json,
                "modifies": _json,
                "oid": _json,
                "order": _order_wire | _json,
            }
        )
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=_action, nonce=st.integers(-5, 2**64 - 1) | _json, signature=_json)
def test_no_body_crashes_the_processor(h: Harness, action: Any, nonce: Any, signature: Any) -> None:
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    result = h.processor.handle(orjson.dumps(body))
    assert result.status in (200, 400, 422)
    signed = h.processor.handle(h.body(action)) if isinstance(action, dict) and _encodable(action) else None
    assert signed is None or signed.status in (200, 422)


def _encodable(action: dict[str, Any]) -> bool:
    try:
        from wingbeat.hyperliquid.signing import l1_signing_hash

        l1_signing_hash(action, None, 1, None, False)
    except Exception:
        return False
    return True


# -- the fast decoding path against the full one --------------------------------------------------
_price_text = st.sampled_from(["50000", "50000.0", "0.00012345", "1.5", "1.50", "123456789", "0.1"])
_size_text = st.sampled_from(["0.001", "0.0010", "1", "2.5", "10.00000001"])
_order_type = st.sampled_from(
    [
        {"limit": {"tif": "Gtc"}},
        {"limit": {"tif": "Ioc"}},
        {"limit": {"tif": "Alo"}},
        {"trigger": {"isMarket": True, "triggerPx": "49000.0", "tpsl": "sl"}},
    ]
)
_cloid_text = (
    st.none() | st.binary(min_size=16, max_size=16).map(lambda b: "0x" + b.hex()) | st.just("0x" + "AB" * 16)
)
_client_order = st.builds(
    lambda a, b, p, s, r, t, c: {
        "a": a,
        "b": b,
        "p": p,
        "s": s,
        "r": r,
        "t": t,
        **({} if c is None else {"c": c}),
    },
    st.integers(0, 5),
    st.booleans(),
    _price_text,
    _size_text,
    st.booleans(),
    _order_type,
    _cloid_text,
)


@settings(max_examples=200, deadline=None)
@given(orders=st.lists(_client_order, min_size=1, max_size=3), grouping=st.sampled_from(["na", "normalTpsl"]))
def test_order_rebuild_equals_wire_builders_whether_numbers_were_seen_before_or_not(
    orders: list[dict[str, Any]], grouping: str
) -> None:
    from wingbeat.hyperliquid import wire
    from wingbeat.sim.protocol.actions import ParsedAction, _order_request, parse_request

    specs = [wire.order_spec_from_wire(o) for o in orders]
    expected = wire.order_action(specs, grouping=grouping)  # type: ignore[arg-type]
    expected_requests = [_order_request(s) for s in specs]
    body = {
        "action": {"type": "order", "orders": orders, "grouping": grouping},
        "nonce": NOW,
        "signature": {"r": "0x1", "s": "0x1", "v": 27},
    }
    for _first_then_cached in range(2):
        parsed = parse_request(body, "Testnet")
        assert isinstance(parsed, ParsedAction)
        assert orjson.dumps(parsed.canonical) == orjson.dumps(expected)  # same keys, order and texts
        requests, parsed_grouping, builder = parsed.fields
        assert builder is None
        # repr, not ==: Decimal("50000.0") == Decimal("50000") but the engine renders them differently
        assert repr(requests) == repr(expected_requests) and parsed_grouping == grouping


def test_cancel_by_cloid_rebuild_equals_wire_builder_with_lowercased_ids() -> None:
    from wingbeat.hyperliquid import wire
    from wingbeat.sim.protocol.actions import ParsedAction, parse_request

    cancels: list[dict[str, Any]] = [
        {"asset": 3, "cloid": "0x" + "AB" * 16},
        {"cloid": "0x" + "01" * 16, "asset": 0},
    ]
    body = {
        "action": {"type": "cancelByCloid", "cancels": cancels},
        "nonce": NOW,
        "signature": {"r": "0x1", "s": "0x1", "v": 27},
    }
    parsed = parse_request(body, "Testnet")
    assert isinstance(parsed, ParsedAction)
    expected = wire.cancel_by_cloid_action([(c["asset"], wire.Cloid.from_str(c["cloid"])) for c in cancels])
    assert orjson.dumps(parsed.canonical) == orjson.dumps(expected)
    assert parsed.fields == [(3, "0x" + "ab" * 16), (0, "0x" + "01" * 16)]


def test_signer_recovery_route_agrees_with_coincurve_public_api() -> None:
    import coincurve

    from wingbeat.hyperliquid import signing

    for _ in range(20):
        secret, digest = secrets.token_bytes(32), secrets.token_bytes(32)
        compact = coincurve.PrivateKey(secret).sign_recoverable(digest, hasher=None)
        point = signing._recover_point(compact[:64], compact[64], digest)
        assert point is not None and point == signing._recover_point_object(compact[:64], compact[64], digest)
        assert point == coincurve.PrivateKey(secret).public_key.format(compressed=False)[1:]
    unrecoverable = bytes(32) + bytes(31) + b"\x01"  # r = 0
    assert signing._recover_point(unrecoverable, 0, digest) is None
    assert signing._recover_point_object(unrecoverable, 0, digest) is None
    assert signing._recover_point(compact[:63], 0, digest) is None  # short buffers never reach C
    assert signing._recover_point(compact[:64], 0, digest[:31]) is None


def _user_signed_body(h: Harness, action: dict[str, Any]) -> bytes:
    from wingbeat.hyperliquid.signing import USER_SIGNED_TYPES, sign_user_signed_action

    primary, fields = USER_SIGNED_TYPES[action["type"]]
    types = [{"name": n, "type": t} for n, t in fields]
    nonce = action.get("nonce", action.get("time"))
    sig = sign_user_signed_action(h.key, action, types, primary, False)
    return orjson.dumps(
        {"action": action, "nonce": nonce, "signature": sig, "vaultAddress": None, "expiresAfter": None}
    )


@pytest.mark.parametrize(
    "action",
    [
        {"type": "usdSend", "destination": "0x" + "22" * 20, "amount": "-1", "time": NOW + 5},
        {"type": "usdSend", "destination": "0x" + "22" * 20, "amount": "1e30", "time": NOW + 5},
        {"type": "usdSend", "destination": "0x" + "22" * 20, "amount": "1.0000001", "time": NOW + 5},
        {"type": "withdraw3", "destination": "nope", "amount": "5", "time": NOW + 5},
        {"type": "usdClassTransfer", "amount": "5 subaccount:0x12", "toPerp": True, "nonce": NOW + 5},
        {"type": "approveBuilderFee", "maxFeeRate": "5%", "builder": "0x" + "22" * 20, "nonce": NOW + 5},
        {
            "type": "approveBuilderFee",
            "maxFeeRate": "0.00001%",
            "builder": "0x" + "22" * 20,
            "nonce": NOW + 5,
        },
    ],
    ids=lambda a: f"{a['type']}-{a.get('amount', a.get('maxFeeRate', a.get('destination')))}",
)
def test_malformed_user_signed_transfers_are_422_and_move_nothing(h: Harness, action: dict[str, Any]) -> None:
    result = h.processor.handle(_user_signed_body(h, action))
    assert result.status == 422 and result.text is not None
    assert result.text.startswith("Failed to deserialize the JSON body into the target type")
    assert h.engine.accounts[h.address].balance == 1_000_000
    assert [u.delta["type"] for u in h.engine.accounts[h.address].ledger] == ["deposit"]


@pytest.mark.parametrize(
    "action",
    [
        {"type": "subAccountTransfer", "subAccountUser": "0x" + "33" * 20, "isDeposit": True, "usd": -5},
        {"type": "vaultTransfer", "vaultAddress": "0x" + "33" * 20, "isDeposit": "yes", "usd": 5},
        {"type": "createSubAccount"},
        {"type": "setReferrer", "code": 7},
    ],
    ids=lambda a: a["type"],
)
def test_malformed_l1_account_actions_are_422(h: Harness, action: dict[str, Any]) -> None:
    result = h.post(action)
    assert result.status == 422
    assert h.engine.accounts[h.address].balance == 1_000_000


def test_account_actions_refused_by_the_venue_change_nothing(h: Harness) -> None:
    stranger = "0x" + "44" * 20
    refused = h.post(
        {"type": "subAccountTransfer", "subAccountUser": stranger, "isDeposit": True, "usd": 1_000_000}
    )
    assert refused.payload["status"] == "err"
    unknown_token = {
        "type": "spotSend",
        "destination": stranger,
        "token": "PURR:0x1",
        "amount": "1",
        "time": NOW + 9,
    }
    assert h.processor.handle(_user_signed_body(h, unknown_token)).payload["status"] == "err"
    tiny = {"type": "withdraw3", "destination": stranger, "amount": "0.5", "time": NOW + 10}
    assert h.processor.handle(_user_signed_body(h, tiny)).payload == {
        "status": "err",
        "response": "Insufficient balance for withdrawal",
    }
    assert h.engine.accounts[h.address].balance == 1_000_000
    assert stranger not in h.engine.accounts
