"""Hypothesis fuzzing of every parser of exchange data (REST answers, each websocket channel, raw frames).

Each parser gets valid seed messages (rendered by the local exchange) mutated at random places: fields
deleted, replaced by wrongly typed or absurd values ("NaN", "Infinity", 1e999, huge strings, nested junk),
lists truncated or blown up; plus purely random JSON and truncated or random frame bytes. A parser may
only return a typed value (holding no NaN or infinite Decimal) or raise ``MalformedMessageError`` - the one
exception the websocket router and the REST client log and skip. Anything else would escape as a crash.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chaos.fuzz_seeds import parsers
from wingbeat.hyperliquid.schemas import MalformedMessageError
from wingbeat.hyperliquid.schemas_ws import parse_frame

_ABSURD_STRINGS = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999999999", "-1e999999999", "-0",
                   "0x10", " 1", "1_000", "", "1,5", "١٢٣", "9" * 5_000, "\x00", "0.0000000000000000000000001"]
_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(_ABSURD_STRINGS),
)
_JSON = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a JSON tree as a path of keys / indices (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _mutate(root: Any, data: st.DataObject) -> Any:
    path = data.draw(st.sampled_from(_paths(root)))
    op = data.draw(st.sampled_from(["replace", "delete", "truncate", "blow_up", "rename"]))
    if not path:
        return data.draw(_JSON)
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    key, node = path[-1], parent[path[-1]]
    if op == "delete":
        del parent[key]
    elif op == "truncate" and isinstance(node, list):
        parent[key] = node[: data.draw(st.integers(0, len(node)))]
    elif op == "blow_up" and isinstance(node, list) and node:
        parent[key] = node * data.draw(st.integers(2, 2_000))  # huge, and full of duplicates
    elif op == "rename" and isinstance(parent, dict):
        parent[str(key) + data.draw(st.sampled_from(["_", "X", " "]))] = parent.pop(key)
    else:
        parent[key] = data.draw(_JSON)
    return root


def _assert_sane(value: Any, where: str = "result") -> None:
    """No NaN or infinite Decimal anywhere in a parsed value (it would poison prices and sizes)."""
    if isinstance(value, Decimal):
        assert value.is_finite(), f"{where} is {value}"
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _assert_sane(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _assert_sane(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            _assert_sane(item, f"{where}[{k!r}]")


def _parse_or_refuse(name: str, raw: Any) -> None:
    parser, _seeds = parsers()[name]
    try:
        result = parser(raw)
    except MalformedMessageError:
        return
    _assert_sane(result, name)


JSON_PARSERS = [name for name in parsers() if name != "ws.frame"]


@pytest.mark.parametrize("name", JSON_PARSERS)
def test_every_seed_message_parses(name: str) -> None:
    parser, seeds = parsers()[name]
    for seed in seeds:
        _assert_sane(parser(copy.deepcopy(seed)), name)


@pytest.mark.parametrize("name", JSON_PARSERS)
@_SETTINGS
@given(data=st.data())
def test_mutated_message_is_parsed_or_refused_as_malformed(name: str, data: st.DataObject) -> None:
    _parser, seeds = parsers()[name]
    raw = copy.deepcopy(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(1, 3))):
        raw = _mutate(raw, data)
    _parse_or_refuse(name, raw)


@pytest.mark.parametrize("name", JSON_PARSERS)
@_SETTINGS
@given(raw=_JSON)
def test_random_json_is_parsed_or_refused_as_malformed(name: str, raw: Any) -> None:
    _parse_or_refuse(name, raw)


@_SETTINGS
@given(data=st.data())
def test_truncated_or_random_frame_bytes_are_refused_as_malformed(data: st.DataObject) -> None:
    _parser, seeds = parsers()["ws.frame"]
    frame: bytes = data.draw(st.sampled_from(seeds))
    raw = data.draw(st.one_of(
        st.integers(0, len(frame) - 1).map(lambda n: frame[:n]),
        st.binary(max_size=200),
        st.just(frame[:-1] + b"\xff"),
        st.text(max_size=50).map(str.encode),
    ))
    with contextlib.suppress(MalformedMessageError):
        parse_frame(raw)


def test_huge_messages_are_parsed_or_refused_without_crashing() -> None:
    name = "l2Book"
    _parser, [book] = parsers()[name]
    levels = [{"px": str(60_000 - i), "sz": "1.5", "n": 1} for i in range(50_000)]
    _parse_or_refuse(name, {**book, "levels": [levels, levels]})
    _parse_or_refuse(name, {**book, "coin": "B" * 1_000_000})
    fills = parsers()["ws.userFills"][1][0]
    _parse_or_refuse("ws.userFills", {**fills, "fills": fills["fills"] * 10_000})
    huge_frame = orjson.dumps({"channel": "trades", "data": parsers()["ws.trades"][1][0] * 20_000})
    assert len(huge_frame) > 2_000_000
    parse_frame(huge_frame)
