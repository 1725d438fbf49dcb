"""Envelope test vectors from files: each outcome must be exactly the one the file names."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from hub.envelope import StaticKeyRing, VerifyingKey, open_envelope
from hub.errors import HubError

VECTORS = sorted((Path(__file__).parent.parent / "vectors" / "envelope").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def keyring(vector: dict[str, Any]) -> StaticKeyRing:
    keys = [VerifyingKey.from_pem(k["public_key_pem"].encode(), owner=k["owner"]) for k in vector["keys"]]
    for key, listed in zip(keys, vector["keys"], strict=True):
        assert key.keyid == listed["keyid"], "keyid must be the SHA-256 of the SPKI DER"
    return StaticKeyRing(keys, revoked=vector.get("revoked", []))


def test_there_are_vectors_for_both_suites() -> None:
    names = {path.stem for path in VECTORS}
    assert {"good-ed25519", "good-ecdsa-p256", "revoked-key-ed25519", "flipped-payload-ecdsa-p256"} <= names


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path) -> None:
    vector = load(path)
    data = base64.b64decode(vector["envelope_b64"])
    if vector["expected"] == "ok":
        opened = open_envelope(data, keyring(vector))
        assert [key.keyid for key in opened.signers] == [vector["signer"]]
        assert opened.sender == vector["sender"]
    else:
        with pytest.raises(HubError) as raised:
            open_envelope(data, keyring(vector))
        assert raised.value.reason == vector["expected"]
