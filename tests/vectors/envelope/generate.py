"""Regenerate the envelope test vectors in this folder (run by hand; the files are committed).

Each vector is a JSON file a third party can reuse: the public keys (PEM), which are revoked, the
envelope (base64 of its protobuf bytes), and the expected outcome: ``ok`` with the verified signer
and sender, or the ``hub.v1.ErrorReason`` that opening must raise.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from hub.envelope import SigningKey, new_header, seal
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Envelope, Purpose

HERE = Path(__file__).parent
SENDER = "11130629MB1234567X/dibao"
ISSUED = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _vector(
    name: str, description: str, keys: list[SigningKey], envelope: Envelope, expected: str, **extra: object
) -> None:
    document = {
        "description": description,
        "keys": [
            {
                "owner": k.public.owner,
                "keyid": k.keyid,
                "suite": k.suite.name,
                "public_key_pem": k.public.pem().decode(),
            }
            for k in keys
        ],
        "envelope_b64": base64.b64encode(envelope.SerializeToString()).decode(),
        "expected": expected,
        **extra,
    }
    (HERE / f"{name}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _query(signer: SigningKey) -> Envelope:
    header = new_header(
        sender=SENDER,
        recipient="public-security@110115",
        service="hub.v1.Verification/HouseholdRegistration",
        purpose=Purpose(
            code="dibao.application", legal_basis="社会救助暂行办法 第五十八条", case_number="DX-2026-0042"
        ),
        now=ISSUED,
    )
    body = verification_pb2.HouseholdRegistrationQuery(person=verification_pb2.Person(id_number="11010519491231002X"))
    return seal(header, body, signer)


def main() -> None:
    for suite in ("ed25519", "ecdsa-p256"):
        key = SigningKey.generate(suite, owner=SENDER)
        good = _query(key)
        _vector(f"good-{suite}", f"a valid {suite} envelope", [key], good, "ok", signer=key.keyid, sender=SENDER)

        flipped = Envelope()
        flipped.CopyFrom(good)
        payload = bytearray(flipped.payload)
        payload[len(payload) // 2] ^= 0x01
        flipped.payload = bytes(payload)
        _vector(
            f"flipped-payload-{suite}", "one payload bit flipped after signing", [key], flipped, "SIGNATURE_INVALID"
        )

        other = SigningKey.generate(suite, owner=SENDER)
        wrong = Envelope()
        wrong.CopyFrom(good)
        wrong.signatures[0].keyid = other.keyid
        _vector(
            f"wrong-key-{suite}",
            "signature checked against another registered key of the sender",
            [other],
            wrong,
            "SIGNATURE_INVALID",
        )

        typed = Envelope()
        typed.CopyFrom(good)
        typed.payload_type = "application/vnd.in-toto+json"
        _vector(
            f"wrong-payload-type-{suite}", "payload type is not the hub's", [key], typed, "PAYLOAD_TYPE_UNSUPPORTED"
        )

        retyped = Envelope()
        retyped.CopyFrom(good)
        retyped.payload_type = "application/vnd.hub.v2.message+protobuf"
        _vector(
            f"payload-type-swapped-{suite}",
            "payload type changed: the PAE no longer matches, even if accepted",
            [key],
            retyped,
            "PAYLOAD_TYPE_UNSUPPORTED",
        )

        _vector(
            f"revoked-key-{suite}",
            "signed by a key the registry has revoked",
            [key],
            good,
            "KEY_REVOKED",
            revoked=[key.keyid],
        )
        _vector(f"unknown-key-{suite}", "signed by a key nobody registered", [], good, "UNKNOWN_SENDER")

        impostor = SigningKey.generate(suite, owner="91110000600037341L")
        _vector(
            f"not-sender-{suite}",
            "signature verifies but belongs to a member other than the header's sender",
            [impostor],
            _query(impostor),
            "SIGNATURE_INVALID",
        )


if __name__ == "__main__":
    main()
