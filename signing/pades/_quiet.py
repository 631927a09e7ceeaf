"""pyHanko imported without the deprecation warning cryptography 51+ gives at its import.

pyHanko imports cryptography's DSA key type to recognise such keys; the warning is about a
key type thidua never makes, and printed on stderr it would be the first line of every CLI
message (``Error: ...`` must be). Every module of this package imports pyHanko after this one.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
    )
    import pyhanko.sign.signers.pdf_cms  # noqa: F401
