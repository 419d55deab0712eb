"""``wingbeat transfer`` and ``wingbeat approve-builder-fee``: account actions from a shell.

``transfer`` reads as a sentence: ``wingbeat transfer 100 --to spot`` (perp -> spot USDC, usdClassTransfer),
``--to perp`` (back), ``--to 0xADDR`` (perp USDC to an address, usdSend), ``--to 0xADDR --token PURR`` (a spot
token from the spot balance, spotSend), ``--from-dex "" --to-dex xyz [--to 0xADDR]`` (between perp dexes or
spot, sendAsset; the token defaults to USDC). Inputs are checked before anything is signed: usage errors exit
2, everything else (a refusal, an agent key, an unreachable venue) is one stderr line and exit 1 (the CLI's
``run``). A private key typed where an address or amount goes is named, never echoed.

Added to the app by ``wingbeat.engine.cli`` through `register`; the app lends its helpers through
`cli_options.cli_helpers`, so this module never imports ``cli`` back; the Hyperliquid modules are imported inside the commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
from wingbeat.engine.cli_output import make_console, print_json

if TYPE_CHECKING:
    from wingbeat.hyperliquid.account_actions import AccountActions, SentAction

__all__ = ["TransferPlan", "plan_transfer", "register"]

_out = make_console()
_err = make_console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``transfer`` and ``approve-builder-fee`` to ``app`` (they run through the helpers the app lent,
    `cli_helpers`)."""
    app.command("transfer")(transfer_command)
    app.command("approve-builder-fee")(approve_builder_fee_command)


# -- what a transfer command means ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferPlan:
    """One transfer as the options describe it: ``kind`` is ``class`` (usdClassTransfer), ``send`` (usdSend),
    ``spot`` (spotSend) or ``dex`` (sendAsset); ``destination`` None means the account itself."""

    kind: str
    amount: Decimal
    to_perp: bool = False
    destination: str | None = None
    token: str | None = None
    from_dex: str = ""
    to_dex: str = ""


def plan_transfer(
    amount_text: str, to: str | None, token: str | None, from_dex: str | None, to_dex: str | None
) -> TransferPlan:
    """The transfer the options ask for; ``ValueError`` with a usage message when they do not make one."""
    from wingbeat.hyperliquid.constants import shown

    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise ValueError(f"AMOUNT must be a number such as 100 or 2.5, got {shown(amount_text)}") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"AMOUNT must be positive, got {shown(amount_text)}")
    side = to.lower() if to is not None and to.lower() in ("spot", "perp") else None
    if from_dex is not None or to_dex is not None:
        if side is not None:
            raise ValueError(
                f"--to {side} moves between your own perp and spot balances; between dexes say "
                f'--from-dex and --to-dex (e.g. --from-dex "" --to-dex spot)'
            )
        source, target = from_dex or "", to_dex or ""
        if source == target and to is None:
            raise ValueError(f"--from-dex and --to-dex are both {source!r}: nothing would move")
        return TransferPlan(
            kind="dex", amount=amount, destination=to, token=token, from_dex=source, to_dex=target
        )
    if to is None:
        raise ValueError(
            "say where to: --to spot, --to perp, --to 0xADDRESS, or --from-dex/--to-dex (see wingbeat transfer --help)"
        )
    if side is not None:
        if token is not None and token.upper() != "USDC":
            raise ValueError(
                f"--to {side} moves USDC only; to send a spot token give --to 0xADDRESS --token NAME"
            )
        return TransferPlan(kind="class", amount=amount, to_perp=side == "perp")
    if token is not None:
        return TransferPlan(kind="spot", amount=amount, destination=to, token=token)
    return TransferPlan(kind="send", amount=amount, destination=to)


async def _carry_out(actions: AccountActions, plan: TransferPlan) -> tuple[SentAction, str]:
    """Send the planned action; return it and the sentence that says what was done."""
    me = actions.account
    if plan.kind == "class":
        sent = await actions.usd_class_transfer(plan.amount, to_perp=plan.to_perp)
        direction = "spot to perp" if plan.to_perp else "perp to spot"
        return sent, f"moved {plan.amount} USDC from {direction} on {me}"
    if plan.kind == "send":
        assert plan.destination is not None
        sent = await actions.usd_send(plan.destination, plan.amount)
        return sent, f"sent {plan.amount} USDC from the perp balance of {me} to {sent.action['destination']}"
    token = plan.token or "USDC"
    if plan.kind == "spot":
        assert plan.destination is not None
        sent = await actions.spot_send(plan.destination, token, plan.amount)
        name, dest = sent.action["token"].split(":")[0], sent.action["destination"]
        return sent, f"sent {plan.amount} {name} from the spot balance of {me} to {dest}"
    sent = await actions.send_asset(plan.destination or me, token, plan.amount, source_dex=plan.from_dex,
                                    destination_dex=plan.to_dex)  # fmt: skip
    name, dest = sent.action["token"].split(":")[0], sent.action["destination"]
    whose = "" if dest == me else f" of {dest}"
    source, target = _dex_name(plan.from_dex), _dex_name(plan.to_dex)
    return sent, f"moved {plan.amount} {name} from {source} of {me} to {target}{whose}"


def _dex_name(dex: str) -> str:
    return "the main perp dex" if dex == "" else "spot" if dex == "spot" else f"perp dex {dex!r}"


def _document(sent: SentAction, account: str, message: str) -> dict[str, Any]:
    action = {k: v for k, v in sent.action.items() if k not in ("signatureChainId", "hyperliquidChain")}
    return {"account": account, "action": sent.type, "nonce": sent.nonce, "done": message, "posted": action,
            "response": dict(sent.response)}  # fmt: skip


def _network(network: str, mainnet: bool) -> None:
    _rest_url, is_mainnet = network_rest_url(network)
    if is_mainnet and not mainnet:
        fail_usage("this moves real money on mainnet: add --mainnet")


# -- commands ---------------------------------------------------------------------------------------


def transfer_command(
    amount: Annotated[str, typer.Argument(help="How much, e.g. 100 or 2.5 (USDC unless --token).")],
    to: Annotated[
        str | None,
        typer.Option("--to", help='"spot" or "perp" (your own balances), or a 0x address to send to.'),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Spot token by name (PURR, HYPE, USDC): sends from the spot balance."),
    ] = None,
    from_dex: Annotated[
        str | None,
        typer.Option(
            "--from-dex", help='Source of a sendAsset: "" (main perp dex), "spot" or a builder dex.'
        ),
    ] = None,
    to_dex: Annotated[
        str | None,
        typer.Option(
            "--to-dex", help='Destination of a sendAsset: "" (main perp dex), "spot" or a builder dex.'
        ),
    ] = None,
    network: NetworkOpt = "testnet",
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    mainnet: MainnetOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Move USDC or a spot token: perp <-> spot (--to spot / --to perp), to an address (--to 0xADDR
    [--token NAME]), or between dexes (--from-dex "" --to-dex xyz [--to 0xADDR]).

    Signed by the account's own key (Hyperliquid refuses transfers signed by an API wallet). Prints what was
    done; --json prints {"account", "action", "nonce", "done", "posted", "response"}.
    """
    try:
        plan = plan_transfer(amount, to, token, from_dex, to_dex)
    except ValueError as exc:
        fail_usage(str(exc))
    _network(network, mainnet)
    cli = cli_helpers()
    signer = cli.signer(key_env, keystore, account)

    async def main() -> tuple[SentAction, str]:
        from wingbeat.hyperliquid.account_actions import AccountActions

        async with AccountActions(signer, network) as actions:
            with _err.status("sending..."):
                return await _carry_out(actions, plan)

    sent, message = cli.run(main())
    if as_json:
        print_json(_document(sent, signer.account_address, message))
    else:
        _out.print(message, markup=False)


def approve_builder_fee_command(
    builder: Annotated[str, typer.Argument(help="The builder's 0x address.")],
    max_fee: Annotated[
        str,
        typer.Argument(help="Largest fee it may add, in tenths of a basis point (10 = 0.01 %; 0 revokes)."),
    ],
    network: NetworkOpt = "testnet",
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    mainnet: MainnetOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Let BUILDER add up to MAX_FEE tenths of a basis point to the account's orders (approveBuilderFee).

    Needed before a connector with a builder code (HyperliquidConfig builder_address / builder_fee) can
    trade; signed by the account's own key. --json prints {"account", "action", "nonce", "done", "posted",
    "response", "max_builder_fee"}.
    """
    from wingbeat.hyperliquid.constants import shown

    if not max_fee.isdigit():
        fail_usage(
            f"MAX_FEE must be a whole number of tenths of a basis point (10 = 0.01 %), got {shown(max_fee)}"
        )
    tenths = int(max_fee)
    _network(network, mainnet)
    cli = cli_helpers()
    signer = cli.signer(key_env, keystore, account)

    async def main() -> tuple[SentAction, int]:
        from wingbeat.hyperliquid.account_actions import AccountActions

        async with AccountActions(signer, network) as actions:
            sent = await actions.approve_builder_fee(builder, tenths)
            return sent, await actions.max_builder_fee(builder)

    sent, approved = cli.run(main())
    builder_address = sent.action["builder"]
    message = (
        f"builder {builder_address} may now add up to {approved} tenths of a basis point "
        f"({sent.action['maxFeeRate']}) to the orders of {signer.account_address}"
    )
    if as_json:
        print_json({**_document(sent, signer.account_address, message), "max_builder_fee": approved})
    else:
        _out.print(message, markup=False)
