"""ID numbers at rest: keyed tokens to join on, authenticated encryption where the raw value must come back.

- ``Tokenizer``: token = first 16 bytes of HMAC-SHA256(key, normalised 18-digit number). Deterministic under
  one key version, so tables join on tokens without ever holding the number; useless without the key.
- ``FieldCipher``: AES-256-GCM for the few columns whose raw value an answer must return. A blob is
  ``version (1 byte) | nonce (12) | ciphertext+tag``; the caller's associated data (e.g. ``b"feed_rows.id_number"``)
  is authenticated, so a ciphertext copied into another column does not decrypt.
- ``load_secrets(data_dir)``: both key sets in one JSON key file (``secrets.json``, mode 0600), created on first
  use. Every hub replica on one database must share this file, or their tokens will not join
  (``Tokenizer.key_check`` gives a value to compare across replicas).

Key rotation. HMAC is one-way, so old tokens cannot be mapped to new ones without the raw numbers.
``rotate()`` adds version N+1 and makes it current; ``retokenize(N, raw)`` returns the pair (token under N, token
under N+1) for one raw number. A re-tokenise command decrypts the raw values kept with ``FieldCipher`` (feeds keep
them where answers need them), loads the old → new pairs into a mapping table and rewrites every token column with
one set-based ``UPDATE … FROM`` per table, so token-only rows of the same person are remapped too. Rows whose person
has no raw value anywhere are re-derived when their department uploads its next feed version. Only then is the old
version retired (``retire(N)``). Cipher keys rotate the same way: ``FieldCipher.reencrypt`` moves one blob to the
current version.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import CiphertextInvalid, FailedPrecondition, InvalidArgument
from hub.identifiers import mask_id_number, upgrade_legacy_id

KEY_BYTES = 32
TOKEN_BYTES = 16
NONCE_BYTES = 12
MAX_VERSION = 255  # one byte in a FieldCipher blob
SECRETS_FILE = "secrets.json"
_FORMAT = 1
_CANONICAL_ID = re.compile(r"[0-9]{17}[0-9X]", re.ASCII).fullmatch
T = TypeVar("T")


class _VersionedKeys:
    """Numbered keys, one of them current; new data uses the current one, old versions still read."""

    SECTION: ClassVar[str]

    def __init__(self, keys: Mapping[int, bytes], current: int) -> None:
        for version, key in keys.items():
            if not 1 <= version <= MAX_VERSION:
                raise ValueError(f"key version {version} is outside 1..{MAX_VERSION}")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key version {version} has {len(key)} bytes; {KEY_BYTES} are needed")
        if current not in keys:
            raise ValueError(f"current key version {current} is not among {sorted(keys)}")
        self._keys = dict(keys)
        self._current = current
        self._keys_changed()

    def _keys_changed(self) -> None:
        """Rebuild per-key state (precomputed MACs, cipher objects) after the key set changed."""

    @classmethod
    def generate(cls) -> Self:
        """A fresh key set with one random key, version 1."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1)

    @property
    def current_version(self) -> int:
        return self._current

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keys))

    def rotate(self) -> int:
        """Add a random key as the next version and make it current; returns the new version. Save afterwards."""
        version = max(self._keys) + 1
        if version > MAX_VERSION:
            raise FailedPrecondition(f"{self.SECTION} key versions are exhausted; retire old ones first")
        self._keys[version] = secrets.token_bytes(KEY_BYTES)
        self._keys_changed()
        self._current = version
        return version

    def retire(self, version: int) -> None:
        """Forget an old version once no stored data uses it any more (for the tokenizer: no feed row, no
        consent still valid, and no audit entry a person may still ask about: see ``Tokenizer.every_token``)."""
        if version == self._current:
            raise FailedPrecondition(f"{self.SECTION} key version {version} is current and cannot be retired")
        if self._keys.pop(version, None) is None:
            raise FailedPrecondition(f"{self.SECTION} key version {version} is not held")
        self._keys_changed()

    def to_section(self) -> dict[str, Any]:
        keys = {str(v): base64.b64encode(k).decode("ascii") for v, k in sorted(self._keys.items())}
        return {"current": self._current, "keys": keys}

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> Self:
        keys = {int(v): base64.b64decode(k, validate=True) for v, k in section["keys"].items()}
        return cls(keys, int(section["current"]))

    @classmethod
    def load(cls, path: Path) -> Self:
        """This key set's section of the key file at ``path``."""
        document = read_key_file(path)
        return _parsed(path, lambda: cls.from_section(document[cls.SECTION]))

    def save(self, path: Path) -> None:
        """Write this key set's section, keeping the file's other sections."""
        document: dict[str, Any] = read_key_file(path) if path.exists() else {"format": _FORMAT}
        document[self.SECTION] = self.to_section()
        write_key_file(path, document)


class Tokenizer(_VersionedKeys):
    """Keyed HMAC tokens of ID numbers (16 bytes): the only form in which a number is joined or indexed.

    ``token`` normalises the form (whitespace, lower-case ``x``, 15-digit legacy numbers) but does not re-check
    the check character or birth date: validate at the edge with ``hub.identifiers.validate_id_number``.
    """

    SECTION = "tokens"

    def _keys_changed(self) -> None:
        self._macs = {v: hmac.new(k, digestmod=hashlib.sha256) for v, k in self._keys.items()}
        # HMAC = H(k ^ opad || H(k ^ ipad || m)). The two padded key blocks are hashed once per key; a token
        # copies both SHA-256 states (two C calls) instead of an ``hmac.HMAC`` copy: ~1 µs instead of ~2.
        self._pads = {v: _padded_states(k) for v, k in self._keys.items()}

    def token(self, id_number: str) -> bytes:
        """The token of ``id_number`` under the current key version."""
        return self.token_with(self._current, id_number)

    def token_with(self, version: int, id_number: str) -> bytes:
        """The token of ``id_number`` under key ``version`` (to look up rows not yet re-tokenised)."""
        return self.tokens_with(version, (id_number,))[0]

    def every_token(self, id_number: str) -> list[bytes]:
        """The tokens ``id_number`` has under every key held, the current one first.

        What was written under an older key keeps its token: the audit log's entries can never be re-tokenised
        (the chain covers them) and a consent keeps the tokens of its registration. Finding a person there
        after a rotation means asking under each key; an entry under a retired key can no longer be found.
        """
        versions = [self._current, *(v for v in sorted(self._keys, reverse=True) if v != self._current)]
        return [self.token_with(version, id_number) for version in versions]

    def tokens_with(self, version: int, id_numbers: Iterable[str]) -> list[bytes]:
        """``token_with`` for many numbers at once (a feed chunk): one key lookup, about 1 µs per number."""
        canonical = _CANONICAL_ID
        return self.tokens_of_validated(version, [n if canonical(n) else _normalise(n) for n in id_numbers])

    def tokens_of_validated(self, version: int, id_numbers: Iterable[str]) -> list[bytes]:
        """``tokens_with`` for numbers already in canonical form, as ``validate_id_number`` returns them.

        The feed validator has just established that form for every row, so the per-number form check
        (a quarter of the cost of a token) is skipped here. A number in any other form (``x``, spaces,
        15 digits) gets a token that matches nothing: use ``tokens_with`` unless the numbers were validated.
        """
        try:
            inner_pad, outer_pad = self._pads[version]
        except KeyError:
            raise FailedPrecondition(f"token key version {version} is not held") from None
        inner_copy, outer_copy = inner_pad.copy, outer_pad.copy
        tokens: list[bytes] = []
        append = tokens.append
        for number in id_numbers:
            inner = inner_copy()
            inner.update(number.encode("ascii"))
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.digest()[:TOKEN_BYTES])
        return tokens

    def retokenize(self, old_version: int, id_number: str) -> tuple[bytes, bytes]:
        """``(token under old_version, token under the current version)``: one row of the old → new map."""
        return self.token_with(old_version, id_number), self.token(id_number)

    def key_check(self, version: int | None = None) -> str:
        """A short public value identifying a key (not the key): equal on two replicas iff their keys are."""
        mac = self._macs[self._current if version is None else version].copy()
        mac.update(b"assistance-hub key check")
        return mac.hexdigest()[:16]


def _padded_states(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the inner and outer HMAC key blocks (RFC 2104; keys are shorter than a block)."""
    block = key.ljust(64, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block))


def _normalise(id_number: str) -> str:
    number = id_number.strip().upper()
    if len(number) == 15 and number.isascii() and number.isdigit():
        number = upgrade_legacy_id(number)
    if not _CANONICAL_ID(number):
        raise InvalidArgument("id_number", f"{mask_id_number(number)} is not an ID number", problem="format")
    return number


class FieldCipher(_VersionedKeys):
    """AES-256-GCM for values at rest, bound to where they are stored by the associated data."""

    SECTION = "cipher"

    def _keys_changed(self) -> None:
        self._aeads = {v: AESGCM(k) for v, k in self._keys.items()}

    def encrypt(self, plaintext: str, aad: bytes) -> bytes:
        """``version | nonce | ciphertext+tag`` under the current key; ``aad`` names the column, e.g. ``b"t.c"``."""
        if not aad:
            raise ValueError("associated data is required: name the table and column the value is stored in")
        header = bytes((self._current,))
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._aeads[self._current].encrypt(nonce, plaintext.encode("utf-8"), header + aad)

    def decrypt(self, blob: bytes, aad: bytes) -> str:
        """The plaintext, or ``CiphertextInvalid`` if the blob was altered, truncated, moved or its key is gone."""
        if len(blob) < 1 + NONCE_BYTES + 16:
            raise CiphertextInvalid(f"encrypted value for {aad!r} is truncated ({len(blob)} bytes)")
        version = blob[0]
        aead = self._aeads.get(version)
        if aead is None:
            raise CiphertextInvalid(f"encrypted value for {aad!r} uses key version {version}, which is not held")
        try:
            plaintext = aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], blob[:1] + aad)
        except InvalidTag:
            raise CiphertextInvalid(f"encrypted value for {aad!r} failed authentication (altered or moved)") from None
        return plaintext.decode("utf-8")

    @staticmethod
    def version_of(blob: bytes) -> int:
        """The key version a blob was encrypted under (to find blobs still on an old version)."""
        if not blob:
            raise CiphertextInvalid("encrypted value is empty")
        return blob[0]

    def reencrypt(self, blob: bytes, aad: bytes) -> bytes:
        """The same value under the current key version (cipher key rotation)."""
        return self.encrypt(self.decrypt(blob, aad), aad)


# --- the key file -----------------------------------------------------------------------------------------


def read_key_file(path: Path) -> dict[str, Any]:
    """The key file's JSON document; refuses a file other users can read (as ssh does with private keys)."""
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise FailedPrecondition(f"key file {path} is accessible to other users; run: chmod 600 {path}")
    document = _parsed(path, lambda: json.loads(path.read_text(encoding="utf-8")))
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise FailedPrecondition(f"key file {path} is not a format {_FORMAT} hub key file")
    return document


def _parsed(path: Path, parse: Callable[[], T]) -> T:
    """``parse()``, with a damaged key file reported as such (messages never contain key material)."""
    try:
        return parse()
    except (KeyError, TypeError, ValueError) as exc:
        raise FailedPrecondition(f"key file {path} is damaged ({type(exc).__name__}: {exc})") from None


def write_key_file(path: Path, document: Mapping[str, Any], *, exclusive: bool = False) -> None:
    """Write atomically with mode 0600. ``exclusive``: raise ``FileExistsError`` rather than replace a file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            os.link(tmp, path)  # atomic and never clobbers: the first of two racing writers wins
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class Secrets:
    """The hub's keys for ID numbers at rest."""

    tokenizer: Tokenizer
    cipher: FieldCipher

    @classmethod
    def generate(cls) -> Secrets:
        return cls(Tokenizer.generate(), FieldCipher.generate())

    @classmethod
    def load(cls, path: Path) -> Secrets:
        document = read_key_file(path)
        return _parsed(
            path,
            lambda: cls(
                Tokenizer.from_section(document[Tokenizer.SECTION]),
                FieldCipher.from_section(document[FieldCipher.SECTION]),
            ),
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            Tokenizer.SECTION: self.tokenizer.to_section(),
            FieldCipher.SECTION: self.cipher.to_section(),
        }

    def save(self, path: Path) -> None:
        """Write both key sets (e.g. after ``rotate()``)."""
        write_key_file(path, self.to_document())


def load_secrets(data_dir: Path) -> Secrets:
    """The keys in ``data_dir/secrets.json``, generated and written (mode 0600) on first use.

    Safe when several processes start at once on one data directory: exactly one file is written and all load it.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process won the race: use its keys
            write_key_file(path, Secrets.generate().to_document(), exclusive=True)
    return Secrets.load(path)
