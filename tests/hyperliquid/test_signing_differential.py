"""Differential tests: wingbeat against the official hyperliquid-python-sdk (a test-only peer).

The SDK's own ``Exchange`` builds and signs each action (its HTTP post is intercepted, its clock pinned to
the generated nonce); wingbeat builds the same action from typed inputs and signs it. The msgpack bytes
and the signatures must be identical, and ``recover_signer`` must give back the signing address.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import msgpack
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.utils import signing as sdk_signing
from hyperliquid.utils.constants import MAINNET_API_URL, TESTNET_API_URL
from hyperliquid.utils.types import Cloid as SdkCloid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wingbeat.core.enums import TradeType
from wingbeat.hyperliquid import signing
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import (
    Builder,
    Cloid,
    LimitType,
    ModifySpec,
    OrderSpec,
    PriorityFee,
    TriggerType,
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    float_to_wire,
    is_valid_price,
    order_action,
    perp_trading_rule,
    schedule_cancel_action,
    update_isolated_margin_action,
    update_leverage_action,
)

COINS = [("BTC", 5), ("ETH", 4), ("SOL", 2), ("DOGE", 0), ("X", 1)]
META = {"universe": [{"name": name, "szDecimals": sz} for name, sz in COINS]}
SPOT_META: dict[str, list[Any]] = {"universe": [], "tokens": []}
N = signing.SECP256K1_N
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

keys = st.integers(1, N - 1).map(lambda k: "0x" + k.to_bytes(32, "big").hex())
nonces = st.integers(0, 2**64 - 1)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
vaults = st.none() | addresses
expiries = st.none() | st.integers(0, 2**64 - 1)
assets = st.integers(0, len(COINS) - 1)


@st.composite
def decimals(draw: st.DrawFn, max_places: int = 8) -> Decimal:
    """Positive decimals below 1e7 with at most ``max_places`` places: a float carries those exactly through
    8 decimals (larger ones pick up float noise in the SDK, e.g. 161906435.6 -> "161906435.60000002")."""
    places = draw(st.integers(0, max_places))
    mantissa = draw(st.integers(1, 10 ** (7 + places) - 1))
    return Decimal(mantissa).scaleb(-places)


@st.composite
def order_specs(draw: st.DrawFn) -> OrderSpec:
    kind = draw(st.sampled_from(["limit", "trigger"]))
    order_type: LimitType | TriggerType
    if kind == "limit":
        order_type = LimitType(draw(st.sampled_from(["Gtc", "Ioc", "Alo"])))
    else:
        order_type = TriggerType(
            trigger_px=draw(decimals()),
            is_market=draw(st.booleans()),
            tpsl=draw(st.sampled_from(["tp", "sl"])),
        )
    with_cloid = draw(st.booleans())
    return OrderSpec(
        asset=draw(assets),
        is_buy=draw(st.booleans()),
        price=draw(decimals()),
        size=draw(decimals()),
        reduce_only=draw(st.booleans()),
        order_type=order_type,
        cloid=Cloid.from_int(draw(st.integers(0, 2**128 - 1))) if with_cloid else None,
    )


def _sdk_request(spec: OrderSpec) -> dict[str, Any]:
    """The SDK's float-based OrderRequest for the same order."""
    if isinstance(spec.order_type, LimitType):
        order_type: dict[str, Any] = {"limit": {"tif": spec.order_type.tif}}
    else:
        trig = spec.order_type
        order_type = {
            "trigger": {"triggerPx": float(trig.trigger_px), "isMarket": trig.is_market, "tpsl": trig.tpsl}
        }
    return {
        "coin": COINS[spec.asset][0],
        "is_buy": spec.is_buy,
        "sz": float(spec.size),
        "limit_px": float(spec.price),
        "order_type": order_type,
        "reduce_only": spec.reduce_only,
        "cloid": None if spec.cloid is None else SdkCloid.from_str(spec.cloid.raw),
    }


def _sdk(
    key: str,
    is_mainnet: bool,
    vault: str | None,
    expires_after: int | None,
    nonce: int,
    call: Callable[[Exchange], Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run one SDK Exchange method offline; return the (action, signature) it would have posted."""
    exchange = Exchange(
        Account.from_key(key),
        MAINNET_API_URL if is_mainnet else TESTNET_API_URL,
        meta=META,  # type: ignore[arg-type]
        vault_address=vault,
        spot_meta=SPOT_META,  # type: ignore[arg-type]
    )
    exchange.set_expires_after(expires_after)
    posted: dict[str, Any] = {}

    def capture(action: dict[str, Any], signature: dict[str, Any], posted_nonce: int) -> None:
        assert posted_nonce == nonce
        posted.update(action=action, signature=signature)

    exchange._post_action = capture  # type: ignore[method-assign]
    with patch("hyperliquid.exchange.get_timestamp_ms", return_value=nonce):
        call(exchange)
    return posted["action"], posted["signature"]


def _check_l1(
    ours: dict[str, Any],
    key: str,
    is_mainnet: bool,
    vault: str | None,
    expires_after: int | None,
    nonce: int,
    call: Callable[[Exchange], Any],
) -> None:
    sdk_action, sdk_signature = _sdk(key, is_mainnet, vault, expires_after, nonce, call)
    assert msgpack.packb(ours) == msgpack.packb(sdk_action)
    signer = Signer(key)
    assert signing.sign_l1_action(signer, ours, vault, nonce, expires_after, is_mainnet) == sdk_signature
    recovered = signing.recover_signer(
        sdk_action,
        sdk_signature,
        nonce=nonce,
        vault_address=vault,
        expires_after=expires_after,
        is_mainnet=is_mainnet,
    )
    assert recovered == signer.address


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    orders=st.lists(order_specs(), min_size=1, max_size=4),
    grouping=st.sampled_from(["na", "normalTpsl", "positionTpsl"]),
    builder=st.none() | st.tuples(addresses, st.integers(0, 100)),
)
def test_order_action_and_signature_identical_to_sdk(
    key: str,
    is_mainnet: bool,
    vault: str | None,
    expires_after: int | None,
    nonce: int,
    orders: list[OrderSpec],
    grouping: Any,
    builder: tuple[str, int] | None,
) -> None:
    ours = order_action(orders, grouping=grouping, builder=None if builder is None else Builder(*builder))
    sdk_builder = None if builder is None else {"b": builder[0].upper().replace("0X", "0x"), "f": builder[1]}
    _check_l1(
        ours,
        key,
        is_mainnet,
        vault,
        expires_after,
        nonce,
        lambda ex: ex.bulk_orders([_sdk_request(o) for o in orders], sdk_builder, grouping),  # type: ignore[arg-type]
    )


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    cancels=st.lists(st.tuples(assets, st.integers(0, 2**63)), min_size=1, max_size=5),
)
def test_cancel_identical_to_sdk(
    key: str, is_mainnet: bool, vault: str | None, expires_after: int | None, nonce: int, cancels: list[Any]
) -> None:
    requests = [{"coin": COINS[a][0], "oid": o} for a, o in cancels]
    _check_l1(
        cancel_action(cancels),
        key,
        is_mainnet,
        vault,
        expires_after,
        nonce,
        lambda ex: ex.bulk_cancel(requests),  # type: ignore[arg-type]
    )


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    cancels=st.lists(st.tuples(assets, st.integers(0, 2**128 - 1)), min_size=1, max_size=5),
)
def test_cancel_by_cloid_identical_to_sdk(
    key: str, is_mainnet: bool, vault: str | None, expires_after: int | None, nonce: int, cancels: list[Any]
) -> None:
    ours = cancel_by_cloid_action([(a, Cloid.from_int(c)) for a, c in cancels])
    requests = [{"coin": COINS[a][0], "cloid": SdkCloid.from_int(c)} for a, c in cancels]
    _check_l1(
        ours,
        key,
        is_mainnet,
        vault,
        expires_after,
        nonce,
        lambda ex: ex.bulk_cancel_by_cloid(requests),  # type: ignore[arg-type]
    )


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    modifies=st.lists(
        st.tuples(st.integers(0, 2**63) | st.integers(0, 2**128 - 1).map(Cloid.from_int), order_specs()),
        min_size=1,
        max_size=3,
    ),
)
def test_batch_modify_identical_to_sdk(
    key: str, is_mainnet: bool, vault: str | None, expires_after: int | None, nonce: int, modifies: list[Any]
) -> None:
    ours = batch_modify_action([ModifySpec(oid=oid, order=spec) for oid, spec in modifies])
    requests = [
        {"oid": SdkCloid.from_str(oid.raw) if isinstance(oid, Cloid) else oid, "order": _sdk_request(spec)}
        for oid, spec in modifies
    ]
    _check_l1(
        ours,
        key,
        is_mainnet,
        vault,
        expires_after,
        nonce,
        lambda ex: ex.bulk_modify_orders_new(requests),  # type: ignore[arg-type]
    )


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    asset=assets,
    leverage=st.integers(1, 100),
    is_cross=st.booleans(),
    margin=st.integers(-(10**12), 10**12).map(lambda n: Decimal(n).scaleb(-6)),
    cancel_time=st.none() | st.integers(0, 2**63),
)
def test_leverage_margin_and_schedule_cancel_identical_to_sdk(
    key: str,
    is_mainnet: bool,
    vault: str | None,
    expires_after: int | None,
    nonce: int,
    asset: int,
    leverage: int,
    is_cross: bool,
    margin: Decimal,
    cancel_time: int | None,
) -> None:
    coin = COINS[asset][0]
    context = (key, is_mainnet, vault, expires_after, nonce)
    ours = update_leverage_action(asset, is_cross=is_cross, leverage=leverage)
    _check_l1(ours, *context, lambda ex: ex.update_leverage(leverage, coin, is_cross))
    ours = update_isolated_margin_action(asset, is_buy=True, amount_usd=margin)
    _check_l1(ours, *context, lambda ex: ex.update_isolated_margin(float(margin), coin))
    _check_l1(schedule_cancel_action(cancel_time), *context, lambda ex: ex.schedule_cancel(cancel_time))


def _check_user_signed(
    key: str,
    is_mainnet: bool,
    nonce: int,
    call: Callable[[Exchange], Any],
    ours: Callable[[Any, dict[str, Any], bool], signing.Signature],
    *,
    vault: str | None = None,
) -> None:
    sdk_action, sdk_signature = _sdk(key, is_mainnet, vault, None, nonce, call)
    action = {k: v for k, v in sdk_action.items() if k not in ("signatureChainId", "hyperliquidChain")}
    if sdk_action["type"] == "approveAgent":
        action.setdefault("agentName", "")
    signer = Signer(key)
    assert ours(signer, action, is_mainnet) == sdk_signature
    assert action["signatureChainId"] == sdk_action["signatureChainId"]
    assert action["hyperliquidChain"] == sdk_action["hyperliquidChain"]
    recovered = signing.recover_signer(
        sdk_action, sdk_signature, nonce=nonce, vault_address=None, expires_after=None, is_mainnet=is_mainnet
    )
    assert recovered == signer.address


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    nonce=st.integers(0, 2**64 - 1),
    destination=addresses,
    amount=decimals(max_places=6),
    to_perp=st.booleans(),
    agent_name=st.none() | st.text(max_size=12),
    vault=vaults,
)
def test_user_signed_actions_identical_to_sdk(
    key: str,
    is_mainnet: bool,
    nonce: int,
    destination: str,
    amount: Decimal,
    to_perp: bool,
    agent_name: str | None,
    vault: str | None,
) -> None:
    value = float(amount)
    context = (key, is_mainnet, nonce)
    _check_user_signed(
        *context, lambda ex: ex.usd_transfer(value, destination), signing.sign_usd_transfer_action
    )
    _check_user_signed(
        *context,
        lambda ex: ex.withdraw_from_bridge(value, destination),
        signing.sign_withdraw_from_bridge_action,
    )
    _check_user_signed(  # with a vault the SDK writes "<amount> subaccount:<vault>" into the amount
        *context,
        lambda ex: ex.usd_class_transfer(value, to_perp),
        signing.sign_usd_class_transfer_action,
        vault=vault,
    )
    _check_user_signed(*context, lambda ex: ex.approve_agent(agent_name), signing.sign_agent)
    _check_user_signed(
        *context,
        lambda ex: ex.spot_transfer(value, destination, "PURR:0xc4bf3f870c0e9465323c0b6ed28096c2"),
        signing.sign_spot_transfer_action,
    )


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    nonce=st.integers(0, 2**64 - 1),
    vault=vaults,
    other=addresses,
    wei=st.integers(0, 2**64 - 1),
    flag=st.booleans(),
    text=st.text(max_size=10),
    amount=decimals(max_places=6),
)
def test_other_user_signed_actions_identical_to_sdk(
    key: str,
    is_mainnet: bool,
    nonce: int,
    vault: str | None,
    other: str,
    wei: int,
    flag: bool,
    text: str,
    amount: Decimal,
) -> None:
    context = (key, is_mainnet, nonce)
    cases: list[
        tuple[Callable[[Exchange], Any], Callable[[Any, dict[str, Any], bool], signing.Signature]]
    ] = [
        (lambda ex: ex.approve_builder_fee(other, "0.001%"), signing.sign_approve_builder_fee),
        (lambda ex: ex.token_delegate(other, wei, flag), signing.sign_token_delegate_action),
        (lambda ex: ex.convert_to_multi_sig_user([other], 1), signing.sign_convert_to_multi_sig_user_action),
        (lambda ex: ex.user_dex_abstraction(other, flag), signing.sign_user_dex_abstraction_action),
        (lambda ex: ex.user_set_abstraction(other, text), signing.sign_user_set_abstraction_action),  # type: ignore[arg-type]
        (lambda ex: ex.send_asset(other, "", "spot", "USDC", float(amount)), signing.sign_send_asset_action),
    ]
    for call, ours in cases:
        _check_user_signed(*context, call, ours, vault=vault)


@EXAMPLES
@given(value=decimals())
def test_float_to_wire_agrees_with_sdk_on_decimals_and_floats(value: Decimal) -> None:
    expected = sdk_signing.float_to_wire(float(value))
    assert float_to_wire(value) == expected
    assert float_to_wire(float(value)) == expected
    assert float_to_wire(str(value)) == expected


@EXAMPLES
@given(value=st.floats(min_value=-1e7, max_value=1e7, allow_nan=False))
def test_float_to_wire_accepts_and_refuses_the_same_floats_as_sdk(value: float) -> None:
    try:
        expected: str | None = sdk_signing.float_to_wire(value)
    except ValueError:
        expected = None
    try:
        ours: str | None = float_to_wire(value)
    except ValueError:
        ours = None
    if expected == "-0":  # the SDK's negative-zero quirk; wingbeat writes "0"
        expected = "0"
    assert ours == expected


@EXAMPLES
@given(
    price=st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False),
    sz_decimals=st.integers(0, 5),
)
def test_price_rule_accepts_sdk_rounded_prices_and_quantizes_safely(price: float, sz_decimals: int) -> None:
    # The SDK rounds market prices to 5 significant figures and 6 - szDecimals decimals; whatever it
    # produces must pass our rule, and our own quantization must bracket the price with valid prices.
    sdk_rounded = round(float(f"{price:.5g}"), 6 - sz_decimals)
    if sdk_rounded > 0:
        assert is_valid_price(Decimal(float_to_wire(sdk_rounded)), sz_decimals)
    rule = perp_trading_rule("X", sz_decimals, 50)
    exact = Decimal(repr(price))
    down = rule.quantize_price(exact, TradeType.BUY)
    up = rule.quantize_price(exact, TradeType.SELL)
    assert down <= exact <= up
    assert rule.is_valid_price(up)
    if down > 0:
        assert rule.is_valid_price(down)


@EXAMPLES
@given(
    key=keys,
    is_mainnet=st.booleans(),
    vault=vaults,
    expires_after=expiries,
    nonce=nonces,
    tif=st.sampled_from(["Ioc", "Alo"]),
    orders=st.lists(order_specs(), min_size=1, max_size=4),
    rate=st.integers(0, 2**32),
)
def test_priority_fee_grouping_identical_to_sdk(
    key: str,
    is_mainnet: bool,
    vault: str | None,
    expires_after: int | None,
    nonce: int,
    tif: Any,
    orders: list[OrderSpec],
    rate: int,
) -> None:
    """The grouping ``{"p": rate}`` (the SDK's PriorityGrouping) hashes and signs byte-identically."""
    orders = [OrderSpec(asset=o.asset, is_buy=o.is_buy, price=o.price, size=o.size,
                        reduce_only=tif == "Ioc" and o.reduce_only, order_type=LimitType(tif), cloid=o.cloid)
              for o in orders]
    ours = order_action(orders, grouping=PriorityFee(rate))
    assert ours["grouping"] == {"p": rate}
    _check_l1(
        ours,
        key,
        is_mainnet,
        vault,
        expires_after,
        nonce,
        lambda ex: ex.bulk_orders([_sdk_request(o) for o in orders], None, {"p": rate}),  # type: ignore[arg-type]
    )
