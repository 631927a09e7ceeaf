"""``POST /tsa``: the deployment's RFC 3161 timestamp authority over HTTP (RFC 3161 §3.4), for
clients that sign elsewhere (``openssl ts -query`` … ``curl --data-binary``).

Public like /verify, and exempt from CSRF (web/app.py): it is a machine protocol whose body
is a DER TimeStampReq, which no cross-site form can send with this content type, and it
changes nothing but the stored serial counter. The answer is a DER TimeStampResp: 200 when
granted, 400 with the rejection (PKIFailureInfo) when the request is refused.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from signing.tsa import MAX_REQUEST_BYTES
from web import db
from workflow import tsa
from workflow.clock import utcnow

bp = Blueprint("tsa", __name__)


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.post("/tsa")
def answer() -> Response:
    if request.mimetype != tsa.REQUEST_TYPE:
        return _plain(415, f"Content-Type phải là {tsa.REQUEST_TYPE}.")
    too_large = _plain(413, f"Yêu cầu dấu thời gian quá lớn (tối đa {MAX_REQUEST_BYTES} byte).")
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        return too_large
    # Read one byte past the limit: a body without Content-Length is cut off, not buffered.
    body = request.stream.read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        return too_large
    secret = current_app.config["THIDUA_CONFIG"].ca_master_secret
    reply = tsa.respond(db.get_session(), secret, body, now=utcnow())
    # The application commits after the view (web/app.py): the serial is stored with it.
    return Response(reply, status=200 if tsa.reply_granted(reply) else 400, mimetype=tsa.REPLY_TYPE)
