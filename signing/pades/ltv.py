"""Long-term validation of the archived PDF (PAdES B-LT and B-LTA, ETSI EN 319 142-1 §5.4,
issue 17): one incremental revision after the board's signature that adds the Document
Security Store (every certificate of every chain, the TSAs' included, and the CRLs) and a
document timestamp (/DocTimeStamp, RFC 3161) over the whole file, DSS included.

The board's FieldMDP lock allows no change after it but these two (ISO 32000-2 §12.8.4.4:
DSS and document timestamps are exempt from DocMDP), which pyHanko's difference analysis
rules LTA_UPDATES. Pure: the time is the Timestamper's, the CRLs the caller's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from io import BytesIO

from asn1crypto import cms
from asn1crypto import crl as a_crl
from asn1crypto import x509 as a_x509
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing._util import certificate_der
from signing.errors import SigningError
from signing.pades._adapter import open_writer
from signing.pades._timestamper import TOKEN_GUESS, PyHankoTimeStamper
from signing.tsa import Timestamper
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP

__all__ = ["DOC_TIMESTAMP_PREFIX", "embedded_certificates", "extend_to_lta"]

# The document timestamps' fields: DOC_TIMESTAMP_1, then _2 at each renewal.
DOC_TIMESTAMP_PREFIX = "DOC_TIMESTAMP_"
_MAX_ITEMS = 1000


def _certificate(item: x509.Certificate | bytes) -> a_x509.Certificate:
    try:
        der = certificate_der(item) if isinstance(item, x509.Certificate) else bytes(item)
        cert = a_x509.Certificate.load(der, strict=True)
        _ = cert.issuer_serial  # parses the TBSCertificate's names and serial
    except (ValueError, TypeError, SigningError) as exc:
        raise SigningError(f"chứng thư số không đọc được (DER X.509): {exc}") from None
    return cert


def _crl(item: bytes) -> a_crl.CertificateList:
    try:
        x509.load_der_x509_crl(bytes(item))
        return a_crl.CertificateList.load(bytes(item), strict=True)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"danh sách thu hồi (CRL) không đọc được (DER): {exc}") from None


def _signed_data_certificates(signed_data: cms.SignedData) -> Iterable[a_x509.Certificate]:
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            yield choice.chosen
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == SIGNATURE_TIMESTAMP:
                for token in attribute["values"]:
                    yield from _signed_data_certificates(token["content"])


def embedded_certificates(reader: PdfFileReader) -> list[a_x509.Certificate]:
    """Every certificate the PDF's signatures and timestamps carry (CMS certificates, those
    of signature-time-stamp tokens, those of document timestamps)."""
    found: list[a_x509.Certificate] = []
    for sig in reader.embedded_signatures:
        try:
            found.extend(_signed_data_certificates(sig.signed_data))
        except (ValueError, TypeError, KeyError) as exc:
            raise SigningError(
                f"chữ ký trong trường {sig.field_name} không đọc được: {exc}"
            ) from None
    return found


def _next_field(reader: PdfFileReader) -> str:
    taken = {str(sig.field_name) for sig in reader.embedded_signatures}
    number = 1
    while f"{DOC_TIMESTAMP_PREFIX}{number}" in taken:
        number += 1
    return f"{DOC_TIMESTAMP_PREFIX}{number}"


def _dss(
    writer: IncrementalPdfFileWriter,
    certificates: Sequence[a_x509.Certificate],
    crls: Sequence[a_crl.CertificateList],
) -> None:
    certs = {c.issuer_serial: c for c in [*embedded_certificates(writer.prev), *certificates]}
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=list(certs.values()), crls=list(crls)
    )


def extend_to_lta(
    pdf: bytes,
    *,
    timestamper: Timestamper,
    certificates: Sequence[x509.Certificate | bytes],
    crls: Sequence[bytes],
) -> bytes:
    """``pdf`` (signed, e.g. closed by the board) with one incremental revision holding the
    DSS and a document timestamp from ``timestamper`` over the whole file: PAdES B-LTA.

    The DSS holds ``certificates`` (x509 or DER: every chain's, the TSAs' and the roots),
    every certificate the signatures and timestamps already carry, and ``crls`` (DER; as
    they were at signing and now). Run again over its own output, it adds what is new to the
    DSS and another document timestamp (renewal before the TSA certificate expires).
    Raises SigningError on bad input; the earlier revisions stay byte for byte."""
    if not isinstance(timestamper, Timestamper):
        raise SigningError("extend_to_lta needs a Timestamper")
    if len(certificates) > _MAX_ITEMS or len(crls) > _MAX_ITEMS:
        raise SigningError(f"tối đa {_MAX_ITEMS} chứng thư số và {_MAX_ITEMS} CRL")
    certs = [_certificate(c) for c in certificates]
    revocations = [_crl(c) for c in crls]
    adapter = PyHankoTimeStamper(timestamper)
    room = TOKEN_GUESS
    for attempt in (1, 2):
        writer = open_writer(pdf)
        try:
            if not writer.prev.embedded_signatures:
                raise SigningError("tệp PDF chưa có chữ ký nào để lưu trữ dài hạn")
            field = _next_field(writer.prev)
            _dss(writer, certs, revocations)
            output = asyncio.run(
                PdfTimeStamper(adapter, field_name=field).async_timestamp_pdf(
                    writer, "sha256", bytes_reserved=2 * room, output=BytesIO()
                )
            )
        except SigningError:
            raise
        except Exception as exc:  # pyHanko's own errors, and a token that did not fit
            if attempt == 1 and adapter.largest_token > room:
                room = adapter.largest_token + 64
                continue
            raise SigningError(f"không đóng dấu thời gian được tệp PDF: {exc}") from None
        output.seek(0)
        data: bytes = output.read()
        return data
    raise AssertionError("unreachable")
