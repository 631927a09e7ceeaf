"""Pure rendering of pledges and nominations: plain data in, DOCX bytes out.

No database, no Flask, no clock: everything a document shows comes from its content.
"""

from __future__ import annotations

from documents import samples
from documents.codec import content_from_dict, content_to_dict
from documents.content import (
    Criterion,
    Issuer,
    Meeting,
    MemberUnit,
    NominationContent,
    Nominee,
    PledgeContent,
    ScoringSheet,
    Submission,
    Votes,
)
from documents.dossier import (
    DOSSIER_FORMAT,
    Part,
    dossier_manifest,
    dossier_outline,
    render_dossier,
)
from documents.errors import DocumentError
from documents.legal import LEGAL_BASES_2018, LEGAL_BASES_2024, legal_bases_for
from documents.profiles import PROFILES, Profile
from documents.render import (
    KIND_CODES,
    is_public_url,
    reference_code_for,
    render,
    verify_url_for,
)
from documents.signers import PLEDGE_DOCUMENT, signature_blocks

__all__ = [
    "DOSSIER_FORMAT",
    "KIND_CODES",
    "LEGAL_BASES_2018",
    "LEGAL_BASES_2024",
    "PLEDGE_DOCUMENT",
    "PROFILES",
    "Criterion",
    "DocumentError",
    "Issuer",
    "Meeting",
    "MemberUnit",
    "NominationContent",
    "Nominee",
    "Part",
    "PledgeContent",
    "Profile",
    "ScoringSheet",
    "Submission",
    "Votes",
    "content_from_dict",
    "content_to_dict",
    "dossier_manifest",
    "dossier_outline",
    "is_public_url",
    "legal_bases_for",
    "reference_code_for",
    "render",
    "render_dossier",
    "samples",
    "signature_blocks",
    "verify_url_for",
]
