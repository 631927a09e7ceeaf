"""``POST /tsa``: the deployment's RFC 3161 timestamp authority over HTTP (RFC 3161 §3.4), for
clients that sign elsewhere (``openssl ts -query`` … ``curl --data-binary``).

Public like /verify, and exempt from CSRF (web/app.py): it is a machine protocol whose body
is a DER TimeStampReq, which no cross-site form can send with this content type, and it
changes nothing but the stored serial counter. The answer is a DER TimeStampResp: 200 when
granted, 400 with the rejection (PKIFailureInfo) when the request is refused.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import Blueprint, Response, current_app, request

from signing.tsa import MAX_REQUEST_BYTES
from web import db
from workflow import tsa
from workflow.clock import utcnow

bp = Blueprint("tsa", __name__)

# Every granted request stores a row (its serial), and the endpoint is public: an address may
# ask this many times a minute per worker (app.config "TSA_REQUESTS_PER_MINUTE"), then gets
# 429 until the minute has passed. Signing clients ask once a signature.
DEFAULT_REQUESTS_PER_MINUTE = 120
_WINDOW_S = 60.0
_MAX_ADDRESSES = 10_000
_recent: dict[str, deque[float]] = {}
_lock = threading.Lock()


def _admitted(address: str, limit: int) -> float | None:
    """None when ``address`` may ask now (and it is counted), else the seconds to wait."""
    now = time.monotonic()
    with _lock:
        asked = _recent.setdefault(address, deque())
        while asked and asked[0] <= now - _WINDOW_S:
            asked.popleft()
        if len(asked) >= limit:
            return max(1.0, asked[0] + _WINDOW_S - now)
        asked.append(now)
        if len(_recent) > _MAX_ADDRESSES:
            for other in [a for a, q in _recent.items() if not q or q[-1] <= now - _WINDOW_S]:
                del _recent[other]
        return None


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
    limit = int(current_app.config.get("TSA_REQUESTS_PER_MINUTE", DEFAULT_REQUESTS_PER_MINUTE))
    wait = _admitted(request.remote_addr or "", limit)
    if wait is not None:
        response = _plain(429, "Quá nhiều yêu cầu dấu thời gian; hãy thử lại sau.")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    secret = current_app.config["THIDUA_CONFIG"].ca_master_secret
    reply = tsa.respond(db.get_session(), secret, body, now=utcnow())
    # The application commits after the view (web/app.py): the serial is stored with it.
    return Response(reply, status=200 if tsa.reply_granted(reply) else 400, mimetype=tsa.REPLY_TYPE)
