"""FaultInjector: seeded draws, counts, path/action filters, counters, admin commands."""

from __future__ import annotations

import pytest

from wingbeat.sim.protocol.faults import FaultInjector, FaultKind


def test_counted_fault_fires_exactly_count_times_and_is_counted() -> None:
    faults = FaultInjector(seed=1)
    faults.add("http_5xx", count=2)
    fired = [faults.fire(FaultKind.HTTP_5XX, path="/exchange") for _ in range(5)]
    assert [f is not None for f in fired] == [True, True, False, False, False]
    assert fired[0] is not None and fired[0].status == 502
    assert faults.counters == {"http_5xx": 2}


def test_probability_draws_are_reproducible_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        faults = FaultInjector(seed=seed)
        faults.add(FaultKind.DELAY, probability=0.5)
        return [faults.fire(FaultKind.DELAY) is not None for _ in range(64)]

    assert run(7) == run(7)
    assert 10 < sum(run(7)) < 54
    assert run(7) != run(8)


def test_rule_applies_only_to_its_path_and_action() -> None:
    faults = FaultInjector()
    faults.add("lose_answer", path="/exchange", action="order")
    assert faults.fire(FaultKind.LOSE_ANSWER, path="/info") is None
    assert faults.fire(FaultKind.LOSE_ANSWER, path="/exchange", action="cancel") is None
    assert faults.fire(FaultKind.LOSE_ANSWER, path="/exchange", action="order") is not None


def test_silenced_channel_is_suppressed_and_counted_until_resumed() -> None:
    faults = FaultInjector()
    faults.silence("l2Book")
    assert faults.suppresses("l2Book")
    assert not faults.suppresses("trades")
    faults.silence("l2Book", False)
    assert not faults.suppresses("l2Book")
    assert faults.counters == {"silent_channel": 1}


def test_drop_websockets_calls_the_listeners_and_a_failing_listener_is_contained() -> None:
    faults = FaultInjector()
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    faults.add_drop_listener(broken)
    faults.add_drop_listener(lambda: calls.append("drop"))
    faults.drop_websockets()
    assert calls == ["drop"]
    assert faults.counters == {"ws_drop": 1}


def test_admin_commands_arm_list_and_clear_faults() -> None:
    faults = FaultInjector()
    answer = faults.apply_command({"type": "addFault", "kind": "timeout", "count": 1, "delayMs": 50})
    assert answer == {"kind": "timeout", "count": 1, "probability": 1.0}
    assert faults.rules[0].delay_ms == 50
    faults.apply_command({"type": "dropWebsocketsEvery", "seconds": 2})
    assert faults.drop_interval_ms == 2000
    faults.apply_command({"type": "clearFaults"})
    assert faults.rules == () and faults.drop_interval_ms is None
    with pytest.raises(ValueError):
        faults.apply_command({"type": "addFault", "kind": "nonsense"})
    with pytest.raises(ValueError):
        faults.apply_command({"type": "addFault", "kind": "delay", "count": "many"})


def test_invalid_probability_is_refused() -> None:
    with pytest.raises(ValueError):
        FaultInjector().add("delay", probability=1.5)
