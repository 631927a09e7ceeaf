"""Error types of the signing package: callers catch these, never a library's own exceptions."""

from __future__ import annotations


class SigningError(Exception):
    """Base of every error the signing package raises on bad input or failed crypto."""


class WrongPin(SigningError):
    """The PIN (or master secret) does not open the sealed key."""


class FormatError(SigningError):
    """Input that cannot be parsed: DER, PEM, PKCS#12, a sealed-key blob, ..."""


class BundleError(SigningError):
    """An archive bundle that is malformed or unsafe to read."""


class WrongPassword(SigningError):
    """The password of an imported PKCS#12 file is wrong (not the signer's PIN)."""
