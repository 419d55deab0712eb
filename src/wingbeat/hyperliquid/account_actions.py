"""Actions on a Hyperliquid account that are not orders: transfers, withdrawals, agents, builder fees, sub-accounts.

:class:`AccountActions` has one async method per ``/exchange`` action, with typed inputs (``Decimal`` amounts,
``0x`` addresses) checked before anything is signed: bad input raises :class:`InvalidOrderError` (a
``ValueError``) and nothing is sent. Each request has the REST client's deadline; the venue's refusal
(``{"status":"err"}``) raises :class:`ExchangeRejection` with its text; a transport fault or timeout leaves the
outcome unknown (look at the ledger, ``userNonFundingLedgerUpdates``, before sending again: a new request has a
new nonce and would move the money twice).

Two kinds of signature, as in the official SDK (``hyperliquid/exchange.py``):

- user-signed (EIP-712 ``HyperliquidTransaction:*``, with ``signatureChainId`` and ``hyperliquidChain`` in the
  action): ``usdSend``, ``spotSend``, ``withdraw3``, ``usdClassTransfer``, ``sendAsset``, ``approveAgent``,
  ``approveBuilderFee``. Hyperliquid takes them only from the account's own key (its docs: approveBuilderFee
  "must be signed by the user's main wallet, not an agent/API wallet"): a :class:`Signer` that is an API wallet
  (``Signer.is_agent``) is refused locally with :class:`AuthenticationError`.
- L1 (the phantom-agent signature of orders, an agent may sign them): ``createSubAccount``,
  ``subAccountTransfer``, ``subAccountSpotTransfer``, ``vaultTransfer``; amounts in micro-USDC (``usd``).

Standalone: ``async with AccountActions(Signer.from_env(), "testnet") as actions: await actions.usd_send(...)``;
a connector hands out one sharing its REST client (``connector.account_actions``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Self

from wingbeat.core.errors import AuthenticationError, ExchangeRejection, InvalidOrderError
from wingbeat.hyperliquid.account_check import fetch_user_role
from wingbeat.hyperliquid.constants import action_weight, looks_like_private_key, resolve_network
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas_fields import MalformedMessageError, arr, obj, req_int, req_str
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.signing import (
    Signature,
    sign_agent,
    sign_approve_builder_fee,
    sign_l1_action,
    sign_send_asset_action,
    sign_spot_transfer_action,
    sign_usd_class_transfer_action,
    sign_usd_transfer_action,
    sign_withdraw_from_bridge_action,
)

__all__ = [
    "MAX_BUILDER_FEE_PERP",
    "MAX_BUILDER_FEE_SPOT",
    "PERP_DEX",
    "SPOT_DEX",
    "USDC_DECIMALS",
    "WITHDRAWAL_FEE",
    "AccountActions",
    "SentAction",
    "SpotToken",
    "builder_fee_percent",
    "check_address",
    "check_amount",
    "check_token",
]

USDC_DECIMALS: Final = 6
"""Decimals of perp USDC: ``usd`` fields are micro-USDC integers (the SDK's ``float_to_usd_int``)."""
WITHDRAWAL_FEE: Final = Decimal(1)
"""Hyperliquid's flat bridge withdrawal fee, USDC (its docs: withdrawals cost 1 USDC)."""
MAX_BUILDER_FEE_PERP: Final = 100
"""Largest builder fee on a perp order, tenths of a basis point (0.1 %, Hyperliquid's builder-code docs)."""
MAX_BUILDER_FEE_SPOT: Final = 1000
"""Largest builder fee on a spot order, tenths of a basis point (1 %); also the largest approval."""
PERP_DEX: Final = ""
"""``sendAsset``'s name of the main perp dex."""
SPOT_DEX: Final = "spot"
"""``sendAsset``'s name of the spot balance."""

_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_TOKEN: Final = re.compile(r"([A-Za-z0-9_.\-]{1,20}):(0x[0-9a-fA-F]{32})")
# CHOSEN: HIP-3 dex names are short lowercase words on Hyperliquid ("xyz", "flx"); no documented grammar
_DEX: Final = re.compile(r"[a-z0-9]{1,16}")
_SUB_ACCOUNT_NAME_MAX: Final = 16  # CHOSEN: Hyperliquid's UI caps names; no documented limit for the API


@dataclass(frozen=True, slots=True, kw_only=True)
class SentAction:
    """An action the venue accepted: its ``type``, the ``nonce`` it was signed with, the ``action`` exactly as
    posted (the signature covers it) and the ``response`` of the ``{"status":"ok"}`` reply."""

    type: str
    nonce: int
    action: Mapping[str, Any]
    response: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotToken:
    """A spot token from ``spotMeta``: ``wire`` is the ``"NAME:0xTOKENID"`` form spotSend and sendAsset take."""

    name: str
    index: int
    token_id: str
    sz_decimals: int
    wei_decimals: int

    @property
    def wire(self) -> str:
        """``"NAME:0xTOKENID"``."""
        return f"{self.name}:{self.token_id}"


# ------------------------------------------------------------------------------------------- validation


def check_address(value: object, field: str) -> str:
    """``value`` as a lowercase ``0x`` address; :class:`InvalidOrderError` otherwise.

    A private key typed where an address belongs is named as such and never shown.
    """
    if isinstance(value, str) and _ADDRESS.fullmatch(value):
        return value.lower()
    if isinstance(value, str) and looks_like_private_key(value):
        raise InvalidOrderError(
            f"{field} looks like a private key (64 hex digits; not shown), not an address: an address is "
            "'0x' followed by 40 hex digits. Never type a private key where an address goes"
        )
    shown = repr(value[:50]) if isinstance(value, str) else type(value).__name__
    raise InvalidOrderError(f"{field} must be '0x' followed by 40 hex digits, got {shown}")


def check_amount(value: object, field: str, decimals: int, *, unit: str = "") -> str:
    """``value`` (a positive ``Decimal`` or ``int`` with at most ``decimals`` decimals) as a wire string
    (no exponent, no trailing zeros); :class:`InvalidOrderError` otherwise. Floats are refused: money is exact."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidOrderError(f"{field} must be a Decimal (or int), got {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise InvalidOrderError(f"{field} must be a positive amount, got {value}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        what = f" {unit}" if unit else ""
        raise InvalidOrderError(f"{field} {amount}{what} has more than {decimals} decimals")
    if amount >= Decimal(10) ** 15:
        raise InvalidOrderError(f"{field} {amount} is too large")
    whole, _, frac = f"{amount:f}".partition(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def check_token(value: object) -> str:
    """``value`` as spotSend / sendAsset take a token: ``"NAME:0xTOKENID"`` (32 hex digits of token id)."""
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        name, token_id = value.split(":")
        return f"{name}:{token_id.lower()}"
    shown = repr(value[:50]) if isinstance(value, str) else type(value).__name__
    raise InvalidOrderError(
        f"token must be 'NAME:0xTOKENID' as spotMeta lists it (e.g. 'USDC:0x6d1e7cde53ba9467b783cb7c530ce054'), "
        f"got {shown}: AccountActions.spot_token(NAME) looks it up"
    )


def _check_dex(value: object, field: str) -> str:
    if value in (PERP_DEX, SPOT_DEX) or (isinstance(value, str) and _DEX.fullmatch(value)):
        return str(value)
    shown = repr(value[:30]) if isinstance(value, str) else type(value).__name__
    raise InvalidOrderError(
        f'{field} must be "" (the main perp dex), "spot" or a builder dex name, got {shown}'
    )


def builder_fee_percent(tenths_bp: int) -> str:
    """``approveBuilderFee``'s ``maxFeeRate`` for a fee in tenths of a basis point: 10 -> ``"0.01%"``."""
    if (
        isinstance(tenths_bp, bool)
        or not isinstance(tenths_bp, int)
        or not 0 <= tenths_bp <= MAX_BUILDER_FEE_SPOT
    ):
        raise InvalidOrderError(
            f"builder fee must be an integer from 0 to {MAX_BUILDER_FEE_SPOT} tenths of a basis point "
            f"(1 %), got {tenths_bp!r}"
        )
    return f"{(Decimal(tenths_bp) / 1000).normalize():f}%"


# ------------------------------------------------------------------------------------------- sending

_UserSign = Callable[[Any, MutableMapping[str, Any], bool], Signature]


class AccountActions:
    """Sends the account actions of ``signer``'s account to ``network`` (``"testnet"``, ``"mainnet"`` or a URL).

    ``rest`` shares an open client (a connector's; it is then not closed here); otherwise one is opened with
    ``timeout`` seconds per request and closed by :meth:`close` / ``async with``. Methods return a
    :class:`SentAction` once the venue accepted; see the module docstring for errors.
    """

    def __init__(
        self,
        signer: Signer,
        network: str = "testnet",
        *,
        rest: HyperliquidRestClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        rest_url, _ws, self._is_mainnet = resolve_network(network)
        self._signer = signer
        self._owns_rest = rest is None
        self._rest = rest if rest is not None else HyperliquidRestClient(rest_url, timeout=timeout)
        self._spot_tokens: dict[str, SpotToken] | None = None

    def __repr__(self) -> str:
        return f"AccountActions(account={self.account}, rest={self._rest!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the REST client if this object opened it."""
        if self._owns_rest:
            await self._rest.close()

    @property
    def rest(self) -> HyperliquidRestClient:
        """The REST client the actions go through."""
        return self._rest

    @property
    def account(self) -> str:
        """The account acted on (lowercase address)."""
        return self._signer.account_address

    @property
    def is_mainnet(self) -> bool:
        """Whether actions are signed for mainnet."""
        return self._is_mainnet

    # -- perp USDC -------------------------------------------------------------------------------

    async def usd_send(self, destination: str, amount: Decimal) -> SentAction:
        """``usdSend``: ``amount`` perp USDC to ``destination``'s perp balance (user-signed)."""
        action = {"destination": check_address(destination, "destination"),
                  "amount": check_amount(amount, "amount", USDC_DECIMALS, unit="USDC")}  # fmt: skip
        return await self._user_signed("usdSend", action, "time", sign_usd_transfer_action)

    async def withdraw(self, destination: str, amount: Decimal) -> SentAction:
        """``withdraw3``: ``amount`` perp USDC leaves Hyperliquid for ``destination`` on Arbitrum, which receives
        it less the 1 USDC fee (user-signed; the amount must exceed the fee)."""
        wire = check_amount(amount, "amount", USDC_DECIMALS, unit="USDC")
        if Decimal(wire) <= WITHDRAWAL_FEE:
            raise InvalidOrderError(
                f"a withdrawal costs a {WITHDRAWAL_FEE} USDC fee: the amount must exceed it, got {wire} USDC"
            )
        action = {"destination": check_address(destination, "destination"), "amount": wire}
        return await self._user_signed("withdraw3", action, "time", sign_withdraw_from_bridge_action)

    async def usd_class_transfer(
        self, amount: Decimal, *, to_perp: bool, sub_account: str | None = None
    ) -> SentAction:
        """``usdClassTransfer``: ``amount`` USDC from perp to spot (``to_perp=False``) or spot to perp
        (user-signed). ``sub_account``: move that sub-account's USDC instead (the master signs)."""
        if not isinstance(to_perp, bool):
            raise InvalidOrderError(f"to_perp must be a bool, got {to_perp!r}")
        wire = check_amount(amount, "amount", USDC_DECIMALS, unit="USDC")
        if sub_account is not None:  # the SDK's form for a vault_address: "<amount> subaccount:<address>"
            wire += f" subaccount:{check_address(sub_account, 'sub_account')}"
        action = {"amount": wire, "toPerp": to_perp}
        return await self._user_signed("usdClassTransfer", action, "nonce", sign_usd_class_transfer_action)

    # -- spot tokens and dexes -------------------------------------------------------------------

    async def spot_send(self, destination: str, token: str, amount: Decimal) -> SentAction:
        """``spotSend``: ``amount`` of spot ``token`` (``"NAME:0xTOKENID"`` or a name ``spotMeta`` lists) to ``destination``'s spot balance
        (user-signed). The amount's decimals are checked against the token's ``weiDecimals`` when
        ``spotMeta`` lists it."""
        destination = check_address(destination, "destination")
        wire_token, decimals = await self._token(token)
        wire = check_amount(amount, "amount", decimals, unit=wire_token.split(":")[0])
        action = {
            "destination": destination,
            "token": wire_token,
            "amount": wire,
        }
        return await self._user_signed("spotSend", action, "time", sign_spot_transfer_action)

    async def send_asset(
        self,
        destination: str,
        token: str,
        amount: Decimal,
        *,
        source_dex: str,
        destination_dex: str,
        from_sub_account: str | None = None,
    ) -> SentAction:
        """``sendAsset``: ``amount`` of ``token`` (``"NAME:0xTOKENID"`` or a listed name) from this account's ``source_dex`` balance to ``destination``'s
        ``destination_dex`` balance (user-signed). Dexes: ``""`` the main perp dex, ``"spot"``, or a builder
        (HIP-3) dex name listed by ``perpDexs``; to or from a perp dex the token is its collateral.
        ``from_sub_account``: send from that sub-account of this account."""
        destination = check_address(destination, "destination")
        sub = "" if from_sub_account is None else check_address(from_sub_account, "from_sub_account")
        src, dst = _check_dex(source_dex, "source_dex"), _check_dex(destination_dex, "destination_dex")
        await self._check_dexes_listed(src, dst)
        wire_token, decimals = await self._token(token)
        if not src == dst == SPOT_DEX:  # CHOSEN: perp balances are 6-decimal USDC
            decimals = min(USDC_DECIMALS, decimals)
        action = {
            "destination": destination,
            "sourceDex": src,
            "destinationDex": dst,
            "token": wire_token,
            "amount": check_amount(amount, "amount", decimals, unit=wire_token.split(":")[0]),
            "fromSubAccount": sub,
        }
        return await self._user_signed("sendAsset", action, "nonce", sign_send_asset_action)

    async def spot_token(self, name: str) -> SpotToken:
        """The spot token called ``name`` (e.g. ``"PURR"``; case-insensitive) or given as ``"NAME:0xID"``,
        from ``spotMeta`` (read once); :class:`InvalidOrderError` when the venue lists no such token."""
        tokens = await self._tokens()
        key = name.split(":")[0].upper() if isinstance(name, str) else ""
        found = tokens.get(key)
        if found is None or (":" in name and found.wire != check_token(name)):
            listed = ", ".join(sorted(t.name for t in tokens.values())[:20]) or "none"
            shown = (
                "a value that looks like a private key" if looks_like_private_key(str(name)) else repr(name)
            )
            raise InvalidOrderError(f"the venue lists no spot token {shown} (spotMeta has: {listed})")
        return found

    async def perp_dexs(self) -> tuple[str, ...]:
        """Names of the perp dexes (``perpDexs``): ``""`` for the main dex, then the builder dexes."""
        raw = arr(await self._rest.info({"type": "perpDexs"}), "perpDexs")
        names = [PERP_DEX]
        for i, item in enumerate(raw):
            if item is not None:
                names.append(req_str(obj(item, f"perpDexs[{i}]"), "name", f"perpDexs[{i}]"))
        return tuple(names)

    # -- agents and builder fees -----------------------------------------------------------------

    async def approve_agent(self, agent_address: str, name: str | None = None) -> SentAction:
        """``approveAgent``: ``agent_address`` (an API wallet whose key you hold) may trade this account
        (user-signed). Unnamed: it replaces the previous unnamed agent; named ones are kept (a few per
        account, each name once)."""
        if name is not None and (
            not isinstance(name, str) or not name.strip() or looks_like_private_key(name)
        ):
            raise InvalidOrderError("agent name must be a non-empty string (and never a key)")
        action = {"agentAddress": check_address(agent_address, "agent_address"), "agentName": name or ""}
        return await self._user_signed(
            "approveAgent", action, "nonce", sign_agent, drop_empty_agent_name=True
        )

    async def approve_builder_fee(self, builder: str, max_fee_tenths_bp: int) -> SentAction:
        """``approveBuilderFee``: ``builder`` may add up to ``max_fee_tenths_bp`` tenths of a basis point
        (10 = 1 bp = 0.01 %) to this account's orders; 0 revokes (user-signed). At most 1000 (1 %, the spot
        cap; perp orders are capped at 100 = 0.1 % whatever the approval)."""
        action = {
            "maxFeeRate": builder_fee_percent(max_fee_tenths_bp),
            "builder": check_address(builder, "builder"),
        }
        return await self._user_signed("approveBuilderFee", action, "nonce", sign_approve_builder_fee)

    async def max_builder_fee(self, builder: str, user: str | None = None) -> int:
        """The fee ``user`` (default: this account) approved for ``builder``, tenths of a basis point (0: none)."""
        body = {"type": "maxBuilderFee", "user": check_address(user or self.account, "user"),
                "builder": check_address(builder, "builder")}  # fmt: skip
        raw = await self._rest.info(body)
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise MalformedMessageError(
                f"maxBuilderFee: expected a non-negative integer, got {str(raw)[:80]}"
            )
        return raw

    # -- sub-accounts and vaults (L1) ------------------------------------------------------------

    async def create_sub_account(self, name: str) -> str:
        """``createSubAccount``: a new sub-account called ``name``; returns its address."""
        if not isinstance(name, str) or not name.strip() or len(name) > _SUB_ACCOUNT_NAME_MAX:
            raise InvalidOrderError(f"sub-account name must be 1 to {_SUB_ACCOUNT_NAME_MAX} characters")
        if looks_like_private_key(name):
            raise InvalidOrderError("sub-account name looks like a private key (not shown)")
        sent = await self._l1({"type": "createSubAccount", "name": name})
        data = sent.response.get("data")
        if not isinstance(data, str) or not _ADDRESS.fullmatch(data):
            raise MalformedMessageError(f"createSubAccount: expected the new address, got {str(data)[:80]}")
        return data.lower()

    async def sub_account_transfer(
        self, sub_account: str, amount: Decimal, *, is_deposit: bool
    ) -> SentAction:
        """``subAccountTransfer``: perp USDC from this account to ``sub_account`` (``is_deposit``) or back."""
        action = {"type": "subAccountTransfer", "subAccountUser": check_address(sub_account, "sub_account"),
                  "isDeposit": _check_bool(is_deposit, "is_deposit"), "usd": _micro_usd(amount)}  # fmt: skip
        return await self._l1(action)

    async def sub_account_spot_transfer(
        self, sub_account: str, token: str, amount: Decimal, *, is_deposit: bool
    ) -> SentAction:
        """``subAccountSpotTransfer``: a spot ``token`` (``"NAME:0xTOKENID"`` or a listed name) from this account to
        ``sub_account`` (``is_deposit``) or back."""
        sub_account = check_address(sub_account, "sub_account")
        wire_token, decimals = await self._token(token)
        wire = check_amount(amount, "amount", decimals, unit=wire_token.split(":")[0])
        action = {"type": "subAccountSpotTransfer", "subAccountUser": check_address(sub_account, "sub_account"),
                  "isDeposit": _check_bool(is_deposit, "is_deposit"), "token": wire_token, "amount": wire}  # fmt: skip
        return await self._l1(action)

    async def vault_transfer(self, vault: str, amount: Decimal, *, is_deposit: bool) -> SentAction:
        """``vaultTransfer``: deposit perp USDC into ``vault`` (``is_deposit``) or withdraw it."""
        action = {"type": "vaultTransfer", "vaultAddress": check_address(vault, "vault"),
                  "isDeposit": _check_bool(is_deposit, "is_deposit"), "usd": _micro_usd(amount)}  # fmt: skip
        return await self._l1(action)

    # -- internals -------------------------------------------------------------------------------

    def _require_master(self, kind: str) -> None:
        signer = self._signer
        if signer.is_agent:
            raise AuthenticationError(
                f"{kind} must be signed by the account's own key: {signer.address} is an API wallet (agent) of "
                f"{signer.account_address}, and Hyperliquid takes user-signed actions (transfers, withdrawals, "
                "approveAgent, approveBuilderFee) only from the account itself. Use the account's key"
            )

    async def _user_signed(
        self,
        kind: str,
        fields: Mapping[str, Any],
        nonce_field: str,
        sign: _UserSign,
        *,
        drop_empty_agent_name: bool = False,
    ) -> SentAction:
        self._require_master(kind)
        nonce = self._signer.next_nonce()
        action: dict[str, Any] = {"type": kind, **fields, nonce_field: nonce}
        signature = sign(self._signer, action, self._is_mainnet)  # adds signatureChainId, hyperliquidChain
        if drop_empty_agent_name and not action["agentName"]:
            del action["agentName"]  # as the SDK: an unnamed agent is signed with "" and posted without it
        try:
            return await self._post(kind, action, nonce, signature)
        except ExchangeRejection as exc:
            if exc.code != "unknown_signer":
                raise
            reason = await self._explain_unknown_signer(exc)
        raise ExchangeRejection(reason, code="unknown_signer")

    async def _explain_unknown_signer(self, exc: ExchangeRejection) -> str:
        """The venue does not know the signer: say so plainly when the key is some account's agent."""
        try:
            role = await fetch_user_role(self._rest, self._signer.address)
        except Exception:  # the explanation is a courtesy: the venue's own text stands
            return exc.reason
        if role.role == "agent":
            return (
                f"{exc.reason} ({self._signer.address} is an API wallet (agent) of {role.master}: user-signed "
                "actions need the account's own key)"
            )
        if role.role == "missing":
            return f"{exc.reason} (account {self._signer.address} has never been funded)"
        return exc.reason

    async def _l1(self, action: dict[str, Any]) -> SentAction:
        nonce = self._signer.next_nonce()
        # the SDK signs these with no vault address and posts vaultAddress null
        signature = sign_l1_action(self._signer, action, None, nonce, None, self._is_mainnet)
        return await self._post(action["type"], action, nonce, signature)

    async def _post(self, kind: str, action: dict[str, Any], nonce: int, signature: Signature) -> SentAction:
        payload = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None,
                   "expiresAfter": None}  # fmt: skip
        reply = await self._rest.exchange(payload, weight=action_weight(1))  # raises ExchangeRejection on err
        response = reply.get("response")
        if reply.get("status") != "ok" or not isinstance(response, dict):
            raise MalformedMessageError(f"{kind}: unexpected reply {str(reply)[:200]}")
        return SentAction(type=kind, nonce=nonce, action=action, response=response)

    async def _tokens(self) -> dict[str, SpotToken]:
        if self._spot_tokens is None:
            raw = obj(await self._rest.info({"type": "spotMeta"}), "spotMeta")
            tokens: dict[str, SpotToken] = {}
            for i, item in enumerate(arr(raw.get("tokens", []), "spotMeta.tokens")):
                what = f"spotMeta.tokens[{i}]"
                d = obj(item, what)
                token = SpotToken(name=req_str(d, "name", what), index=req_int(d, "index", what),
                                  token_id=req_str(d, "tokenId", what).lower(),
                                  sz_decimals=req_int(d, "szDecimals", what),
                                  wei_decimals=req_int(d, "weiDecimals", what))  # fmt: skip
                tokens.setdefault(token.name.upper(), token)
            self._spot_tokens = tokens
        return self._spot_tokens

    async def _token(self, token: str) -> tuple[str, int]:
        """(``"NAME:0xTOKENID"``, its decimals) of ``token``, given so or by name (looked up in ``spotMeta``).

        A full form that ``spotMeta`` does not list passes with 8 decimals (the most a wire number carries):
        the venue decides; one that names a listed token with another id is refused.
        """
        if isinstance(token, str) and ":" not in token:
            found = await self.spot_token(token)
            return found.wire, found.wei_decimals
        wire_token = check_token(token)
        name = wire_token.split(":")[0]
        listed = (await self._tokens()).get(name.upper())
        if listed is None:
            return wire_token, 8
        if listed.wire != wire_token:
            raise InvalidOrderError(f"token {wire_token}: the venue lists {name} as {listed.wire}")
        return wire_token, listed.wei_decimals

    async def _check_dexes_listed(self, *dexes: str) -> None:
        builder_dexes = [d for d in dexes if d not in (PERP_DEX, SPOT_DEX)]
        if not builder_dexes:
            return
        listed = await self.perp_dexs()
        for dex in builder_dexes:
            if dex not in listed:
                names = ", ".join(repr(n) for n in listed)
                raise InvalidOrderError(
                    f"the venue lists no perp dex {dex!r} (perpDexs: {names}, and 'spot')"
                )


def _check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidOrderError(f"{field} must be a bool, got {value!r}")
    return value


def _micro_usd(amount: object) -> int:
    """A USDC amount as the L1 ``usd`` integer (x 1e6), checked like every amount."""
    return int(Decimal(check_amount(amount, "amount", USDC_DECIMALS, unit="USDC")).scaleb(USDC_DECIMALS))
