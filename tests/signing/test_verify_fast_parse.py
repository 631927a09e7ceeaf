"""The fast CMS reading (asn1crypto's tokenizer only) must agree with the schema-based
reading on everything it accepts, and hand everything else to it.

A disagreement would mean a signature judged on bytes other than the ones the full reading
would use; so: same result on what we and openssl produce, None (schema decides) on BER,
attached content, several signers or unusual algorithms, and on any mutation either the
same result or None."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing.cms import sign_detached
from signing.errors import FormatError
from signing.validation.cms_reader import _read_fast, _read_schema
from tests.signing.conftest import DOCUMENT, SIGNED_AT, issue_signer, key_pem, pem
from tests.signing.test_fuzz import mutations
from tests.signing.test_verify import openssl_sign


@pytest.fixture(scope="module")
def ours(ca, rsa_ca, md) -> dict[str, bytes]:
    rsa_signer = issue_signer(rsa_ca, "VPHU-TO", key_type="rsa-3072")
    return {
        "ec": sign_detached(
            DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT, chain=[ca.certificate]
        ),
        "ec-no-chain": sign_detached(DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT),
        "rsa": sign_detached(
            DOCUMENT,
            rsa_signer.key,
            rsa_signer.certificate,
            signing_time=SIGNED_AT,
            chain=[rsa_ca.certificate],
        ),
    }


@pytest.fixture(scope="module")
def folder(ca, tmp_path_factory) -> Path:
    """Key, certificate and document files for signing with the openssl command line (the
    certificates' dates do not matter: only the reading is compared here)."""
    folder = tmp_path_factory.mktemp("fast-parse")
    signer = issue_signer(ca, "VPHU-UH")
    rsa_signer = issue_signer(ca, "VPHU-TO", key_type="rsa-3072")
    (folder / "cert.pem").write_bytes(pem(signer.certificate))
    (folder / "key.pem").write_bytes(key_pem(signer.key))
    (folder / "rsa-cert.pem").write_bytes(pem(rsa_signer.certificate))
    (folder / "rsa-key.pem").write_bytes(key_pem(rsa_signer.key))
    (folder / "document.docx").write_bytes(DOCUMENT)
    return folder


def test_fast_reading_matches_schema_reading_on_our_signatures(ours) -> None:
    for name, der in ours.items():
        fast = _read_fast(der)
        assert fast is not None, name
        assert fast == _read_schema(der), name
        assert set(fast.attrs) == {
            "content_type",
            "message_digest",
            "signing_time",
            "signing_certificate_v2",
        }


@pytest.mark.parametrize(
    "flags", [(), ("-cades",), ("-noattr",), ("-nosmimecap",)], ids=lambda f: " ".join(f)
)
def test_fast_reading_matches_schema_reading_on_openssl_signatures(openssl, folder, flags) -> None:
    der = openssl_sign(openssl, folder, *flags)
    fast = _read_fast(der)
    assert fast is not None
    assert fast == _read_schema(der)


@pytest.mark.parametrize(
    ("flags", "prefix"),
    [
        (("-stream",), ""),  # BER, indefinite lengths
        (("-nodetach",), ""),  # content inside the signature
        (("-cades", "-keyopt", "rsa_padding_mode:pss"), "rsa-"),  # algorithm with parameters
    ],
    ids=["ber", "attached", "rsa-pss"],
)
def test_unusual_shapes_go_to_the_schema_reading(openssl, folder, flags, prefix) -> None:
    der = openssl_sign(openssl, folder, *flags, prefix=prefix)
    assert _read_fast(der) is None
    assert _read_schema(der).signature


def test_trailing_bytes_and_truncation_go_to_the_schema_reading(ours) -> None:
    der = ours["ec"]
    for broken in (der + b"\x00", der[:-1], der[:40]):
        assert _read_fast(broken) is None
        with pytest.raises(FormatError):
            _read_schema(broken)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fast_reading_never_disagrees_on_mutations(ours, data) -> None:
    der = data.draw(mutations(ours[data.draw(st.sampled_from(sorted(ours)))]))
    fast = _read_fast(der)
    if fast is None:
        return
    # Whatever the fast reading accepts, the schema-based one reads the same way.
    assert fast == _read_schema(der)


def test_signed_data_without_a_known_prefix_is_read_element_by_element(ours) -> None:
    """digestAlgorithms listing two algorithms matches none of the exact prefixes the fast
    reading knows; it still reads the signature, the same way the schema reading does."""
    info = cms.ContentInfo.load(ours["ec"])
    signed = info["content"]
    signed["digest_algorithms"] = [{"algorithm": "sha256"}, {"algorithm": "sha384"}]
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True)
    assert der != ours["ec"]
    fast = _read_fast(der)
    assert fast is not None
    assert fast == _read_schema(der)
    assert fast.signature == _read_fast(ours["ec"]).signature
