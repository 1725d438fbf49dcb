"""The adapter contract, run against every registered adapter (built-ins, in-process, entry points).

Each adapter is built from its example configuration (``adapters/examples/<name>.toml``) over the demo
scenario in a temporary directory; the per-kind adapters run over each backend they offer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters import KINDS, Adapter, available_adapters
from adapters._registry import KIND_CLASSES
from adapters.demo import Demo
from hub import services
from hub.errors import HubError, InvalidArgument
from hub.identifiers import mask_id_number
from hub.v1 import verification_pb2 as pb

from .adapter_requests import ID_FIELD, answer, ask, ids_in, request


def _cases() -> list[Any]:
    cases = []
    for name in available_adapters():
        for backend in ("csv", "sql", "memory") if name in KIND_CLASSES else (None,):
            cases.append(pytest.param((name, backend), id=f"{name}-{backend}" if backend else name))
    return cases


@pytest.fixture(params=_cases())
def adapter(request: pytest.FixtureRequest, open_adapter: Any) -> Adapter:
    name, backend = request.param
    built: Adapter = open_adapter(name, backend)
    return built


def _known(demo: Demo) -> list[str]:
    """Persons of the demo's two households that every source has data on (A's, then B's)."""
    return [p.id_number for p in demo.household("A") + demo.household("B")]


def test_declares_what_it_is(adapter: Adapter) -> None:
    assert isinstance(adapter, Adapter)
    assert adapter.kind in KINDS
    assert adapter.name in available_adapters()
    declared = adapter.services()
    assert declared, "an adapter answers at least one service"
    assert declared <= set(services.BODY_TYPES)


def test_answers_each_declared_service_with_its_response_type(adapter: Adapter, demo: Demo) -> None:
    for service in sorted(adapter.services()):
        many = service in (services.HOUSEHOLD_CHECK, services.ASSISTANCE_INQUIRY)
        asked = _known(demo) if many else [demo.a.id_number]
        reply = ask(adapter, service, asked)
        _, response_type = services.BODY_TYPES[service]
        assert type(reply) is response_type
        assert reply.ByteSize() > 0, f"{service}: a known person gets a non-empty answer"


def test_household_check_report_is_this_source(adapter: Adapter, demo: Demo) -> None:
    if services.HOUSEHOLD_CHECK not in adapter.services():
        pytest.skip("no household check")
    report = ask(adapter, services.HOUSEHOLD_CHECK, _known(demo))
    assert isinstance(report, pb.SourceReport)
    assert report.source == adapter.kind
    assert report.status == pb.SOURCE_OK
    assert report.HasField("as_of")
    assert report.facts, "the demo plants facts for every source in the A and B households"


def test_unknown_person_is_an_empty_answer_not_an_error(adapter: Adapter, demo: Demo) -> None:
    for service in sorted(adapter.services() - {services.ENROLMENT_NOTICE}):
        reply = ask(adapter, service, [demo.unknown_id])
        if isinstance(reply, pb.SourceReport):
            assert reply.status == pb.SOURCE_OK and not reply.facts
        elif isinstance(reply, pb.AssistanceAnswer):
            assert not reply.records and list(reply.not_found) == [demo.unknown_id]
        elif isinstance(reply, pb.HouseholdRegistrationResult):
            assert not reply.registered and not reply.members
        elif isinstance(reply, pb.ResidencePermitResult):
            assert not reply.valid and not reply.permit_number
        else:
            pytest.fail(f"no expectation for {type(reply).__name__}")


@pytest.mark.parametrize("bad", ["130629197908056791", "13062919790805", "1306291979O8056791", ""])
def test_invalid_id_number_is_invalid_argument_naming_the_field(adapter: Adapter, bad: str) -> None:
    for service in sorted(adapter.services()):
        with pytest.raises(InvalidArgument) as caught:
            ask(adapter, service, [bad])
        assert caught.value.field == ID_FIELD[service]
        if len(bad) >= 14:
            assert bad not in str(caught.value), "an error message never echoes a raw ID number"


def test_answers_name_no_one_but_the_persons_asked(adapter: Adapter, demo: Demo) -> None:
    everyone = {p.id_number for p in demo.persons.values()}
    for service in sorted(adapter.services()):
        for label in ("A", "B", "A.spouse", "B.father"):
            asked = {demo.persons[label].id_number}
            allowed = set(asked)
            if service == services.HOUSEHOLD_REGISTRATION:  # the reply lists the asked person's household
                allowed |= {p.id_number for p in demo.household(label)}
            named = ids_in(ask(adapter, service, sorted(asked)))
            leaked = named - allowed
            assert not leaked, f"{service} about {label} names {sorted(mask_id_number(n) for n in leaked)}"
            assert named <= everyone


def test_undeclared_service_is_refused(adapter: Adapter, demo: Demo) -> None:
    for service in sorted(set(services.BODY_TYPES) - adapter.services()):
        with pytest.raises(HubError):
            answer(adapter, request(service, [demo.a.id_number]), service)


def test_aclose_is_idempotent(adapter: Adapter, demo: Demo) -> None:
    ask(adapter, sorted(adapter.services())[0], [demo.a.id_number])
    asyncio.run(adapter.aclose())
    asyncio.run(adapter.aclose())
