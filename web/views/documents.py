"""Documents: list, detail, structured editor, triggers, signing, approval, DOCX, diff."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import documents as docs_pkg
from web import conflicts, content_form, content_view, db, form_ids, idempotent
from web.actions import USER_TRIGGERS, fire, inputs_from
from web.auth import actor, login_required, signed_in_user
from web.diffing import diff as content_diff
from web.errors import error_response, status_for
from web.ids import db_int
from web.page_cache import cached_page
from workflow import models
from workflow.definitions import STATES
from workflow.errors import (
    ConflictError,
    CredentialLocked,
    GuardFailed,
    InvalidTransition,
    ValidationError,
    WorkflowError,
    WrongPinError,
)
from workflow.services import downloads, drafting, queries
from workflow.services.idempotency import Answer

bp = Blueprint("documents", __name__, url_prefix="/documents")
# Refusals a form shows in place, with the status their class declares (web.errors);
# anything else goes to the app's error handlers.
_REFUSALS = (ConflictError, GuardFailed, ValidationError, InvalidTransition)
# Signing with a PIN can also meet a wrong PIN (422) or a locked credential (423).
_SIGNING_REFUSALS = (*_REFUSALS, WrongPinError, CredentialLocked)

MAX_P7S_BYTES = 256 * 1024
# Every form of the document pages carries a fresh one-time id (web.idempotent).
bp.add_app_template_global(form_ids.new_form_id, "new_form_id")


def _session() -> Session:
    return db.get_session()


@bp.get("")
@login_required
@cached_page
def index() -> str:
    who = signed_in_user()
    kind = request.args.get("kind") or None
    state = request.args.get("state") or None
    year = request.args.get("year", type=db_int)
    rows = queries.visible_documents(_session(), who, kind=kind, year=year, state=state)
    years = sorted({d.term.year for d in queries.visible_documents(_session(), who)}, reverse=True)
    # What this user may start: a kind the term does not have yet (a cancelled one aside).
    live = {
        (d.term_id, d.kind)
        for d in queries.visible_documents(_session(), who)
        if d.state != "cancelled"
    }
    creatable = [
        (term, k)
        for term in _creatable_terms()
        for k in ("pledge", "nomination")
        if (term.id, k) not in live
    ]
    return render_template(
        "documents/index.html",
        states=STATES,
        rows=rows,
        kind=kind,
        state=state,
        year=year,
        years=years,
        creatable=creatable,
    )


def _creatable_terms() -> list[models.ClusterTerm]:
    """Terms where this user drafts for the head unit (they may create documents there)."""
    user = actor()
    if user is None:
        return []
    units = user.unit_ids("drafter")
    if not units:
        return []
    return list(
        _session().scalars(
            select(models.ClusterTerm)
            .where(models.ClusterTerm.head_unit_id.in_(units))
            .order_by(models.ClusterTerm.year.desc())
        )
    )


def _people(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = _session().execute(
        select(models.User.username, models.User.full_name).where(
            models.User.username.in_(usernames)
        )
    )
    return {u: n for u, n in rows}


def _files(session: Session, who: models.User, doc: models.Document) -> list[Any]:
    """A dossier's documents, of the version the page shows (the frozen one once frozen)."""
    frozen = doc.frozen_version
    return downloads.document_files(session, who, doc.id, frozen.number if frozen else None)


def _page_context(document_id: int) -> dict[str, Any]:
    session = _session()
    who = signed_in_user()
    doc = queries.get_document(session, who, document_id)
    version = doc.current_version
    frozen = doc.frozen_version
    signatures = queries.document_signatures(session, doc)
    progress = queries.signature_progress(session, doc, signatures) if frozen else None
    decision_rows = queries.review_decisions(session, who, doc.id) if version else []
    decisions = {d.unit_id: d for d in decision_rows}
    triggers = queries.allowed_triggers(
        session, who, doc, decisions=decision_rows, signatures=signatures
    )
    live = queries.frozen_signatures(doc, signatures)
    voided = [sig for sig in signatures if sig.voided_at is not None]
    members = [
        {"unit": u, "signature": live.get(u.id), "decision": decisions.get(u.id)}
        for u in doc.term.member_units
    ]
    comments = queries.comments(session, who, doc.id)
    by_anchor: dict[str, list[models.Comment]] = defaultdict(list)
    for c in comments:
        by_anchor[c.anchor].append(c)
    events = queries.timeline(session, who, doc.id)
    approval = session.scalar(select(models.Approval).where(models.Approval.document_id == doc.id))
    content = version.content if version else {}
    is_head_drafter = (doc.term.head_unit_id, "drafter") in {(r.unit_id, r.role) for r in who.roles}
    return {
        "doc": doc,
        "triggers": [t for t in triggers if t in USER_TRIGGERS],
        "version": version,
        "frozen": frozen,
        "files": _files(session, who, doc) if version else [],
        "pdfs": downloads.signed_pdfs(session, who, doc.id),
        "progress": progress,
        "members": members,
        "signed_count": progress.signed if progress else 0,
        "voided": voided,
        "decisions": decisions,
        "concur_count": sum(1 for d in decisions.values() if d.decision == "concur"),
        "all_concurred": all(
            (d := decisions.get(u.id)) is not None and d.decision == "concur"
            for u in doc.term.member_units
        ),
        "comments": comments,
        "comments_by_anchor": by_anchor,
        "version_numbers": {v.id: v.number for v in doc.versions},
        "content": content,
        "anchors": content_view.anchors(content) if content else [],
        "events": events,
        "people": _people({e.actor for e in events if e.actor}),
        "versions": list(doc.versions),
        "approval": approval,
        "can_edit": doc.state == "draft" and is_head_drafter,
        "conflict": None,
        "form_trigger": None,
        "form_reason": "",
        "form_text": "",
        "form_anchor": "",
    }


@bp.get("/<int:document_id>")
@login_required
@cached_page
def show(document_id: int) -> str:
    return render_template("documents/show.html", **_page_context(document_id))


def _rerender_with_error(
    document_id: int, trigger: str, exc: WorkflowError, status: int
) -> tuple[str, int]:
    """The document page again, the error on top and the user's text kept in the form."""
    db.rollback()
    ctx = _page_context(document_id)
    ctx["conflict"] = conflicts.message(exc)
    ctx["form_trigger"] = trigger
    ctx["form_reason"] = request.form.get("reason", "")
    ctx["form_text"] = request.form.get("text", "")
    ctx["form_anchor"] = request.form.get("anchor", "")
    return render_template("documents/show.html", **ctx), status


DONE_MESSAGES = {
    "submit_for_review": _l("Đã gửi dự thảo cho các đơn vị góp ý."),
    "comment": _l("Đã ghi nhận góp ý."),
    "concur": _l("Đơn vị đã nhất trí với dự thảo."),
    "request_changes": _l("Đã gửi đề nghị sửa."),
    "revise": _l("Văn bản đã được đưa về dự thảo để chỉnh sửa."),
    "open_signing": _l("Văn bản đã được chốt và mở ký."),
    "sign": _l("Đã ký số văn bản."),
    "decline": _l("Đã từ chối ký; văn bản trở về dự thảo."),
    "submit": _l("Đã trình Ban Thi đua – Khen thưởng."),
    "approve": _l("Đã phê duyệt; hồ sơ đã được lưu trữ."),
    "return": _l("Đã trả lại văn bản."),
    "cancel": _l("Đã hủy văn bản."),
}


@bp.post("/<int:document_id>/action/<trigger>", endpoint="fire")
@login_required
def fire_trigger(document_id: int, trigger: str) -> ResponseReturnValue:
    if trigger in ("sign", "approve"):
        # These have their own pages (PIN, upload, decision); the form posts there.
        return redirect(url_for(f"documents.{trigger}", document_id=document_id), code=307)
    try:
        claimed = _claim_form()
        if isinstance(claimed, Answer):
            return _form_replayed(claimed)
        fire(document_id, trigger, inputs_from(request.form))
    except _REFUSALS as exc:
        return _rerender_with_error(document_id, trigger, exc, status_for(exc))
    anchor = "#review" if trigger == "comment" else ""
    location = url_for("documents.show", document_id=document_id) + anchor
    return _form_done(claimed, location, str(DONE_MESSAGES.get(trigger, _("Đã thực hiện."))))


def _claim_form() -> models.IdempotencyKey | Answer | None:
    """The form's one-time id claimed in this transaction, or the answer it already got
    (a resubmitted form, a double click, a retried post)."""
    key = idempotent.form_key()
    return idempotent.claim("form", key, idempotent.form_body()) if key is not None else None


def _form_replayed(answer: Answer) -> ResponseReturnValue:
    flash(str(answer.body.get("message") or ""), "success")
    flash(_("Biểu mẫu này đã được gửi trước đó; thao tác không được thực hiện lần nữa."), "info")
    return redirect(str(answer.body["location"]))


def _form_done(
    claimed: models.IdempotencyKey | Answer | None, location: str, message: str
) -> ResponseReturnValue:
    """The redirect of a done form, built before the commit, which comes last."""
    row = claimed if isinstance(claimed, models.IdempotencyKey) else None
    try:
        idempotent.commit(row, "form", 302, {"location": location, "message": message})
    except idempotent.CommitUnknown as exc:
        return error_response(503, exc.code, exc.message)
    flash(message, "success")
    return redirect(location)


@bp.route("/<int:document_id>/sign", methods=["GET", "POST"])
@login_required
def sign(document_id: int) -> ResponseReturnValue:
    session = _session()
    who = signed_in_user()
    doc = queries.get_document(session, who, document_id)
    error = None
    tries_left = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("signature_file")
        signature = None
        if upload is not None and upload.filename:
            signature = upload.read(MAX_P7S_BYTES + 1)
            if len(signature) > MAX_P7S_BYTES:
                signature = None
                error = _("Tệp chữ ký quá lớn (tối đa 256 KB).")
                status = 413
            elif not signature:
                error = _("Tệp chữ ký rỗng.")
                status = 422
        if error is None:
            inp = inputs_from(request.form, signature=signature)
            if signature is not None:
                inp.pin = None
            try:
                claimed = _claim_form()
                if isinstance(claimed, Answer):
                    return _form_replayed(claimed)
                fire(doc.id, "sign", inp)
            except _SIGNING_REFUSALS as exc:
                db.rollback()
                error, status = conflicts.message(exc), status_for(exc)
                if isinstance(exc, WrongPinError):
                    tries_left = exc.tries_left
            else:
                location = url_for("documents.show", document_id=doc.id)
                return _form_done(claimed, location, str(DONE_MESSAGES["sign"]))
        doc = queries.get_document(session, who, document_id)
    triggers = queries.allowed_triggers(session, who, doc)
    frozen = doc.frozen_version
    progress = queries.signature_progress(session, doc) if frozen else None
    my_units = [u for u in doc.term.member_units if u.id in who.unit_ids("signer")]
    return render_template(
        "documents/sign.html",
        doc=doc,
        frozen=frozen,
        progress=progress,
        error=error,
        tries_left=tries_left,
        can_sign="sign" in triggers,
        my_units=my_units,
        files=_files(session, who, doc),
        pdfs=downloads.signed_pdfs(session, who, doc.id),
    ), status


@bp.route("/<int:document_id>/approve", methods=["GET", "POST"])
@login_required
def approve(document_id: int) -> ResponseReturnValue:
    session = _session()
    who = signed_in_user()
    doc = queries.get_document(session, who, document_id)
    error = None
    status = 200
    form = {"decision_number": "", "decision_date": date.today().isoformat()}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("decision_number", "decision_date")}
        try:
            inp = inputs_from(request.form)
            if doc.kind != "nomination" and not inp.decision_number:
                inp.decision_number, inp.decision_date = None, None
            fire(doc.id, "approve", inp)
        except _SIGNING_REFUSALS as exc:
            db.rollback()
            error, status = conflicts.message(exc), status_for(exc)
        else:
            flash(str(DONE_MESSAGES["approve"]), "success")
            return redirect(url_for("documents.show", document_id=doc.id))
        doc = queries.get_document(session, who, document_id)
    triggers = queries.allowed_triggers(session, who, doc)
    progress = queries.signature_progress(session, doc) if doc.frozen_version else None
    return render_template(
        "documents/approve.html",
        doc=doc,
        frozen=doc.frozen_version,
        files=_files(session, who, doc),
        progress=progress,
        error=error,
        form=form,
        can_approve="approve" in triggers,
        can_return="return" in triggers,
    ), status


@bp.get("/<int:document_id>/diff")
@login_required
@cached_page
def diff(document_id: int) -> ResponseReturnValue:
    session = _session()
    who = signed_in_user()
    doc = queries.get_document(session, who, document_id)
    versions = list(doc.versions)
    if len(versions) < 2:
        flash(_("Văn bản mới có một phiên bản."), "info")
        return redirect(url_for("documents.show", document_id=doc.id))
    b = request.args.get("b", type=db_int) or versions[-1].number
    a = request.args.get("a", type=db_int) or max(1, b - 1)
    old = queries.get_version(session, who, doc.id, a)
    new = queries.get_version(session, who, doc.id, b)
    rows = content_diff(old.content, new.content)
    return render_template(
        "documents/diff.html", doc=doc, old=old, new=new, rows=rows, versions=versions
    )


# ------------------------------------------------------------------ the structured editor


def _editor(
    content: dict[str, Any],
    *,
    doc: models.Document | None,
    term: Any,
    errors: dict[str, str] | None = None,
    general_error: str | None = None,
    status: int = 200,
    expected_version: int | None = None,
) -> tuple[str, int]:
    tree = content_form.build(content)
    for field, message in (errors or {}).items():
        content_form.attach_error(tree, field, message)
    return render_template(
        "documents/edit.html",
        tree=tree,
        doc=doc,
        term=term,
        content=content,
        general_error=general_error,
        expected_version=expected_version,
    ), status


def _validation_field(exc: Exception) -> tuple[str, str]:
    field = getattr(exc, "field", None) or ""
    message = getattr(exc, "message", None) or getattr(exc, "reason", None) or str(exc)
    # ValidationError wraps a DocumentError as "field: reason"; show the reason only.
    if field and isinstance(message, str) and message.startswith(field + ": "):
        message = message[len(field) + 2 :]
    return field, message


@bp.route("/<int:document_id>/edit", methods=["GET", "POST"])
@login_required
def edit(document_id: int) -> ResponseReturnValue:
    session = _session()
    who = signed_in_user()
    doc = queries.get_document(session, who, document_id)
    version = doc.current_version
    schema = version.content if version else {}
    if request.method == "GET":
        return _editor(dict(schema), doc=doc, term=doc.term, expected_version=doc.version)
    content = content_form.parse(request.form, schema)
    expected = request.form.get("expected_version", type=db_int)
    try:
        drafting.edit_draft(session, who, doc.id, content, expected)
    except ValidationError as exc:
        db.rollback()
        field, message = _validation_field(exc)
        return _editor(
            content,
            doc=doc,
            term=doc.term,
            errors={field: message} if field else {},
            general_error=message,
            status=422,
            expected_version=expected,
        )
    except ConflictError as exc:
        db.rollback()
        # Nothing lost: the user's edits come back in the form, with the conflict explained
        # and the fresh version number so that saving again is a deliberate choice.
        doc = queries.get_document(session, who, document_id)
        return _editor(
            content,
            doc=doc,
            term=doc.term,
            general_error=exc.message,
            status=409,
            expected_version=doc.version,
        )
    flash(_("Đã lưu dự thảo."), "success")
    return redirect(url_for("documents.show", document_id=doc.id))


def _shift_dates(value: Any, years: int) -> Any:
    """Last year's content moved to this year: every ``date`` field by ``years`` years."""
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            if key in content_form.DATE_FIELDS and isinstance(child, str) and years:
                try:
                    day = date.fromisoformat(child)
                    child = day.replace(year=day.year + years).isoformat()
                except ValueError:  # 29 February, or not a date: leave it to the editor
                    pass
            out[key] = _shift_dates(child, years)
        return out
    if isinstance(value, list):
        return [_shift_dates(v, years) for v in value]
    return value


def _starting_content(term: models.ClusterTerm, kind: str) -> dict[str, Any]:
    """A new document starts from the cluster's previous document of this kind (its
    structure and wording), brought to this term's year and member units."""
    session = _session()
    previous = session.scalars(
        select(models.Document)
        .join(models.Document.term)
        .where(
            models.ClusterTerm.cluster_id == term.cluster_id,
            models.Document.kind == kind,
            models.Document.state != "cancelled",
        )
        .order_by(models.ClusterTerm.year.desc())
    ).first()
    units = [
        {"code": u.code, "name": u.name, "signer_title": "", "signer_name": "", "authority": ""}
        for u in term.member_units
    ]
    content: dict[str, Any]
    if previous is not None and previous.current_version is not None:
        content = _shift_dates(
            dict(previous.current_version.content), term.year - previous.term.year
        )
        old_units = {u.get("code"): u for u in content.get("member_units") or []}
        for u in units:
            if u["code"] in old_units:
                u.update(
                    {
                        k: old_units[u["code"]].get(k, u[k])
                        for k in ("signer_title", "signer_name", "authority")
                    }
                )
    elif kind == "pledge":
        from documents import samples

        sample = docs_pkg.content_to_dict(samples.pledge_2019())
        content = dict(sample)
    else:
        from documents import samples

        content = dict(docs_pkg.content_to_dict(samples.nomination_2018()))
    content["year"] = term.year
    content["member_units"] = units
    content["head_unit"] = term.head_unit.code
    if "deputy_unit" in content:
        content["deputy_unit"] = term.deputy_unit.code if term.deputy_unit else None
    content["cluster_name"] = (
        term.cluster.name if not content.get("cluster_name") else content["cluster_name"]
    )
    return content


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    session = _session()
    kind = request.values.get("kind", "pledge")
    if kind not in ("pledge", "nomination"):
        abort(404)
    term_id = request.values.get("term_id", type=db_int)
    term = session.get(models.ClusterTerm, term_id) if term_id else None
    if term is None or term not in _creatable_terms():
        flash(
            _("Chỉ chuyên viên soạn thảo của đơn vị cụm trưởng được tạo văn bản cho nhiệm kỳ này."),
            "error",
        )
        return redirect(url_for("documents.index"))
    schema = _starting_content(term, kind)
    if request.method == "GET":
        return _editor(schema, doc=None, term=term)
    content = content_form.parse(request.form, schema)
    try:
        created = drafting.create_document(session, signed_in_user(), content, term_id=term.id)
    except ValidationError as exc:
        db.rollback()
        field, message = _validation_field(exc)
        return _editor(
            content,
            doc=None,
            term=term,
            errors={field: message} if field else {},
            general_error=message,
            status=422,
        )
    except ConflictError as exc:
        db.rollback()
        return _editor(content, doc=None, term=term, general_error=exc.message, status=409)
    flash(_("Đã tạo dự thảo."), "success")
    return redirect(url_for("documents.show", document_id=created.id))
