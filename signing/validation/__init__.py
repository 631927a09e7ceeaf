"""Validation of detached CMS signatures and signed documents (ETSI EN 319 102-1 style)."""
