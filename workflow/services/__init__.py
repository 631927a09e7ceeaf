"""Use cases of the engine. Each takes ``(session, actor, ...)``, enforces permissions, appends
audit events and flushes; the caller commits (or rolls back on any exception). Errors are
``workflow.errors.WorkflowError`` subclasses. ``now`` (optional everywhere) pins the clock.

Authentication
    authenticate(session, username, password) -> User | None
    user_for_token(session, token) -> User | None
    active_user_id(bind, user_id, generation) / token_user_id(bind, token) -> int | None
        (light: ``bind`` is the session or a plain connection)
    end_sessions(session, user) -> generation      (every session of the user ends at once)
    sign_out_everywhere(session, actor | None, username) -> generation
    create_token(session, actor | None, username, *, days) -> str  (shown once; hashed at rest)
    revoke_tokens(session, actor | None, username) -> int
    login_keys(policy, username, address) -> LoginKeys     (failed sign-ins per account and
    begin_login(session, policy, keys) -> seconds to wait   per address, in the database,
    login_succeeded(session, keys)                          counted before the password)

Reading
    view_scope(session, actor) -> ViewScope(structure_seq, cluster_ids)
    scope_version(bind, scope) -> (structure_seq, data_seq) | None   (keys of page caches)
    active_with_scope_version(bind, user_id, generation, scope) -> (active, version | None)
    token_with_scope_version(bind, token, scope) -> (user_id | None, version | None)
    visible_documents(session, actor, *, kind, year, state, cluster_id) -> list[Document]
    inbox(session, actor) -> Inbox(items=[InboxItem(document, triggers)], counts, recent)
    get_document(session, actor, document_id) -> Document          (NotFound if not visible)
    allowed_triggers(session, actor, document) -> list[str]
    timeline(session, actor, document_id) -> list[AuditEvent]
    signature_progress(session, document) -> SignatureProgress(total, signed, units, voided)
    versions / get_version / comments / review_decisions
    document_files / document_docx / document_part / signed_file / signature_der  (downloads)
    document_by_reference(session, reference_code) -> DocumentVersion | None   (public)

Drafting and review
    create_document(session, actor, content, *, term_id=None, cluster_id=None) -> Document
    edit_draft(session, actor, document_id, content, expected_version) -> Document
    comment(session, actor, document_id, anchor, text, *, unit_code=None) -> Comment

Transitions (one function per trigger, or ``fire`` by name through lifecycle.HANDLERS)
    fire(session, actor, document_id, trigger, inputs: TriggerInputs | None = None, *,
         ca_secret, public_url) -> Document
    submit_for_review, concur, request_changes, revise, open_signing, sign (-> Signature),
    decline, submit, approve (needs ca_secret), return_document, cancel
    Every one goes down the same steps (workflow.services.pipeline): load, read inputs,
    replay, check the version, guards, prepare, lock and re-check, effect, transition, audit.
    Modules: lifecycle (review triggers, the table), signatures (sign, sweep), approval
    (approve → archive, export), keys (server-held keys, PINs), content_rules.
    export_bundle(session, actor, document_id) -> bytes            (archived documents)
    sweep(session) -> list[int]   (repair: signing documents already fully signed -> signed)

Administration (actor: an admin, or None for the console operator)
    add_unit, add_cluster, add_term, add_user, grant_role, revoke_role, set_password,
    set_active, issue_credential, register_certificate, import_credential,
    revoke_credential, unlock_credential, list_units, list_clusters, list_users,
    list_credentials, get_term, crl(session, ca_secret=...) -> DER, ca_pem(session) -> PEM,
    all_documents (every document), document_bundle (any archived document's bundle)
    set_unit_seal(session, actor | None, unit_code, png | None) -> Unit   (stamps: PNG with
    set_signature_image(session, actor | None, username, png | None) -> User  transparency)
"""

from __future__ import annotations

from workflow.inputs import TriggerInputs
from workflow.services._common import can_see_term, current_actor, require_admin
from workflow.services.admin import (
    add_cluster,
    add_term,
    add_unit,
    add_user,
    all_documents,
    ca_pem,
    crl,
    document_bundle,
    get_term,
    grant_role,
    import_credential,
    issue_credential,
    list_clusters,
    list_credentials,
    list_units,
    list_users,
    register_certificate,
    revoke_credential,
    revoke_role,
    set_active,
    set_password,
    unlock_credential,
)
from workflow.services.approval import approve, export_bundle
from workflow.services.archive_renewal import RENEW_BEFORE_DAYS, Renewal, renew_archives
from workflow.services.auth import (
    active_user_id,
    authenticate,
    create_token,
    end_sessions,
    revoke_tokens,
    sign_out_everywhere,
    token_user_id,
    user_for_token,
)
from workflow.services.content_rules import check_content
from workflow.services.downloads import (
    DocumentFile,
    PdfFile,
    document_docx,
    document_files,
    document_part,
    document_pdf,
    signature_der,
    signed_file,
    signed_pdfs,
)
from workflow.services.drafting import comment, create_document, edit_draft
from workflow.services.lifecycle import (
    cancel,
    concur,
    decline,
    fire,
    open_signing,
    reference_code,
    request_changes,
    return_document,
    revise,
    submit,
    submit_for_review,
)
from workflow.services.login_limits import (
    LoginKeys,
    LoginPolicy,
    begin_login,
    login_keys,
    login_succeeded,
)
from workflow.services.queries import (
    Inbox,
    InboxItem,
    SignatureProgress,
    UnitSignature,
    ViewScope,
    active_with_scope_version,
    allowed_triggers,
    archive_years,
    comments,
    document_by_reference,
    document_signatures,
    get_document,
    get_version,
    inbox,
    review_decisions,
    scope_version,
    signature_progress,
    timeline,
    token_with_scope_version,
    versions,
    view_scope,
    visible_clusters,
    visible_documents,
)
from workflow.services.signatures import sign, sweep
from workflow.services.stamps import set_signature_image, set_unit_seal

__all__ = [
    "RENEW_BEFORE_DAYS",
    "DocumentFile",
    "Inbox",
    "InboxItem",
    "LoginKeys",
    "LoginPolicy",
    "PdfFile",
    "Renewal",
    "SignatureProgress",
    "TriggerInputs",
    "UnitSignature",
    "ViewScope",
    "active_user_id",
    "active_with_scope_version",
    "add_cluster",
    "add_term",
    "add_unit",
    "add_user",
    "all_documents",
    "allowed_triggers",
    "approve",
    "archive_years",
    "authenticate",
    "begin_login",
    "ca_pem",
    "can_see_term",
    "cancel",
    "check_content",
    "comment",
    "comments",
    "concur",
    "create_document",
    "create_token",
    "crl",
    "current_actor",
    "decline",
    "document_bundle",
    "document_by_reference",
    "document_docx",
    "document_files",
    "document_part",
    "document_pdf",
    "document_signatures",
    "edit_draft",
    "end_sessions",
    "export_bundle",
    "fire",
    "get_document",
    "get_term",
    "get_version",
    "grant_role",
    "import_credential",
    "inbox",
    "issue_credential",
    "list_clusters",
    "list_credentials",
    "list_units",
    "list_users",
    "login_keys",
    "login_succeeded",
    "open_signing",
    "reference_code",
    "register_certificate",
    "renew_archives",
    "request_changes",
    "require_admin",
    "return_document",
    "review_decisions",
    "revise",
    "revoke_credential",
    "revoke_role",
    "revoke_tokens",
    "scope_version",
    "set_active",
    "set_password",
    "set_signature_image",
    "set_unit_seal",
    "sign",
    "sign_out_everywhere",
    "signature_der",
    "signature_progress",
    "signed_file",
    "signed_pdfs",
    "submit",
    "submit_for_review",
    "sweep",
    "timeline",
    "token_user_id",
    "token_with_scope_version",
    "unlock_credential",
    "user_for_token",
    "versions",
    "view_scope",
    "visible_clusters",
    "visible_documents",
]
