"""PAdES B-T signatures and the B-LTA archived PDF (issue 17): two units and the board sign
with the deployment's TSA, extend_to_lta adds the DSS and a document timestamp; what
pyHanko, pdfsig, qpdf and verify_pdf say about it, and how tampering is named."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
from io import BytesIO

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from signing._util import certificate_der
from signing.ca import CertificateAuthority
from signing.credentials import generate_private_key
from signing.errors import SigningError
from signing.pades import (
    FieldSpec,
    extend_to_lta,
    prepare_pdf,
    sign_field,
    sign_final,
    verify_pdf,
)
from signing.pades.fields import signature_field_names, verify_pdf_alone
from signing.signers import KeySigner
from signing.tsa import AuthorityTimestamper, TimeStampAuthority
from signing.validation import Indication, SubIndication, TrustStore
from tests.conftest import require_executable
from tests.signing.pades_helpers import (
    APPROVED_AT,
    BOARD_CODE,
    BOARD_FIELD,
    CERTIFY_FIELD,
    FROZEN_AT,
    ISSUED,
    SIGNED_AT,
    VERIFY_AT,
    Party,
    ca_pem,
    issue,
    minimal_pdf,
    nss_db,
    pdfsig,
    pki,
    pyhanko_cli,
    update_after,
)

PASSED, FAILED, INDET = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE
POLICY = "1.3.6.1.4.1.59999.17.1"
UNITS = ("VPHU-MD", "VPHU-UH")
ARCHIVED_AT = APPROVED_AT + dt.timedelta(hours=1)
FIELDS = [
    FieldSpec("VPHU-MD", 1, (90, 600, 280, 655)),
    FieldSpec("VPHU-UH", 1, (320, 600, 510, 655)),
    FieldSpec(BOARD_FIELD, 0, (340, 790, 540, 835), lock_all=True),
]
EXPECTED: dict[str, str | None] = {
    "VPHU-MD": "VPHU-MD",
    "VPHU-UH": "VPHU-UH",
    BOARD_FIELD: BOARD_CODE,
    CERTIFY_FIELD: "THIDUA",
}
# The time each field's signature claims (/M) and its TSA stamps.
TIMES = {
    CERTIFY_FIELD: FROZEN_AT,
    "VPHU-MD": SIGNED_AT,
    "VPHU-UH": SIGNED_AT + dt.timedelta(minutes=1),
    BOARD_FIELD: APPROVED_AT,
}
_serials = itertools.count(1)


def authority(ca: CertificateAuthority) -> TimeStampAuthority:
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name="Thidua TSA", now=ISSUED)
    return TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)


def stamper(tsa: TimeStampAuthority, at: dt.datetime) -> AuthorityTimestamper:
    return AuthorityTimestamper(tsa, at=at, next_serial=lambda: next(_serials))


@pytest.fixture(scope="module")
def parties(ca) -> dict[str, Party]:
    found = pki(ca)
    # The freeze's own certifier, as the workflow has it (a unit's certificate used twice,
    # once timestamped, makes poppler's NSS check of the second one fail).
    found["THIDUA"] = issue(ca, "THIDUA", "Hệ thống thidua", "Hệ thống thidua")
    return found


@pytest.fixture(scope="module")
def tsa(ca) -> TimeStampAuthority:
    return authority(ca)


@pytest.fixture(scope="module")
def foreign_tsa(other_ca) -> TimeStampAuthority:
    return authority(other_ca)


@pytest.fixture(scope="module")
def trust(ca) -> TrustStore:
    return TrustStore([ca.certificate])


def sign_flow(parties, tsa, *, unit_tsa: dict[str, TimeStampAuthority] | None = None) -> bytes:
    """Freeze, the two units, the board: each signature B-T with ``tsa`` (or the unit's
    own in ``unit_tsa``)."""
    certifier = parties["THIDUA"]
    pdf = prepare_pdf(
        minimal_pdf(),
        FIELDS,
        certifier.signer,
        signing_time=FROZEN_AT,
        certification_field=CERTIFY_FIELD,
        timestamper=stamper(tsa, FROZEN_AT),
    )
    for code in UNITS:
        party = parties[code]
        chosen = (unit_tsa or {}).get(code, tsa)
        pdf = sign_field(
            pdf,
            code,
            party.signer,
            signing_time=TIMES[code],
            name=party.person,
            unit=party.unit,
            timestamper=stamper(chosen, TIMES[code]),
        )
    board = parties[BOARD_CODE]
    return sign_final(
        pdf,
        BOARD_FIELD,
        board.signer,
        signing_time=APPROVED_AT,
        name=board.person,
        unit=board.unit,
        timestamper=stamper(tsa, APPROVED_AT),
    )


def archive(pdf: bytes, ca, parties, tsa, at: dt.datetime = ARCHIVED_AT) -> bytes:
    certificates = [ca.certificate, tsa.certificate]
    certificates += [parties[c].signer.certificate for c in (*UNITS, BOARD_CODE, "THIDUA")]
    crls = [ca.crl([], now=APPROVED_AT), ca.crl([], now=at)]
    return extend_to_lta(pdf, timestamper=stamper(tsa, at), certificates=certificates, crls=crls)


@pytest.fixture(scope="module")
def closed(parties, tsa) -> bytes:
    return sign_flow(parties, tsa)


@pytest.fixture(scope="module")
def archived(closed, ca, parties, tsa) -> bytes:
    return archive(closed, ca, parties, tsa)


def verify(pdf: bytes, trust: TrustStore):
    return verify_pdf(pdf, trust, at=VERIFY_AT, expected_fields=EXPECTED)


def by_field(report):
    return {s.field: s for s in report.signatures}


# --------------------------------------------------------------------------- verify_pdf
def test_every_signature_is_b_t_with_the_tsa_time(closed, trust):
    report = verify(closed, trust)
    assert report.indication is PASSED, report.to_dict()
    assert report.level == "B-T"
    assert not report.has_dss
    assert not report.lta
    assert not report.document_timestamps
    for field, result in by_field(report).items():
        assert result.timestamped
        assert result.trusted_time == TIMES[field]
        assert result.tsa_name is not None
        assert "CN=Thidua TSA" in result.tsa_name
        assert result.timestamp is not None
        assert result.timestamp.policy == POLICY


def test_the_archived_pdf_is_b_lta_and_passes(closed, archived, trust):
    assert archived.startswith(closed)  # one incremental update: every revision stays
    report = verify(archived, trust)
    assert report.indication is PASSED, report.to_dict()
    assert report.message == "Đủ 4 chữ ký số hợp lệ, có dấu thời gian tài liệu để lưu trữ dài hạn"
    assert report.level == "B-LTA"
    assert report.lta
    # The CA, the TSA, the certifier, two units, the board; both CRLs.
    assert report.dss_certificates == 6
    assert report.dss_crls == 2
    (stamp,) = report.document_timestamps
    assert stamp.field == "DOC_TIMESTAMP_1"
    assert stamp.passed
    assert stamp.covers_entire_file
    assert stamp.report.gen_time == ARCHIVED_AT
    assert "CN=Thidua TSA" in (stamp.report.tsa_name or "")
    fields = by_field(report)
    assert fields[BOARD_FIELD].modifications == "LTA_UPDATES"
    assert not fields[BOARD_FIELD].covers_entire_file
    assert all(fields[f].trusted_time == TIMES[f] for f in TIMES)
    # The JSON report carries it all.
    data = json.loads(json.dumps(report.to_dict()))
    assert data["level"] == "B-LTA"
    assert data["lta"] is True
    assert data["dss"] == {"certificates": 6, "crls": 2}
    assert data["document_timestamps"][0]["report"]["gen_time"] == ARCHIVED_AT.isoformat()
    board = next(s for s in data["signatures"] if s["field"] == BOARD_FIELD)
    assert board["timestamped"] is True
    assert board["trusted_time"] == APPROVED_AT.isoformat()
    assert board["timestamp"]["passed"] is True


def test_without_a_timestamper_a_signature_stays_b_b(parties, trust):
    certifier = parties["THIDUA"]
    pdf = prepare_pdf(
        minimal_pdf(),
        FIELDS,
        certifier.signer,
        signing_time=FROZEN_AT,
        certification_field=CERTIFY_FIELD,
    )
    report = verify(pdf, trust)
    (result,) = report.signatures
    assert result.report.passed
    assert not result.timestamped
    assert result.trusted_time is None
    assert report.level == "B-B"
    assert result.to_dict()["timestamp"] is None


def test_the_pdf_alone_does_not_take_the_document_timestamp_for_a_unit(archived, trust):
    """thidua verify of the PDF on its own reads the expected units from the field names:
    the document timestamp's field is none of them."""
    assert "DOC_TIMESTAMP_1" not in signature_field_names(archived)
    report = verify_pdf_alone(archived, trust, at=VERIFY_AT)
    assert report.indication is PASSED, report.to_dict()
    assert report.lta
    assert not report.unsigned_fields


def test_renewal_adds_a_second_document_timestamp(archived, ca, parties, tsa, trust):
    later = ARCHIVED_AT + dt.timedelta(days=3000)  # 2026, before the certificates expire
    renewed = archive(archived, ca, parties, tsa, at=later)
    report = verify_pdf(renewed, trust, at=later, expected_fields=EXPECTED)
    assert report.indication is PASSED, report.to_dict()
    assert [t.field for t in report.document_timestamps] == ["DOC_TIMESTAMP_1", "DOC_TIMESTAMP_2"]
    assert [t.covers_entire_file for t in report.document_timestamps] == [False, True]
    assert report.dss_crls == 4  # what was there and two new CRLs
    assert report.document_timestamps[1].report.gen_time == later
    assert report.lta


# --------------------------------------------------------------------------- third parties
def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)


def test_pyhanko_cli_sees_every_signature_timestamped(archived, ca, tmp_path):
    path = tmp_path / "archived.pdf"
    path.write_bytes(archived)
    pem = ca_pem(ca, tmp_path / "ca.pem")
    done = _run(
        [
            pyhanko_cli(), "sign", "validate", "--pretty-print", "--trust", str(pem),
            "--trust-replace", "--no-revocation-check", str(path),
        ]
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.count("The signature is judged VALID.") == 4
    for when in TIMES.values():
        assert f"Signature timestamp token: {when.isoformat()}" in out, out
    assert out.count("The timestamp token is cryptographically sound.") == 4
    assert out.count("The TSA certificate is trusted.") == 4
    # The board's signature: what came after it is the DSS and the document timestamp.
    assert "All modifications relate to signature maintenance" in out


def test_pyhanko_ades_validation_uses_the_document_timestamp(archived, ca, tmp_path):
    """pyHanko's AdES (LTA) validation walks the document timestamp chain first; it says
    so in a warning when the chain fails, and not here."""
    path = tmp_path / "archived.pdf"
    path.write_bytes(archived)
    pem = ca_pem(ca, tmp_path / "ca.pem")
    done = _run(
        [
            pyhanko_cli(), "sign", "adesverify", "--pretty-print", "--trust", str(pem),
            "--trust-replace", "--no-revocation-check", str(path),
        ]
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("The signature is judged VALID.") == 4
    assert "Document timestamp chain failed" not in done.stdout + done.stderr


def test_pyhanko_validates_the_document_timestamp(archived, ca, tmp_path):
    pem = ca_pem(ca, tmp_path / "ca.pem")
    reader = PdfFileReader(BytesIO(archived))
    (stamp,) = reader.embedded_timestamp_signatures
    status = validate_pdf_timestamp(
        stamp, validation_context=ValidationContext(trust_roots=[load_cert_from_pemder(pem)])
    )
    assert status.valid
    assert status.intact
    assert status.trusted
    assert status.timestamp == ARCHIVED_AT
    assert status.coverage.name == "ENTIRE_FILE"


def test_pdfsig_still_finds_every_signature_valid(archived, ca, tmp_path):
    path = tmp_path / "archived.pdf"
    path.write_bytes(archived)
    out = pdfsig(path, nss_db(ca, tmp_path / "nss"))
    assert out.count("Signature is Valid.") == 4, out
    assert out.count("Certificate is Trusted.") == 4, out
    stamp = out[out.index("Signature Field Name: DOC_TIMESTAMP_1") :]
    assert "Signer Certificate Common Name: Thidua TSA" in stamp
    assert "Total document signed" in stamp


def test_qpdf_finds_no_error(archived, tmp_path):
    path = tmp_path / "archived.pdf"
    path.write_bytes(archived)
    done = _run([require_executable("qpdf"), "--check", str(path)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax or stream encoding errors found" in done.stdout


# --------------------------------------------------------------------------- tampering
def test_a_byte_changed_after_the_board_breaks_the_document_timestamp(closed, archived, ca, trust):
    data = bytearray(archived)
    # A byte of the CA certificate in the DSS, written by the archiving revision.
    offset = archived.index(certificate_der(ca.certificate)[200:232], len(closed))
    data[offset] ^= 0x01
    report = verify(bytes(data), trust)
    assert report.indication is FAILED
    (stamp,) = report.document_timestamps
    assert stamp.report.sub_indication is SubIndication.HASH_FAILURE
    assert report.message.startswith("Dấu thời gian tài liệu (trường DOC_TIMESTAMP_1)")
    assert not report.lta


def test_bytes_appended_after_the_document_timestamp_are_named(archived, trust):
    report = verify(archived + b"\n% later\n", trust)
    assert report.finding == (FAILED, SubIndication.UNSIGNED_CONTENT)
    assert report.unsigned_tail
    assert "DOC_TIMESTAMP_1" in report.message


def _change_page_text(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    text = b"BT /F1 14 Tf 72 770 Td (Giao uoc da bi sua) Tj ET"
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=text))
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", [_change_page_text, update_after], ids=["text", "annotation"])
def test_an_update_after_the_document_timestamp_fails(archived, trust, change):
    report = verify(change(archived), trust)
    assert report.indication is FAILED
    board = by_field(report)[BOARD_FIELD]
    assert board.report.sub_indication is SubIndication.UNSIGNED_CONTENT
    assert "sau chữ ký khóa văn bản" in board.report.message
    assert report.unsigned_tail


def test_a_foreign_tsa_token_is_not_trusted(parties, tsa, foreign_tsa, ca, trust):
    pdf = archive(sign_flow(parties, tsa, unit_tsa={"VPHU-UH": foreign_tsa}), ca, parties, tsa)
    report = verify(pdf, trust)
    fields = by_field(report)
    foreign = fields["VPHU-UH"]
    assert foreign.timestamped
    assert foreign.trusted_time is None
    assert foreign.timestamp is not None
    assert foreign.timestamp.indication is INDET
    assert foreign.timestamp.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert foreign.report.indication is INDET
    assert "Dấu thời gian của chữ ký" in foreign.report.message
    assert fields["VPHU-MD"].report.passed
    assert fields["VPHU-MD"].trusted_time == SIGNED_AT
    assert report.indication is INDET
    assert report.level == "B-B"  # not every signature has a trusted time
    assert foreign.to_dict()["timestamp"]["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_a_document_timestamp_from_a_foreign_tsa_is_not_lta(
    closed, ca, parties, foreign_tsa, trust
):
    pdf = archive(closed, ca, parties, foreign_tsa)
    report = verify(pdf, trust)
    (stamp,) = report.document_timestamps
    assert stamp.report.finding == (INDET, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert report.finding == (INDET, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert all(s.report.passed for s in report.signatures)
    assert not report.lta


def test_extend_to_lta_refuses_bad_input(closed):
    with pytest.raises(SigningError, match="CRL"):
        extend_to_lta(closed, timestamper=_NoTimestamper(), certificates=[], crls=[b"x"])
    with pytest.raises(SigningError, match="chứng thư"):
        extend_to_lta(closed, timestamper=_NoTimestamper(), certificates=[b"x"], crls=[])
    with pytest.raises(SigningError, match="chưa có chữ ký"):
        extend_to_lta(minimal_pdf(), timestamper=_NoTimestamper(), certificates=[], crls=[])
    with pytest.raises(SigningError, match="Timestamper"):
        extend_to_lta(closed, timestamper=object(), certificates=[], crls=[])  # type: ignore[arg-type]


class _NoTimestamper:
    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None
    ) -> bytes:
        raise AssertionError("not reached: the input is refused first")


def test_a_token_larger_than_guessed_gets_the_room_it_needs(parties, ca, trust):
    """A TSA whose tokens carry a long chain (here the CA certificate twelve times: over
    the 6 KiB first reserved) makes the signing run again with the room the token needs."""
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name="Thidua TSA", now=ISSUED)
    bulky = TimeStampAuthority(KeySigner(key, cert, [ca.certificate] * 12), POLICY)
    assert len(stamper(bulky, SIGNED_AT).timestamp(bytes(32))) > 6144
    first = next(_serials)
    pdf = archive(sign_flow(parties, bulky), ca, parties, bulky)
    # Four signatures and the document timestamp, each asked twice: once too big.
    assert next(_serials) - first - 1 == 10
    report = verify(pdf, trust)
    assert report.indication is PASSED, report.to_dict()
    assert report.level == "B-LTA"
    assert all(s.trusted_time == TIMES[s.field] for s in report.signatures)
