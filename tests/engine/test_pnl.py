"""PnL arithmetic on hand-computed cases."""

from decimal import Decimal

from wingbeat.engine.pnl import PnLTracker

D = Decimal


def _fill(t: PnLTracker, tid: str, is_buy: bool, price: str, amount: str, fee: str = "0") -> bool:
    return t.add_fill(trade_id=tid, trading_pair="BTC-USD", is_buy=is_buy, price=D(price), amount=D(amount),
                      fee=D(fee))


def test_average_entry_and_realised_pnl() -> None:
    t = PnLTracker()
    _fill(t, "1", True, "100", "1", "0.1")
    _fill(t, "2", True, "110", "1", "0.1")
    p = t.pair("BTC-USD")
    assert (p.position, p.entry_price) == (D(2), D(105))
    _fill(t, "3", False, "120", "1.5", "0.2")
    assert p.position == D("0.5") and p.entry_price == D(105)
    assert p.realized == D("22.5")  # (120 - 105) * 1.5
    assert p.fees == D("0.4")
    assert p.unrealized(D(100)) == D("-2.5")
    assert t.total(lambda _pair: D(100)) == D("22.5") - D("2.5") - D("0.4")


def test_flip_from_long_to_short_opens_remainder_at_fill_price() -> None:
    t = PnLTracker()
    _fill(t, "1", True, "100", "1")
    _fill(t, "2", False, "90", "3")
    p = t.pair("BTC-USD")
    assert p.realized == D(-10)
    assert (p.position, p.entry_price) == (D(-2), D(90))
    assert p.unrealized(D(80)) == D(20)


def test_same_trade_id_counts_once() -> None:
    t = PnLTracker()
    assert _fill(t, "x", True, "100", "1")
    assert not _fill(t, "x", True, "100", "1")
    assert t.pair("BTC-USD").position == D(1)
    assert t.pair("BTC-USD").fills == 1


def test_loss_today_resets_at_utc_midnight() -> None:
    now = [86_400.0 * 100 + 10]
    t = PnLTracker(now=lambda: now[0])
    _fill(t, "1", True, "100", "1", "1")
    assert t.loss_today(lambda _p: D(90)) == D(11)
    now[0] += 86_400  # next day: the baseline is today's opening value
    assert t.loss_today(lambda _p: D(90)) == D(0)
    assert t.loss_today(lambda _p: D(85)) == D(5)
