"""The dev PKI: the hub's CA, members' TLS certificates and their separate envelope-signing keys.

Plain ``cryptography`` x509, no gRPC. On disk (see ``certs/README.md``)::

    <dir>/ca/ca.cert.pem            the CA certificate every party trusts
    <dir>/ca/ca.key.pem             the CA key (0600; only on the hub operator's machine)
    <dir>/members/<name>/tls.cert.pem, tls.key.pem          mutual TLS (ECDSA P-256)
    <dir>/members/<name>/signing.key.pem, signing.pub.pem   envelope signatures (Ed25519 or ECDSA P-256)

``<name>`` is the member id with ``/`` written as ``__``; the hub itself is the member ``"hub"``.
"""

from hub.pki._ca import CertificateAuthority, init_ca, load_ca
from hub.pki._certs import (
    MEMBER_URI_PREFIX,
    CertificateInput,
    certificate_not_after,
    fingerprint,
    load_certificate,
    member_id_of,
    verify_issued_by,
)
from hub.pki._layout import safe_name
from hub.pki._members import DEFAULT_HOSTS, MemberCredentials, issue_member, load_member

__all__ = [
    "DEFAULT_HOSTS",
    "MEMBER_URI_PREFIX",
    "CertificateAuthority",
    "CertificateInput",
    "MemberCredentials",
    "certificate_not_after",
    "fingerprint",
    "init_ca",
    "issue_member",
    "load_ca",
    "load_certificate",
    "load_member",
    "member_id_of",
    "safe_name",
    "verify_issued_by",
]
