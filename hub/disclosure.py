"""Minimum necessary disclosure (PIPL Arts. 5–6): what an answer may contain, per service × purpose.

Applied on the answering agency's side, before signing, so fields outside the allow-list never
leave it. Field paths name message fields from the response's root (``records.programme``); a
listed message field is kept whole; anything not listed is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from google.protobuf.message import Message as ProtoMessage

from hub import services

ANY = "*"

#: Defaults: a yes/no with programme and dates, not a whole record.
DEFAULT_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    services.HOUSEHOLD_REGISTRATION: {
        ANY: ("registered", "region_code"),
        "dibao.application": ("registered", "region_code", "household_id", "members"),
        "household.check": ("registered", "region_code", "household_id", "members"),
        "annual.cross_check": ("registered", "region_code", "household_id", "members"),
    },
    services.RESIDENCE_PERMIT: {
        ANY: ("valid", "endorsed_this_year", "living_since", "address_region_code"),
    },
    services.ASSISTANCE_INQUIRY: {
        ANY: (
            "records.id_number",
            "records.programme",
            "records.locality",
            "records.since",
            "records.until",
            "records.status",
            "not_found",
        ),
        "duplicate.check": ("records", "not_found"),
        "annual.cross_check": ("records", "not_found"),
    },
    services.ENROLMENT_NOTICE: {ANY: ("recorded", "reference")},
    services.HOUSEHOLD_CHECK: {
        ANY: ("source", "member", "status", "as_of", "facts", "detail", "elapsed_ms"),
    },
}


class Disclosure:
    def __init__(self, rules: Mapping[str, Mapping[str, Iterable[str]]] | None = None) -> None:
        source = DEFAULT_RULES if rules is None else rules
        self._rules = {
            service: {p: frozenset(paths) for p, paths in by_purpose.items()} for service, by_purpose in source.items()
        }

    def allowed(self, service: str, purpose_code: str) -> frozenset[str]:
        by_purpose = self._rules.get(service, {})
        return by_purpose.get(purpose_code, by_purpose.get(ANY, frozenset()))

    def apply(self, service: str, purpose_code: str, answer: ProtoMessage) -> ProtoMessage:
        """Clear every field of ``answer`` the purpose does not need, in place; return it."""
        _prune(answer, self.allowed(service, purpose_code), prefix="")
        return answer


def _prune(message: ProtoMessage, allowed: frozenset[str], prefix: str) -> None:
    for descriptor, value in list(message.ListFields()):
        path = f"{prefix}{descriptor.name}"
        if path in allowed:
            continue
        children = {a for a in allowed if a.startswith(path + ".")}
        if not children or descriptor.message_type is None:
            message.ClearField(descriptor.name)
            continue
        items = value if descriptor.is_repeated else [value]
        for item in items:
            _prune(item, frozenset(children), prefix=path + ".")
