"""Administration: units, clusters and yearly terms, users and roles, signing credentials.

Every function takes ``actor``: an admin user, or ``None`` for the operator at the server's
console (the ``thidua`` CLI), who already has the instance's secrets. Each change is audited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from signing.ca import certificate_unit_code, fingerprint_sha256
from signing.credentials import (
    generate_private_key,
    import_pkcs12,
    load_certificate,
    seal_private_key,
)
from signing.errors import SigningError, WrongPin
from workflow.audit import append_event
from workflow.blobs import get_blob
from workflow.clock import aware
from workflow.errors import ConflictError, NotFound, ValidationError
from workflow.models import (
    MAX_PIN_TRIES,
    ROLES,
    UNIT_KINDS,
    Cluster,
    ClusterTerm,
    Credential,
    Document,
    RoleMembership,
    TermMember,
    Unit,
    User,
)
from workflow.pki import ca_certificate, crl_der, load_ca
from workflow.security import hash_password
from workflow.services._common import (
    clean_text,
    flush,
    operator_name,
    unit_by_code,
)
from workflow.services.auth import end_sessions, revoke_user_tokens

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MIN_PIN = 6
REVOCATION_REASONS = (
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
)


def _code(value: Any, field: str = "code") -> str:
    code = clean_text(value, field, max_len=32).upper()
    if not _CODE.match(code):
        raise ValidationError(
            f"Mã '{code}' không hợp lệ: chỉ chữ in hoa không dấu, số và '-'.", field=field
        )
    return code


def _audit(session: Session, who: str, action: str, now: datetime, **data: Any) -> None:
    append_event(session, action=action, actor=who, now=now, data=data)


# --- units, clusters, terms ---------------------------------------------------------------


def add_unit(
    session: Session,
    actor: User | None,
    code: str,
    name: str,
    *,
    kind: str = "member",
    now: datetime | None = None,
) -> Unit:
    who, now = operator_name(session, actor), aware(now)
    code = _code(code)
    if kind not in UNIT_KINDS:
        raise ValidationError("Loại đơn vị phải là 'member' hoặc 'board'.", field="kind")
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise ConflictError(f"Đã có đơn vị mã {code}.", code="unit_exists")
    unit = Unit(code=code, name=clean_text(name, "name", max_len=300), kind=kind, created_at=now)
    session.add(unit)
    flush(session)
    _audit(session, who, "unit_add", now, code=code, name=unit.name, kind=kind)
    return unit


def add_cluster(
    session: Session, actor: User | None, code: str, name: str, *, now: datetime | None = None
) -> Cluster:
    who, now = operator_name(session, actor), aware(now)
    code = _code(code)
    if session.scalar(select(Cluster.id).where(Cluster.code == code)) is not None:
        raise ConflictError(f"Đã có cụm mã {code}.", code="cluster_exists")
    cluster = Cluster(code=code, name=clean_text(name, "name", max_len=300), created_at=now)
    session.add(cluster)
    flush(session)
    _audit(session, who, "cluster_add", now, code=code, name=cluster.name)
    return cluster


def add_term(
    session: Session,
    actor: User | None,
    cluster_code: str,
    year: int,
    *,
    head: str,
    deputy: str | None,
    board: str,
    members: Sequence[str],
    now: datetime | None = None,
) -> ClusterTerm:
    """A cluster's year: head and deputy (both members), the supervising board, the members
    in signing order."""
    who, now = operator_name(session, actor), aware(now)
    cluster = session.scalar(select(Cluster).where(Cluster.code == _code(cluster_code)))
    if cluster is None:
        raise NotFound(f"Không có cụm mã {cluster_code}.", code="cluster_not_found")
    if not isinstance(year, int) or not 1990 <= year <= 2200:
        raise ValidationError("Năm không hợp lệ.", field="year")
    if session.scalar(
        select(ClusterTerm.id).where(ClusterTerm.cluster_id == cluster.id, ClusterTerm.year == year)
    ):
        raise ConflictError(f"Cụm {cluster.code} đã có nhiệm kỳ năm {year}.", code="term_exists")
    member_units = [unit_by_code(session, c) for c in members]
    codes = [u.code for u in member_units]
    if len(set(codes)) != len(codes) or not codes:
        raise ValidationError("Danh sách đơn vị thành viên rỗng hoặc lặp.", field="members")
    if any(u.kind != "member" for u in member_units):
        raise ValidationError("Ban thi đua không thể là đơn vị thành viên.", field="members")
    head_unit = unit_by_code(session, head)
    deputy_unit = unit_by_code(session, deputy) if deputy else None
    board_unit = unit_by_code(session, board)
    if board_unit.kind != "board":
        raise ValidationError(f"{board_unit.code} không phải là ban thi đua.", field="board")
    if head_unit.code not in codes:
        raise ValidationError("Cụm trưởng phải là đơn vị thành viên.", field="head")
    if deputy_unit is not None and (deputy_unit.code not in codes or deputy_unit is head_unit):
        raise ValidationError("Cụm phó phải là thành viên khác cụm trưởng.", field="deputy")
    term = ClusterTerm(
        cluster=cluster,
        year=year,
        head_unit=head_unit,
        deputy_unit=deputy_unit,
        board_unit=board_unit,
        created_at=now,
    )
    term.memberships = [TermMember(unit=u, position=i) for i, u in enumerate(member_units)]
    session.add(term)
    flush(session)
    _audit(
        session,
        who,
        "term_add",
        now,
        cluster=cluster.code,
        year=year,
        head=head_unit.code,
        deputy=deputy_unit.code if deputy_unit else None,
        board=board_unit.code,
        members=codes,
    )
    return term


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.kind.desc(), Unit.code)))


def list_clusters(session: Session) -> list[Cluster]:
    return list(
        session.scalars(
            select(Cluster)
            .options(selectinload(Cluster.terms).selectinload(ClusterTerm.memberships))
            .order_by(Cluster.code)
        )
    )


def get_term(session: Session, cluster_id: int, year: int) -> ClusterTerm:
    term = session.scalar(
        select(ClusterTerm).where(ClusterTerm.cluster_id == cluster_id, ClusterTerm.year == year)
    )
    if term is None:
        raise NotFound("Không có nhiệm kỳ này.", code="term_not_found")
    return term


# --- users --------------------------------------------------------------------------------


def _username(value: Any) -> str:
    name = unicodedata.normalize("NFC", str(value or "")).strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(
            "Tên đăng nhập chỉ gồm chữ thường không dấu, số, '.', '_' hoặc '-' (2–64 ký tự).",
            field="username",
        )
    return name


def _password(value: Any) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD or len(value) > 1024:
        raise ValidationError(
            f"Mật khẩu phải có từ {MIN_PASSWORD} ký tự trở lên.", field="password"
        )
    return value


def add_user(
    session: Session,
    actor: User | None,
    username: str,
    full_name: str,
    password: str | None = None,
    *,
    roles: Sequence[tuple[str | None, str]] = (),
    password_hash: str | None = None,
    now: datetime | None = None,
) -> User:
    """A user with ``roles`` as (unit code or None for admin, role). ``password_hash`` lets
    bulk imports hash a shared password once."""
    who, now = operator_name(session, actor), aware(now)
    name = _username(username)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise ConflictError(f"Đã có người dùng '{name}'.", code="user_exists")
    if password_hash is None:
        password_hash = hash_password(_password(password))
    user = User(
        username=name,
        full_name=clean_text(full_name, "full_name", max_len=200),
        password_hash=password_hash,
        active=True,
        created_at=now,
    )
    session.add(user)
    flush(session)
    for unit_code, role in roles:
        _grant(session, user, unit_code, role)
    flush(session)
    _audit(
        session,
        who,
        "user_add",
        now,
        username=name,
        roles=[f"{r}@{u}" if u else r for u, r in roles],
    )
    return user


def _grant(session: Session, user: User, unit_code: str | None, role: str) -> RoleMembership:
    if role not in ROLES:
        raise ValidationError(f"Vai trò '{role}' không tồn tại.", field="role")
    if role == "admin":
        unit_id = None
    else:
        if not unit_code:
            raise ValidationError(f"Vai trò '{role}' cần một đơn vị.", field="unit")
        unit = unit_by_code(session, unit_code)
        if (role == "board") != (unit.kind == "board"):
            raise ValidationError(
                "Vai trò 'board' chỉ dành cho ban thi đua, và ban thi đua chỉ có vai trò 'board'.",
                field="role",
            )
        unit_id = unit.id
    membership = RoleMembership(user_id=user.id, unit_id=unit_id, role=role)
    user.roles.append(membership)
    return membership


def grant_role(
    session: Session,
    actor: User | None,
    username: str,
    unit_code: str | None,
    role: str,
    *,
    now: datetime | None = None,
) -> RoleMembership:
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    membership = _grant(session, user, unit_code, role)
    flush(session)
    end_sessions(session, user)  # a privilege change: sessions start again
    _audit(session, who, "role_grant", now, username=user.username, unit=unit_code, role=role)
    return membership


def revoke_role(
    session: Session,
    actor: User | None,
    username: str,
    unit_code: str | None,
    role: str,
    *,
    now: datetime | None = None,
) -> None:
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    unit_id = unit_by_code(session, unit_code).id if unit_code else None
    for membership in list(user.roles):
        if membership.role == role and membership.unit_id == unit_id:
            user.roles.remove(membership)
            session.delete(membership)
            flush(session)
            end_sessions(session, user)  # a privilege change: sessions start again
            _audit(
                session, who, "role_revoke", now, username=user.username, unit=unit_code, role=role
            )
            return
    raise NotFound("Người dùng không có vai trò này.", code="role_not_found")


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == str(username).strip().lower()))
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.", code="user_not_found")
    return user


def set_password(
    session: Session,
    actor: User | None,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
) -> None:
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    user.password_hash = hash_password(_password(password))
    flush(session)
    end_sessions(session, user)  # whoever knew the old password is signed out
    _audit(session, who, "password_set", now, username=user.username)


def set_active(
    session: Session,
    actor: User | None,
    username: str,
    active: bool,
    *,
    now: datetime | None = None,
) -> None:
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    user.active = bool(active)
    flush(session)
    if not active:
        # For good: reactivating the user later revives no session and no token.
        end_sessions(session, user)
        revoke_user_tokens(session, user, now=now)
    _audit(
        session, who, "user_activate" if active else "user_deactivate", now, username=user.username
    )


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).options(selectinload(User.roles)).order_by(User.username))
    )


# --- credentials --------------------------------------------------------------------------


def _pin(value: Any) -> str:
    if not isinstance(value, str) or len(value) < MIN_PIN or len(value) > 64:
        raise ValidationError(f"Mã PIN phải có từ {MIN_PIN} ký tự trở lên.", field="pin")
    return value


def _signing_unit(session: Session, user: User, unit_code: str) -> Unit:
    unit = unit_by_code(session, unit_code)
    role = "board" if unit.kind == "board" else "signer"
    if (unit.id, role) not in {(r.unit_id, r.role) for r in user.roles}:
        raise ValidationError(
            f"{user.username} không có vai trò '{role}' tại {unit.code}.", field="unit"
        )
    return unit


def _store_credential(
    session: Session,
    user: User,
    unit: Unit,
    cert: x509.Certificate,
    sealed: bytes | None,
    now: datetime,
) -> Credential:
    fingerprint = fingerprint_sha256(cert)
    if session.scalar(select(Credential.id).where(Credential.fingerprint_sha256 == fingerprint)):
        raise ConflictError("Chứng thư số này đã được đăng ký.", code="credential_exists")
    credential = Credential(
        user_id=user.id,
        unit_id=unit.id,
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
        fingerprint_sha256=fingerprint,
        serial_number=str(cert.serial_number),
        not_after=cert.not_valid_after_utc,
        sealed_key=sealed,
        status="active",
        failed_pins=0,
        created_at=now,
    )
    session.add(credential)
    flush(session)
    return credential


def issue_credential(
    session: Session,
    actor: User | None,
    username: str,
    unit_code: str,
    pin: str,
    *,
    ca_secret: bytes,
    key_type: str = "ec-p256",
    now: datetime | None = None,
    sealed_key: bytes | None = None,
    private_key: Any = None,
) -> Credential:
    """Generate a key pair for the user's signing role at ``unit_code``, seal the key under
    ``pin`` and issue a certificate from the project CA.

    ``private_key``/``sealed_key`` let a caller that sealed keys in parallel (seed-demo)
    hand them in; the usual call passes neither.
    """
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    unit = _signing_unit(session, user, unit_code)
    ca = load_ca(session, ca_secret)
    try:
        if private_key is None:
            private_key = generate_private_key(key_type)
        if sealed_key is None:
            sealed_key = seal_private_key(private_key, _pin(pin))
        cert = ca.issue(
            private_key.public_key(),
            person=user.full_name,
            unit_name=unit.name,
            unit_code=unit.code,
            user_id=str(user.id),
            now=now,
        )
    except SigningError as exc:
        raise ValidationError(f"Không cấp được chứng thư số: {exc}", field="unit") from None
    credential = _store_credential(session, user, unit, cert, sealed_key, now)
    _audit(
        session,
        who,
        "credential_issue",
        now,
        username=user.username,
        unit=unit.code,
        fingerprint=credential.fingerprint_sha256,
        serial=credential.serial_number,
    )
    return credential


def register_certificate(
    session: Session,
    actor: User | None,
    username: str,
    unit_code: str,
    certificate: bytes,
    *,
    now: datetime | None = None,
) -> Credential:
    """Register a certificate alone (PEM or DER) for a signer who signs outside thidua."""
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    unit = _signing_unit(session, user, unit_code)
    try:
        cert = load_certificate(certificate)
    except SigningError as exc:
        raise ValidationError(
            f"Tệp chứng thư số không đọc được: {exc}", field="certificate"
        ) from None
    code = certificate_unit_code(cert)
    if code is not None and code != unit.code:
        raise ValidationError(
            f"Chứng thư số ghi đơn vị {code}, không phải {unit.code}.", field="certificate"
        )
    credential = _store_credential(session, user, unit, cert, None, now)
    _audit(
        session,
        who,
        "credential_register",
        now,
        username=user.username,
        unit=unit.code,
        fingerprint=credential.fingerprint_sha256,
    )
    return credential


def import_credential(
    session: Session,
    actor: User | None,
    username: str,
    unit_code: str,
    pkcs12_data: bytes,
    password: bytes | None,
    pin: str,
    *,
    now: datetime | None = None,
) -> Credential:
    """Import a PKCS#12 from an external CA and re-seal its key under ``pin``."""
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    unit = _signing_unit(session, user, unit_code)
    try:
        imported = import_pkcs12(pkcs12_data, password, _pin(pin))
    except WrongPin:
        raise ValidationError("Sai mật khẩu tệp PKCS#12.", field="password") from None
    except SigningError as exc:
        raise ValidationError(f"Tệp PKCS#12 không dùng được: {exc}", field="pkcs12") from None
    credential = _store_credential(
        session, user, unit, imported.certificate, imported.sealed_key, now
    )
    _audit(
        session,
        who,
        "credential_import",
        now,
        username=user.username,
        unit=unit.code,
        fingerprint=credential.fingerprint_sha256,
    )
    return credential


def _credential(session: Session, credential_id: int) -> Credential:
    credential = session.get(Credential, int(credential_id))
    if credential is None:
        raise NotFound("Không tìm thấy chứng thư số.", code="credential_not_found")
    return credential


def revoke_credential(
    session: Session,
    actor: User | None,
    credential_id: int,
    *,
    reason: str = "unspecified",
    now: datetime | None = None,
) -> Credential:
    who, now = operator_name(session, actor), aware(now)
    if reason not in REVOCATION_REASONS:
        raise ValidationError(
            f"Lý do thu hồi phải là một trong: {', '.join(REVOCATION_REASONS)}.", field="reason"
        )
    credential = _credential(session, credential_id)
    if credential.status == "revoked":
        return credential
    credential.status = "revoked"
    credential.revoked_at = now
    credential.revocation_reason = reason
    flush(session)
    _audit(
        session,
        who,
        "credential_revoke",
        now,
        fingerprint=credential.fingerprint_sha256,
        reason=reason,
    )
    return credential


def unlock_credential(
    session: Session, actor: User | None, credential_id: int, *, now: datetime | None = None
) -> Credential:
    """Reset the wrong-PIN counter of a locked credential (after checking who asks)."""
    who, now = operator_name(session, actor), aware(now)
    credential = _credential(session, credential_id)
    if credential.status == "revoked":
        raise ConflictError(
            "Chứng thư số đã bị thu hồi, không thể mở khóa.", code="credential_revoked"
        )
    credential.status = "active"
    credential.failed_pins = 0
    flush(session)
    _audit(session, who, "credential_unlock", now, fingerprint=credential.fingerprint_sha256)
    return credential


def list_credentials(session: Session, *, username: str | None = None) -> list[Credential]:
    stmt = (
        select(Credential)
        .options(selectinload(Credential.user), selectinload(Credential.unit))
        .order_by(Credential.id)
    )
    if username:
        stmt = stmt.join(Credential.user).where(User.username == username.strip().lower())
    return list(session.scalars(stmt))


def all_documents(
    session: Session,
    actor: User | None,
    *,
    kind: str | None = None,
    year: int | None = None,
    state: str | None = None,
) -> list[Document]:
    """Every document (admin or console), newest year first."""
    operator_name(session, actor)
    stmt = (
        select(Document)
        .join(Document.term)
        .options(selectinload(Document.term).selectinload(ClusterTerm.cluster))
        .order_by(ClusterTerm.year.desc(), Document.kind, Document.id)
    )
    if kind:
        stmt = stmt.where(Document.kind == kind)
    if year:
        stmt = stmt.where(ClusterTerm.year == int(year))
    if state:
        stmt = stmt.where(Document.state == state)
    return list(session.scalars(stmt))


def document_bundle(session: Session, actor: User | None, document_id: int) -> bytes:
    """The archive bundle of any archived document (admin or console)."""
    operator_name(session, actor)
    document = session.get(Document, int(document_id))
    if document is None:
        raise NotFound(f"Không có văn bản số {document_id}.")
    if document.bundle_sha256 is None:
        raise NotFound(
            f"Văn bản số {document.id} chưa được lưu trữ (trạng thái {document.state}).",
            code="no_bundle",
        )
    return get_blob(session, document.bundle_sha256)


def crl(session: Session, *, ca_secret: bytes, now: datetime | None = None) -> bytes:
    """The current CRL (DER) of the project CA."""
    return crl_der(session, ca_secret, now=now)


def ca_pem(session: Session) -> bytes:
    """The project CA certificate (PEM)."""
    return ca_certificate(session).public_bytes(serialization.Encoding.PEM)


__all__ = [
    "MAX_PIN_TRIES",
    "add_cluster",
    "add_term",
    "add_unit",
    "add_user",
    "all_documents",
    "ca_pem",
    "crl",
    "document_bundle",
    "get_term",
    "grant_role",
    "import_credential",
    "issue_credential",
    "list_clusters",
    "list_credentials",
    "list_units",
    "list_users",
    "register_certificate",
    "revoke_credential",
    "revoke_role",
    "set_active",
    "set_password",
    "unlock_credential",
]
