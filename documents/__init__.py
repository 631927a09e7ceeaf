"""Pure rendering of pledges and nominations: plain data in, DOCX bytes out.

No database, no Flask, no clock: everything a document shows comes from its content.
"""
