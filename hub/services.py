"""Names of the hub's services as they appear in ``Header.service`` (``<package>.<Service>/<Method>``).

Derived from the generated descriptors so a name can never drift from ``proto/``.
"""

from __future__ import annotations

from google.protobuf.message import Message as ProtoMessage

from hub.v1 import admin_pb2, audit_pb2, feeds_pb2, findings_pb2, jobs_pb2, verification_pb2


def _method(file_descriptor: object, service: str, method: str) -> str:
    descriptor = file_descriptor.services_by_name[service].methods_by_name[method]  # type: ignore[attr-defined]
    return f"{descriptor.containing_service.full_name}/{descriptor.name}"


HOUSEHOLD_REGISTRATION = _method(verification_pb2.DESCRIPTOR, "Verification", "HouseholdRegistration")
RESIDENCE_PERMIT = _method(verification_pb2.DESCRIPTOR, "Verification", "ResidencePermit")
ASSISTANCE_INQUIRY = _method(verification_pb2.DESCRIPTOR, "Verification", "AssistanceInquiry")
ENROLMENT_NOTICE = _method(verification_pb2.DESCRIPTOR, "Verification", "EnrolmentNotice")
HOUSEHOLD_CHECK = _method(verification_pb2.DESCRIPTOR, "Verification", "HouseholdCheck")
CONSENT_REGISTER = _method(verification_pb2.DESCRIPTOR, "Consent", "Register")
CONSENT_REVOKE = _method(verification_pb2.DESCRIPTOR, "Consent", "Revoke")
FEED_UPLOAD = _method(feeds_pb2.DESCRIPTOR, "Feeds", "Upload")
FEED_STATUS = _method(feeds_pb2.DESCRIPTOR, "Feeds", "Status")
AUDIT_LATEST_CHECKPOINT = _method(audit_pb2.DESCRIPTOR, "Audit", "LatestCheckpoint")
AUDIT_INCLUSION_PROOF = _method(audit_pb2.DESCRIPTOR, "Audit", "InclusionProof")
AUDIT_CONSISTENCY_PROOF = _method(audit_pb2.DESCRIPTOR, "Audit", "ConsistencyProof")
AUDIT_ACCESS_REPORT = _method(audit_pb2.DESCRIPTOR, "Audit", "AccessReport")
FINDINGS_RUN = _method(findings_pb2.DESCRIPTOR, "Findings", "RunComparison")
FINDINGS_LIST = _method(findings_pb2.DESCRIPTOR, "Findings", "List")
FINDINGS_REVIEW = _method(findings_pb2.DESCRIPTOR, "Findings", "Review")
FINDINGS_EXPORT = _method(findings_pb2.DESCRIPTOR, "Findings", "Export")
JOBS_LIST = _method(jobs_pb2.DESCRIPTOR, "Jobs", "List")
JOBS_RUN_NOW = _method(jobs_pb2.DESCRIPTOR, "Jobs", "RunNow")
JOBS_HISTORY = _method(jobs_pb2.DESCRIPTOR, "Jobs", "History")
ADMIN_LIST_MEMBERS = _method(admin_pb2.DESCRIPTOR, "Admin", "ListMembers")
ADMIN_ADD_MEMBER = _method(admin_pb2.DESCRIPTOR, "Admin", "AddMember")
ADMIN_GRANT = _method(admin_pb2.DESCRIPTOR, "Admin", "Grant")
ADMIN_REVOKE = _method(admin_pb2.DESCRIPTOR, "Admin", "Revoke")

#: Services answered by an agency (routed to a member), as opposed to by the hub itself.
ROUTED = frozenset({HOUSEHOLD_REGISTRATION, RESIDENCE_PERMIT, ASSISTANCE_INQUIRY, ENROLMENT_NOTICE})

#: Calls that may be retried after a timeout without changing anything at the member.
IDEMPOTENT = frozenset({HOUSEHOLD_REGISTRATION, RESIDENCE_PERMIT, ASSISTANCE_INQUIRY, HOUSEHOLD_CHECK})

#: Request and response body types per service. For HOUSEHOLD_CHECK the hub fans out to sources and
#: each source answers a ``SourceReport``; the caller gets the assembled ``HouseholdCheckReport``.
BODY_TYPES: dict[str, tuple[type[ProtoMessage], type[ProtoMessage]]] = {
    HOUSEHOLD_REGISTRATION: (
        verification_pb2.HouseholdRegistrationQuery,
        verification_pb2.HouseholdRegistrationResult,
    ),
    RESIDENCE_PERMIT: (verification_pb2.ResidencePermitQuery, verification_pb2.ResidencePermitResult),
    ASSISTANCE_INQUIRY: (verification_pb2.AssistanceInquiry, verification_pb2.AssistanceAnswer),
    ENROLMENT_NOTICE: (verification_pb2.EnrolmentNotice, verification_pb2.EnrolmentAck),
    HOUSEHOLD_CHECK: (verification_pb2.HouseholdCheckRequest, verification_pb2.SourceReport),
}
