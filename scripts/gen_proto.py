"""Regenerate the committed protobuf / gRPC code in ``hub/v1`` from ``proto/hub/v1``.

Usage::

    python scripts/gen_proto.py          # regenerate in place
    python scripts/gen_proto.py --check  # exit 1 if the committed code differs from proto/

The generated modules live at ``hub/v1/*_pb2*.py`` so their imports (``from hub.v1 import ...``)
resolve without path tricks.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT_PACKAGE = Path("hub") / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out_root: Path) -> None:
    """Run protoc (from grpcio-tools) over every .proto under proto/, writing below ``out_root``."""
    import grpc_tools  # imported here: a dev-only dependency
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def generated_files(root: Path) -> dict[str, Path]:
    folder = root / OUT_PACKAGE
    return {p.name: p for p in folder.iterdir() if p.name.endswith(GENERATED_SUFFIXES)}


def check() -> list[str]:
    """Return the names of generated files that drift from proto/ (missing, extra or different)."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = generated_files(Path(tmp))
        committed = generated_files(ROOT)
        drift = sorted(set(fresh) ^ set(committed))
        drift += sorted(
            name for name in set(fresh) & set(committed) if not filecmp.cmp(fresh[name], committed[name], shallow=False)
        )
        return drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report drift instead of regenerating")
    options = parser.parse_args()
    if options.check:
        drift = check()
        for name in drift:
            print(f"drift: hub/v1/{name}", file=sys.stderr)
        return 1 if drift else 0
    for stale in generated_files(ROOT).values():
        stale.unlink()
    generate(ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
