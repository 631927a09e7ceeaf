"""The content of a pledge or a nomination as frozen, validated dataclasses.

Every class checks and normalises its fields on construction (NFC text, no control characters,
sane lengths, consistent numbers) and raises :class:`DocumentError` naming the offending field,
so anything that exists as a content object can be rendered. The classes live by document
(``pledge_content``, ``nomination_content``) over the shared ``parties`` and ``fields``; this
module is where the rest of the package finds them.
"""

from __future__ import annotations

from documents.fields import AUTHORITIES
from documents.nomination_content import (
    AchievementReport,
    CommitteeMember,
    Meeting,
    NominationContent,
    Nominee,
    Representative,
    Submission,
    Votes,
)
from documents.parties import Issuer, MemberUnit
from documents.pledge_content import Criterion, PledgeContent, ScoringSheet

Content = PledgeContent | NominationContent
CONTENT_TYPES: dict[str, type[PledgeContent] | type[NominationContent]] = {
    "pledge": PledgeContent,
    "nomination": NominationContent,
}
NESTED_TYPES = (
    Issuer,
    MemberUnit,
    Criterion,
    ScoringSheet,
    Submission,
    Meeting,
    Representative,
    CommitteeMember,
    Votes,
    Nominee,
    AchievementReport,
)


__all__ = [
    "AUTHORITIES",
    "CONTENT_TYPES",
    "NESTED_TYPES",
    "AchievementReport",
    "CommitteeMember",
    "Content",
    "Criterion",
    "Issuer",
    "Meeting",
    "MemberUnit",
    "NominationContent",
    "Nominee",
    "PledgeContent",
    "Representative",
    "ScoringSheet",
    "Submission",
    "Votes",
]
