"""Trust steps of bundle verification: which anchors judge the signatures, the bundle's CRL,
and whether each file under data/certs/ is what its name claims."""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509

from signing.archive.evidence import is_ca_certificate
from signing.archive.layout import cert_path
from signing.archive.run import Run
from signing.ca import fingerprint_sha256
from signing.credentials import load_certificates
from signing.errors import FormatError, SigningError
from signing.validation.status import DocumentReport, SubIndication
from signing.validation.trust import TrustStore, crl_issuer_der

__all__ = ["check_certificate_files", "choose_trust"]


@lru_cache(maxsize=256)
def _anchor_store(cert: x509.Certificate) -> TrustStore:
    """One store per CA certificate, reused across bundles so its chain cache is warm."""
    return TrustStore([cert])


@lru_cache(maxsize=64)
def _store_with_small_crl(store: TrustStore, crl: bytes) -> TrustStore:
    # ``store`` is never changed once built, so it is a fine cache key.
    return store.with_crls([crl])


def _store_with_crl(store: TrustStore, crl: bytes) -> TrustStore:
    """``store`` plus one CRL; remembered for CRLs up to 256 KiB (memory stays bounded
    whatever bundles arrive)."""
    if len(crl) <= 256 * 1024:
        return _store_with_small_crl(store, crl)
    return store.with_crls([crl])


@lru_cache(maxsize=1024)
def _pem_fingerprints_cached(pem: bytes) -> tuple[tuple[str, bool], ...]:
    return tuple((fingerprint_sha256(c), is_ca_certificate(c)) for c in load_certificates(pem))


def _pem_fingerprints(pem: bytes) -> tuple[tuple[str, bool], ...]:
    """(SHA-256, is CA) of each certificate in a PEM file; remembered for small files, which
    bulk re-verification meets again and again (the same CA and signers)."""
    if len(pem) <= 16 * 1024:
        return _pem_fingerprints_cached(pem)
    return tuple((fingerprint_sha256(c), is_ca_certificate(c)) for c in load_certificates(pem))


def _name_text(name: x509.Name | None) -> str:
    if name is None:
        return "không đọc được"
    try:
        return name.rfc4514_string()[:200]
    except ValueError:
        return "không đọc được"


def choose_trust(
    run: Run, given: TrustStore | None, ca_fingerprint: str | None
) -> tuple[TrustStore | None, str, str | None]:
    """(store, source, foreign CRL) for the signatures: the caller's store, else the
    bundle's CA accepted by ``ca_fingerprint``, else none (INDETERMINATE: a bundle must not
    vouch for itself). The third value says why data/crl.der belongs to no anchor in use,
    when it does not (judged once the signatures are checked)."""
    crl = run.files.get("data/crl.der")
    if given is not None:
        store, foreign = _with_crl(run, given, crl)
        return store, "given", foreign
    if ca_fingerprint is None:
        run.note(
            "untrusted",
            "không có neo tin cậy: cần --trust CA.pem, hoặc --ca-fingerprint của CA "
            "(lấy từ nguồn tin cậy) để dùng CA trong gói",
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        )
        return None, "none", None
    anchor = _bundle_anchor(run, ca_fingerprint)
    if anchor is None:
        run.note(
            "untrusted",
            "không có CA nào trong gói khớp dấu vân tay SHA-256 đã cho: "
            "gói không thể tự chứng thực",
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        )
        return None, "none", None
    store, foreign = _with_crl(run, _anchor_store(anchor), crl)
    return store, "bundle_ca", foreign


def _bundle_anchor(run: Run, ca_fingerprint: str) -> x509.Certificate | None:
    """The bundle's CA certificate whose SHA-256 is ``ca_fingerprint``, if any."""
    # CA files first: they are the only ones that can match.
    candidates = sorted(
        (path for path in run.files if cert_path(path)),
        key=lambda path: (not path.startswith("data/certs/ca-"), path),
    )
    for path in candidates:
        try:
            certs = load_certificates(run.files[path])
        except FormatError as exc:
            run.fail("certificate", f"{path}: {exc}", path=path)
            continue
        for cert in certs:
            if fingerprint_sha256(cert) == ca_fingerprint and is_ca_certificate(cert):
                return cert
    return None


def _with_crl(run: Run, store: TrustStore, crl: bytes | None) -> tuple[TrustStore, str | None]:
    """``store`` plus the bundle's CRL, and why the CRL belongs to no anchor in use (None
    when it does). The CRL must be issued (name) and signed (key) by an anchor in use, the
    caller's or the bundle CA accepted by fingerprint; it is applied unless the store
    already has revocation data of its own for that anchor (a CRL the caller supplies is at
    least as fresh as the archived one); the store's CRLs for other anchors are kept.

    Any other CRL fails the bundle. A CRL claiming an anchor's name but not signed by it
    is a forgery (SIG_CRYPTO_FAILURE). A CRL of an unrelated CA would hide a revocation
    from an offline verifier, and leaves the bundle without the one piece of revocation
    evidence its format requires: it is treated exactly like a missing data/crl.der,
    TOTAL_FAILED / FORMAT_FAILURE. (ETSI EN 319 102-1 would say INDETERMINATE /
    TRY_LATER for a signature whose revocation status is merely unknown, but an archive
    is fixed evidence: trying later cannot add the CRL it lacks, so it does not conform
    to its format.) Checks are cached by the CRL's exact bytes."""
    if crl is None:
        return store, None
    try:
        if crl.lstrip().startswith(b"-----BEGIN"):
            raise FormatError("không phải DER (có vẻ là PEM)")
        issuer_der = crl_issuer_der(crl)
    except FormatError as exc:
        run.fail("crl", f"data/crl.der không đọc được: {exc}", path="data/crl.der")
        return store, None
    try:
        # Checks the issuer's exact name and its signature against the anchors.
        extended = _store_with_crl(store, crl)
    except SigningError as exc:
        try:
            issuer: x509.Name | None = x509.load_der_x509_crl(crl).issuer
        except ValueError:
            issuer = None
        # Compare names by meaning too: a CRL claiming an anchor's name in another
        # encoding is a forgery as well.
        if store.has_anchor_named(issuer_der) or any(a.subject == issuer for a in store.anchors):
            run.fail(
                "crl",
                f"data/crl.der không hợp lệ: {exc}",
                SubIndication.SIG_CRYPTO_FAILURE,
                path="data/crl.der",
            )
            return store, None
        return store, (
            "data/crl.der không do CA tin cậy đang dùng phát hành và ký"
            f" (bên phát hành: {_name_text(issuer)}): gói thiếu CRL của CA"
        )
    if store.has_crl_from(issuer_der):
        return store, None
    return extended, None


def _anchors_in_use(
    trust: TrustStore | None, source: str, ca_fingerprint: str | None
) -> set[str] | None:
    if trust is None:
        # No signature chains to an anchor in use (another CA's trust store): the CA file
        # cannot be compared with anything that matters, like the CRL.
        return None
    if source == "given":
        return set(trust.anchor_fingerprints)
    if source == "bundle_ca" and ca_fingerprint is not None:
        return {ca_fingerprint}
    return None  # no anchor in use: nothing to compare the CA file with


def check_certificate_files(
    run: Run,
    document: DocumentReport | None,
    trust: TrustStore | None,
    source: str,
    ca_fingerprint: str | None,
) -> None:
    """Each data/certs file must be what its name claims: its SHA-256 starts with the
    ``<fp16>`` of the name; a member unit's ``<UNIT>-<fp16>.pem`` is the signer
    certificate inside data/signatures/<UNIT>.p7s; ``ca-<fp16>.pem`` is the trust anchor
    in use. (The board's file is checked against its name only: an approval may come
    from a certificate of another trusted CA.) Signatures carry their own certificates,
    so a lying file changes no signature's result, but an archive must not hold a file
    that claims to be a certificate it is not."""
    signers: dict[str, str] = {}
    for unit in () if document is None else document.units:
        if unit.report is not None and unit.report.signer is not None:
            signers[unit.code] = unit.report.signer.certificate_sha256
    anchors = _anchors_in_use(trust, source, ca_fingerprint)
    for path in sorted(p for p in run.files if cert_path(p)):
        reason = _certificate_file_problem(run, path, signers, anchors)
        if reason is not None:
            run.fail("certificate", reason, path=path)


def _certificate_file_problem(
    run: Run, path: str, signers: dict[str, str], anchors: set[str] | None
) -> str | None:
    name = path[len("data/certs/") : -len(".pem")]
    prefix, _, fp16 = name.rpartition("-")
    try:
        found = _pem_fingerprints(run.files[path])
    except FormatError as exc:
        message = f"{path}: {exc}"
        return None if run.reported("certificate", message) else message  # _bundle_anchor's
    if len(found) != 1:
        return f"{path} phải chứa đúng một chứng thư số"
    fp, is_ca = found[0]
    if not prefix or not fp.startswith(fp16.lower()) or len(fp16) != 16:
        return f"{path}: dấu vân tay SHA-256 của chứng thư ({fp[:16]}) khác tên tệp"
    if prefix == "ca":
        if not is_ca:
            return f"{path} không phải chứng thư số của CA"
        if anchors is not None and fp not in anchors:
            return f"{path} không phải chứng thư CA tin cậy đang dùng (dấu vân tay khác)"
    elif prefix in signers and signers[prefix] != fp:
        return (
            f"{path} không phải chứng thư số đã ký của {prefix} (khác chứng thư trong chữ ký .p7s)"
        )
    return None
