"""Key custody and nonces: ``Signer`` holds a private key and signs digests; ``NonceManager`` issues nonces.

The key never leaves the ``Signer``: not in ``repr``/``str``, not in log lines, not in exception messages,
and a ``Signer`` refuses to be pickled or copied. An API (agent) wallet signs for a main account:
``address`` is the signing key's own address, ``account_address`` the account whose orders are traded.

Error reporting tools that capture the local variables of a traceback's frames (Sentry, rich's
``show_locals``) never find the key either: an invalid key's error is raised afresh from a frame that no
longer holds it, never chained to the parser's exception, and the loaders drop their copies (``del``)
before anything can raise. A keystore file that other users can read is reported with a warning.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import coincurve

from wingbeat.hyperliquid.constants import looks_like_private_key
from wingbeat.hyperliquid.signing import (
    Signature,
    SignatureError,
    address_from_public_key,
    parse_private_key,
    sign_l1_action,
    signature_from_recoverable,
)

__all__ = ["KEYSTORE_PASSWORD_ENV", "NonceManager", "Signer", "is_variable_name"]

KEYSTORE_PASSWORD_ENV = "WINGBEAT_KEYSTORE_PASSWORD"
"""Environment variable ``Signer.from_keystore`` reads the keystore password from when none is given."""

_log = logging.getLogger("wingbeat.hyperliquid.signer")


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_variable_name(name: str) -> bool:
    """Whether ``name`` can name an environment variable and is not a private key pasted in its place."""
    return bool(_VARIABLE_NAME.fullmatch(name)) and not looks_like_private_key(name)


def _private_key(private_key: str | bytes) -> coincurve.PrivateKey | str:
    """The key object, or why ``private_key`` is not a key (returned, so no traceback keeps this frame)."""
    try:
        return coincurve.PrivateKey(parse_private_key(private_key))
    except SignatureError as exc:
        return str(exc)


def _decrypt(keystore: Any, password: str) -> bytes | None:
    from eth_account import Account  # off the hot path: only needed to decrypt

    try:
        return bytes(Account.decrypt(keystore, password))
    except Exception:  # eth-account raises ValueError, KeyError, TypeError... on bad files or passwords
        return None


def _warn_if_shared(path: Path) -> None:
    if os.name != "posix":  # Windows has ACLs, not mode bits
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _log.warning(
            "keystore %s can be read by other users of this machine (mode %s): run chmod 600 %s",
            path,
            stat.filemode(mode),
            path,
        )


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
        key = _private_key(private_key)
        del private_key  # this frame is in the traceback of any error below: it must not hold the key
        if isinstance(key, str):
            raise SignatureError(key)
        self._key = key
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
        """Load the key from environment variable ``variable`` (hex, with or without ``0x``).

        ``variable`` is the variable's name; a key given in its place is refused without being shown.
        """
        if not is_variable_name(variable):
            raise SignatureError(
                "the key's environment variable must be given by NAME (such as HL_PRIVATE_KEY), "
                "not the key itself; what was given is not a variable name (not shown)"
            )
        if not os.environ.get(variable):
            raise SignatureError(f"environment variable {variable} is not set")
        try:  # read straight into the Signer: no local of this frame ever holds the key
            return cls(os.environ[variable].strip(), account_address=account_address)
        except SignatureError as exc:
            reason = str(exc)
        raise SignatureError(f"environment variable {variable}: {reason}")  # not chained to the first error

    @classmethod
    def from_keystore(
        cls, path: str | os.PathLike[str], password: str | None = None, *, account_address: str | None = None
    ) -> Signer:
        """Load the key from an encrypted Ethereum keystore (JSON v3) file.

        The password is ``password``, else environment variable ``WINGBEAT_KEYSTORE_PASSWORD``, else asked
        for on the terminal. A file that other users can read or write is logged as a warning naming the
        fix (chmod 600).
        """
        keystore_path = Path(path)
        try:
            keystore = json.loads(keystore_path.read_text())
        except (OSError, ValueError) as exc:
            raise SignatureError(f"cannot read keystore {keystore_path}: {type(exc).__name__}") from None
        _warn_if_shared(keystore_path)
        if password is None:
            password = os.environ.get(KEYSTORE_PASSWORD_ENV)
        if password is None:
            password = getpass.getpass(f"Password for keystore {keystore_path.name}: ")
        secret = _decrypt(keystore, password)
        del password
        if secret is None:
            raise SignatureError(f"cannot decrypt keystore {keystore_path}: wrong password or not a keystore")
        _log.info("loaded signing key from keystore %s", keystore_path.name)
        try:
            return cls(secret, account_address=account_address)
        finally:
            del secret  # gone from this frame before any error leaves it

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
        # getattr: a Signer whose __init__ failed half-way (or never ran) still has a repr
        address = getattr(self, "_address", None)
        account = getattr(self, "_account_address", None)
        if address is None:
            return "Signer(<no key loaded>)"
        if account is not None and account != address:
            return f"Signer(address={address}, account_address={account})"
        return f"Signer(address={address})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")
