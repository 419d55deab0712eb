"""``wingbeat cancel-all``: cancel every open order of an account (or of a sub-account / vault it manages).

It talks to the venue directly (REST, one request each) rather than through a connector: it must see
and cancel every open order of the account, including orders placed by other programs or the web UI,
which a connector does not track.
"""

from __future__ import annotations

from dataclasses import dataclass

from wingbeat.hyperliquid.constants import action_weight
from wingbeat.hyperliquid.markets import venue_markets
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas_exchange import ErrorStatus, parse_exchange_reply
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import cancel_action


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReport:
    """Outcome of `cancel_all_open_orders`: how many were open, cancelled, and the refusals' texts."""

    open_orders: int
    cancelled: int
    errors: tuple[str, ...] = ()


async def cancel_all_open_orders(
    rest: HyperliquidRestClient, signer: Signer, *, is_mainnet: bool, vault: str | None = None
) -> CancelReport:
    """Cancel every open order of the signer's account in one signed batch: on the main perp dex, on every
    builder (HIP-3) dex (each lists only its own orders) and on spot. With ``vault`` (a lowercase address),
    those of that sub-account or vault instead, signed for it (the signer is its master or leader)."""
    account = vault or signer.account_address
    orders = list(await rest.open_orders(account))
    for dex in await rest.perp_dexs():
        orders += await rest.open_orders(account, dex.name)
    if not orders:
        return CancelReport(open_orders=0, cancelled=0)
    assets = {m.coin: m.asset for m in await venue_markets(rest)}
    cancels = [(assets[o.coin], o.oid) for o in orders if o.coin in assets]
    unknown = tuple(f"order {o.oid}: unknown coin {o.coin}" for o in orders if o.coin not in assets)
    if not cancels:
        return CancelReport(open_orders=len(orders), cancelled=0, errors=unknown)
    action = cancel_action(cancels)
    nonce = signer.next_nonce()
    signature = signer.sign_l1_action(action, nonce=nonce, vault_address=vault, is_mainnet=is_mainnet)
    raw = await rest.exchange({"action": action, "nonce": nonce, "signature": signature, "vaultAddress": vault},
                              weight=action_weight(len(cancels)))
    reply = parse_exchange_reply(raw)
    errors = unknown + tuple(s.message for s in reply.statuses if isinstance(s, ErrorStatus))
    return CancelReport(open_orders=len(orders), cancelled=len(cancels) - len(errors) + len(unknown),
                        errors=errors)
