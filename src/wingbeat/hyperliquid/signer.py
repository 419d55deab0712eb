"""Key custody and nonces: ``Signer`` holds a private key and signs digests; ``NonceManager`` issues nonces.

The key never leaves the ``Signer``: not in ``repr``/``str``, not in log lines, not in exception messages,
and a ``Signer`` refuses to be pickled or copied. An API (agent) wallet signs for a main account:
``address`` is the signing key's own address, ``account_address`` the account whose orders are traded.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import coincurve

from wingbeat.hyperliquid.signing import (
    Signature,
    SignatureError,
    address_from_public_key,
    parse_private_key,
    sign_l1_action,
    signature_from_recoverable,
)

__all__ = ["KEYSTORE_PASSWORD_ENV", "NonceManager", "Signer"]

KEYSTORE_PASSWORD_ENV = "WINGBEAT_KEYSTORE_PASSWORD"
"""Environment variable ``Signer.from_keystore`` reads the keystore password from when none is given."""

_log = logging.getLogger("wingbeat.hyperliquid.signer")


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NonceManager:
    """Strictly increasing millisecond nonces: the clock's time, or one more than the last nonce if the clock
    has not moved (or went back). Safe to share between asyncio tasks and threads; the clock is injectable.
    """

    __slots__ = ("_clock", "_last", "_lock")

    def __init__(self, clock: Callable[[], int] = _wall_clock_ms) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def next_nonce(self) -> int:
        """A nonce greater than every nonce handed out before."""
        now = self._clock()
        with self._lock:
            nonce = now if now > self._last else self._last + 1
            self._last = nonce
            return nonce

    def observe(self, nonce: int) -> None:
        """Record a nonce used elsewhere (e.g. by a previous run) so later nonces exceed it."""
        with self._lock:
            if nonce > self._last:
                self._last = nonce

    @property
    def last(self) -> int:
        """The last nonce handed out or observed (0 before any)."""
        return self._last


def _normalise_address(address: str, what: str) -> str:
    if not isinstance(address, str) or len(address) != 42 or address[:2] != "0x":
        raise SignatureError(f"{what} must be '0x' followed by 40 hex digits")
    try:
        bytes.fromhex(address[2:])
    except ValueError:
        raise SignatureError(f"{what} must be '0x' followed by 40 hex digits") from None
    return address.lower()


class Signer:
    """A private key that signs Hyperliquid actions, and the addresses it acts for.

    ``Signer(key_hex)`` trades its own account; ``Signer(agent_key, account_address=main)`` is an API wallet
    trading ``main``. Vault / subaccount trading passes ``vault_address`` when signing. Each signer owns a
    ``NonceManager`` (nonces are per signing key on Hyperliquid); inject one to control the clock.
    """

    __slots__ = ("_account_address", "_address", "_key", "nonces")

    def __init__(
        self,
        private_key: str | bytes,
        *,
        account_address: str | None = None,
        nonce_manager: NonceManager | None = None,
    ) -> None:
        self._key = coincurve.PrivateKey(parse_private_key(private_key))
        self._address = address_from_public_key(self._key.public_key)
        self._account_address = (
            self._address
            if account_address is None
            else _normalise_address(account_address, "account address")
        )
        self.nonces = nonce_manager if nonce_manager is not None else NonceManager()
        """This signer's nonce source."""

    @classmethod
    def from_env(cls, variable: str = "HL_PRIVATE_KEY", *, account_address: str | None = None) -> Signer:
        """Load the key from environment variable ``variable`` (hex, with or without ``0x``)."""
        value = os.environ.get(variable)
        if not value:
            raise SignatureError(f"environment variable {variable} is not set")
        try:
            return cls(value.strip(), account_address=account_address)
        except SignatureError as exc:
            raise SignatureError(f"environment variable {variable}: {exc}") from None

    @classmethod
    def from_keystore(
        cls, path: str | os.PathLike[str], password: str | None = None, *, account_address: str | None = None
    ) -> Signer:
        """Load the key from an encrypted Ethereum keystore (JSON v3) file.

        The password is ``password``, else environment variable ``WINGBEAT_KEYSTORE_PASSWORD``, else asked
        for on the terminal.
        """
        from eth_account import Account  # off the hot path: only needed to decrypt

        keystore_path = Path(path)
        try:
            keystore = json.loads(keystore_path.read_text())
        except (OSError, ValueError) as exc:
            raise SignatureError(f"cannot read keystore {keystore_path}: {type(exc).__name__}") from None
        if password is None:
            password = os.environ.get(KEYSTORE_PASSWORD_ENV)
        if password is None:
            password = getpass.getpass(f"Password for keystore {keystore_path.name}: ")
        try:
            secret = bytes(Account.decrypt(keystore, password))
        except Exception:  # eth-account raises ValueError, KeyError, TypeError... on bad files or passwords
            raise SignatureError(
                f"cannot decrypt keystore {keystore_path}: wrong password or not a keystore"
            ) from None
        _log.info("loaded signing key from keystore %s", keystore_path.name)
        return cls(secret, account_address=account_address)

    @property
    def address(self) -> str:
        """The lowercase address of the signing key (the agent's address for an API wallet)."""
        return self._address

    @property
    def account_address(self) -> str:
        """The lowercase address of the account traded (the signing key's own unless an API wallet)."""
        return self._account_address

    @property
    def is_agent(self) -> bool:
        """Whether this is an API wallet signing for another account."""
        return self._account_address != self._address

    def next_nonce(self) -> int:
        """The next nonce of this signer."""
        return self.nonces.next_nonce()

    def sign_digest(self, digest: bytes) -> Signature:
        """Sign a 32-byte digest: RFC 6979 nonce, low s, ``v`` = 27 + recovery id (eth-account's bytes)."""
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise SignatureError("digest must be 32 bytes")
        return signature_from_recoverable(self._key.sign_recoverable(digest, hasher=None))

    def sign_l1_action(
        self,
        action: Mapping[str, Any] | Sequence[Any],
        *,
        nonce: int,
        vault_address: str | None = None,
        expires_after: int | None = None,
        is_mainnet: bool,
    ) -> Signature:
        """Sign an L1 action (see ``signing.sign_l1_action``)."""
        return sign_l1_action(self, action, vault_address, nonce, expires_after, is_mainnet)

    def __repr__(self) -> str:
        if self.is_agent:
            return f"Signer(address={self._address}, account_address={self._account_address})"
        return f"Signer(address={self._address})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")
