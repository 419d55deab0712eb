"""Funding payments and liquidation of accounts below maintenance margin."""

from __future__ import annotations

from decimal import Decimal as D

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import LIQUIDATOR, ExchangeEngine
from wingbeat.sim.venue.types import (
    AssetCtxChanged,
    EngineEvent,
    FillsEvent,
    FundingEvent,
    LiquidationEvent,
    OrderRequest,
)

A = "0x" + "a" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000
INTERVAL = 60_000
FIRST_FUNDING = (T0 // INTERVAL + 1) * INTERVAL


def setup(balance_a: str = "1000000") -> tuple[ExchangeEngine, list[EngineEvent]]:
    e = ExchangeEngine(clock=lambda: T0, funding_interval_ms=INTERVAL)
    events: list[EngineEvent] = []
    e.subscribe(events.append)
    e.fund(A, D(balance_a))
    e.fund(C, D(10_000_000))
    return e, events


def a_buys_from_c(e: ExchangeEngine, sz: str) -> None:
    e.place_orders(C, [OrderRequest(0, False, D("60000"), D(sz), False, "Gtc")])
    e.place_orders(A, [OrderRequest(0, True, D("60000"), D(sz), False, "Ioc")])


def test_funding_longs_pay_shorts_at_the_interest_rate_when_mark_equals_oracle() -> None:
    e, events = setup()
    a_buys_from_c(e, "0.1")
    a_before, c_before = e.accounts[A].balance, e.accounts[C].balance
    e.advance(FIRST_FUNDING - 1)
    assert e.accounts[A].balance == a_before
    e.advance(FIRST_FUNDING)
    # rate = 0.0001 / 8 = 0.0000125; payment = 0.1 * 60000 * 0.0000125 = 0.075
    assert e.accounts[A].balance == a_before - D("0.075")
    assert e.accounts[C].balance == c_before + D("0.075")
    funding = [ev.funding for ev in events if isinstance(ev, FundingEvent) and ev.user == A]
    assert funding == [
        {
            "time": FIRST_FUNDING,
            "coin": "BTC",
            "usdc": "-0.075",
            "szi": "0.1",
            "fundingRate": "0.0000125",
            "nSamples": None,
        }
    ]
    pos = handle_info(e, {"type": "clearinghouseState", "user": A})["assetPositions"][0]["position"]
    assert pos["cumFunding"]["allTime"] == "0.075"


def test_funding_catches_up_every_elapsed_interval() -> None:
    e, _ = setup()
    a_buys_from_c(e, "0.1")
    before = e.accounts[A].balance
    e.advance(FIRST_FUNDING + 2 * INTERVAL)
    assert e.accounts[A].balance == before - 3 * D("0.075")
    hist = handle_info(e, {"type": "fundingHistory", "coin": "BTC", "startTime": 0})
    assert [h["time"] for h in hist] == [FIRST_FUNDING + i * INTERVAL for i in range(3)]


def test_account_below_maintenance_is_liquidated_to_the_backstop() -> None:
    e, events = setup("1000")
    a_buys_from_c(e, "0.8")  # 48000 notional, margin 960, maintenance 480; fee 21.6
    e.place_orders(A, [OrderRequest(0, True, D("50000"), D("0.001"), False, "Gtc")])
    e.set_oracle_price("BTC", D("59500"))
    e.advance()
    assert e.accounts[A].szi(0) == D("0.8")  # value 978.4 - 400 = 578.4 >= 476: safe
    e.set_oracle_price("BTC", D("59000"))
    e.advance()
    a = e.accounts[A]
    assert a.szi(0) == 0 and e.accounts[LIQUIDATOR].szi(0) == D("0.8")
    assert not a.open_orders
    assert a.balance == D("1000") - D("21.6") - D("800")
    liq = [ev.liquidation for ev in events if isinstance(ev, LiquidationEvent)]
    assert liq and liq[0]["liquidated_user"] == A and liq[0]["liquidated_ntl_pos"] == "47200.0"
    fills = [f for ev in events if isinstance(ev, FillsEvent) and ev.user == A for f in ev.fills]
    assert fills[-1]["liquidation"] == {"liquidatedUser": A, "markPx": "59000.0", "method": "backstop"}
    total = sum((acct.szi(0) for acct in e.accounts.values()), D(0))
    assert total == 0
    ledger = handle_info(e, {"type": "userNonFundingLedgerUpdates", "user": A, "startTime": 0})
    assert ledger[-1]["delta"] == {
        "type": "liquidation",
        "liquidatedNtlPos": "47200.0",
        "accountValue": liq[0]["liquidated_account_value"],
        "leverageType": "Cross",
        "liquidatedPositions": [{"coin": "BTC", "szi": "0.8"}],
    }


def test_funding_rate_follows_the_premium_and_announces_the_new_context() -> None:
    e, events = setup()
    e.place_orders(C, [OrderRequest(0, True, D("60500"), D("0.1"), False, "Gtc")])
    e.place_orders(C, [OrderRequest(0, False, D("61000"), D("0.1"), False, "Gtc")])
    # oracle 60000 below the bid: the mark is clamped to 60500, premium (60500 - 60000) / 60000
    events.clear()
    e.advance(FIRST_FUNDING)
    m = e.markets[0]
    assert m.premium == D("0.00833333")
    # 8h rate = premium + clamp(0.0001 - premium, +-0.0005) = premium - 0.0005; paid in eighths
    assert m.funding_rate == ((D("0.00833333") - D("0.0005")) / 8).quantize(D("0.00000001"))
    assert any(isinstance(ev, AssetCtxChanged) and ev.coin == "BTC" for ev in events)


def test_day_volume_and_previous_day_price_roll_over_24_hours() -> None:
    clock = [T0]
    e = ExchangeEngine(clock=lambda: clock[0])
    e.fund(A, D(1_000_000))
    e.fund(C, D(1_000_000))
    a_buys_from_c(e, "0.1")  # 6000 at 60000
    clock[0] += 3_600_000
    e.place_orders(C, [OrderRequest(0, False, D("61000"), D("0.1"), False, "Gtc")])
    e.place_orders(A, [OrderRequest(0, True, D("61000"), D("0.1"), False, "Ioc")])
    m = e.markets[0]
    assert m.day_ntl_vlm == D("12100") and m.day_base_vlm == D("0.2")
    e.advance(T0 + 86_400_000)  # the first trade's minute left the window
    assert m.day_ntl_vlm == D("6100") and m.prev_day_px == D("60000")
    e.advance(T0 + 3_600_000 + 86_400_000)
    assert m.day_ntl_vlm == 0 and m.day_base_vlm == 0 and m.prev_day_px == D("61000")
