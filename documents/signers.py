"""Where each member unit signs a document: the title line and the name its signature block
prints, so a signed PDF's field can be placed between them (Decree 30: the signature sits
between the title and the name). Blocks of people (the minutes' secretary and chair) are no
fields: in thidua, member units sign."""

from __future__ import annotations

from documents.blocks import grid_blocks
from documents.content import NominationContent, PledgeContent
from documents.nomination import dossier_documents

__all__ = ["PLEDGE_DOCUMENT", "signature_blocks"]

PLEDGE_DOCUMENT = "document.docx"


def signature_blocks(
    content: PledgeContent | NominationContent,
) -> dict[str, dict[str, tuple[str, str]]]:
    """For each document (a pledge's ``document.docx``, or each dossier part by name), unit
    code -> (title line, signer name) of the signature blocks member units sign in it."""
    if isinstance(content, PledgeContent):
        return {PLEDGE_DOCUMENT: grid_blocks(content.signing_order)}
    return {d.name: dict(d.blocks) for d in dossier_documents(content)}
