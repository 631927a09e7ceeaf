"""pyHanko glue: the project's Signer behind pyHanko's signer interface, the stamp font, and
the signing session run with the caller's time (pyHanko would otherwise read the clock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms
from asn1crypto import x509 as a_x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers as ph_signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing._util import certificate_der, utc
from signing.cms import content_info, signed_attributes, signer_parts
from signing.errors import SigningError
from signing.signers import Signer
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP

__all__ = [
    "VN_TIME",
    "PyHankoSigner",
    "RoomTooSmall",
    "find_font",
    "open_writer",
    "run_signing",
    "stamp_font",
    "vn_time",
    "with_signature_timestamp",
]

VN_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")

# Debian's fonts-liberation2 first, then the older fonts-liberation, then anywhere below the
# usual font roots: LiberationSerif is metric-compatible with Times New Roman and carries
# every Vietnamese letter.
FONT_FILE = "LiberationSerif-Regular.ttf"
_FONT_DIRS = (
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
)


def _not_table_note(record: logging.LogRecord) -> bool:
    """fontTools notes every font table it does not subset ("FFTM NOT subset; ..."), once
    per signature: noise, not a problem of the stamp."""
    return "NOT subset" not in record.getMessage()


logging.getLogger("fontTools.subset").addFilter(_not_table_note)


def vn_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Vietnam's time zone (+07:00), whole seconds."""
    return utc(moment, "signing_time").astimezone(VN_TIME).replace(microsecond=0)


@lru_cache(maxsize=1)
def find_font() -> Path:
    """The TrueType font of visible signatures; SigningError naming the package when absent."""
    for directory in _FONT_DIRS:
        root = Path(directory)
        direct = root / FONT_FILE
        if direct.is_file():
            return direct
        if root.is_dir():
            found = sorted(root.rglob(FONT_FILE))
            if found:
                return found[0]
    raise SigningError(
        f"không tìm thấy phông chữ {FONT_FILE} để hiển thị chữ ký số tiếng Việt; "
        "hãy cài gói fonts-liberation2"
    )


# What a stamp may need: Basic Latin and Latin-1, Latin Extended-A/B, the combining marks,
# Latin Extended Additional (the precomposed Vietnamese letters), general punctuation.
_STAMP_REPERTOIRE = (
    *range(0x20, 0x250),
    *range(0x300, 0x370),
    *range(0x1E00, 0x1F00),
    *range(0x2000, 0x2070),
)


@lru_cache(maxsize=8)
def _font_program(path: str) -> bytes:
    """The font reduced to the stamp's repertoire and scaled to 1000 units per em.

    pyHanko writes glyph widths (/W) in the font's own units, while a CIDFont's glyph space
    is 1000 units per em: with LiberationSerif's 2048 every letter would be drawn twice as
    far apart as it should be. Done once per process (about half a second)."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-untyped]

    try:
        font = TTFont(path)
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_STAMP_REPERTOIRE)
        subsetter.subset(font)
        if font["head"].unitsPerEm != 1000:
            scale_upem(font, 1000)
        out = BytesIO()
        font.save(out)
    except Exception as exc:  # fontTools raises many types on a damaged font
        raise SigningError(f"không đọc được phông chữ {path}: {exc}") from None
    return out.getvalue()


class _FontFactory(FontEngineFactory):
    """pyHanko's GlyphAccumulatorFactory over a font program held in memory."""

    def __init__(self, program: bytes) -> None:
        self._program = program

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer, font_handle=BytesIO(self._program), font_size=10, obj_stream=obj_stream
        )


@lru_cache(maxsize=8)
def stamp_font(path: str | None = None) -> FontEngineFactory:
    """The embedded TrueType font of visible signatures (subset per stamp by pyHanko)."""
    font = Path(path) if path else find_font()
    if not font.is_file():
        raise SigningError(f"không tìm thấy tệp phông chữ {font}")
    return _FontFactory(_font_program(str(font)))


def _mechanism(signer: Signer) -> tuple[str, int]:
    """The CMS signature algorithm of the signer's key, and the longest value it makes."""
    key = signer.certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        size = (key.curve.key_size + 7) // 8
        return "sha256_ecdsa", 2 * size + 9  # DER SEQUENCE of two INTEGERs, both padded
    if isinstance(key, rsa.RSAPublicKey):
        return "sha256_rsa", (key.key_size + 7) // 8
    raise SigningError("the signer's certificate holds neither an EC nor an RSA key")


class PyHankoSigner(ph_signers.Signer):
    """A project Signer (a key in memory, a token, a remote service) seen by pyHanko: pyHanko
    builds the CMS, our Signer makes the one signature value, no key passes through here."""

    def __init__(self, signer: Signer) -> None:
        if not isinstance(signer, Signer):
            raise SigningError(f"cannot sign with {type(signer).__name__}: not a Signer")
        mechanism, self._max_len = _mechanism(signer)
        cert = a_x509.Certificate.load(certificate_der(signer.certificate))
        chain = [a_x509.Certificate.load(certificate_der(c)) for c in signer.chain]
        self._cert_der = certificate_der(signer.certificate)
        self._chain_ders = tuple(certificate_der(c) for c in signer.chain)
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),  # type: ignore[no-untyped-call]
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            embed_roots=True,
        )
        self._signer = signer
        self.last_cms_size = 0  # DER bytes of the last CMS made, to size a retry

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        """The PAdES B-B CMS from the parts signing.cms encodes once per certificate, with
        no signing-time attribute (PAdES claims the time in the signature dictionary's /M);
        pyHanko's own assembly only for what that does not cover (another digest, a
        digest). pyHanko's asn1crypto tree re-encodes every certificate on each
        signature: about half the cost of signing a PDF. With a ``timestamper`` (PAdES
        B-T) its token over the signature value is the one unsigned attribute,
        signature-time-stamp, appended to the SignerInfo's encoding."""
        if digest_algorithm != "sha256" or encap_content_info:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        ess_der, sid_der, certs_der, algorithm = signer_parts(self._cert_der, self._chain_ders)
        attrs = signed_attributes(data_digest, ess_der, None)
        value = await self.async_sign_raw(attrs, digest_algorithm, dry_run=dry_run)
        der = content_info(sid_der, attrs, algorithm, value, certs_der)
        if timestamper is not None:
            if dry_run:
                token = await timestamper.async_dummy_response(digest_algorithm)
            else:
                imprint = hashlib.sha256(value).digest()
                token = await timestamper.async_timestamp(imprint, digest_algorithm)
            der = with_signature_timestamp(der, token.dump())
        self.last_cms_size = len(der)
        return cms.ContentInfo.load(der)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # pyHanko sizes the placeholder; a token must not be asked twice
            return bytes(self._max_len)
        value = self._signer.sign(data, digest_algorithm)
        if not isinstance(value, bytes) or not value:
            raise SigningError("the signer returned no signature value")
        return value


# ----------------------------------------------------------------- DER splicing (B-T)
def _header(der: bytes, offset: int) -> tuple[int, int]:
    """(length of the header, length of the contents) of the DER element at ``offset``."""
    if offset + 2 > len(der):
        raise SigningError("CMS truncated")
    first = der[offset + 1]
    if first < 0x80:
        return 2, first
    count = first & 0x7F
    if not 0 < count <= 4 or offset + 2 + count > len(der):
        raise SigningError("CMS length not DER")
    return 2 + count, int.from_bytes(der[offset + 2 : offset + 2 + count], "big")


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _append_innermost(der: bytes, depth: int, extra: bytes) -> bytes:
    """``der`` (one element) with ``extra`` appended to the contents of its last element
    ``depth`` levels down, every enclosing length grown to match."""
    head, size = _header(der, 0)
    body = der[head : head + size]
    if depth == 0:
        body += extra
    else:
        offset = last = 0
        while offset < len(body):
            last = offset
            child_head, child_size = _header(body, offset)
            offset += child_head + child_size
        body = body[:last] + _append_innermost(body[last:], depth - 1, extra)
    return der[:1] + _length(len(body)) + body


def with_signature_timestamp(cms_der: bytes, token_der: bytes) -> bytes:
    """The CMS ``cms_der`` (one SignerInfo, without unsigned attributes, as
    signing.cms.content_info writes it) with ``token_der`` as its signature-time-stamp
    unsigned attribute (RFC 3161 Appendix A, CAdES-T)."""
    attribute = cms.CMSAttribute(
        {"type": SIGNATURE_TIMESTAMP, "values": [cms.ContentInfo.load(token_der)]}
    ).dump()
    unsigned = b"\xa1" + _length(len(attribute)) + attribute  # [1] IMPLICIT SET OF
    # ContentInfo > [0] > SignedData > SET OF SignerInfo > the last SignerInfo.
    return _append_innermost(cms_der, 4, unsigned)


def open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    if not isinstance(pdf, bytes | bytearray) or not bytes(pdf[:1024]).lstrip().startswith(
        b"%PDF-"
    ):
        raise SigningError("dữ liệu không phải tệp PDF")
    try:
        return IncrementalPdfFileWriter(BytesIO(bytes(pdf)), strict=False)
    except Exception as exc:  # pyHanko raises many types on damaged files
        raise SigningError(f"tệp PDF không đọc được: {exc}") from None


class RoomTooSmall(SigningError):
    """The CMS came out larger than the room reserved for it (a larger timestamp token than
    guessed): sign again reserving ``needed`` bytes of DER."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"chữ ký cần {needed} byte, lớn hơn chỗ đã dành")
        self.needed = needed


def run_signing(
    writer: IncrementalPdfFileWriter,
    pdf_signer: ph_signers.PdfSigner,
    when: dt.datetime,
    text_params: Mapping[str, Any] | None = None,
    *,
    room: int = 0,
) -> bytes:
    """pyHanko's ``sign_pdf`` with the session's time set to ``when`` (the /M entry of the
    signature dictionary) instead of the clock's; existing fields only. ``room``: DER bytes
    to reserve beyond the certificates and 2 KiB (a timestamp token); RoomTooSmall when
    the CMS did not fit."""
    try:
        return asyncio.run(_sign(writer, pdf_signer, when, dict(text_params or {}), room))
    except SigningError:
        raise
    except Exception as exc:  # pyHanko's own errors, and its refusals of the field
        raise SigningError(f"không ký được tệp PDF: {exc}") from None


async def _sign(
    writer: IncrementalPdfFileWriter,
    pdf_signer: ph_signers.PdfSigner,
    when: dt.datetime,
    text_params: dict[str, Any],
    room: int,
) -> bytes:
    session = pdf_signer.init_signing_session(writer, existing_fields_only=True)
    session.system_time = when
    # The CMS holds the certificates, the signed attributes and the signature value: room
    # for the certificates plus 2 KiB, in hex. pyHanko's own estimate builds and signs a
    # whole dummy CMS first, which doubles the cost of a signature.
    signer = pdf_signer.signer
    certs = sum(len(c.dump()) for c in signer.cert_registry)
    reserved = 2 * (certs + 2048 + room)
    tbs = session.prepare_tbs_document(
        validation_info=None, bytes_reserved=reserved, appearance_text_params=text_params
    )
    prepared, output = tbs.digest_tbs_document(output=BytesIO())
    try:
        post = await tbs.perform_signature(
            document_digest=prepared.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=when,
                cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
            ),
        )
    except Exception:
        made = getattr(signer, "last_cms_size", 0)
        if 2 * made > reserved:
            raise RoomTooSmall(made) from None
        raise
    await post.post_signature_processing(output)
    output.seek(0)
    data: bytes = output.read()
    return data
