"""The example configuration shipped for each built-in adapter (``adapters/examples/<name>.toml``)."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from typing import Any

from hub.errors import NotFound


def example_config(name: str) -> dict[str, Any]:
    """The parsed example configuration of adapter ``name``; ``NotFound`` if none is shipped."""
    resource = files("adapters").joinpath("examples", f"{name}.toml")
    if not resource.is_file():
        raise NotFound(f"no example configuration for adapter {name!r}", name=name)
    return tomllib.loads(resource.read_text(encoding="utf-8"))
