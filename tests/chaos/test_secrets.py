"""Secret hygiene: the private key never appears in logs (any level), reprs, exception texts, the journal or
metrics - scanned for its hex with and without 0x in any case, its raw bytes and its integer value. Keystores
are loaded encrypted; journal files are private (0600)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import stat
import traceback
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account

from tests.chaos.truth import EventLog
from tests.conformance.recorder import EventRecorder
from tests.engine.cli_helpers import run_cli_async
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.errors import WingbeatError
from wingbeat.core.events import EventListener, OrderFilledEvent
from wingbeat.core.journal import OrderJournal
from wingbeat.engine.metrics import Metrics
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.signing import SignatureError
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

#: A fixed, recognisable test key (never a real one).
SECRET = bytes.fromhex("5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e70001")
KEY = "0x" + SECRET.hex()
PASSWORD = "correct horse battery"


def leaks(output: str | bytes, secret: bytes = SECRET) -> list[str]:
    """Every form of ``secret`` found in ``output`` (empty = clean)."""
    found = []
    if isinstance(output, bytes):
        if secret in output:
            found.append("raw bytes")
        output = output.decode("latin-1")
    lowered = output.lower()
    if secret.hex() in lowered:
        found.append("hex")
    if repr(secret)[2:-1].lower() in lowered:
        found.append("bytes repr")
    if str(int.from_bytes(secret, "big")) in output:
        found.append("integer")
    return found


def test_the_scanner_finds_every_form_of_the_key() -> None:
    for form in (KEY, KEY.upper(), KEY[2:], KEY[2:].upper(), f"key={SECRET!r}", str(int(KEY, 16))):
        assert leaks(f"prefix {form} suffix"), form
    assert leaks(b"\x00" + SECRET + b"\x00") == ["raw bytes"]
    assert not leaks(f"address {Signer(KEY).address}")


class _Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.stream.write(self.format(record) + "\n")
        self.stream.write(repr(record.args) + "\n")  # what a structured (JSON) handler would also print


@contextlib.contextmanager
def debug_logs() -> Iterator[_Capture]:
    """Capture everything at DEBUG from the root logger for the duration."""
    root = logging.getLogger()
    capture = _Capture()
    levels = {name: logging.getLogger(name).level for name in ("", "wingbeat", "aiohttp", "asyncio")}
    root.addHandler(capture)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class _Raising(EventListener):
    def on_order_filled(self, event: OrderFilledEvent) -> None:
        raise RuntimeError("a listener bug (its traceback is logged)")


def _journal_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_whole_debug_session_never_shows_the_key(local_exchange: LocalExchange, tmp_path: Path) -> None:
    exchange = local_exchange
    signer = Signer(KEY)
    await exchange.fund(signer.address, Decimal(100_000))
    counterparty = "0x" + "c1" * 20
    await exchange.fund(counterparty, Decimal(10_000_000))
    journal = tmp_path / "orders.db"
    texts: list[str] = []
    metrics = Metrics(namespace="secrets")
    with debug_logs() as logs:
        asyncio.get_running_loop().set_debug(True)
        conn = HyperliquidPerpetualConnector(
            signer, ["BTC-USD"], network=exchange.base_url, journal_path=journal,
            config=HyperliquidConfig(request_timeout=1.0), reconcile_interval=0.2, status_retry_delay=0.05)
        for listener in (metrics, EventRecorder(), EventLog(), _Raising()):
            conn.add_listener(listener)
        await conn.start()
        try:
            exchange.faults.add(FaultKind.LOSE_ANSWER, count=1, action="order")
            exchange.faults.add(FaultKind.HTTP_5XX, count=3, path="/info")
            cids = [conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(59_000 + i)) for i in range(3)]
            cids.append(conn.sell("BTC-USD", Decimal(1_000), OrderType.LIMIT, Decimal(90_000)))  # margin refusal
            cids.append(conn.buy("BTC-USD", Decimal("NaN"), OrderType.LIMIT, Decimal(1)))  # refused locally
            cids.append(conn.place_trigger_order("BTC-USD", TradeType.SELL, Decimal("0.001"), Decimal(50_000),
                                                 tpsl="sl"))
            orders = [o for c in cids if (o := conn.get_order(c)) is not None]
            await asyncio.wait_for(asyncio.gather(*(o.wait_until_open() for o in orders)), 15)
            market = exchange.engine.market("BTC")
            assert market is not None
            exchange.engine.place_orders(counterparty, [OrderRequest(
                asset=market.index, is_buy=False, price=Decimal(59_000), size=Decimal("0.002"),
                reduce_only=False, tif="Ioc")])
            await conn.set_leverage("BTC-USD", 7)
            for bad in (0, 1_000):
                with contextlib.suppress(WingbeatError):
                    await conn.set_leverage("BTC-USD", bad)
            exchange.faults.drop_websockets()
            conn.cancel("BTC-USD", cids[0])
            await asyncio.wait_for(orders[0].wait_until_done(), 15)
            await conn.cancel_all(timeout=10)
            texts += [repr(conn), str(conn), repr(signer), str(signer), repr(conn._sender), repr(conn._rest),
                      repr(conn._ws), repr(conn._config), *map(repr, orders), repr(conn.journal)]
            texts.append(metrics.render().decode())
            # the journal and its WAL / shared-memory files, while in use: private whatever the umask
            modes = {p.name: _mode(p) for p in await asyncio.to_thread(lambda: list(tmp_path.glob("orders.db*")))}
        finally:
            await conn.stop()
            asyncio.get_running_loop().set_debug(False)
    text = logs.stream.getvalue()
    # DEBUG really on (asyncio's debug mode always talks), tracebacks included (the raising listener)
    assert logs.records > 20 and "DEBUG " in text and "Traceback" in text, "too little logged to prove it"
    assert not leaks(text), leaks(text)
    for text in texts:
        assert not leaks(text), text[:200]
    assert journal.exists() and not leaks(_journal_bytes(journal))
    assert [o for o in OrderJournal(journal).iter_orders()], "nothing journaled"
    assert modes and all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


@pytest.mark.parametrize("source", ["env", "keystore"])
async def test_cli_run_at_debug_level_never_prints_the_key(local_exchange: LocalExchange, tmp_path: Path,
                                                           source: str) -> None:
    signer = Signer(KEY)
    await local_exchange.fund(signer.address, Decimal(100_000))
    journal = tmp_path / "run.db"
    config = tmp_path / "mm.toml"
    env = {"HL_PRIVATE_KEY": KEY.upper().replace("0X", "0x")}
    key_line = ""
    if source == "keystore":
        keystore = tmp_path / "wallet.json"
        keystore.write_text(json.dumps(Account.encrypt(SECRET, PASSWORD, iterations=2)))
        env = {"WINGBEAT_KEYSTORE_PASSWORD": PASSWORD}
        key_line = f'keystore = "{keystore}"'
    config.write_text(f"""
[exchange]
network = "{local_exchange.base_url}"
trading_pairs = ["BTC-USD"]
journal_path = "{journal}"
{key_line}

[engine]
tick_interval = 0.2
duration = 2
log_level = "DEBUG"
log_json = true

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.001"
order_levels = 2
""")
    result = await run_cli_async("--debug", "--verbose", "run", str(config), "--plain", env=env, limit=60)
    assert result.code == 0, result.err[-2000:]
    assert '"level":"INFO"' in result.err.replace(" ", "")  # it really logged (JSON lines, event fields)
    assert not leaks(result.out) and not leaks(result.err)
    assert PASSWORD not in result.out + result.err
    assert not leaks(_journal_bytes(journal))
    shown = await run_cli_async("journal", str(journal))
    assert not leaks(shown.out + shown.err)


@pytest.mark.parametrize("variant", [
    KEY[:-1], KEY + "0", KEY[:-2] + "zz", KEY[2:] + " trailing", KEY.upper() + "G", "0x" + KEY, KEY[2:34],
])
def test_malformed_key_errors_never_echo_the_key(variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with debug_logs() as logs:
        with pytest.raises(SignatureError) as direct:
            Signer(variant)
        monkeypatch.setenv("WINGBEAT_TEST_KEY", variant)
        with pytest.raises(SignatureError) as from_env:
            Signer.from_env("WINGBEAT_TEST_KEY")
    for error in (direct.value, from_env.value):
        text = "".join(traceback.format_exception(error))
        assert not leaks(text), text
        # also no long run of the key's digits (a truncated echo)
        assert SECRET.hex()[4:28] not in text.lower(), text
    assert not leaks(logs.stream.getvalue())


def test_signer_cannot_be_pickled_or_copied_and_shows_only_addresses() -> None:
    import copy
    import pickle

    signer = Signer(KEY)
    for attempt in (lambda: pickle.dumps(signer), lambda: copy.copy(signer), lambda: copy.deepcopy(signer)):
        with pytest.raises(TypeError) as error:
            attempt()
        assert not leaks(str(error.value))
    assert not leaks(repr(signer)) and not leaks(str(signer)) and signer.address in repr(signer)
    assert not hasattr(signer, "__dict__")


def test_keystore_is_loaded_encrypted_and_a_wrong_password_reveals_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore = tmp_path / "wallet.json"
    keystore.write_text(json.dumps(Account.encrypt(SECRET, PASSWORD, iterations=2)))
    assert not leaks(keystore.read_bytes()), "the keystore file holds the key in clear"
    with debug_logs() as logs:
        signer = Signer.from_keystore(keystore, PASSWORD)
        assert signer.address == Signer(KEY).address
        for wrong in ("wrong", ""):
            with pytest.raises(SignatureError) as error:
                Signer.from_keystore(keystore, wrong)
            assert not leaks("".join(traceback.format_exception(error.value)))
            assert PASSWORD not in str(error.value)
        monkeypatch.setenv("WINGBEAT_KEYSTORE_PASSWORD", PASSWORD)
        assert Signer.from_keystore(keystore).address == signer.address
    assert not leaks(logs.stream.getvalue()) and PASSWORD not in logs.stream.getvalue()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_journal_file_created_loose_is_tightened_to_0600(tmp_path: Path) -> None:
    loose = tmp_path / "loose.db"
    loose.touch()
    os.chmod(loose, 0o644)
    async with OrderJournal(loose):
        assert _mode(loose) == 0o600
