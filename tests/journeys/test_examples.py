"""Every script in examples/ runs as a user runs it (``python examples/NAME.py``) and does what it says."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.journeys.conftest import REPO_ROOT, Run, python

CID = r"0x[0-9a-f]{32}"
EXAMPLES = REPO_ROOT / "examples"


async def _example(name: str, *args: str, deadline: float = 60) -> Run:
    run = await python(str(EXAMPLES / name), *args, deadline=deadline)
    assert run.code == 0, run
    assert "Traceback" not in run.err, run
    return run


def test_every_example_has_a_journey() -> None:
    tested = {name.removeprefix("test_") + ".py" for name in globals() if name.startswith("test_")}
    assert {p.name for p in EXAMPLES.glob("*.py")} <= tested


async def test_quickstart() -> None:
    out = (await _example("quickstart.py")).out
    resting = re.search(rf"^limit buy ({CID}) OPEN$", out, re.M)
    assert resting, out
    assert re.search(rf"^market buy {CID} FILLED 0\.001 BTC$", out, re.M), out
    assert re.search(rf"^cancelled {resting.group(1)} True$", out, re.M), out


async def test_listen_to_events() -> None:
    out = (await _example("listen_to_events.py")).out
    events = [line.split()[0] for line in out.splitlines()]
    assert sorted(events) == ["cancelled", "completed", "created", "created", "failed", "filled"], out
    assert re.search(rf"^failed +{CID} notional .* below the minimum 10 for ETH-USD$", out, re.M), out
    filled = re.search(rf"^filled +({CID}) 0\.01 @ [\d.]+ taker fee [\d.]+$", out, re.M)
    assert filled, out
    assert re.search(rf"^completed {filled.group(1)} average price [\d.]+$", out, re.M), out
    cancelled = re.search(rf"^cancelled ({CID})$", out, re.M)
    assert cancelled and cancelled.group(1) != filled.group(1), out
    assert events.index("created") < events.index("filled")


async def test_custom_strategy() -> None:
    out = (await _example("custom_strategy.py", "--duration", "3")).out
    lines = out.splitlines()
    assert lines[0] == "refused: order size 1 above max_order_size 0.01", out
    assert re.fullmatch(r"bought 0\.001 BTC-USD at [\d.]+", lines[1]), out
    summary = re.fullmatch(r"stopped: (\d+) fills, position (-?[\d.]+), realized -?[\d.]+ USDC", lines[-1])
    assert summary and int(summary.group(1)) >= 1, out
    fills = [line.split() for line in lines if line.startswith(("bought ", "sold "))]
    assert int(summary.group(1)) == len(fills), out
    net = sum(Decimal(f[1]) if f[0] == "bought" else -Decimal(f[1]) for f in fills)
    assert Decimal(summary.group(2)) == net, out  # the position is what the fills add up to


async def test_market_maker() -> None:
    out = (await _example("market_maker.py", "--duration", "3")).out
    quotes = re.search(r"^quotes placed (\d+), refreshes (\d+), fills (\d+)$", out, re.M)
    assert quotes and int(quotes.group(1)) >= 4, out  # two levels a side
    assert re.search(
        r"^position -?[\d.]+ BTC, realized -?[\d.]+, unrealized -?[\d.]+, fees [\d.]+ USDC$", out, re.M
    )
    assert "open orders left: 0" in out, out


async def test_twap() -> None:
    out = (await _example("twap.py", "--duration", "2")).out
    assert "executed 0.3 of 0.3 ETH-USD in 3 slices" in out, out
    prices = re.search(r"^average price ([\d.]+), limit ([\d.]+)$", out, re.M)
    assert prices and Decimal(prices.group(1)) <= Decimal(prices.group(2)), out


async def test_restart_on_journal() -> None:
    out = (await _example("restart_on_journal.py")).out
    first = re.search(rf"^first run placed ({CID}) and crashed with exit code 1$", out, re.M)
    assert first, out
    assert re.search(rf"^after restart {first.group(1)} OPEN 0\.001\d* @ \d+", out, re.M), out
    assert "cancelled: CANCELED" in out, out


async def test_basis_carry() -> None:
    out = (await _example("basis_carry.py")).out
    entered = re.search(r"^entered: spot ([\d.]+) HYPE, perp short ([\d.]+) HYPE$", out, re.M)
    assert entered, out
    spot, short = Decimal(entered.group(1)), Decimal(entered.group(2))
    assert Decimal(24) <= short <= Decimal(26) and Decimal(0) <= spot - short < Decimal("0.01"), out
    exited = re.search(r"^exited: spot ([\d.]+) HYPE left, perp short ([\d.]+) HYPE$", out, re.M)
    assert exited and Decimal(exited.group(1)) < Decimal("0.01") and Decimal(exited.group(2)) == 0, out
    paid = re.search(r"^funding received (-[\d.]+) USDC$", out, re.M)  # the short paid the negative hour
    assert paid and Decimal("-0.06") < Decimal(paid.group(1)) < Decimal("-0.04"), out  # ~25 x 40 x 0.00005, once
