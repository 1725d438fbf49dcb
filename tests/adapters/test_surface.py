"""The adapters package: a pinned public surface, and imports limited to the published hub modules."""

from __future__ import annotations

import ast
from pathlib import Path

import adapters

ALLOWED_HUB_IMPORTS = ("hub.v1", "hub.services", "hub.errors", "hub.identifiers")


def test_public_surface_is_pinned() -> None:
    assert sorted(adapters.__all__) == sorted(
        [
            "ENTRY_POINT_GROUP",
            "KINDS",
            "Adapter",
            "Dataset",
            "DatasetSpec",
            "QueryContext",
            "Row",
            "available_adapters",
            "example_config",
            "load_adapter",
            "register_adapter",
            "unregister_adapter",
        ]
    )
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None


def _hub_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names if node.module == "hub"]
    return [n for n in names if n == "hub" or n.startswith("hub.")]


def test_adapters_import_only_the_published_hub_modules() -> None:
    package = Path(adapters.__file__).parent
    for path in sorted(package.rglob("*.py")):
        for name in _hub_imports(path):
            if name == "hub":
                continue
            assert name.startswith(ALLOWED_HUB_IMPORTS), f"{path.name} imports {name}"


def test_importing_adapters_does_not_import_sqlalchemy_or_grpc() -> None:
    import subprocess
    import sys

    code = "import sys, adapters; print(sorted(m for m in ('sqlalchemy', 'grpc', 'faker') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
