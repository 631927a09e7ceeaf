"""PAdES signatures in the frozen PDF: what a recipient's tools say about the signed PDF,
and how each kind of tampering is named (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.ca import Revocation
from signing.errors import SigningError
from signing.pades import (
    FieldSpec,
    read_png,
    sign_final,
    stamp_text,
    verify_pdf,
)
from signing.validation import Indication, SubIndication, TrustStore
from tests.conftest import require_executable
from tests.signing.pades_helpers import (
    BOARD_CODE,
    BOARD_FIELD,
    CERTIFY_FIELD,
    MEMBERS,
    VERIFY_AT,
    ca_pem,
    expected_fields,
    freeze,
    grid_fields,
    issue,
    minimal_pdf,
    nss_db,
    pdfsig,
    pki,
    png,
    pyhanko_cli,
    sign_all,
    sign_unit,
    update_after,
)

PASSED, FAILED, INDET = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE


@pytest.fixture(scope="module")
def parties(ca):
    return pki(ca)


@pytest.fixture(scope="module")
def base_pdf():
    return minimal_pdf()


@pytest.fixture(scope="module")
def frozen(base_pdf, parties):
    return freeze(base_pdf, parties, grid_fields())


@pytest.fixture(scope="module")
def signed(base_pdf, parties):
    return sign_all(base_pdf, parties, grid_fields())


@pytest.fixture(scope="module")
def trust(ca):
    return TrustStore([ca.certificate])


def verify(pdf, trust, **kwargs):
    return verify_pdf(pdf, trust, at=VERIFY_AT, expected_fields=expected_fields(), **kwargs)


def by_field(report):
    return {s.field: s for s in report.signatures}


# --------------------------------------------------------------------------- the good PDF
def test_every_signature_passes_and_names_its_unit(signed, trust):
    report = verify(signed, trust)
    assert report.indication is PASSED, report.to_dict()
    assert report.message == "Đủ 10 chữ ký số hợp lệ"
    assert not report.unsigned_fields
    fields = by_field(report)
    assert list(fields) == [CERTIFY_FIELD, *MEMBERS, BOARD_FIELD]
    for code in MEMBERS:
        result = fields[code]
        assert result.report.signer.unit_code == code
        assert result.report.signer.name == MEMBERS[code][1]
        assert result.report.chain[-1].subject.startswith("CN=Thidua CA")
        assert result.modifications == "FORM_FILLING"  # only later fields were filled
    # Each signature covers the revision before it plus itself: revisions 1, 2, ..., 10.
    assert [s.revision for s in report.signatures] == list(range(1, 11))
    assert fields[CERTIFY_FIELD].certification
    assert fields[BOARD_FIELD].locks_fields
    assert fields[BOARD_FIELD].covers_entire_file
    units = {u.code: u for u in report.units}
    assert set(units) == {*MEMBERS, BOARD_CODE}  # the certification is VPHU-MD's too
    assert all(u.signed and u.indication is PASSED for u in report.units)
    assert units["VPHU-UH"].name == MEMBERS["VPHU-UH"][0]
    assert fields["VPHU-MD"].report.signing_time == dt.datetime(
        2018, 3, 31, 2, 12, 5, tzinfo=dt.UTC
    )


def test_the_stamp_reads_as_decree_30_writes_it(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    pdftotext = require_executable("pdftotext")
    text = subprocess.run(
        [pdftotext, "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    squashed = " ".join(text.split())
    assert "Ký bởi: Nguyễn Văn Hùng" in squashed
    assert "Cơ quan: Văn phòng Huyện ủy Mỹ Đức" in squashed
    assert "Thời gian ký: 2018-03-31T09:12:05+07:00" in squashed
    assert "Ký bởi: Bùi Thị Lan Anh" in squashed


def test_stamp_text():
    when = dt.datetime(2018, 3, 31, 2, 12, 5, 123456, tzinfo=dt.UTC)
    assert stamp_text("Nguyễn Văn Hùng", "Văn phòng Huyện ủy Mỹ Đức", when) == (
        "Ký bởi: Nguyễn Văn Hùng\nCơ quan: Văn phòng Huyện ủy Mỹ Đức\n"
        "Thời gian ký: 2018-03-31T09:12:05+07:00"
    )


def test_pyhanko_cli_accepts_it(signed, ca, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    pem = ca_pem(ca, tmp_path / "ca.pem")
    done = subprocess.run(
        [
            pyhanko_cli(),
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            str(pem),
            "--trust-replace",
            "--no-revocation-check",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("The signature is judged VALID") == 10


def _pdfsig_all_valid_and_trusted(pdf, ca, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    out = pdfsig(path, nss_db(ca, tmp_path / "nss"))
    assert out.count("Signature is Valid.") == 10, out
    assert out.count("Certificate is Trusted.") == 10, out
    assert "Total document signed" in out  # the board's signature covers the whole file


def test_pdfsig_reports_every_signature_valid_and_trusted(signed, ca, tmp_path):
    """poppler's pdfsig, through an NSS database holding only the project CA, as a clerk's
    reader on Linux would check it (NSS wants emailProtection beside documentSigning)."""
    _pdfsig_all_valid_and_trusted(signed, ca, tmp_path)


def test_qpdf_finds_no_error(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    qpdf = require_executable("qpdf")
    done = subprocess.run(
        [qpdf, "--check", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax or stream encoding errors found" in done.stdout


def test_pdfsig_sees_a_foreign_ca(signed, other_ca, tmp_path):
    """The same PDF in an NSS database trusting another CA of the same name: intact, but
    not trusted."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = pdfsig(path, nss_db(other_ca, tmp_path / "nss"))
    assert out.count("Signature is Valid.") == 10, out
    assert "Certificate is Trusted." not in out


# --------------------------------------------------------------------------- tampering
def _content_stream_offset(pdf: bytes) -> int:
    """An offset inside the first page's compressed text (revision 0, covered by all)."""
    start = pdf.index(b"stream\n", pdf.index(b"/FlateDecode")) + len(b"stream\n")
    return start + 5


def test_one_edited_byte_is_a_hash_failure(signed, trust):
    data = bytearray(signed)
    offset = _content_stream_offset(signed)
    data[offset] ^= 0x01
    report = verify(bytes(data), trust)
    assert report.finding == (FAILED, SubIndication.HASH_FAILURE)
    assert all(s.report.sub_indication is SubIndication.HASH_FAILURE for s in report.signatures)


def test_bytes_appended_after_the_board_are_named(signed, trust):
    report = verify(signed + b"\n% one more line\n", trust)
    assert report.finding == (FAILED, SubIndication.UNSIGNED_CONTENT)
    assert "sau chữ ký cuối cùng" in report.message
    assert not by_field(report)[BOARD_FIELD].covers_entire_file


def test_an_incremental_update_after_the_board_is_named(signed, trust):
    report = verify(update_after(signed), trust)
    assert report.finding == (FAILED, SubIndication.UNSIGNED_CONTENT)
    board = by_field(report)[BOARD_FIELD]
    assert board.report.sub_indication is SubIndication.UNSIGNED_CONTENT
    assert "sau chữ ký khóa văn bản" in board.report.message


def test_a_signature_from_a_foreign_ca_is_named(frozen, other_ca, trust):
    forger = issue(other_ca, "VPHU-PX", *MEMBERS["VPHU-PX"])
    report = verify(sign_unit(frozen, "VPHU-PX", forger), trust)
    result = by_field(report)["VPHU-PX"]
    assert result.report.finding == (INDET, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert report.finding == (INDET, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert "VPHU-PX" in report.message


def test_a_field_signed_by_the_wrong_unit_is_named(frozen, parties, trust):
    report = verify(sign_unit(frozen, "VPHU-PX", parties["VPHU-UH"]), trust)
    result = by_field(report)["VPHU-PX"]
    assert result.report.finding == (INDET, SubIndication.SIG_CONSTRAINTS_FAILURE)
    assert "VPHU-PX" in result.report.message
    assert "VPHU-UH" in result.report.message
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE


def test_fields_left_unsigned_are_listed(frozen, parties, trust):
    pdf = sign_unit(frozen, "VPHU-MD", parties["VPHU-MD"])
    report = verify(pdf, trust)
    assert report.finding == (INDET, SubIndication.SIGNED_DATA_NOT_FOUND)
    assert set(report.unsigned_fields) == {*MEMBERS, BOARD_FIELD} - {"VPHU-MD"}
    missing = [u for u in report.units if not u.signed]
    assert len(missing) == 8
    assert all(u.sub_indication is SubIndication.SIGNED_DATA_NOT_FOUND for u in missing)
    assert all(s.report.passed for s in report.signatures)


def test_a_signature_in_a_new_field_breaks_the_certification(frozen, parties, trust):
    """The fields exist from the certified revision on: a signer who adds one is named."""
    from pyhanko.sign import fields as ph_fields

    writer = IncrementalPdfFileWriter(BytesIO(frozen))
    ph_fields.append_signature_field(writer, ph_fields.SigFieldSpec("EXTRA", box=(10, 10, 200, 60)))
    out = BytesIO()
    writer.write(out)
    extended = sign_unit(out.getvalue(), "EXTRA", parties["VPHU-UH"])
    report = verify_pdf(
        extended, trust, at=VERIFY_AT, expected_fields={**expected_fields(), "EXTRA": "VPHU-UH"}
    )
    certification = by_field(report)[CERTIFY_FIELD]
    assert certification.report.sub_indication is SubIndication.UNSIGNED_CONTENT
    assert report.indication is FAILED


def test_a_signed_field_not_expected_fails(frozen, parties, trust):
    pdf = sign_unit(frozen, "VPHU-MD", parties["VPHU-MD"])
    fields = {k: v for k, v in expected_fields().items() if k != "VPHU-MD"}
    report = verify_pdf(pdf, trust, at=VERIFY_AT, expected_fields=fields)
    assert by_field(report)["VPHU-MD"].report.finding == (
        FAILED,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )


def test_a_revoked_certificate_is_named(ca, frozen, parties, trust):
    party = parties["VPHU-TT"]
    revoked_at = dt.datetime(2018, 3, 20, tzinfo=dt.UTC)  # before it signed
    crl = ca.crl(
        [Revocation(party.signer.certificate.serial_number, revoked_at, "key_compromise")],
        now=dt.datetime(2018, 4, 1, tzinfo=dt.UTC),
    )
    report = verify(sign_unit(frozen, "VPHU-TT", party), trust.with_crls([crl]))
    result = by_field(report)["VPHU-TT"]
    assert result.report.finding == (FAILED, SubIndication.REVOKED)
    assert result.report.revocation_checked


def test_not_a_pdf_is_a_format_failure(trust):
    report = verify(b"%PDF-1.7\n garbage", trust)
    assert report.finding == (FAILED, SubIndication.FORMAT_FAILURE)
    unsigned = verify(minimal_pdf(), trust)
    assert unsigned.finding == (INDET, SubIndication.SIGNED_DATA_NOT_FOUND)


# --------------------------------------------------------------------------- refusals
def test_the_board_signs_only_a_locking_field(frozen, parties):
    board = parties[BOARD_CODE]
    with pytest.raises(SigningError, match="không khóa"):
        sign_final(
            frozen,
            "VPHU-MD",
            board.signer,
            signing_time=VERIFY_AT,
            name=board.person,
            unit=board.unit,
        )


def test_signing_a_field_that_does_not_exist_is_refused(frozen, parties):
    with pytest.raises(SigningError, match="không ký được"):
        sign_unit(frozen, "NO-SUCH-FIELD", parties["VPHU-MD"])


def test_field_specs_are_checked(base_pdf, parties):
    with pytest.raises(SigningError, match="tên trường"):
        FieldSpec("a.b")
    with pytest.raises(SigningError, match="quá nhỏ"):
        FieldSpec("X", 0, (0, 0, 5, 5))
    with pytest.raises(SigningError, match="chỉ có 2 trang"):
        freeze(base_pdf, parties, [FieldSpec("X", 7, (10, 10, 200, 60))])
    with pytest.raises(SigningError, match="khác nhau"):
        freeze(base_pdf, parties, [FieldSpec("X"), FieldSpec("X")])
    with pytest.raises(SigningError, match="không phải tệp PDF"):
        freeze(b"PK\x03\x04", parties, grid_fields())


class _TokenSigner:
    """A Signer that is not a KeySigner (a token, a remote service): the protocol only."""

    def __init__(self, inner):
        self._inner = inner
        self.calls = 0

    @property
    def certificate(self):
        return self._inner.certificate

    @property
    def chain(self):
        return self._inner.chain

    def sign(self, data, hash_algorithm):
        self.calls += 1
        return self._inner.sign(data, hash_algorithm)


def test_any_signer_of_the_protocol_signs_once_per_signature(frozen, parties, trust):
    party = parties["VPHU-UH"]
    token = _TokenSigner(party.signer)
    pdf = sign_unit(frozen, "VPHU-UH", dataclasses.replace(party, signer=token))
    assert token.calls == 1  # no dry run against the token
    assert by_field(verify(pdf, trust))["VPHU-UH"].report.passed


# --------------------------------------------------------------------------- images
def test_png_decoding():
    red = png(40, 30, (200, 0, 0, 255))
    image = read_png(red)
    assert (image.width, image.height) == (40, 30)
    assert image.alpha is not None
    assert len(image.alpha) == 40 * 30
    assert image.alpha[15 * 40 + 20] == 255
    assert image.alpha[0] == 0
    for y in range(30):  # every row (each filter) decodes to the same disc
        centre = y * 40 + 20
        inside = (y - 15) ** 2 < 15**2
        assert image.alpha[centre] == (255 if inside else 0), y
        if inside:
            assert image.colour[3 * centre : 3 * centre + 3] == b"\xc8\x00\x00", y
    with pytest.raises(SigningError, match="PNG"):
        read_png(b"GIF89a")


def test_signature_and_seal_images_keep_the_signature_valid(frozen, parties, trust, tmp_path):
    seal = png(120, 120, (210, 20, 20, 255))
    signature = png(200, 80, (20, 40, 200, 255))
    pdf = sign_unit(
        frozen, "VPHU-MD", parties["VPHU-MD"], signature_image=signature, seal_image=seal
    )
    assert by_field(verify(pdf, trust))["VPHU-MD"].report.passed
    path = tmp_path / "with-images.pdf"
    path.write_bytes(pdf)
    qpdf = require_executable("qpdf")
    assert (
        subprocess.run([qpdf, "--check", str(path)], capture_output=True, check=False).returncode
        == 0
    )


def test_each_signature_is_pades_baseline_b(signed):
    """ETSI.CAdES.detached; signed attributes content-type, message-digest and ESS
    signing-certificate-v2, no signing-time (the claimed time is /M, in +07:00)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(signed))
    signatures = reader.embedded_regular_signatures
    assert len(signatures) == 10
    for sig in signatures:
        assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert str(sig.sig_object["/M"]).endswith("+07'00'")
        attrs = sig.signer_info["signed_attrs"]
        assert {a["type"].native for a in attrs} == {
            "content_type",
            "message_digest",
            "signing_certificate_v2",
        }


def test_damaged_pdfs_are_reports_never_exceptions(signed, trust):
    """Bytes flipped anywhere the board's signature covers (everything but its own
    /Contents), and truncations: a report that does not pass, never an exception."""
    import random

    from pyhanko.pdf_utils.reader import PdfFileReader

    board = PdfFileReader(BytesIO(signed)).embedded_regular_signatures[-1]
    _, gap_start, gap_end, _ = board.byte_range
    rng = random.Random(16)
    positions = [p for p in rng.sample(range(len(signed)), 80) if not gap_start <= p < gap_end]
    for position in positions[:60]:
        data = bytearray(signed)
        data[position] ^= 1 << rng.randrange(8)
        report = verify(bytes(data), trust)
        assert report.indication is not PASSED, position
    for length in (0, 9, len(signed) // 3, len(signed) - 40):
        assert verify(signed[:length], trust).indication is not PASSED, length
