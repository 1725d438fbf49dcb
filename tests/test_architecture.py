"""Architecture rules as tests: the core stays free of gRPC, adapters of hub internals, and the public surface is deliberate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import hub

ROOT = Path(__file__).resolve().parent.parent


def test_import_layering_contracts_hold() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert linter, "import-linter is part of the test extras"
    result = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


def test_public_surface_is_pinned() -> None:
    assert sorted(hub.__all__) == [
        "HubApp",
        "HubClient",
        "HubError",
        "Opened",
        "SigningKey",
        "StaticKeyRing",
        "VerifyingKey",
        "build_hub",
        "countersign",
        "new_header",
        "open_envelope",
        "seal",
        "start_node",
    ]
    for name in hub.__all__:
        assert getattr(hub, name) is not None


def test_importing_the_core_does_not_import_grpc() -> None:
    code = "import sys, hub, hub.policy, hub.exchange, hub.store, hub.registry; print('grpc' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
