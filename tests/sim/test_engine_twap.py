"""Native TWAP orders in the venue: slices on the 30-second cadence, catch-up, refusals, cancel,
reduce-only, margin, randomized sizes, and the history and slice fills they leave. Time is the
engine's own (``advance``), so a 5-minute TWAP runs in microseconds."""

from __future__ import annotations

from decimal import Decimal as D

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.twap_engine import SLICE_INTERVAL_MS, ZERO_HASH, TwapRequest
from wingbeat.sim.venue.types import EngineEvent, OrderRequest, TwapHistoryEvent, TwapSliceFillsEvent

A = "0x" + "a" * 40  # the TWAP trader
C = "0x" + "c" * 40  # the liquidity
T0 = 1_700_000_000_000


def setup(balance_a: str = "1000000") -> tuple[ExchangeEngine, list[EngineEvent]]:
    e = ExchangeEngine(clock=lambda: T0)
    events: list[EngineEvent] = []
    e.subscribe(events.append)
    e.fund(A, D(balance_a))
    e.fund(C, D(10_000_000))
    return e, events


def asks(e: ExchangeEngine, sz: str, px: str = "60000") -> None:
    e.place_orders(C, [OrderRequest(0, False, D(px), D(sz), False, "Gtc")])


def bids(e: ExchangeEngine, sz: str, px: str = "60000") -> None:
    e.place_orders(C, [OrderRequest(0, True, D(px), D(sz), False, "Gtc")])


def twap(
    size: str, minutes: int = 5, *, buy: bool = True, reduce_only: bool = False, randomize: bool = False
) -> TwapRequest:
    return TwapRequest(0, buy, D(size), reduce_only, minutes, randomize)


def start(e: ExchangeEngine, req: TwapRequest) -> int:
    status = e.place_twap(A, req)
    assert "running" in status, status
    twap_id: int = status["running"]["twapId"]
    return twap_id


def run_slices(e: ExchangeEngine, first: int, last: int) -> None:
    """Advance the venue to the times of slices ``first..last`` (0 = the one sent at placement)."""
    for k in range(first, last + 1):
        e.advance(T0 + k * SLICE_INTERVAL_MS)


def slice_sizes(e: ExchangeEngine, twap_id: int) -> list[D]:
    return [D(f["fill"]["sz"]) for f in handle_info(e, {"type": "userTwapSliceFills", "user": A})][::-1]


def test_slices_every_30_seconds_until_the_size_is_done() -> None:
    e, _ = setup()
    asks(e, "1")
    twap_id = start(e, twap("0.05"))  # 10 slices of 0.005, the first at once
    assert e.accounts[A].szi(0) == D("0.005")
    e.advance(T0 + SLICE_INTERVAL_MS - 1)
    assert e.accounts[A].szi(0) == D("0.005")  # not before its time
    run_slices(e, 1, 8)
    assert e.accounts[A].szi(0) == D("0.045")
    states = handle_info(e, {"type": "clearinghouseState", "user": A})
    assert states["assetPositions"][0]["position"]["szi"] == "0.045"
    run_slices(e, 9, 9)
    assert e.accounts[A].szi(0) == D("0.05")
    assert slice_sizes(e, twap_id) == [D("0.005")] * 10
    history = handle_info(e, {"type": "twapHistory", "user": A})
    assert [h["status"] for h in history] == [{"status": "activated"}, {"status": "finished"}]
    done = history[-1]
    assert done["twapId"] == twap_id and done["time"] == (T0 + 9 * SLICE_INTERVAL_MS) // 1000
    assert done["state"]["executedSz"] == "0.05" and done["state"]["executedNtl"] == "3000.0"
    assert done["state"]["minutes"] == 5 and done["state"]["side"] == "B"
    assert not e.twaps.running
    run_slices(e, 10, 12)  # nothing more is sent
    assert e.accounts[A].szi(0) == D("0.05")


def test_a_slice_fill_is_a_fill_with_the_twap_id_and_the_zero_hash() -> None:
    e, _ = setup()
    asks(e, "1")
    twap_id = start(e, twap("0.05"))
    fill = handle_info(e, {"type": "userFills", "user": A})[0]
    assert fill["twapId"] == twap_id and fill["hash"] == ZERO_HASH
    assert fill["crossed"] is True and fill["sz"] == "0.005" and fill["dir"] == "Open Long"
    sliced = handle_info(e, {"type": "userTwapSliceFills", "user": A})
    assert sliced == [{"fill": fill, "twapId": twap_id}]
    maker = handle_info(e, {"type": "userFills", "user": C})[0]
    assert "twapId" not in maker  # the resting side is an ordinary order
    # an ordinary order's fill carries neither
    bids(e, "0.01", "59000")
    e.place_orders(A, [OrderRequest(0, False, D("59000"), D("0.01"), False, "Ioc")])
    plain = handle_info(e, {"type": "userFills", "user": A})[0]
    assert "twapId" not in plain and plain["hash"] != ZERO_HASH


def test_slices_that_find_no_liquidity_are_caught_up_at_most_three_times_the_normal_size() -> None:
    e, _ = setup()
    twap_id = start(e, twap("0.05"))  # normal slice 0.005; nothing to buy yet
    run_slices(e, 1, 4)  # 5 slices missed: target 0.025
    assert e.accounts[A].szi(0) == 0
    asks(e, "1")
    run_slices(e, 5, 5)  # target 0.03, capped at 3 x 0.005
    assert e.accounts[A].szi(0) == D("0.015")
    run_slices(e, 6, 9)
    # ahead of the target again after two capped slices, the rest follow the schedule
    assert slice_sizes(e, twap_id) == [D(x) for x in ("0.015", "0.015", "0.01", "0.005", "0.005")]
    assert e.accounts[A].szi(0) == D("0.05")  # caught up by the last slice
    assert handle_info(e, {"type": "twapHistory", "user": A})[-1]["status"] == {"status": "finished"}


def test_a_twap_that_cannot_catch_up_finishes_short_of_its_size() -> None:
    e, _ = setup()
    start(e, twap("0.05"))
    run_slices(e, 1, 7)
    asks(e, "1")
    run_slices(e, 8, 9)  # two slices of at most 0.015
    assert e.accounts[A].szi(0) == D("0.03")
    final = handle_info(e, {"type": "twapHistory", "user": A})[-1]
    assert final["status"] == {"status": "finished"} and final["state"]["executedSz"] == "0.03"


def test_a_slice_trades_within_three_percent_of_the_mark() -> None:
    e, _ = setup()
    asks(e, "0.01", "61800")  # mark 60000: 3% above is 61800
    asks(e, "1", "61900")
    start(e, twap("0.05"))
    assert e.accounts[A].szi(0) == D("0.005")
    run_slices(e, 1, 1)
    assert e.accounts[A].szi(0) == D("0.01")
    run_slices(e, 2, 2)  # only 61900 is left: beyond the cap, the slice does not fill
    assert e.accounts[A].szi(0) == D("0.01")


def test_refusals_name_the_rule() -> None:
    e, _ = setup()
    asks(e, "1")
    assert e.place_twap(A, twap("0.05", minutes=4)) == {
        "error": "TWAP duration must be between 5 and 1440 minutes."
    }
    assert e.place_twap(A, twap("0.05", minutes=1441))["error"].startswith("TWAP duration")
    assert "running" in e.place_twap(A, twap("0.05", minutes=1440))
    assert e.place_twap(A, twap("0.0016")) == {"error": "TWAP order value too small. Min is $100."}
    assert e.place_twap(A, twap("0.000001")) == {"error": "Order has invalid size."}
    assert e.place_twap(A, twap("0")) == {"error": "Order has zero size."}
    assert e.place_twap(A, TwapRequest(99, True, D("1"), False, 5, False)) == {
        "error": "Invalid asset. asset=99"
    }
    assert e.place_twap(A, twap("0.05", reduce_only=True)) == {
        "error": "Reduce-only TWAP order would increase position."
    }


def test_cancel_stops_the_slices_and_a_second_cancel_is_refused() -> None:
    e, events = setup()
    asks(e, "1")
    twap_id = start(e, twap("0.05"))
    run_slices(e, 1, 2)
    assert e.cancel_twap(C, 0, twap_id) == {"error": "TWAP was never placed, already canceled, or filled."}
    assert e.cancel_twap(A, 1, twap_id) == {"error": "TWAP was never placed, already canceled, or filled."}
    assert e.cancel_twap(A, 0, twap_id) == "success"
    run_slices(e, 3, 9)
    assert e.accounts[A].szi(0) == D("0.015")
    assert e.cancel_twap(A, 0, twap_id) == {"error": "TWAP was never placed, already canceled, or filled."}
    history = [ev.entries[0] for ev in events if isinstance(ev, TwapHistoryEvent)]
    assert [h["status"]["status"] for h in history] == ["activated", "terminated"]
    assert history[-1]["state"]["executedSz"] == "0.015"
    slices = [ev for ev in events if isinstance(ev, TwapSliceFillsEvent)]
    assert len(slices) == 3 and all(ev.user == A for ev in slices)


def test_a_slice_without_margin_ends_the_twap_with_an_error() -> None:
    e, _ = setup(balance_a="100")  # 50x leverage: 5000 of notional at most
    asks(e, "1")
    start(e, twap("0.5"))  # slices of 0.05 BTC = 3000 each
    assert e.accounts[A].szi(0) == D("0.05")
    run_slices(e, 1, 3)
    assert e.accounts[A].szi(0) == D("0.05")
    final = handle_info(e, {"type": "twapHistory", "user": A})[-1]
    assert final["status"] == {"status": "error", "description": "Insufficient margin to place order."}
    assert not e.twaps.running


def test_a_reduce_only_twap_never_trades_past_the_position() -> None:
    e, _ = setup()
    asks(e, "0.02")
    e.place_orders(A, [OrderRequest(0, True, D("60000"), D("0.02"), False, "Ioc")])
    bids(e, "1", "59500")
    start(e, twap("0.05", buy=False, reduce_only=True))  # slices 0.005; only 0.02 to close
    run_slices(e, 1, 9)
    assert e.accounts[A].szi(0) == 0
    assert sum(slice_sizes(e, 0)) == D("0.02")
    assert handle_info(e, {"type": "twapHistory", "user": A})[-1]["status"] == {"status": "finished"}


def test_randomized_slices_vary_within_twenty_percent_and_repeat_with_the_seed() -> None:
    def run() -> list[D]:
        e, _ = setup()
        asks(e, "10")
        twap_id = start(e, twap("1", minutes=10, randomize=True))  # 20 slices of 0.05
        run_slices(e, 1, 19)
        assert e.accounts[A].szi(0) == D("1")
        return slice_sizes(e, twap_id)

    sizes = run()
    assert len(set(sizes)) > 3
    assert sum(sizes) == D("1")
    # every slice but the last aims at its target -20%..+20% (the target includes catching up)
    assert all(D("0.03") <= s <= D("0.07") for s in sizes[:-1])
    assert run() == sizes


def test_twap_states_show_running_twaps_with_their_progress() -> None:
    e, _ = setup()
    asks(e, "1")
    twap_id = start(e, twap("0.05"))
    state = handle_info(e, {"type": "twapHistory", "user": A})[0]["state"]
    assert state == {
        "coin": "BTC",
        "user": A,
        "side": "B",
        "sz": "0.05",
        "executedSz": "0.0",
        "executedNtl": "0.0",
        "minutes": 5,
        "reduceOnly": False,
        "randomize": False,
        "timestamp": T0,
        "stopPx": None,
        "trigger": None,
    }
    assert [t.twap_id for t in e.twaps.running_of(A)] == [twap_id]
    assert e.twaps.running[twap_id].executed_sz == D("0.005")


# -- spot pairs ---------------------------------------------------------------------------------------

PURR = 10_000  # asset id of PURR/USDC (spot index 0), start price 0.2


def spot_setup(usdc: str = "1000") -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0)
    e.fund_spot(A, "USDC", D(usdc))
    e.fund_spot(C, "PURR", D(1_000_000))
    e.place_orders(C, [OrderRequest(PURR, False, D("0.2"), D(100_000), False, "Gtc")])
    return e


def test_a_spot_twap_buys_in_slices_paid_from_the_spot_balance() -> None:
    e = spot_setup()
    twap_id = start(e, TwapRequest(PURR, True, D(1000), False, 5, False))  # $200 over 10 slices
    run_slices(e, 1, 9)
    fills = handle_info(e, {"type": "userTwapSliceFills", "user": A})
    assert len(fills) == 10 and {f["twapId"] for f in fills} == {twap_id}
    fill = fills[0]["fill"]
    assert (fill["coin"], D(fill["sz"]), fill["px"], fill["feeToken"]) == ("PURR/USDC", 100, "0.2", "PURR")
    assert fill["hash"] == ZERO_HASH and fill["dir"] == "Buy"
    acct = e.accounts[A]
    assert acct.spot["USDC"] == D(800)  # 1000 PURR at 0.2
    assert acct.spot["PURR"] == D(1000) - sum(D(f["fill"]["fee"]) for f in fills)  # fees in the token received
    history = handle_info(e, {"type": "twapHistory", "user": A})
    assert [h["status"]["status"] for h in history] == ["activated", "finished"]
    assert history[-1]["state"]["coin"] == "PURR/USDC" and D(history[-1]["state"]["executedSz"]) == 1000


def test_a_spot_twap_without_the_balance_ends_with_an_error_and_reduce_only_is_refused() -> None:
    e = spot_setup(usdc="25")  # pays for one 100-PURR slice (20 USDC at most 20.6), not a second
    start(e, TwapRequest(PURR, True, D(1000), False, 5, False))
    run_slices(e, 1, 1)
    history = handle_info(e, {"type": "twapHistory", "user": A})
    assert history[-1]["status"] == {"status": "error", "description": f"Insufficient spot balance asset={PURR}"}
    assert e.accounts[A].spot["USDC"] == D(5) and not e.twaps.running
    refused = e.place_twap(A, TwapRequest(PURR, False, D(1000), True, 5, False))
    assert refused == {"error": "Reduce-only TWAP order would increase position."}
    assert e.place_twap(A, TwapRequest(10_099, True, D(1000), False, 5, False)) == {
        "error": "Invalid asset. asset=10099"
    }
