"""The ``[sim]`` table of a configuration file, read by ``wingbeat sim --config FILE``.

::

    [sim]
    state = "paper.sqlite"   # the state file (``--state``); relative to the configuration file

Every key is optional; an option given on the command line wins over the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from wingbeat.engine.config import ConfigError

__all__ = ["SimSettings", "load_sim_settings"]


@dataclass(frozen=True, slots=True)
class SimSettings:
    """What ``[sim]`` sets: ``state`` is the state file path, or None for a memory-only venue."""

    state: Path | None = None


def load_sim_settings(path: str | Path) -> SimSettings:
    """Read ``[sim]`` of the TOML file at ``path`` (other tables are left to their commands)."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    table = raw.get("sim", {})
    if not isinstance(table, dict):
        raise ConfigError("sim must be a table ([sim])")
    unknown = sorted(set(table) - {"state"})
    if unknown:
        raise ConfigError(f"unknown key sim.{unknown[0]} (known: state)")
    state = table.get("state")
    if state is None:
        return SimSettings()
    if not isinstance(state, str) or not state:
        raise ConfigError('sim.state must be a file path such as "paper.sqlite"')
    return SimSettings(state=(p.parent / state) if not Path(state).is_absolute() else Path(state))
