"""``wingbeat twap``: one native Hyperliquid TWAP from a shell.

``wingbeat twap BTC-USD buy 0.5 --minutes 30 [--randomize] [--reduce-only] [--wait]`` starts a connector on the
pair (the perp connector, or the spot one for a ``BASE-QUOTE`` pair such as ``PURR-USDC``; no dead man's
switch, no journal), places the TWAP through ``place_twap`` and prints one confirmation line
(or ``--json``); the venue runs it from then on, whether this command waits or not. With ``--wait`` it follows the
TWAP to its end, one line per slice fill, and exits 0 when it finished or was cancelled, 1 when the venue stopped
it (its text as the one error line). Ctrl-C stops following only (a line saying so, exit 130): the TWAP keeps
running on the venue until ``wingbeat cancel-twap PAIR ID``.

Usage errors (side, amount, minutes, pair, network, the mainnet guard) exit 2 before any request; everything
else (an unfunded account, a TWAP under $100, a refusal) is one stderr line and exit 1 (the CLI's ``run``).
A private key typed where the amount goes is named, never echoed. Added to the app by ``wingbeat.engine.cli``
through `register`; the Hyperliquid modules are imported inside the command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import EventListener, TwapFinishedEvent, TwapSliceFilledEvent
from wingbeat.engine.cli_options import (
    AccountOpt,
    JsonOpt,
    KeyEnvOpt,
    KeystoreOpt,
    MainnetOpt,
    NetworkOpt,
    cli_helpers,
    fail_usage,
    network_rest_url,
)
from wingbeat.engine.cli_output import make_console, print_error, print_json

if TYPE_CHECKING:
    from wingbeat.core.enums import TradeType
    from wingbeat.hyperliquid.base_connector import HyperliquidConnectorBase
    from wingbeat.hyperliquid.signer import Signer
    from wingbeat.hyperliquid.twap_orders import TwapOrder

__all__ = ["cancel_twap_command", "register", "twap_command", "twap_document"]

_out = make_console()
_SIDES = {"buy": "bought", "sell": "sold"}


def register(app: typer.Typer) -> None:
    """Add ``twap`` and ``cancel-twap`` to ``app`` (they run through the helpers the app lent, `cli_helpers`)."""
    app.command("twap")(twap_command)
    app.command("cancel-twap")(cancel_twap_command)


def twap_document(account: str, twap: TwapOrder, slices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``--json`` document of a TWAP (Decimals as exact strings)."""
    document: dict[str, Any] = {
        "account": account,
        "twap_id": twap.twap_id,
        "trading_pair": twap.trading_pair,
        "side": twap.trade_type.name.lower(),
        "amount": twap.amount,
        "minutes": twap.minutes,
        "reduce_only": twap.reduce_only,
        "randomize": twap.randomize,
        "started_at": twap.started_at,
        "status": twap.status.value,
        "executed_amount_base": twap.executed_amount_base,
        "executed_amount_quote": twap.executed_amount_quote,
        "average_price": twap.average_price,
        "reason": twap.reason,
    }
    if slices is not None:
        document["slices"] = slices
    return document


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _say(text: str) -> None:
    _out.print(text, markup=False)


def _checked_market(pair: str, network: str, mainnet: bool) -> bool:
    """Whether ``pair`` is a spot pair; a malformed pair or network, or mainnet without --mainnet, exit 2."""
    from wingbeat.hyperliquid.constants import is_spot_trading_pair, trading_pair_to_coin

    spot = is_spot_trading_pair(pair)
    if not spot:
        try:
            trading_pair_to_coin(pair)
        except ValueError as exc:
            fail_usage(str(exc))
    _rest_url, is_mainnet = network_rest_url(network)
    if is_mainnet and not mainnet:
        fail_usage("this trades real money on mainnet: add --mainnet")
    # the connector's warnings would add lines to stderr: an error is the one line these commands print there
    logging.getLogger("wingbeat").addHandler(logging.NullHandler())
    return spot


def _unfunded(
    conn: HyperliquidConnectorBase, account: str, pair: str, side: TradeType, reduce_only: bool
) -> str | None:
    """Why every slice of this TWAP would be refused for want of funds (the venue accepts the TWAP and stops
    it at its first slice), with the transfer that fixes it; None when the account holds what it spends."""
    from wingbeat.core.enums import TradeType
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector

    if not isinstance(conn, HyperliquidPerpetualConnector):  # spot: a buy spends the quote, a sell the base
        base, _, quote = pair.partition("-")
        spends = quote if side is TradeType.BUY else base
        if conn.get_available_balance(spends):
            return None
        hint = "move some to spot with `wingbeat transfer AMOUNT --to spot`" if spends == "USDC" else "buy some first"
        use = "to buy with" if side is TradeType.BUY else "to sell"
        return f"the spot balance of {account} has no {spends} free {use} ({hint})"
    if reduce_only:
        return None
    asset = conn.margin_asset(pair)
    if conn.get_balance(asset):
        return None
    dex, colon, token = asset.partition(":")
    if colon:
        return (
            f"the account {account} has no {token} margin on the builder dex {dex} (each dex keeps its own: move "
            f'some there with `wingbeat transfer AMOUNT --from-dex "" --to-dex {dex}`)'
        )
    return (
        f"the account {account} has no {asset} margin on the perp dex (spot USDC is a separate balance: move "
        "some with `wingbeat transfer AMOUNT --to perp`)"
    )


def _connector(signer: Signer, pair: str, spot: bool, network: str) -> HyperliquidConnectorBase:
    """The connector of ``pair``'s market: no dead man's switch (the TWAP runs on the venue), no journal."""
    from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector

    kind: type[HyperliquidConnectorBase] = HyperliquidSpotConnector if spot else HyperliquidPerpetualConnector
    return kind(signer, [pair], network=network, config=HyperliquidConfig(dead_man_switch=None))


def twap_command(
    pair: Annotated[
        str, typer.Argument(help="Perp pair, e.g. BTC-USD (a builder dex's: xyz:XYZ100-USD), or spot: PURR-USDC.")
    ],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    amount: Annotated[str, typer.Argument(help="Total size in the base asset, e.g. 0.5 (rounded down to the lot).")],
    minutes: Annotated[int, typer.Option("--minutes", "-m", help="Duration, 5 to 1440 (24 hours).")],
    randomize: Annotated[bool, typer.Option("--randomize", help="Let the venue vary the slice sizes.")] = False,
    reduce_only: Annotated[
        bool, typer.Option("--reduce-only", help="Only reduce the position (never open or flip it).")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow it to the end, one line per slice fill (Ctrl-C stops following).")
    ] = False,
    network: NetworkOpt = "testnet",
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    mainnet: MainnetOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Start one native TWAP: the venue trades AMOUNT of PAIR over --minutes, one slice every 30 s.

    Prints a confirmation line (--json: {"account", "twap_id", "trading_pair", "side", "amount", "minutes",
    "reduce_only", "randomize", "started_at", "status", "executed_amount_base", "executed_amount_quote",
    "average_price", "reason"}, with "slices" after --wait). The TWAP needs a value of at least $100.
    """
    from wingbeat.core.enums import TradeType
    from wingbeat.hyperliquid.constants import shown
    from wingbeat.hyperliquid.twap_wire import TWAP_MAX_MINUTES, TWAP_MIN_MINUTES

    if side.lower() not in _SIDES:
        fail_usage(f"SIDE must be buy or sell, got {shown(side)}")
    try:
        size = Decimal(amount)
    except InvalidOperation:
        fail_usage(f"AMOUNT must be a number such as 0.5, got {shown(amount)}")
    if not size.is_finite() or size <= 0:
        fail_usage(f"AMOUNT must be positive, got {shown(amount)}")
    if not TWAP_MIN_MINUTES <= minutes <= TWAP_MAX_MINUTES:
        fail_usage(f"--minutes must be {TWAP_MIN_MINUTES} to {TWAP_MAX_MINUTES} (24 hours), got {minutes}")
    spot = _checked_market(pair, network, mainnet)
    trade_type = TradeType.BUY if side.lower() == "buy" else TradeType.SELL
    cli = cli_helpers()
    signer = cli.signer(key_env, keystore, account)

    async def main() -> tuple[TwapOrder, list[dict[str, Any]], bool]:
        # None: Ctrl-C (or SIGTERM) while following: stop following, the TWAP runs on
        news: asyncio.Queue[TwapSliceFilledEvent | TwapFinishedEvent | None] = asyncio.Queue()

        class _Follow(EventListener):
            def on_twap_slice_filled(self, event: TwapSliceFilledEvent) -> None:
                news.put_nowait(event)

            def on_twap_finished(self, event: TwapFinishedEvent) -> None:
                news.put_nowait(event)

        conn = _connector(signer, pair, spot, network)
        conn.add_listener(_Follow())
        await conn.start()
        try:
            unfunded = _unfunded(conn, signer.account_address, pair, trade_type, reduce_only)
            if unfunded is not None:
                raise InvalidOrderError(f"{pair}: {unfunded}; nothing sent")
            twap = await conn.place_twap(
                pair, trade_type, size, minutes, reduce_only=reduce_only, randomize=randomize
            )
            if wait:  # before the confirmation: a Ctrl-C right after it stops following, nothing else
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.add_signal_handler(sig, news.put_nowait, None)
            if not as_json:
                _say(
                    f"TWAP {twap.twap_id} started: {side.lower()} {twap.amount} {pair} over {minutes} minutes on "
                    f"{signer.account_address} (a slice every 30 s, until {_utc(twap.ends_at)})"
                )
            slices: list[dict[str, Any]] = []
            while wait:  # until its end is dequeued: slice news queued before it is printed first
                event = await news.get()
                if event is None:
                    return twap, slices, True
                if event.twap_id != twap.twap_id:
                    continue
                if isinstance(event, TwapFinishedEvent):
                    break
                slices.append(
                    {"trade_id": event.trade_id, "price": event.price, "amount": event.amount,
                     "fee": event.fee_amount, "fee_asset": event.fee_asset, "time": event.timestamp}
                )  # fmt: skip
                if not as_json:
                    _say(
                        f"slice: {_SIDES[side.lower()]} {event.amount} {pair} at {event.price} "
                        f"({event.executed_amount_base} of {twap.amount} done)"
                    )
            return twap, slices, False
        finally:
            await conn.stop()

    twap, slices, interrupted = cli.run(main())
    if as_json:
        print_json(twap_document(signer.account_address, twap, slices if wait else None))
    elif interrupted:
        _say(
            f"stopped following TWAP {twap.twap_id} ({twap.executed_amount_base} of {twap.amount} {pair} done): it "
            f"keeps running on the venue; wingbeat cancel-twap {pair} {twap.twap_id} stops it"
        )
    elif wait:
        done = f"{_SIDES[side.lower()]} {twap.executed_amount_base} {pair}"
        if twap.average_price is not None:
            done += f" at an average of {twap.average_price.normalize():f}"
        if twap.status.value != "error":
            _say(f"TWAP {twap.twap_id} {twap.status.value}: {done}")
    if interrupted:
        raise typer.Exit(130)
    if wait and twap.status.value == "error":
        done = f"{_SIDES[side.lower()]} {twap.executed_amount_base} of {twap.amount} {pair}"
        print_error(f"TWAP {twap.twap_id} stopped by the venue ({done}): {twap.reason}")
        raise typer.Exit(1)


def cancel_twap_command(
    pair: Annotated[str, typer.Argument(help="The TWAP's pair, e.g. BTC-USD or PURR-USDC.")],
    twap_id: Annotated[int, typer.Argument(help="The TWAP's id (printed by wingbeat twap).")],
    network: NetworkOpt = "testnet",
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    mainnet: MainnetOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop a running native TWAP of the account (twapCancel); what its slices traded stays traded.

    Prints what it had done; --json prints the TWAP's document as wingbeat twap does.
    """
    spot = _checked_market(pair, network, mainnet)
    cli = cli_helpers()
    signer = cli.signer(key_env, keystore, account)

    async def main() -> TwapOrder:
        conn = _connector(signer, pair, spot, network)
        await conn.start()
        try:
            running = conn.get_twap(twap_id)
            if running is None or running.status.value != "running":
                raise InvalidOrderError(
                    f"no running TWAP {twap_id} of {signer.account_address} on {'spot' if spot else 'perp'} "
                    "pairs: it has ended or never existed "
                    "(wingbeat twap prints the id of each TWAP it starts)"
                )
            if running.trading_pair != pair:
                raise InvalidOrderError(
                    f"TWAP {twap_id} trades {running.trading_pair}, not {pair}: "
                    f"wingbeat cancel-twap {running.trading_pair} {twap_id}"
                )
            twap = await conn.cancel_twap(twap_id)
            return await twap.wait_done(timeout=15)  # its end comes on the stream
        finally:
            await conn.stop()

    twap = cli.run(main())
    if as_json:
        print_json(twap_document(signer.account_address, twap))
        return
    side = _SIDES[twap.trade_type.name.lower()]
    _say(f"TWAP {twap.twap_id} {twap.status.value}: {side} {twap.executed_amount_base} of {twap.amount} {pair}")
