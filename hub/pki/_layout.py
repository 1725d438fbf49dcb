"""Where the dev PKI keeps its files, and how they are written (keys 0600, never half-written)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from hub.errors import InvalidArgument

CA_DIR = "ca"
CA_CERT = "ca.cert.pem"
CA_KEY = "ca.key.pem"
MEMBERS_DIR = "members"
TLS_CERT = "tls.cert.pem"
TLS_KEY = "tls.key.pem"
SIGNING_KEY = "signing.key.pem"
SIGNING_PUB = "signing.pub.pem"

#: Same bound as ``members.member_id`` in the store; also the X.520 limit on a common name.
MAX_MEMBER_ID = 64
_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_MEMBER_ID = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")


def check_member_id(member_id: str) -> str:
    """Return ``member_id`` if it can name a folder and a certificate; raise ``InvalidArgument`` otherwise.

    ``/`` separates a subsystem (``11130629MB1234567U/dibao``) and maps to ``__`` on disk, so ``__``
    itself is refused: two member ids must never share a folder.
    """
    if len(member_id) > MAX_MEMBER_ID:
        raise InvalidArgument("member_id", f"is longer than {MAX_MEMBER_ID} characters")
    if not _MEMBER_ID.fullmatch(member_id) or "__" in member_id:
        raise InvalidArgument(
            "member_id",
            f"{member_id!r} is not a member id: use letters, digits, '.', '-', single '_', "
            "and '/' before a subsystem (e.g. 11130629MB1234567U/dibao)",
        )
    return member_id


def safe_name(member_id: str) -> str:
    """The folder name of a member: its id with ``/`` replaced by ``__``."""
    return check_member_id(member_id).replace("/", "__")


def ca_dir(directory: Path) -> Path:
    return directory / CA_DIR


def member_dir(directory: Path, member_id: str) -> Path:
    return directory / MEMBERS_DIR / safe_name(member_id)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only, since it holds private keys."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def write_file(path: Path, data: bytes, *, private: bool) -> None:
    """Write ``data`` atomically (temp file + rename); ``private`` files are mode 0600, others 0644.

    The temp file is created 0600 before any byte lands in it, so a key is never readable by others,
    not even for an instant, and a crash leaves either the old file or the new one.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
