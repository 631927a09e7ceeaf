"""/verify and /api/verify at a chosen time (issue 17): timestamps are the proof of existence
that keeps a signature valid once its certificate has expired or been revoked after it, and
the report shows, per signature, the trusted time, the TSA and the certificate's state."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from typing import Any

import pytest
from cryptography import x509
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from signing.cades import add_signature_timestamp
from signing.cms import sign_detached
from signing.credentials import generate_private_key
from signing.signers import KeySigner
from signing.tsa import AuthorityTimestamper, TimeStampAuthority
from signing.validation.status import CERTIFICATE_STATES, SubIndication, message
from tests.fixtures_db import DemoData
from tests.web.conftest import UNITS, login, signer
from web import db
from workflow.models import Credential, User
from workflow.pki import load_ca
from workflow.services import admin

TEN_YEARS = dt.timedelta(days=3653)
POLICY = "1.3.6.1.4.1.59999.17.99"
TEST_TSA = "TSA kiểm thử"
# Far from the deployment TSA's stored counter, so no serial is reused within this test TSA.
_SERIALS = itertools.count(7_000_000)


def _ten_years_on() -> str:
    return (dt.datetime.now(dt.UTC) + TEN_YEARS).date().isoformat()


def _bundle(app: Flask) -> bytes:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    page = reader.get(f"/documents/{archived}").get_data(as_text=True)
    link = re.search(r'href="(/archive/\d+/thidua-\d+\.zip)"', page)
    assert link is not None
    data: bytes = reader.get(link.group(1)).data
    return data


def _docx(app: Flask) -> bytes:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    data: bytes = login(app, "vphu-md-signer").get(f"/documents/{archived}/document.docx").data
    return data


def _api(
    client: FlaskClient, form: dict[str, Any], query: str = "", status: int = 200
) -> dict[str, Any]:
    response = client.post(f"/api/verify{query}", data=form, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    body: dict[str, Any] = response.get_json()
    return body


def _page(client: FlaskClient, form: dict[str, Any], status: int = 200) -> str:
    response = client.post("/verify", data=form, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def _english(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.post("/language", data={"lang": "en", "next": "/verify"})
    return client


def _states(html: str) -> list[str]:
    return re.findall(r'data-certificate-state="([a-z_]+)"', html)


# -- the demo's archived bundle, whose signatures the workflow timestamped ------------------


def test_a_timestamped_bundle_ten_years_on_passes_with_proof_of_existence(app: Flask) -> None:
    bundle = _bundle(app)
    at = _ten_years_on()
    today = _api(app.test_client(), {"bundle": (io.BytesIO(bundle), "b.zip")})
    assert today["indication"] == "TOTAL_PASSED"
    assert {u["certificate_state"] for u in today["units"]} == {"valid"}

    report = _api(app.test_client(), {"bundle": (io.BytesIO(bundle), "b.zip"), "at": at})
    assert report["indication"] == "TOTAL_PASSED", report["report"]["problems"]
    assert report["validation_time"] == f"{at}T00:00:00+00:00"
    assert len(report["units"]) == len(UNITS)
    for unit in report["units"]:
        assert unit["status"] == "passed"
        assert unit["certificate_state"] == "expired_after_poe"
        assert unit["certificate_state_text"] == CERTIFICATE_STATES["expired_after_poe"][0]
        assert unit["trusted_time"] is not None
        trusted = dt.datetime.fromisoformat(unit["trusted_time"])
        assert trusted >= dt.datetime.fromisoformat(unit["signing_time"])
        assert "TSA" in unit["tsa"]
    archive = report["archive_timestamps"]
    assert archive["proven_at"] is not None
    assert archive["timestamps"]
    assert all(t["passed"] for t in archive["timestamps"])
    assert all("TSA" in t["tsa"] for t in archive["timestamps"])

    html = _page(app.test_client(), {"bundle": (io.BytesIO(bundle), "b.zip"), "at": at})
    assert 'data-indication="TOTAL_PASSED"' in html
    assert _states(html) == ["expired_after_poe"] * len(UNITS)
    assert CERTIFICATE_STATES["expired_after_poe"][0] in html
    assert "Chứng minh gói tồn tại từ" in html
    year = at[:4]
    shown = re.search(r'data-test="validation-time">([^<]*)<', html)
    assert shown is not None
    assert f"năm {year}" in shown.group(1)
    assert f'value="{at}"' in html  # the field keeps the date asked for


def test_the_english_page_and_api_say_the_certificate_state_in_english(app: Flask) -> None:
    bundle = _bundle(app)
    at = _ten_years_on()
    english = _english(app)
    report = _api(english, {"bundle": (io.BytesIO(bundle), "b.zip"), "at": at})
    assert report["indication"] == "TOTAL_PASSED"
    sentence = CERTIFICATE_STATES["expired_after_poe"][1]
    assert {u["certificate_state_text"] for u in report["units"]} == {sentence}
    html = _page(english, {"bundle": (io.BytesIO(bundle), "b.zip"), "at": at})
    assert sentence in html
    assert CERTIFICATE_STATES["expired_after_poe"][0] not in html
    assert "Validate as of" in html
    assert "Archive timestamps" in html


# -- signatures made here, with or without a timestamp from a TSA of the deployment's CA ----


def _moment(app: Flask) -> dt.datetime:
    """A signing time inside every demo certificate's validity, a little in the past (so a
    revocation between it and now is in the past too)."""
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=4)
    demo: DemoData = app.config["DEMO_DATA"]
    for der in demo.certificates.values():
        assert x509.load_der_x509_certificate(der).not_valid_before_utc <= moment
    return moment


def _timestamper(app: Flask, at: dt.datetime) -> AuthorityTimestamper:
    demo: DemoData = app.config["DEMO_DATA"]
    with app.app_context():
        ca = load_ca(db.get_session(), demo.ca_secret)
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name=TEST_TSA, now=at, validity_days=4000)
    authority = TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)
    return AuthorityTimestamper(authority, at=at, next_serial=lambda: next(_SERIALS))


def _sign(
    app: Flask,
    docx: bytes,
    code: str,
    at: dt.datetime,
    timestamper: AuthorityTimestamper | None,
) -> bytes:
    demo: DemoData = app.config["DEMO_DATA"]
    username = signer(code)
    cert = x509.load_der_x509_certificate(demo.certificates[username])
    der = sign_detached(docx, demo.keys[username], cert, signing_time=at)
    return der if timestamper is None else add_signature_timestamp(der, timestamper)


def _form(docx: bytes, signatures: dict[str, bytes], at: str | None = None) -> dict[str, Any]:
    form: dict[str, Any] = {
        "document": (io.BytesIO(docx), "gu.docx"),
        "signatures": [(io.BytesIO(der), f"{code}.p7s") for code, der in signatures.items()],
    }
    if at is not None:
        form["at"] = at
    return form


def test_signatures_without_a_timestamp_ten_years_on_are_out_of_bounds_no_poe(
    app: Flask,
) -> None:
    docx = _docx(app)
    moment = _moment(app)
    bare = {code: _sign(app, docx, code, moment, None) for code in UNITS}
    stamper = _timestamper(app, moment)
    stamped = {code: _sign(app, docx, code, moment, stamper) for code in UNITS}
    at = _ten_years_on()
    client = app.test_client()

    assert _api(client, _form(docx, bare))["indication"] == "TOTAL_PASSED"  # today
    report = _api(client, _form(docx, bare, at))
    assert (report["indication"], report["sub_indication"]) == (
        "INDETERMINATE",
        "OUT_OF_BOUNDS_NO_POE",
    )
    for unit in report["units"]:
        assert unit["status"] == "indeterminate"
        assert unit["sub_indication"] == "OUT_OF_BOUNDS_NO_POE"
        assert unit["certificate_state"] == "expired_no_poe"
        assert unit["trusted_time"] is None
        assert unit["tsa"] is None
    html = _page(client, _form(docx, bare, at))
    assert 'data-indication="INDETERMINATE"' in html
    assert "OUT_OF_BOUNDS_NO_POE" in html
    assert message(SubIndication.OUT_OF_BOUNDS_NO_POE) in html
    assert _states(html) == ["expired_no_poe"] * len(UNITS)

    # The same signatures with a timestamp pass, and say when and by whom.
    report = _api(client, _form(docx, stamped, at))
    assert report["indication"] == "TOTAL_PASSED", report
    for unit in report["units"]:
        assert unit["certificate_state"] == "expired_after_poe"
        assert dt.datetime.fromisoformat(unit["trusted_time"]) == moment
        assert TEST_TSA in unit["tsa"]
    html = _page(_english(app), _form(docx, stamped, at))
    assert _states(html) == ["expired_after_poe"] * len(UNITS)
    assert CERTIFICATE_STATES["expired_after_poe"][1] in html
    assert TEST_TSA in html


def _revoke(app: Flask, code: str, when: dt.datetime) -> None:
    with app.app_context():
        session = db.get_session()
        owner = session.scalar(select(User).where(User.username == signer(code)))
        assert owner is not None
        credential = session.scalar(select(Credential).where(Credential.user_id == owner.id))
        assert credential is not None
        admin.revoke_credential(session, None, credential.id, reason="key_compromise", now=when)
        session.commit()


@pytest.mark.parametrize(
    ("offset", "status", "state"),
    [
        (dt.timedelta(seconds=2), "passed", "revoked_after_poe"),
        (dt.timedelta(seconds=-2), "failed", "revoked"),
    ],
    ids=["revoked-after-the-timestamp", "revoked-before-it"],
)
def test_a_revocation_after_the_timestamp_passes_before_it_fails(
    app: Flask, offset: dt.timedelta, status: str, state: str
) -> None:
    docx = _docx(app)
    moment = _moment(app)
    stamped = {code: _sign(app, docx, code, moment, _timestamper(app, moment)) for code in UNITS}
    _revoke(app, "VPHU-MD", moment + offset)
    report = _api(app.test_client(), _form(docx, stamped, _ten_years_on()))
    lines = {u["code"]: u for u in report["units"]}
    md = lines["VPHU-MD"]
    assert md["status"] == status
    assert md["certificate_state"] == state
    assert md["certificate_state_text"] == CERTIFICATE_STATES[state][0]
    others = [lines[code] for code in UNITS if code != "VPHU-MD"]
    assert {u["certificate_state"] for u in others} == {"expired_after_poe"}
    if status == "passed":
        assert report["indication"] == "TOTAL_PASSED", report
    else:
        assert (md["indication"], md["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
        assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    html = _page(app.test_client(), _form(docx, stamped, _ten_years_on()))
    row = html[html.index('data-unit="VPHU-MD"') :]
    row = row[: row.index("</tr>")]
    assert f'data-status="{status}"' in row
    assert CERTIFICATE_STATES[state][0] in row


# -- a validation time that cannot be read ---------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2035-13-01", "ngày mai", "2035-01-01T25:00", "9999-12-31T23:00:00-05:00"]
)
def test_a_malformed_at_is_a_400_with_a_message(app: Flask, text: str) -> None:
    bundle = _bundle(app) if text == "2035-13-01" else b"PK\x03\x04"
    client = app.test_client()
    body = _api(client, {"bundle": (io.BytesIO(bundle), "b.zip"), "at": text}, status=400)
    assert body["error"]["code"] == "invalid_at"
    assert body["error"]["field"] == "at"
    assert "không đọc được" in body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    html = _page(client, {"bundle": (io.BytesIO(bundle), "b.zip"), "at": text}, status=400)
    error = re.search(r'data-test="verify-error">([^<]*)<', html)
    assert error is not None
    assert "Thời điểm kiểm tra" in error.group(1)
    assert "verify-result" not in html


@pytest.mark.parametrize("text", ["1949-12-31", "2101-01-01", "2100-12-31T23:00:00-05:00"])
def test_a_year_outside_1950_to_2100_is_refused(app: Flask, text: str) -> None:
    client = app.test_client()
    form = {"bundle": (io.BytesIO(b"PK\x03\x04"), "b.zip")}
    body = _api(client, form, query=f"?at={text}", status=400)
    assert body["error"]["message"] == (
        "Thời điểm kiểm tra phải nằm trong khoảng từ năm 1950 đến năm 2100."
    )
    english = _english(app)
    html = _page(english, {"bundle": (io.BytesIO(b"PK\x03\x04"), "b.zip"), "at": text}, 400)
    assert "The validation time must be between the years 1950 and 2100." in html


def test_at_as_a_query_parameter_and_iso_datetimes(app: Flask) -> None:
    bundle = _bundle(app)
    client = app.test_client()
    report = _api(
        client, {"bundle": (io.BytesIO(bundle), "b.zip")}, query="?at=2030-06-01T08:00:00%2B07:00"
    )
    assert report["validation_time"] == "2030-06-01T01:00:00+00:00"
    naive = _api(client, {"bundle": (io.BytesIO(bundle), "b.zip"), "at": "2030-06-01T08:00"})
    assert naive["validation_time"] == "2030-06-01T08:00:00+00:00"  # naive is UTC
    assert {u["certificate_state"] for u in naive["units"]} == {"expired_after_poe"}


def test_the_openapi_document_describes_at_and_the_new_fields(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    verify = spec["paths"]["/api/verify"]["post"]
    assert any(p["name"] == "at" and p["in"] == "query" for p in verify["parameters"])
    form = verify["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert "at" in form
    unit = spec["components"]["schemas"]["VerificationUnit"]["properties"]
    assert {"trusted_time", "tsa", "certificate_state", "certificate_state_text"} <= set(unit)
    report = spec["components"]["schemas"]["VerificationReport"]["properties"]
    assert {"validation_time", "archive_timestamps", "units"} <= set(report)


# -- forged timestamps, on the page and the API ----------------------------------------------


class _OverOtherBytes:
    """A real token of a trusted TSA, but over other bytes than the signature value."""

    def __init__(self, inner: AuthorityTimestamper) -> None:
        self.inner = inner

    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: Any = None
    ) -> bytes:
        return self.inner.timestamp(bytes(32), hash_algorithm=hash_algorithm)


def _foreign_timestamper(at: dt.datetime) -> AuthorityTimestamper:
    from signing.ca import CertificateAuthority
    from signing.credentials import TEST_KDF

    foreign = CertificateAuthority.create(
        "thidua CA", "Cụm thi đua – hệ thống thidua", b"f" * 32, at, kdf_params=TEST_KDF
    )
    key = generate_private_key("ec-p256")
    cert = foreign.issue_tsa(key.public_key(), name=TEST_TSA, now=at)
    authority = TimeStampAuthority(KeySigner(key, cert, [foreign.certificate]), POLICY)
    return AuthorityTimestamper(authority, at=at, next_serial=lambda: next(_SERIALS))


@pytest.mark.parametrize(
    ("forge", "verdict"),
    [
        ("other-bytes", ("TOTAL_FAILED", "HASH_FAILURE")),
        ("foreign-tsa", ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")),
    ],
)
def test_a_forged_timestamp_is_refused_on_the_page_and_the_api(
    app: Flask, forge: str, verdict: tuple[str, str]
) -> None:
    docx = _docx(app)
    moment = _moment(app)
    stamper: Any = (
        _OverOtherBytes(_timestamper(app, moment))
        if forge == "other-bytes"
        else _foreign_timestamper(moment)
    )
    signatures = {code: _sign(app, docx, code, moment, stamper) for code in UNITS}
    report = _api(app.test_client(), _form(docx, signatures, _ten_years_on()))
    assert (report["indication"], report["sub_indication"]) == verdict
    assert {(u["indication"], u["sub_indication"]) for u in report["units"]} == {verdict}
    assert all(u["trusted_time"] is None for u in report["units"])
    html = _page(app.test_client(), _form(docx, signatures, _ten_years_on()))
    assert f'data-indication="{verdict[0]}"' in html
    assert "Dấu thời gian của chữ ký" in html
