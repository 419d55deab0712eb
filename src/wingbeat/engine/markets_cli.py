"""``wingbeat markets``: every pair a Hyperliquid venue lists, with its rules, from a shell.

One table a market group (the main perp dex, each builder-deployed HIP-3 dex, spot) with each pair's
coin, asset id, size step, price rule, minimum order value, max leverage and margin mode (or, for spot,
its tokens); ``--json`` gives the same as one document. Read from the venue's public ``/info`` answers
(see :mod:`wingbeat.hyperliquid.markets`): no key needed. ``--dex NAME`` (repeatable, ``""`` the main dex)
and ``--spot`` narrow the listing. Usage errors exit 2, everything else (an unknown dex, an unreachable
venue) is one stderr line and exit 1 (the CLI's ``run``).

Added to the app by ``wingbeat.engine.cli`` through `register`; the Hyperliquid modules are imported
inside the command, so ``wingbeat --help`` never needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from wingbeat.engine.cli_options import JsonOpt, NetworkOpt, cli_helpers, fail_usage, network_rest_url
from wingbeat.engine.cli_output import make_console, print_json

if TYPE_CHECKING:
    from wingbeat.hyperliquid.markets import VenueMarket

__all__ = ["market_document", "register"]

_out = make_console()


def register(app: typer.Typer) -> None:
    """Add ``markets`` to ``app`` (it runs through the helpers the app lent, `cli_helpers`)."""
    app.command("markets")(markets_command)


def market_document(market: VenueMarket) -> dict[str, Any]:
    """One market as ``wingbeat markets --json`` prints it (amounts as exact decimal strings)."""
    rule = market.rule
    return {
        "trading_pair": market.trading_pair,
        "kind": market.kind,
        "dex": market.dex,
        "coin": market.coin,
        "asset": market.asset,
        "base": market.base,
        "quote": market.quote,
        "collateral": market.collateral,
        "sz_decimals": market.sz_decimals,
        "size_increment": str(rule.size_increment),
        "min_order_size": str(rule.min_order_size),
        "price_significant_figures": rule.max_price_significant_figures,
        "price_max_decimals": rule.max_price_decimals,
        "integer_price_always_valid": rule.integer_price_always_valid,
        "min_notional": str(rule.min_notional),
        "max_leverage": rule.max_leverage,
        "margin_mode": market.margin_mode,
    }


def _price_rule(market: VenueMarket) -> str:
    rule = market.rule
    return f"{rule.max_price_significant_figures} sig. figures, <= {rule.max_price_decimals} decimals"


def _group_title(kind: str, dex: str | None, markets: Sequence[VenueMarket]) -> str:
    count = f"{len(markets)} pair{'s' if len(markets) != 1 else ''}"
    if kind == "spot":
        return f"spot ({count})"
    collateral = markets[0].collateral if markets else None
    settles = f", collateral {collateral}" if collateral else ""
    where = "main perp dex" if dex == "" else f"perp dex {dex}"
    return f"{where} ({count}{settles})"


def _table(kind: str, dex: str | None, markets: Sequence[VenueMarket]) -> Table:
    table = Table(title=_group_title(kind, dex, markets))
    spot = kind == "spot"
    columns = ["pair", "coin", "asset"] + (["base", "quote"] if spot else [])
    columns += ["size step", "price rule", "min value"] + ([] if spot else ["max leverage", "margin"])
    for col in columns:
        table.add_column(
            col, justify="right" if col in ("asset", "size step", "min value", "max leverage") else "left"
        )
    for m in markets:
        row = [m.trading_pair, m.coin, str(m.asset)] + ([m.base, m.quote] if spot else [])
        row += [
            str(m.rule.size_increment),
            _price_rule(m),
            f"{m.rule.min_notional} {m.quote if spot else 'USD'}",
        ]
        if not spot:
            row += [f"{m.max_leverage}x" if m.max_leverage is not None else "-", m.margin_mode or "-"]
        table.add_row(*row)
    return table


def markets_command(
    dex: Annotated[
        list[str] | None,
        typer.Option(
            "--dex",
            help='Only the perps of this dex ("" the main dex, or a builder dex such as xyz); repeatable. '
            "Spot is then left out unless --spot.",
        ),
    ] = None,
    spot: Annotated[
        bool, typer.Option("--spot", help="Only spot pairs (with --dex: those dexes and spot).")
    ] = False,
    network: NetworkOpt = "testnet",
    as_json: JsonOpt = False,
) -> None:
    """List every pair the venue offers with its rules: the main perp dex, each builder (HIP-3) dex, spot.

    No key needed (public information). --json prints {"network", "markets": [{"trading_pair", "kind"
    ("perp"/"spot"), "dex", "coin", "asset", "base", "quote", "collateral", "sz_decimals", "size_increment",
    "min_order_size", "price_significant_figures", "price_max_decimals", "min_notional", "max_leverage",
    "margin_mode" ("cross", "isolated-only", "strict-isolated"; null for spot)}]}.
    """
    from wingbeat.hyperliquid.constants import shown

    rest_url, _is_mainnet = network_rest_url(network)
    for name in dex or []:
        if name != name.strip() or len(name) > 50 or any(ch in name for ch in ":/ "):
            fail_usage(f'--dex must be "" (the main dex) or a builder dex name such as xyz, got {shown(name)}')
    dexes: list[str] | None
    if dex is not None:
        dexes, with_spot = list(dex), spot
    elif spot:
        dexes, with_spot = [], True
    else:
        dexes, with_spot = None, True

    async def main() -> tuple[VenueMarket, ...]:
        from wingbeat.hyperliquid.markets import venue_markets
        from wingbeat.hyperliquid.rest import HyperliquidRestClient

        async with HyperliquidRestClient(rest_url) as rest:
            return await venue_markets(rest, dexes=dexes, spot=with_spot)

    listed: tuple[VenueMarket, ...] = cli_helpers().run(main())
    if as_json:
        document = {"network": network.strip(), "markets": [market_document(m) for m in listed]}
        print_json(document)
        return
    groups: dict[tuple[str, str | None], list[VenueMarket]] = {}
    for m in listed:
        groups.setdefault((m.kind, m.dex), []).append(m)
    if not groups:
        _out.print("the venue lists no markets there", markup=False)
    for (kind, where), members in groups.items():
        _out.print(_table(kind, where, members))
