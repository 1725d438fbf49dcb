"""Coverage-guided fuzz target for envelope opening (atheris, i.e. libFuzzer for Python).

    python fuzz/envelope_open.py -max_total_time=60 fuzz-corpus/     # seeds an empty corpus folder first

The oracle, for any input: opening raises a typed ``hub.errors.HubError`` or returns an envelope whose
payload is one this target signed; reading the body and validating it at the edge, as the hub does next,
may also only raise ``HubError``. Anything else (another exception, a forged payload accepted) is a crash.

The first byte of an input picks what the rest is:

- 0: the bytes of an envelope, as a stranger on the network would send them;
- 1: a payload that a registered member signs (an authenticated sender with a hostile payload);
- 2: a service (next byte) and a body for it, wrapped in a well-formed header and signed: the shortest
  path for the fuzzer into body parsing and ID / region validation.

Keys and seed payloads are fixed, so a corpus stays valid from one run to the next.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FunctionType

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp

import hub.envelope as envelope_api
import hub.errors as errors
import hub.validation as validation
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Header, Message, Purpose

SENDER = "11110115MB0000007E"
LIMIT = 64 * 1024
SERVICES = sorted(validation.REQUEST_TYPES)
MEMBER_KEYS = (
    envelope_api.SigningKey.from_private_key(ed25519.Ed25519PrivateKey.from_private_bytes(b"\x11" * 32), SENDER),
    envelope_api.SigningKey.from_private_key(ec.derive_private_key(0x5EED, ec.SECP256R1()), SENDER),
)
HUB_KEY = envelope_api.SigningKey.from_private_key(ed25519.Ed25519PrivateKey.from_private_bytes(b"\x22" * 32), "hub")
RING = envelope_api.StaticKeyRing([*(key.public for key in MEMBER_KEYS), HUB_KEY.public])


def header(service: str, number: int = 0) -> Header:
    return Header(
        message_id=f"0190f00d-0000-7000-8000-{number:012d}",
        correlation_id=f"0190f00d-0000-7000-8000-{number:012d}",
        sender=SENDER,
        recipient="public-security@130629",
        service=service,
        issued_at=Timestamp(seconds=1_780_000_000),
        expires_at=Timestamp(seconds=1_780_000_300),
        purpose=Purpose(code="dibao.application", legal_basis="社会救助暂行办法 第五十八条"),
    )


def seed_bodies() -> Iterator[tuple[str, ProtoMessage]]:
    person = v.Person(id_number="13062919880512001X", name="张三")
    for service, body_type in validation.REQUEST_TYPES.items():
        body = body_type()
        if isinstance(body, v.HouseholdRegistrationQuery | v.ResidencePermitQuery):
            body.person.CopyFrom(person)
        elif isinstance(body, v.AssistanceInquiry):
            body.persons.add().CopyFrom(person)
            body.household_region_code = "130629"
        elif isinstance(body, v.EnrolmentNotice):
            body.change = v.NEW_ENROLMENT
            body.record.id_number, body.record.programme, body.record.locality = person.id_number, v.DIBAO, "110115"
        elif isinstance(body, v.HouseholdCheckRequest):
            body.members.add().CopyFrom(person)
            body.sources.append("hrss")
        else:
            body.id_number = person.id_number  # type: ignore[attr-defined]  # the audit access report
        yield service, body


def seal_fixed(service: str, body: ProtoMessage, number: int, *, countersigned: bool = False) -> Envelope:
    message = Message(header=header(service, number))
    message.body.Pack(body)
    signers = [MEMBER_KEYS[number % len(MEMBER_KEYS)], *([HUB_KEY] if countersigned else [])]
    return envelope_api.sign_payload(message.SerializeToString(), signers)


SEEDS = [
    seal_fixed(service, body, number, countersigned=number % 3 == 0)
    for number, (service, body) in enumerate(seed_bodies())
]
#: The only payloads that may ever open from bytes off the network (mode 0).
KNOWN = frozenset(hashlib.sha256(seed.payload).digest() for seed in SEEDS)


def seed_inputs() -> Iterator[bytes]:
    for seed in SEEDS:
        yield b"\x00" + seed.SerializeToString()
        yield b"\x01" + seed.payload
    for service, body in seed_bodies():
        yield b"\x02" + bytes([SERVICES.index(service)]) + body.SerializeToString()


def signed(payload: bytes, index: int = 0) -> bytes:
    return envelope_api.sign_payload(payload, [MEMBER_KEYS[index % len(MEMBER_KEYS)]]).SerializeToString()


def wrapped(service_byte: int, body: bytes) -> bytes:
    service = SERVICES[service_byte % len(SERVICES)]
    message = Message(header=header(service))
    message.body.type_url = "type.googleapis.com/" + validation.REQUEST_TYPES[service].DESCRIPTOR.full_name
    message.body.value = body
    return signed(message.SerializeToString(), service_byte)


def test_one_input(data: bytes) -> None:
    """One fuzz input: raises only if the oracle is broken (see the module docstring)."""
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 1:
        rest = signed(rest, data[0])
    elif mode == 2:
        if not rest:
            return
        rest = wrapped(rest[0], rest[1:])
    try:
        opened = envelope_api.open_envelope(rest, RING, max_bytes=LIMIT)
    except errors.HubError:
        return
    if mode == 0 and opened.payload_sha256 not in KNOWN:
        raise AssertionError("an envelope off the network opened with a payload nobody signed")
    request_type = validation.REQUEST_TYPES.get(opened.header.service)
    if request_type is None:
        return
    try:
        validation.subjects(opened.header.service, opened.body(request_type))
    except errors.HubError:
        return


def write_seeds(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in seed_inputs():
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    return count


def hub_functions() -> Iterator[FunctionType]:
    """Every function and method defined in the ``hub`` modules loaded so far."""
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if not (name == "hub" or name.startswith("hub.")) or name.startswith("hub.v1"):
            continue
        for value in vars(module).values():
            members = vars(value).values() if isinstance(value, type) else (value,)
            for member in members:
                function = getattr(member, "__func__", member)
                if isinstance(function, FunctionType) and function.__module__ == name and id(function) not in seen:
                    seen.add(id(function))
                    yield function


def main(argv: list[str]) -> None:
    import atheris  # type: ignore[import-untyped,import-not-found]  # only a fuzzing run needs it (dev extra)

    folders = [Path(arg) for arg in argv[1:] if not arg.startswith("-")]
    if folders and (not folders[0].exists() or not any(folders[0].iterdir())):
        write_seeds(folders[0])
    for function in hub_functions():  # coverage feedback from the hub's own code (instrument_all takes ~30 s)
        atheris.instrument_func(function)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
