"""``hubctl query``: ask the hub each question by hand, as a member, and see the verified answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from google.protobuf import text_format
from google.protobuf.message import Message as ProtoMessage

from hub import services
from hub.cli._context import CliContext, pass_cli
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.envelope import VerifyingKey

T = TypeVar("T")


@dataclass
class Asker:
    hub: str
    member: str
    purpose: str
    legal_basis: str
    case: str
    consent: str
    known: tuple[str, ...]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except HubError as error:
        raise click.ClickException(f"{error.reason}: {error.explanation}") from None


async def _ask(
    cli: CliContext, asker: Asker, service: str, body: ProtoMessage, answer_type: type[ProtoMessage], recipient: str
) -> None:
    from hub.app import hub_public_key_path
    from hub.grpc.client import HubClient
    from hub.grpc.credentials import channel_credentials
    from hub.pki import load_member
    from hub.v1.envelope_pb2 import Purpose

    pki = cli.settings.pki_dir
    credentials = load_member(pki, asker.member)
    hub_key = _public_key(hub_public_key_path(pki, cli.settings.member_id), cli.settings.member_id)
    known = [
        _public_key(pki / "members" / other.replace("/", "__") / "signing.pub.pem", other) for other in asker.known
    ]
    client = HubClient(
        asker.hub,
        member_id=asker.member,
        signer=credentials.signing_key,
        hub_key=hub_key,
        credentials=channel_credentials(credentials),
        known_keys=known,
        hub_id=cli.settings.member_id,
    )
    try:
        answer = await client.ask(
            service,
            body,
            answer_type,
            recipient=recipient,
            purpose=Purpose(code=asker.purpose, legal_basis=asker.legal_basis, case_number=asker.case),
            consent_ref=asker.consent,
        )
    finally:
        await client.aclose()
    header = answer.opened.header
    click.echo(f"# {service} answered by {header.sender} to {header.recipient}")
    for key in answer.verified_by:
        click.echo(f"# verified signature: {key.owner} ({key.suite.name} {key.keyid[:16]}…)")
    click.echo("# request_hash matches the question sent")
    click.echo(text_format.MessageToString(answer.body, as_utf8=True).rstrip() or "(empty answer)")


def _public_key(path: Path, owner: str) -> VerifyingKey:
    """``owner``'s public signing key from the PKI folder, or a clear message naming the missing file."""
    from hub.envelope import VerifyingKey

    try:
        return VerifyingKey.from_pem(path.read_bytes(), owner=owner)
    except FileNotFoundError:
        raise click.ClickException(
            f"no public signing key for {owner} at {path}; copy that member's signing.pub.pem there"
        ) from None


@click.group("query")
@click.option("--hub", "hub_address", default=None, help="host:port of the hub (default: server.listen).")
@click.option("--as", "member", required=True, help="Your member id; its credentials come from the PKI folder.")
@click.option("--purpose", default="dibao.application", show_default=True, help="Purpose code of the question.")
@click.option("--legal-basis", default="社会救助暂行办法 第五十八条", show_default=True)
@click.option("--case", "case", default="", help="Your case number.")
@click.option("--consent", default="", help="Reference of the household's authorisation (核查授权书), if needed.")
@click.option("--trust", "known", multiple=True, help="Also verify the answering member's own signature (member id).")
@click.pass_context
def command(
    ctx: click.Context,
    hub_address: str | None,
    member: str,
    purpose: str,
    legal_basis: str,
    case: str,
    consent: str,
    known: tuple[str, ...],
) -> None:
    """Ask one question through the hub, signed as MEMBER, and print the verified answer.

    Example: hubctl query --as 11110115MB0000007E household-registration 13062919880512001X --region 130629
    """
    cli: CliContext = ctx.ensure_object(CliContext)
    ctx.obj = cli
    ctx.meta["asker"] = Asker(
        hub_address or cli.settings.server.listen, member, purpose, legal_basis, case, consent, known
    )


def _asker() -> Asker:
    asker: Asker = click.get_current_context().meta["asker"]
    return asker


def _question(name: str) -> Callable[[Callable[..., tuple[str, ProtoMessage, type[ProtoMessage], str]]], click.Command]:
    def decorate(build: Callable[..., tuple[str, ProtoMessage, type[ProtoMessage], str]]) -> click.Command:
        @pass_cli
        def run(cli: CliContext, /, **options: Any) -> None:
            service, body, answer_type, recipient = build(**options)
            _run(_ask(cli, _asker(), service, body, answer_type, recipient))

        run.__doc__ = build.__doc__
        return command.command(name)(run)

    return decorate


@click.argument("id_number")
@click.option("--region", required=True, help="The 户籍 region code to route to (public-security@REGION).")
@_question("household-registration")
def household_registration(id_number: str, region: str) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """户籍核验: is ID_NUMBER registered, where, in which household?"""
    from hub.v1 import verification_pb2 as v

    query = v.HouseholdRegistrationQuery(person=v.Person(id_number=id_number))
    return services.HOUSEHOLD_REGISTRATION, query, v.HouseholdRegistrationResult, f"public-security@{region}"


@click.argument("id_number")
@click.option("--region", required=True, help="Where the applicant lives (public-security@REGION).")
@_question("residence-permit")
def residence_permit(id_number: str, region: str) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """居住证核验: is ID_NUMBER's residence permit valid and endorsed, since when?"""
    from hub.v1 import verification_pb2 as v

    query = v.ResidencePermitQuery(person=v.Person(id_number=id_number), region_code=region)
    return services.RESIDENCE_PERMIT, query, v.ResidencePermitResult, f"public-security@{region}"


@click.argument("id_numbers", nargs=-1, required=True)
@click.option("--region", required=True, help="The 户籍 locality asked (civil-affairs@REGION).")
@_question("inquiry")
def inquiry(id_numbers: tuple[str, ...], region: str) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """函询: do these persons already receive assistance in the 户籍 locality?"""
    from hub.v1 import verification_pb2 as v

    body = v.AssistanceInquiry(persons=[v.Person(id_number=n) for n in id_numbers], household_region_code=region)
    return services.ASSISTANCE_INQUIRY, body, v.AssistanceAnswer, f"civil-affairs@{region}"


PROGRAMMES = {"dibao": 1, "tekun": 2, "dibao-edge": 3, "temporary": 4}
CHANGES = {"new": 1, "change": 2, "exit": 3}


@click.argument("id_number")
@click.option("--to", "region", required=True, help="The 户籍 locality notified (civil-affairs@REGION).")
@click.option("--programme", type=click.Choice(sorted(PROGRAMMES)), default="dibao", show_default=True)
@click.option("--change", type=click.Choice(sorted(CHANGES)), default="new", show_default=True)
@click.option("--locality", required=True, help="Region code of the bureau that pays (yours).")
@click.option("--monthly-yuan", type=float, default=0.0, help="Monthly amount in yuan.")
@_question("enrol")
def enrol(
    id_number: str, region: str, programme: str, change: str, locality: str, monthly_yuan: float
) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """转接: tell the 户籍 locality that ID_NUMBER was enrolled (or changed, or exited) here."""
    from hub.envelope import timestamp
    from hub.v1 import verification_pb2 as v

    record = v.AssistanceRecord(
        id_number=id_number,
        programme=PROGRAMMES[programme],  # type: ignore[arg-type]
        locality=locality,
        since=timestamp(dt.datetime.now(dt.UTC)),
        monthly_amount_fen=round(monthly_yuan * 100),
        status=v.ACTIVE,
    )
    notice = v.EnrolmentNotice(change=CHANGES[change], record=record)  # type: ignore[arg-type]
    return services.ENROLMENT_NOTICE, notice, v.EnrolmentAck, f"civil-affairs@{region}"


@click.argument("id_numbers", nargs=-1, required=True)
@click.option("--source", "sources", multiple=True, help="Registry kinds to ask (default: all the consent covers).")
@click.option("--deadline-ms", type=int, default=0, help="Per-source deadline.")
@_question("household-check")
def household_check(
    id_numbers: tuple[str, ...], sources: tuple[str, ...], deadline_ms: int
) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """一键核对: ask every registry about the household at once (needs --consent)."""
    from hub.v1 import verification_pb2 as v

    body = v.HouseholdCheckRequest(
        members=[v.Person(id_number=n) for n in id_numbers], sources=list(sources), deadline_ms=deadline_ms
    )
    return services.HOUSEHOLD_CHECK, body, v.HouseholdCheckReport, "hub"


@click.option("--signer", "signers", multiple=True, required=True, help="ID number of an adult who signed.")
@click.option("--covers", "covered", multiple=True, required=True, help="ID number of a household member covered.")
@click.option("--scope", "scopes", multiple=True, required=True, help="Data the household authorised, e.g. hrss.")
@click.option("--valid-days", type=int, default=90, show_default=True)
@click.option(
    "--document", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help="The signed scan."
)
@_question("consent")
def consent(
    signers: tuple[str, ...], covered: tuple[str, ...], scopes: tuple[str, ...], valid_days: int, document: Path
) -> tuple[str, ProtoMessage, type[ProtoMessage], str]:
    """Register a household's authorisation (核查授权书); prints its reference for --consent."""
    from hub.envelope import timestamp
    from hub.v1 import verification_pb2 as v

    registration = v.ConsentRegistration(
        signer_id_numbers=list(signers),
        covered_id_numbers=list(covered),
        scopes=list(scopes),
        valid_until=timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=valid_days)),
        document_sha256=hashlib.sha256(document.read_bytes()).digest(),
    )
    return services.CONSENT_REGISTER, registration, v.ConsentReceipt, "hub"
