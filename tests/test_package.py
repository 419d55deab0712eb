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
