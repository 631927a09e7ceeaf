"""The deployment CA's certificate and its current CRL, public (relying parties need them)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app

from web import db
from workflow import pki

bp = Blueprint("ca", __name__)

# Signing a CRL unseals the CA key with a memory-hard KDF: reuse the last CRL while the
# revocation list is unchanged and the CRL is younger than an hour.
_CRL_TTL = timedelta(hours=1)
_crl_lock = threading.Lock()


def current_crl(now: datetime | None = None) -> bytes:
    """The CA's CRL (DER). Raises ``NotFound`` when the instance has no CA yet."""
    session = db.get_session()
    record = pki.active_ca_record(session)
    now = now or datetime.now(UTC)
    revoked = pki.revocations(session)
    key = (record.fingerprint_sha256, tuple((r.serial_number, r.reason) for r in revoked))
    # "crl" -> (what the CRL was signed over, when, the DER)
    cache: dict[str, tuple[Any, datetime, bytes]] = current_app.extensions.setdefault(
        "thidua.crl_cache", {}
    )
    with _crl_lock:
        hit = cache.get("crl")
        if hit and hit[0] == key and now - hit[1] < _CRL_TTL:
            return hit[2]
        der = pki.crl_der(session, current_app.config["THIDUA_CONFIG"].ca_master_secret, now=now)
        cache["crl"] = (key, now, der)
        return der


@bp.get("/ca/ca.pem")
def certificate() -> Response:
    return Response(
        pki.ca_pem(db.get_session()),
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="ca.pem"'},
    )


@bp.get("/ca/crl.der")
def crl() -> Response:
    return Response(
        current_crl(),
        mimetype="application/pkix-crl",
        headers={"Content-Disposition": 'attachment; filename="crl.der"'},
    )
