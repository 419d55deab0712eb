"""fast_frozen_init: the swapped __init__ behaves exactly as the dataclass's own (arguments, defaults, errors)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.events import BuyOrderCreatedEvent, OrderCreatedEvent
from wingbeat.core.frozen_init import fast_frozen_init
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    size: Decimal
    note: str | None = None
    tag: str = "x"


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class _Fast:
    name: str
    size: Decimal
    note: str | None = None
    tag: str = "x"


@dataclass(frozen=True, slots=True, kw_only=True)
class _PlainKw:
    a: int
    b: int = 2


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class _FastKw:
    a: int
    b: int = 2


def _outcome(cls: type, *args: Any, **kwargs: Any) -> Any:
    try:
        return dataclasses.astuple(cls(*args, **kwargs))
    except TypeError as exc:
        return str(exc).split("__init__() ", 1)[-1]  # the class name differs, the complaint must not


@pytest.mark.parametrize(("args", "kwargs"), [
    (("n", Decimal(1)), {}),
    (("n", Decimal(1), "note"), {}),
    (("n",), {"size": Decimal(2), "tag": "y"}),
    ((), {"name": "n", "size": Decimal(3), "note": None}),
    (("n",), {}),  # missing argument
    (("n", Decimal(1), "a", "b", "c"), {}),  # too many
    (("n", Decimal(1)), {"nope": 1}),  # unknown keyword
    (("n", Decimal(1)), {"name": "m"}),  # given twice
])
def test_positional_fields_take_the_same_arguments_with_the_same_errors(args: tuple[Any, ...],
                                                                        kwargs: dict[str, Any]) -> None:
    assert _outcome(_Fast, *args, **kwargs) == _outcome(_Plain, *args, **kwargs)


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {"a": 1}), ((), {"a": 1, "b": 3}), ((1,), {}), ((), {}), ((), {"a": 1, "c": 0}),
])
def test_keyword_only_fields_take_the_same_arguments_with_the_same_errors(args: tuple[Any, ...],
                                                                          kwargs: dict[str, Any]) -> None:
    assert _outcome(_FastKw, *args, **kwargs) == _outcome(_PlainKw, *args, **kwargs)


def test_the_class_stays_a_frozen_dataclass() -> None:
    value = _Fast("n", Decimal(1))
    assert value == _Fast("n", Decimal(1)) and hash(value) == hash(_Fast("n", Decimal(1)))
    assert repr(value) == "_Fast(name='n', size=Decimal('1'), note=None, tag='x')"
    assert dataclasses.replace(value, tag="y") == _Fast("n", Decimal(1), tag="y")
    assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.name = "m"  # type: ignore[misc]
    assert str(inspect.signature(_Fast)) == str(inspect.signature(_Plain))


def test_the_hot_value_objects_use_it_and_keep_their_signature() -> None:
    update = OrderUpdate(client_order_id="c", trading_pair="BTC-USD", update_timestamp=1.0,
                         new_state=OrderState.OPEN)
    assert (update.exchange_order_id, update.reason, update.filled_amount) == (None, None, None)
    assert OrderUpdate.__init__.__qualname__ == "OrderUpdate.__init__"
    event = BuyOrderCreatedEvent(timestamp=1.0, client_order_id="c", exchange_order_id="1", trading_pair="BTC-USD",
                                 trade_type=TradeType.BUY, order_type=OrderType.LIMIT, amount=Decimal(1),
                                 price=Decimal(2), position_action=PositionAction.NIL, creation_timestamp=0.5)
    assert isinstance(event, OrderCreatedEvent) and event.price == Decimal(2)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'new_state'"):
        OrderUpdate(client_order_id="c", trading_pair="BTC-USD", update_timestamp=1.0)  # type: ignore[call-arg]


def test_classes_it_cannot_serve_the_same_way_are_refused() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class NoInit:
        a: int = dataclasses.field(init=False, default=1)

    for cls in (NoSlots, NotFrozen, PostInit, Factory, NoInit):
        with pytest.raises(TypeError, match="fast_frozen_init"):
            fast_frozen_init(cls)
