"""wingbeat.hyperliquid: Hyperliquid wire formats, signing, clients, the shared account layer and
the perpetual and spot connectors.

Names are exported lazily (PEP 562) so that importing one submodule, e.g. ``wingbeat.hyperliquid.signing``
on a server's hot path, does not drag in the networking stack. To export a new name, add one line to
``_EXPORTS`` (and the matching import under ``TYPE_CHECKING`` for type checkers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wingbeat._exports import resolve_export

if TYPE_CHECKING:
    from wingbeat.hyperliquid.account_actions import AccountActions as AccountActions
    from wingbeat.hyperliquid.account_actions import SentAction as SentAction
    from wingbeat.hyperliquid.base_connector import HyperliquidConfig as HyperliquidConfig
    from wingbeat.hyperliquid.base_connector import HyperliquidConnectorBase as HyperliquidConnectorBase
    from wingbeat.hyperliquid.bracket_orders import BracketOrder as BracketOrder
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector as HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.signer import NonceManager as NonceManager
    from wingbeat.hyperliquid.signer import Signer as Signer
    from wingbeat.hyperliquid.signing import SignatureError as SignatureError
    from wingbeat.hyperliquid.signing import action_hash as action_hash
    from wingbeat.hyperliquid.signing import recover_signer as recover_signer
    from wingbeat.hyperliquid.signing import sign_agent as sign_agent
    from wingbeat.hyperliquid.signing import sign_l1_action as sign_l1_action
    from wingbeat.hyperliquid.signing import sign_usd_class_transfer_action as sign_usd_class_transfer_action
    from wingbeat.hyperliquid.signing import sign_usd_transfer_action as sign_usd_transfer_action
    from wingbeat.hyperliquid.signing import (
        sign_withdraw_from_bridge_action as sign_withdraw_from_bridge_action,
    )
    from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector as HyperliquidSpotConnector
    from wingbeat.hyperliquid.spot_markets import SpotMarkets as SpotMarkets
    from wingbeat.hyperliquid.wire import Cloid as Cloid
    from wingbeat.hyperliquid.wire import OrderSpec as OrderSpec
    from wingbeat.hyperliquid.wire import float_to_wire as float_to_wire
    from wingbeat.hyperliquid.wire import perp_trading_rule as perp_trading_rule
    from wingbeat.hyperliquid.wire import spot_trading_rule as spot_trading_rule

_EXPORTS: dict[str, str] = {
    "AccountActions": "wingbeat.hyperliquid.account_actions",
    "SentAction": "wingbeat.hyperliquid.account_actions",
    "HyperliquidConfig": "wingbeat.hyperliquid.base_connector",
    "HyperliquidConnectorBase": "wingbeat.hyperliquid.base_connector",
    "BracketOrder": "wingbeat.hyperliquid.bracket_orders",
    "HyperliquidPerpetualConnector": "wingbeat.hyperliquid.connector",
    "HyperliquidSpotConnector": "wingbeat.hyperliquid.spot_connector",
    "SpotMarkets": "wingbeat.hyperliquid.spot_markets",
    "Cloid": "wingbeat.hyperliquid.wire",
    "OrderSpec": "wingbeat.hyperliquid.wire",
    "float_to_wire": "wingbeat.hyperliquid.wire",
    "perp_trading_rule": "wingbeat.hyperliquid.wire",
    "spot_trading_rule": "wingbeat.hyperliquid.wire",
    "SignatureError": "wingbeat.hyperliquid.signing",
    "action_hash": "wingbeat.hyperliquid.signing",
    "recover_signer": "wingbeat.hyperliquid.signing",
    "sign_agent": "wingbeat.hyperliquid.signing",
    "sign_l1_action": "wingbeat.hyperliquid.signing",
    "sign_usd_class_transfer_action": "wingbeat.hyperliquid.signing",
    "sign_usd_transfer_action": "wingbeat.hyperliquid.signing",
    "sign_withdraw_from_bridge_action": "wingbeat.hyperliquid.signing",
    "NonceManager": "wingbeat.hyperliquid.signer",
    "Signer": "wingbeat.hyperliquid.signer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    return resolve_export(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
