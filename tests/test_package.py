import importlib
import subprocess
import sys

import pytest

import wingbeat


def test_package_has_version() -> None:
    assert wingbeat.__version__.count(".") == 2


def test_importing_a_core_module_does_not_load_the_networking_stack() -> None:
    code = "import sys, wingbeat.core.errors, wingbeat.core.enums\nprint('aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("package", "module", "name"),
    [
        ("wingbeat.core", "wingbeat.core.errors", "WingbeatError"),
        ("wingbeat.core", "wingbeat.core.ws_client", "ReconnectingWebSocket"),
        ("wingbeat.engine", "wingbeat.engine.basis", "BasisStrategy"),
        ("wingbeat.engine", "wingbeat.engine.runner", "run_strategy"),
    ],
)
def test_package_exports_resolve_lazily_to_the_module_objects(package: str, module: str, name: str) -> None:
    exporter, defining = importlib.import_module(package), importlib.import_module(module)
    assert getattr(exporter, name) is getattr(defining, name)
    assert set(exporter.__all__) <= set(dir(exporter))
    with pytest.raises(AttributeError, match="NoSuchName"):
        exporter.NoSuchName  # noqa: B018


def test_the_command_line_starts_without_importing_the_strategies_or_the_network() -> None:
    # `wingbeat --help` and `wingbeat sim` import wingbeat.engine.cli; the engine's exports are lazy
    heavy = ("wingbeat.engine.basis", "wingbeat.engine.metrics", "wingbeat.engine.strategy", "prometheus_client",
             "aiohttp", "wingbeat.hyperliquid.connector")
    code = f"import sys, wingbeat.engine.cli\nprint([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
