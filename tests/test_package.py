import subprocess
import sys

import wingbeat


def test_package_has_version() -> None:
    assert wingbeat.__version__.count(".") == 2


def test_importing_a_core_module_does_not_load_the_networking_stack() -> None:
    code = "import sys, wingbeat.core.errors, wingbeat.core.enums\nprint('aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_core_exports_resolve_lazily_to_the_module_objects() -> None:
    import wingbeat.core as core
    from wingbeat.core import errors, ws_client

    assert core.WingbeatError is errors.WingbeatError
    assert core.ReconnectingWebSocket is ws_client.ReconnectingWebSocket
    assert set(core.__all__) <= set(dir(core))
    try:
        core.NoSuchName  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_the_command_line_starts_without_importing_the_strategies_or_the_network() -> None:
    # `wingbeat --help` and `wingbeat sim` import wingbeat.engine.cli; the engine's exports are lazy
    heavy = ("wingbeat.engine.basis", "wingbeat.engine.metrics", "wingbeat.engine.strategy", "prometheus_client",
             "aiohttp", "wingbeat.hyperliquid.connector")
    code = f"import sys, wingbeat.engine.cli\nprint([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_engine_exports_resolve_lazily_to_the_module_objects() -> None:
    import wingbeat.engine as engine
    from wingbeat.engine import basis, runner

    assert engine.BasisStrategy is basis.BasisStrategy
    assert engine.run_strategy is runner.run_strategy
    assert set(engine.__all__) <= set(dir(engine))
    try:
        engine.NoSuchName  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
