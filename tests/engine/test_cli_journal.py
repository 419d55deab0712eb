"""``wingbeat journal`` shows the orders and fills a journal holds."""

import time
from decimal import Decimal
from pathlib import Path

from tests.engine.cli_helpers import assert_user_error, run_cli_async
from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import TradeUpdate


async def test_journal_lists_orders_with_state_and_fills(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    now = time.time()
    order = InFlightOrder(client_order_id="0x" + "1" * 32, trading_pair="BTC-USD", trade_type=TradeType.BUY,
                          order_type=OrderType.LIMIT, amount=Decimal("0.01"), price=Decimal("60000"),
                          creation_timestamp=now, position_action=PositionAction.OPEN)
    other = InFlightOrder(client_order_id="0x" + "2" * 32, trading_pair="ETH-USD", trade_type=TradeType.SELL,
                          order_type=OrderType.LIMIT_MAKER, amount=Decimal("1.5"), price=Decimal("3000"),
                          creation_timestamp=now + 1)
    async with OrderJournal(path) as journal:
        journal.record_order(order)
        journal.record_order(other)
        order.current_state = OrderState.FILLED
        journal.record_state(order)
        journal.record_fill(TradeUpdate(trade_id="777", client_order_id=order.client_order_id,
                                        exchange_order_id="42", trading_pair="BTC-USD", fill_timestamp=now + 2,
                                        fill_price=Decimal("59999"), fill_base_amount=Decimal("0.01"),
                                        fill_quote_amount=Decimal("599.99"), fee_asset="USDC",
                                        fee_amount=Decimal("0.27"), is_taker=True))
        await journal.commit()
    result = await run_cli_async("journal", str(path))
    assert result.code == 0, result.err
    assert "orders in" in result.out and "(2, latest 2)" in result.out
    assert order.client_order_id in result.out and other.client_order_id in result.out
    assert "FILLED" in result.out and "LIMIT_MAKER" in result.out
    assert "777" in result.out and "59999" in result.out and "taker" in result.out


async def test_journal_on_a_file_that_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    assert_user_error(await run_cli_async("journal", str(path)), 1, "error:")


async def test_journal_shows_the_executed_amount_from_fills_or_the_venue(tmp_path: Path) -> None:
    import json

    path = tmp_path / "orders.db"
    now = time.time()

    def order(n: int, amount: str) -> InFlightOrder:
        return InFlightOrder(client_order_id="0x" + str(n) * 32, trading_pair="BTC-USD", trade_type=TradeType.BUY,
                             order_type=OrderType.LIMIT, amount=Decimal(amount), price=Decimal("60000"),
                             creation_timestamp=now + n)

    filled_unjournaled, partly_cancelled = order(3, "0.02"), order(4, "0.05")
    async with OrderJournal(path) as journal:
        for o in (filled_unjournaled, partly_cancelled):
            journal.record_order(o)
        filled_unjournaled.current_state = OrderState.FILLED  # its fills never reached the journal
        journal.record_state(filled_unjournaled)
        journal.record_fill(TradeUpdate(trade_id="9", client_order_id=partly_cancelled.client_order_id,
                                        exchange_order_id="43", trading_pair="BTC-USD", fill_timestamp=now,
                                        fill_price=Decimal("60000"), fill_base_amount=Decimal("0.01"),
                                        fill_quote_amount=Decimal("600"), fee_asset="USDC", fee_amount=Decimal("0.1"),
                                        is_taker=False))
        partly_cancelled.current_state = OrderState.CANCELED
        journal.record_state(partly_cancelled)
        await journal.commit()
    document = json.loads((await run_cli_async("journal", str(path), "--json")).out)
    executed = {o["client_order_id"]: (o["state"], o["executed_amount"]) for o in document["orders"]}
    assert executed == {filled_unjournaled.client_order_id: ("FILLED", "0.02"),
                        partly_cancelled.client_order_id: ("CANCELED", "0.01")}
    assert [f["trade_id"] for f in document["fills"]] == ["9"]
    table = (await run_cli_async("journal", str(path))).out
    row = next(line for line in table.splitlines() if filled_unjournaled.client_order_id in line)
    assert row.count("0.02") == 2  # amount and executed, not "executed 0"
