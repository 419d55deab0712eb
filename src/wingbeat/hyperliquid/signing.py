"""Hyperliquid signing: L1 actions (phantom agent) and user-signed actions (EIP-712), signing and recovery.

Same names and shapes as the official SDK's ``hyperliquid.utils.signing`` so users can switch, and the
same bytes: signatures are RFC 6979 deterministic, low-s normalised, as eth-account produces them.

The fast path does no generic EIP-712 work: the domain separators and type hashes are constants, so an
L1 signature is ``msgpack`` + three keccak256 + one libsecp256k1 recoverable signature. Keccak goes
straight to pycryptodome's C functions through cffi with a per-thread reused state: the
``Crypto.Hash.keccak`` object wrapper costs several times the hash itself.

Pure functions: inputs in, signature out, nonce injected, no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, TypeAlias, TypedDict

import coincurve
import msgpack

from wingbeat.core.errors import WingbeatError

__all__ = [
    "USER_SIGNED_TYPES",
    "Signature",
    "SignatureError",
    "SupportsSignDigest",
    "Wallet",
    "action_hash",
    "address_from_public_key",
    "keccak256",
    "l1_signing_hash",
    "parse_private_key",
    "recover_signer",
    "sign_agent",
    "sign_approve_builder_fee",
    "sign_convert_to_multi_sig_user_action",
    "sign_digest_with_secret",
    "sign_l1_action",
    "sign_send_asset_action",
    "sign_spot_transfer_action",
    "sign_token_delegate_action",
    "sign_usd_class_transfer_action",
    "sign_usd_transfer_action",
    "sign_user_dex_abstraction_action",
    "sign_user_set_abstraction_action",
    "sign_user_signed_action",
    "sign_withdraw_from_bridge_action",
    "signature_from_recoverable",
    "user_signed_hash",
    "user_signed_struct_hash",
]

# the order of the secp256k1 curve (a public constant of the curve, for low-s normalisation; not a key)
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class SignatureError(WingbeatError):
    """A signature or signing input is malformed, or no signer can be recovered from it."""


class Signature(TypedDict):
    """The SDK's signature shape: ``r`` and ``s`` as ``0x`` hex of the integer (no leading zeros), ``v`` 27/28."""

    r: str
    s: str
    v: int


class SupportsSignDigest(Protocol):
    """Anything that signs a 32-byte digest (``wingbeat.hyperliquid.signer.Signer`` does)."""

    def sign_digest(self, digest: bytes) -> Signature:
        """Sign the 32-byte digest, returning the SDK's signature shape."""
        ...


Wallet: TypeAlias = SupportsSignDigest | str | bytes | object
"""A Signer, a private key (hex str or 32 bytes), or an eth-account ``LocalAccount`` (anything with ``.key``)."""


# --------------------------------------------------------------------------------------------- keccak


def _load_raw_keccak() -> Callable[[bytes], bytes] | None:
    """keccak256 through pycryptodome's C functions with a reused per-thread state, or None if unavailable."""
    try:
        import Crypto.Hash
        from cffi import FFI  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - both ship with our dependencies
        return None
    libs = sorted(Path(Crypto.Hash.__file__).parent.glob("_keccak.*"))
    libs = [p for p in libs if p.suffix in (".so", ".pyd", ".dylib")]
    if not libs:  # pragma: no cover - depends on pycryptodome's packaging
        return None
    ffi = FFI()
    ffi.cdef(
        """
        int keccak_init(void **state, size_t capacity_bytes, uint8_t rounds);
        int keccak_absorb(void *state, const char *in, size_t len);
        int keccak_digest(void *state, char *digest, size_t len, uint8_t padding);
        int keccak_reset(void *state);
        int keccak_destroy(void *state);
        """
    )
    try:
        lib = ffi.dlopen(str(libs[0]))
    except OSError:  # pragma: no cover
        return None
    local = threading.local()

    def new_state() -> tuple[Any, Any, Any]:
        holder = ffi.new("void **")
        if lib.keccak_init(holder, 64, 24) != 0:  # capacity 2 x 32 bytes, 24 rounds: keccak256
            raise RuntimeError("keccak_init failed")
        out = ffi.new("char[32]")
        # Freed by the garbage collector when the thread's locals go away with the thread.
        state = (ffi.gc(holder[0], lib.keccak_destroy), out, ffi.buffer(out))
        local.state = state
        return state

    reset, absorb, squeeze = lib.keccak_reset, lib.keccak_absorb, lib.keccak_digest

    def keccak256_raw(data: bytes) -> bytes:
        try:
            state, out, buf = local.state
        except AttributeError:
            state, out, buf = new_state()
        reset(state)
        absorb(state, data, len(data))
        squeeze(state, out, 32, 1)  # padding 0x01: original Keccak, not SHA3
        digest: bytes = buf[:]
        return digest

    return keccak256_raw


def _keccak256_object(data: bytes) -> bytes:
    """keccak256 through pycryptodome's public object API (the portable, slower route)."""
    from Crypto.Hash import keccak

    digest: bytes = keccak.new(data=data, digest_bits=256).digest()
    return digest


keccak256: Callable[[bytes], bytes] = _load_raw_keccak() or _keccak256_object
"""Ethereum's keccak256 of ``data`` (32 bytes)."""


# --------------------------------------------------------------------------------------------- EIP-712


def _u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


_ZERO_ADDRESS_WORD: Final = bytes(32)
_EIP712_DOMAIN_TYPEHASH: Final = keccak256(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def _domain_separator(name: str, chain_id: int) -> bytes:
    return keccak256(
        _EIP712_DOMAIN_TYPEHASH
        + keccak256(name.encode())
        + keccak256(b"1")
        + _u256(chain_id)
        + _ZERO_ADDRESS_WORD
    )


_L1_DOMAIN: Final = b"\x19\x01" + _domain_separator("Exchange", 1337)
_AGENT_TYPEHASH: Final = keccak256(b"Agent(string source,bytes32 connectionId)")
_SOURCE_HASH: Final = {True: keccak256(b"a"), False: keccak256(b"b")}
_USER_SIGNED_CHAIN_ID: Final = "0x66eee"
_user_domains: dict[int, bytes] = {}

USER_SIGNED_TYPES: Final[Mapping[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    # action type -> (EIP-712 primary type, fields in signing order)
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        (("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")),
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        (("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")),
    ),
    "spotSend": (
        "HyperliquidTransaction:SpotSend",
        (
            ("hyperliquidChain", "string"),
            ("destination", "string"),
            ("token", "string"),
            ("amount", "string"),
            ("time", "uint64"),
        ),
    ),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        (("hyperliquidChain", "string"), ("amount", "string"), ("toPerp", "bool"), ("nonce", "uint64")),
    ),
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        (
            ("hyperliquidChain", "string"),
            ("agentAddress", "address"),
            ("agentName", "string"),
            ("nonce", "uint64"),
        ),
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        (
            ("hyperliquidChain", "string"),
            ("maxFeeRate", "string"),
            ("builder", "address"),
            ("nonce", "uint64"),
        ),
    ),
    "sendAsset": (
        "HyperliquidTransaction:SendAsset",
        (
            ("hyperliquidChain", "string"),
            ("destination", "string"),
            ("sourceDex", "string"),
            ("destinationDex", "string"),
            ("token", "string"),
            ("amount", "string"),
            ("fromSubAccount", "string"),
            ("nonce", "uint64"),
        ),
    ),
    "tokenDelegate": (
        "HyperliquidTransaction:TokenDelegate",
        (
            ("hyperliquidChain", "string"),
            ("validator", "address"),
            ("wei", "uint64"),
            ("isUndelegate", "bool"),
            ("nonce", "uint64"),
        ),
    ),
    "convertToMultiSigUser": (
        "HyperliquidTransaction:ConvertToMultiSigUser",
        (("hyperliquidChain", "string"), ("signers", "string"), ("nonce", "uint64")),
    ),
    "userDexAbstraction": (
        "HyperliquidTransaction:UserDexAbstraction",
        (("hyperliquidChain", "string"), ("user", "address"), ("enabled", "bool"), ("nonce", "uint64")),
    ),
    "userSetAbstraction": (
        "HyperliquidTransaction:UserSetAbstraction",
        (("hyperliquidChain", "string"), ("user", "address"), ("abstraction", "string"), ("nonce", "uint64")),
    ),
}
"""The user-signed action types, keyed by ``action["type"]``; every other action type is an L1 action
(multi-sig envelopes, ``multiSig``, are not supported)."""

_typehashes: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}
_UINT_BITS: Final = {"uint64": 64, "uint256": 256}


def _typehash(primary_type: str, fields: tuple[tuple[str, str], ...]) -> bytes:
    key = (primary_type, fields)
    found = _typehashes.get(key)
    if found is None:
        spec = ",".join(f"{kind} {name}" for name, kind in fields)
        found = _typehashes[key] = keccak256(f"{primary_type}({spec})".encode())
    return found


def _encode_field(name: str, kind: str, value: Any) -> bytes:
    """One EIP-712 ``encodeData`` word for the atomic and string types Hyperliquid uses."""
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
        return keccak256(value.encode())
    if kind == "address":
        if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
            raise ValueError(f"field {name!r} must be a 0x address of 40 hex digits")
        return bytes(12) + bytes.fromhex(value[2:])
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"field {name!r} must be a bool, got {type(value).__name__}")
        return _u256(int(value))
    if kind in _UINT_BITS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << _UINT_BITS[kind]):
            raise ValueError(f"field {name!r} must be a {kind}, got {value!r}")
        return _u256(value)
    if kind == "bytes32":
        raw = (
            bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else value
        )
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise ValueError(f"field {name!r} must be 32 bytes")
        return raw
    raise ValueError(f"unsupported EIP-712 type {kind!r} for field {name!r}")


def _user_domain(chain_id_hex: Any) -> bytes:
    if not isinstance(chain_id_hex, str):
        raise ValueError(f"signatureChainId must be a hex string, got {chain_id_hex!r}")
    chain_id = int(chain_id_hex, 16)
    domain = _user_domains.get(chain_id)
    if domain is None:
        domain = b"\x19\x01" + _domain_separator("HyperliquidSignTransaction", chain_id)
        if len(_user_domains) < 64:  # chain ids come from the network: bound the cache
            _user_domains[chain_id] = domain
    return domain


def user_signed_struct_hash(
    action: Mapping[str, Any], primary_type: str, fields: Sequence[tuple[str, str]]
) -> bytes:
    """EIP-712 ``hashStruct`` of a user-signed action: typehash and one word per field, in ``fields`` order.

    Fields missing from ``action`` raise ``ValueError``; extra keys (``type``, ``signatureChainId``) are ignored.
    """
    fields = tuple(fields)
    words = [_typehash(primary_type, fields)]
    for name, kind in fields:
        if name not in action:
            raise ValueError(f"user-signed action {primary_type} is missing field {name!r}")
        words.append(_encode_field(name, kind, action[name]))
    return keccak256(b"".join(words))


def user_signed_hash(
    action: Mapping[str, Any], primary_type: str, fields: Sequence[tuple[str, str]]
) -> bytes:
    """The EIP-712 digest signed for a user-signed action (domain chain id from ``action["signatureChainId"]``)."""
    struct_hash = user_signed_struct_hash(action, primary_type, fields)
    return keccak256(_user_domain(action.get("signatureChainId")) + struct_hash)


def _vault_bytes(vault_address: str | None) -> bytes:
    if vault_address is None:
        return b"\x00"
    if not isinstance(vault_address, str):
        raise ValueError("vault address must be a 0x hex string")
    raw = bytes.fromhex(vault_address[2:] if vault_address.startswith("0x") else vault_address)
    if len(raw) != 20:
        raise ValueError("vault address must be 20 bytes")
    return b"\x01" + raw


def action_hash(
    action: Mapping[str, Any] | Sequence[Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
) -> bytes:
    """The L1 ``connectionId``: keccak256(msgpack(action) + nonce + vault tag + optional expiresAfter)."""
    data = msgpack.packb(action) + nonce.to_bytes(8, "big") + _vault_bytes(vault_address)
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak256(data)


def l1_signing_hash(
    action: Mapping[str, Any] | Sequence[Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
) -> bytes:
    """The EIP-712 digest actually signed for an L1 action: the phantom agent ``Agent(source, connectionId)``."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    return keccak256(_L1_DOMAIN + keccak256(_AGENT_TYPEHASH + _SOURCE_HASH[bool(is_mainnet)] + connection_id))


# --------------------------------------------------------------------------------------------- curve


def signature_from_recoverable(compact: bytes) -> Signature:
    """The SDK's signature shape from libsecp256k1's 65-byte ``r || s || recovery id``."""
    return {
        "r": hex(int.from_bytes(compact[:32], "big")),
        "s": hex(int.from_bytes(compact[32:64], "big")),
        "v": compact[64] + 27,
    }


def _load_raw_sign() -> Callable[[bytes, bytes], bytes] | None:
    """Recoverable signing through coincurve's compiled libsecp256k1 with per-thread buffers, or None.

    The function takes (32-byte secret, 32-byte digest) and returns libsecp256k1's 65-byte
    ``r || s || recovery id``. ``coincurve.PrivateKey(secret)`` derives two public keys on construction
    (two curve multiplications, more than the signature itself), which a raw key or a ``LocalAccount``
    would pay on every call; signing needs only the secret.
    """
    try:
        from coincurve._libsecp256k1 import ffi, lib
        from coincurve.context import GLOBAL_CONTEXT
    except ImportError:  # pragma: no cover - depends on coincurve's layout
        return None
    ctx = GLOBAL_CONTEXT.ctx
    sign = lib.secp256k1_ecdsa_sign_recoverable
    serialize = lib.secp256k1_ecdsa_recoverable_signature_serialize_compact
    null = ffi.NULL  # the default nonce function: RFC 6979, as coincurve's sign_recoverable
    local = threading.local()

    def new_buffers() -> tuple[Any, Any, Any, Any]:
        out = ffi.new("unsigned char[64]")
        buffers = (ffi.new("secp256k1_ecdsa_recoverable_signature *"), out, ffi.new("int *"), ffi.buffer(out))
        local.buffers = buffers
        return buffers

    def sign_raw(secret: bytes, digest: bytes) -> bytes:
        if len(secret) != 32 or len(digest) != 32:
            raise SignatureError("signing needs a 32-byte secret and a 32-byte digest")  # C reads 32 bytes
        try:
            sig, out, recovery_id, buf = local.buffers
        except AttributeError:
            sig, out, recovery_id, buf = new_buffers()
        if not sign(ctx, sig, digest, secret, null, null):
            raise SignatureError("the private key is not a valid secp256k1 secret")
        serialize(ctx, out, recovery_id, sig)
        compact: bytes = buf[:]
        return compact + bytes((recovery_id[0],))

    return sign_raw


def _sign_object(secret: bytes, digest: bytes) -> bytes:
    """Recoverable signing through coincurve's public API (the portable, slower route)."""
    return coincurve.PrivateKey(secret).sign_recoverable(digest, hasher=None)


sign_recoverable_raw: Callable[[bytes, bytes], bytes] = _load_raw_sign() or _sign_object
"""Sign a 32-byte digest with a 32-byte secret: libsecp256k1's ``r || s || recovery id`` (RFC 6979, low s)."""


def sign_digest_with_secret(secret: bytes, digest: bytes) -> Signature:
    """Sign a 32-byte digest with a raw 32-byte secret (RFC 6979 nonce, low s, v = 27 + recovery id)."""
    return signature_from_recoverable(sign_recoverable_raw(secret, digest))


def address_from_public_key(public_key: coincurve.PublicKey) -> str:
    """The lowercase 0x Ethereum address of a public key."""
    return _address_of_point(public_key.format(compressed=False)[1:])


_ADDRESS_CACHE_SIZE: Final = 4096
_addresses: dict[bytes, str] = {}


def _address_of_point(point: bytes) -> str:
    # An exchange recovers the same few keys over and over: keccak + hex only once per key.
    address = _addresses.get(point)
    if address is None:
        address = "0x" + keccak256(point)[-20:].hex()
        if len(_addresses) >= _ADDRESS_CACHE_SIZE:
            _addresses.clear()  # bounded: keys come from the network
        _addresses[point] = address
    return address


def parse_private_key(key: str | bytes) -> bytes:
    """A 32-byte secret from a hex string (``0x`` optional) or bytes; errors never contain the key."""
    if isinstance(key, str):
        text = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise SignatureError("private key is not valid hex") from None
    else:
        raw = bytes(key)
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
        raise SignatureError("private key must be 32 bytes in the secp256k1 range")
    return raw


def _sign(wallet: Wallet, digest: bytes) -> Signature:
    # Duck-typed rather than isinstance(wallet, SupportsSignDigest): a runtime Protocol check costs
    # several microseconds, a tenth of the whole signature.
    sign_digest: Callable[[bytes], Signature] | None = getattr(wallet, "sign_digest", None)
    if sign_digest is not None:
        return sign_digest(digest)
    if isinstance(wallet, str | bytes):
        return sign_digest_with_secret(parse_private_key(wallet), digest)
    key = getattr(wallet, "key", None)  # eth-account LocalAccount, as the SDK takes
    if isinstance(key, bytes):
        return sign_digest_with_secret(parse_private_key(key), digest)
    raise SignatureError(
        f"cannot sign with a {type(wallet).__name__}: pass a Signer, a hex key or a LocalAccount"
    )


# --------------------------------------------------------------------------------------------- signing


def sign_l1_action(
    wallet: Wallet,
    action: Mapping[str, Any] | Sequence[Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
) -> Signature:
    """Sign an L1 action (orders, cancels, modifies, leverage, ...) exactly as the official SDK does."""
    return _sign(wallet, l1_signing_hash(action, vault_address, nonce, expires_after, is_mainnet))


def sign_user_signed_action(
    wallet: Wallet,
    action: MutableMapping[str, Any],
    payload_types: Sequence[Mapping[str, str]],
    primary_type: str,
    is_mainnet: bool,
) -> Signature:
    """Sign a user-signed action with EIP-712 type ``primary_type``; like the SDK, sets ``signatureChainId``
    and ``hyperliquidChain`` in ``action`` (in place: they are part of what is posted)."""
    action["signatureChainId"] = _USER_SIGNED_CHAIN_ID
    action["hyperliquidChain"] = "Mainnet" if is_mainnet else "Testnet"
    fields = tuple((t["name"], t["type"]) for t in payload_types)
    return _sign(wallet, user_signed_hash(action, primary_type, fields))


def _sign_user(
    wallet: Wallet, action: MutableMapping[str, Any], action_type: str, is_mainnet: bool
) -> Signature:
    primary_type, fields = USER_SIGNED_TYPES[action_type]
    action["signatureChainId"] = _USER_SIGNED_CHAIN_ID
    action["hyperliquidChain"] = "Mainnet" if is_mainnet else "Testnet"
    return _sign(wallet, user_signed_hash(action, primary_type, fields))


def sign_usd_transfer_action(wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool) -> Signature:
    """Sign a ``usdSend`` (``destination``, ``amount``, ``time``)."""
    return _sign_user(wallet, action, "usdSend", is_mainnet)


def sign_spot_transfer_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``spotSend`` (``destination``, ``token``, ``amount``, ``time``)."""
    return _sign_user(wallet, action, "spotSend", is_mainnet)


def sign_withdraw_from_bridge_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``withdraw3`` (``destination``, ``amount``, ``time``)."""
    return _sign_user(wallet, action, "withdraw3", is_mainnet)


def sign_usd_class_transfer_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``usdClassTransfer`` between spot and perp (``amount``, ``toPerp``, ``nonce``)."""
    return _sign_user(wallet, action, "usdClassTransfer", is_mainnet)


def sign_agent(wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool) -> Signature:
    """Sign an ``approveAgent`` (API wallet): ``agentAddress``, ``agentName`` (``""`` when unnamed), ``nonce``."""
    return _sign_user(wallet, action, "approveAgent", is_mainnet)


def sign_approve_builder_fee(wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool) -> Signature:
    """Sign an ``approveBuilderFee`` (``maxFeeRate``, ``builder``, ``nonce``)."""
    return _sign_user(wallet, action, "approveBuilderFee", is_mainnet)


def sign_send_asset_action(wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool) -> Signature:
    """Sign a ``sendAsset`` between dexes / accounts."""
    return _sign_user(wallet, action, "sendAsset", is_mainnet)


def sign_token_delegate_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``tokenDelegate`` (staking to a validator)."""
    return _sign_user(wallet, action, "tokenDelegate", is_mainnet)


def sign_convert_to_multi_sig_user_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``convertToMultiSigUser``."""
    return _sign_user(wallet, action, "convertToMultiSigUser", is_mainnet)


def sign_user_dex_abstraction_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``userDexAbstraction``."""
    return _sign_user(wallet, action, "userDexAbstraction", is_mainnet)


def sign_user_set_abstraction_action(
    wallet: Wallet, action: MutableMapping[str, Any], is_mainnet: bool
) -> Signature:
    """Sign a ``userSetAbstraction``."""
    return _sign_user(wallet, action, "userSetAbstraction", is_mainnet)


# --------------------------------------------------------------------------------------------- recovery


def _parse_word(value: Any, name: str) -> int:
    if isinstance(value, str):  # the usual case first
        try:
            number = int(value, 16)
        except ValueError:
            raise SignatureError(f"signature {name} is not hex") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise SignatureError(f"signature {name} must be hex or an integer")
    if not 0 < number < SECP256K1_N:
        raise SignatureError(f"signature {name} is out of range")
    return number


def _load_raw_recover() -> Callable[[bytes, int, bytes], bytes | None] | None:
    """Public key recovery through coincurve's compiled libsecp256k1 with per-thread reused buffers, or None.

    The function takes (r || s, recovery id, digest) and returns the 64-byte uncompressed point
    (x || y), or None when nothing can be recovered. coincurve's ``PublicKey`` route allocates four
    cffi objects and a wrapper per call; this one allocates nothing but the answer.
    """
    try:
        from coincurve._libsecp256k1 import ffi, lib
        from coincurve.context import GLOBAL_CONTEXT
    except ImportError:  # pragma: no cover - depends on coincurve's layout
        return None
    ctx = GLOBAL_CONTEXT.ctx
    parse = lib.secp256k1_ecdsa_recoverable_signature_parse_compact
    recover = lib.secp256k1_ecdsa_recover
    serialize = lib.secp256k1_ec_pubkey_serialize
    uncompressed = lib.SECP256K1_EC_UNCOMPRESSED
    local = threading.local()

    def new_buffers() -> tuple[Any, Any, Any, Any, Any]:
        out = ffi.new("unsigned char[65]")
        buffers = (
            ffi.new("secp256k1_ecdsa_recoverable_signature *"),
            ffi.new("secp256k1_pubkey *"),
            out,
            ffi.new("size_t *"),
            ffi.buffer(out),
        )
        local.buffers = buffers
        return buffers

    def recover_point(compact: bytes, recovery_id: int, digest: bytes) -> bytes | None:
        if len(compact) != 64 or len(digest) != 32 or not 0 <= recovery_id <= 3:
            return None  # C reads fixed lengths: never hand it a short buffer
        try:
            sig, pubkey, out, out_len, buf = local.buffers
        except AttributeError:
            sig, pubkey, out, out_len, buf = new_buffers()
        if not parse(ctx, sig, compact, recovery_id) or not recover(ctx, pubkey, sig, digest):
            return None
        out_len[0] = 65
        serialize(ctx, out, out_len, pubkey, uncompressed)
        point: bytes = buf[1:65]
        return point

    return recover_point


def _recover_point_object(compact: bytes, recovery_id: int, digest: bytes) -> bytes | None:
    """Public key recovery through coincurve's public API (the portable, slower route)."""
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            compact + bytes((recovery_id,)), digest, hasher=None
        )
    except ValueError:
        return None
    return public_key.format(compressed=False)[1:]


_recover_point: Callable[[bytes, int, bytes], bytes | None] = _load_raw_recover() or _recover_point_object
_VALID_V: Final = (0, 1, 27, 28)


def _recover_digest(digest: bytes, signature: Mapping[str, Any]) -> str:
    if not isinstance(signature, dict | Mapping):  # dict first: the ABC check costs more
        raise SignatureError("signature must be an object with r, s and v")
    try:
        r, s, v = signature["r"], signature["s"], signature["v"]
    except KeyError as exc:
        raise SignatureError(f"signature is missing {exc.args[0]!r}") from None
    if isinstance(v, bool) or not isinstance(v, int) or v not in _VALID_V:
        raise SignatureError("signature v must be 27 or 28")
    compact = _parse_word(r, "r").to_bytes(32, "big") + _parse_word(s, "s").to_bytes(32, "big")
    point = _recover_point(compact, v % 27, digest)
    if point is None:
        raise SignatureError("unable to recover signer")
    return _address_of_point(point)


def recover_signer(
    action: Mapping[str, Any],
    signature: Mapping[str, Any],
    *,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> str:
    """The lowercase address that signed ``action``, as the exchange recovers it.

    User-signed types (``USER_SIGNED_TYPES``) are hashed with their EIP-712 type and the network named by
    ``is_mainnet`` (a signature for the other network recovers a different address); every other type is
    an L1 action. Raises ``SignatureError`` when the action or signature cannot be hashed or recovered.
    """
    if not isinstance(action, dict | Mapping):  # dict first: the ABC check costs more
        raise SignatureError("action must be an object")
    try:
        user_signed = USER_SIGNED_TYPES.get(action.get("type"))  # type: ignore[arg-type]
        if user_signed is not None:
            primary_type, fields = user_signed
            view = dict(action)
            view["hyperliquidChain"] = "Mainnet" if is_mainnet else "Testnet"
            if action.get("type") == "approveAgent":
                view.setdefault("agentName", "")  # the SDK signs "" then drops an empty name from the post
            digest = user_signed_hash(view, primary_type, fields)
        else:
            if isinstance(nonce, bool) or not isinstance(nonce, int):
                raise ValueError("nonce must be an integer")
            digest = l1_signing_hash(action, vault_address, nonce, expires_after, is_mainnet)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise SignatureError(f"cannot hash action: {exc}") from None
    return _recover_digest(digest, signature)
