"""Pure cryptography and evidence: CA, credentials, CMS signatures, verification reports
and archive bundles. No database, no Flask, no clock: callers pass the time.
"""
