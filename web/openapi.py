"""The OpenAPI 3.1 description of /api, written as data (tests/web checks it against the
routes the app really serves)."""

from __future__ import annotations

from typing import Any

from web.actions import USER_TRIGGERS

_ERROR = {"$ref": "#/components/responses/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def spec(server_url: str = "/") -> dict[str, Any]:
    """Return the OpenAPI document (a fresh dict each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "thidua API",
            "version": "1.0",
            "summary": "Giao ước thi đua và hồ sơ khen thưởng có chữ ký số",
            "description": (
                "Documents of an emulation cluster, the triggers that move them through review, "
                "signing and approval, and public verification of signed documents and bundles. "
                "Authenticate with `Authorization: Bearer <token>` "
                "(`thidua token create USERNAME`) or a browser session. "
                'Errors are `{"error": {"code", "message"}}` with a 4xx status. '
                "Every request passes one input boundary: a control character (NUL, CR/LF in "
                "a one-line field...), a lone surrogate or a non-character in a query "
                "parameter or a JSON string, and a bidi or zero-width character in a name, "
                "get 422 `invalid_characters` naming the `field`; a header or path with a "
                "control character 400; a JSON body over 512 KB 413 `too_large`, nested "
                "deeper than 32 levels 400 `json_too_deep`, unreadable 400 `bad_json`."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/documents": {
                "get": {
                    "operationId": "listDocuments",
                    "summary": "Documents this user can see",
                    "parameters": [
                        {
                            "name": "kind",
                            "in": "query",
                            "schema": {"enum": ["pledge", "nomination"]},
                        },
                        {"name": "year", "in": "query", "schema": {"type": "integer"}},
                        {"name": "state", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/DocumentSummary"},
                            },
                            "The documents, newest first",
                        ),
                        "400": _ERROR,
                        "401": _ERROR,
                        "422": _ERROR,
                    },
                }
            },
            "/api/documents/{document_id}": {
                "parameters": [{"$ref": "#/components/parameters/DocumentId"}],
                "get": {
                    "operationId": "getDocument",
                    "summary": "One document with its state, allowed triggers and signatures",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Document"}, "The document"),
                        "400": _ERROR,
                        "401": _ERROR,
                        "403": _ERROR,
                        "404": _ERROR,
                        "422": _ERROR,
                    },
                },
            },
            "/api/documents/{document_id}/{trigger}": {
                "parameters": [
                    {"$ref": "#/components/parameters/DocumentId"},
                    {
                        "name": "trigger",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": list(USER_TRIGGERS)},
                    },
                ],
                "post": {
                    "operationId": "fireTrigger",
                    "summary": "Fire a workflow trigger on the document",
                    "description": (
                        "Send an `Idempotency-Key` to make the request safe to retry: the "
                        "first answer is stored with the write, in its transaction, and a "
                        "repeat with the same key gets it back (`Idempotent-Replayed: true`) "
                        "without writing again. A loser of a race on the document gets 409 "
                        "`state_changed` with the state it is in now and when it moved."
                    ),
                    "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/TriggerBody"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            **_json(
                                {"$ref": "#/components/schemas/Document"},
                                "The document after the trigger (as the write left it)",
                            ),
                            "headers": {
                                "Idempotent-Replayed": {
                                    "description": "`true` on the stored first answer of a "
                                    "repeated Idempotency-Key (nothing was written again)",
                                    "schema": {"type": "string", "enum": ["true"]},
                                }
                            },
                        },
                        "400": _ERROR,
                        "401": _ERROR,
                        "403": _ERROR,
                        "404": _ERROR,
                        "409": _ERROR,
                        "413": _ERROR,
                        "422": _ERROR,
                        "423": _ERROR,
                        "503": {
                            **_ERROR,
                            "description": "The commit lost its database connection: "
                            "`not_committed` (send again with the same key) or "
                            "`commit_unknown` (reload before doing it again)",
                        },
                    },
                },
            },
            "/api/verify": {
                "post": {
                    "operationId": "verify",
                    "summary": (
                        "Verify a bundle, a signed PDF, or a DOCX or dossier manifest with "
                        "detached CMS signatures (public)"
                    ),
                    "description": (
                        "Validates as of now, or as of `at` (form field, else query "
                        "parameter): a date (`2035-01-01`, midnight UTC) or an ISO 8601 date "
                        "and time (UTC when it names no offset), years 1950 to 2100. Signature "
                        "timestamps (and a bundle's archive timestamps) are the proof of "
                        "existence: a certificate that expired or was revoked after the "
                        "trusted time still passes, one revoked before it fails (REVOKED), "
                        "and a signature without a timestamp is INDETERMINATE "
                        "(OUT_OF_BOUNDS_NO_POE / REVOKED_NO_POE). The CRL is always today's."
                    ),
                    "security": [],
                    "parameters": [
                        {
                            "name": "at",
                            "in": "query",
                            "required": False,
                            "description": "Validation time (when the form has no `at`)",
                            "schema": {"type": "string", "examples": ["2035-01-01"]},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "at": {
                                            "type": "string",
                                            "description": (
                                                "Validation time: a date or an ISO 8601 "
                                                "date and time (default now)"
                                            ),
                                        },
                                        "bundle": {
                                            "type": "string",
                                            "contentMediaType": "application/zip",
                                            "description": "An archive bundle (.zip)",
                                        },
                                        "document": {
                                            "type": "string",
                                            "description": (
                                                "A DOCX or a dossier.json (with `signatures`),"
                                                " or a signed PDF"
                                            ),
                                        },
                                        "pdf": {
                                            "type": "string",
                                            "contentMediaType": "application/pdf",
                                            "description": "A signed PDF (PAdES), verified alone",
                                        },
                                        "signatures": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "description": "Detached CMS signatures (.p7s, DER)",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/VerificationReport"}, "The report"
                        ),
                        "400": {
                            **_ERROR,
                            "description": "`invalid_at`: `at` is not a date or time, or its "
                            "year is outside 1950 to 2100 (`field` is `at`)",
                        },
                        "413": _ERROR,
                        "422": _ERROR,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API token from `thidua token create USERNAME`",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "thidua_session"},
            },
            "parameters": {
                "DocumentId": {
                    "name": "document_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "A key of your choice (a UUID), 1-255 visible ASCII characters, per "
                        "user. The same key with the same request within 24 hours returns "
                        "the first answer and writes nothing; the same key with another "
                        "route or body is refused (422 `idempotency_key_reused`)."
                    ),
                    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                },
            },
            "responses": {
                "Error": _json({"$ref": "#/components/schemas/Error"}, "An error"),
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "tries_left": {"type": "integer"},
                                "field": {"type": ["string", "null"]},
                                "state": {
                                    "type": "string",
                                    "description": "The document's state now (409)",
                                },
                                "changed_at": {
                                    "type": "string",
                                    "description": "When it reached that state (409)",
                                },
                                "changed_by": {"type": ["string", "null"]},
                                "action": {
                                    "type": "string",
                                    "description": "The action that moved it (409)",
                                },
                            },
                        }
                    },
                },
                "DocumentSummary": {
                    "type": "object",
                    "required": ["id", "kind", "year", "state", "cluster"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"enum": ["pledge", "nomination"]},
                        "year": {"type": "integer"},
                        "state": {"type": "string"},
                        "cluster": {"type": "string"},
                        "title": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
                "Signature": {
                    "type": "object",
                    "required": ["unit", "signer", "signed_at", "voided"],
                    "properties": {
                        "unit": {"type": "string", "description": "Unit code, e.g. VPHU-MD"},
                        "unit_name": {"type": "string"},
                        "signer": {"type": "string"},
                        "signed_at": {"type": "string", "format": "date-time"},
                        "voided": {"type": "boolean"},
                        "version": {"type": "integer"},
                    },
                },
                "Document": {
                    "allOf": [
                        {"$ref": "#/components/schemas/DocumentSummary"},
                        {
                            "type": "object",
                            "required": ["allowed_triggers", "signatures", "version"],
                            "properties": {
                                "version": {
                                    "type": "integer",
                                    "description": "Lock version; send as expected_version",
                                },
                                "allowed_triggers": {"type": "array", "items": {"type": "string"}},
                                "signatures": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Signature"},
                                },
                                "member_units": {"type": "array", "items": {"type": "object"}},
                                "frozen": {
                                    "type": ["object", "null"],
                                    "properties": {
                                        "sha256": {"type": "string"},
                                        "reference_code": {"type": "string"},
                                    },
                                },
                                "docx_url": {"type": ["string", "null"]},
                                "signed_url": {"type": ["string", "null"]},
                                "parts": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "title": {"type": "string"},
                                            "sha256": {"type": ["string", "null"]},
                                            "signers": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                            },
                                            "url": {"type": "string"},
                                        },
                                    },
                                },
                                "bundle_url": {"type": ["string", "null"]},
                            },
                        },
                    ]
                },
                "TriggerBody": {
                    "type": "object",
                    "properties": {
                        "pin": {"type": "string", "description": "Signer PIN (sign)"},
                        "signature": {
                            "type": "string",
                            "contentEncoding": "base64",
                            "description": "Detached CMS signature, DER, base64 (sign)",
                        },
                        "reason": {
                            "type": "string",
                            "description": "Required by decline, return, cancel, request_changes",
                        },
                        "text": {"type": "string", "description": "Comment text (comment)"},
                        "anchor": {
                            "type": "string",
                            "description": "Section or item a comment refers to",
                        },
                        "decision_number": {
                            "type": "string",
                            "description": "Board decision (approve)",
                        },
                        "decision_date": {"type": "string", "format": "date"},
                        "override_reason": {
                            "type": "string",
                            "description": "open_signing without every concurrence",
                        },
                        "expected_version": {"type": "integer"},
                    },
                },
                "VerificationReport": {
                    "type": "object",
                    "description": "ETSI EN 319 102-1 indications, per unit and overall",
                    "required": ["indication"],
                    "properties": {
                        "indication": {"enum": ["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"]},
                        "sub_indication": {"type": ["string", "null"]},
                        "passed": {"type": "boolean"},
                        "summary": {"type": "string"},
                        "kind": {"enum": ["bundle", "document", "signatures", "pdf"]},
                        "document_sha256": {"type": ["string", "null"]},
                        "validation_time": {
                            "type": "string",
                            "format": "date-time",
                            "description": "The time the signatures were judged at (`at`)",
                        },
                        "units": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/VerificationUnit"},
                        },
                        "archive_timestamps": {
                            "type": ["object", "null"],
                            "description": (
                                "A bundle's archive timestamps (null for other uploads): "
                                "`proven_at`, the time their chain proves the bundle "
                                "existed (null unless it holds), and each token"
                            ),
                            "properties": {
                                "proven_at": {"type": ["string", "null"], "format": "date-time"},
                                "timestamps": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/TimestampLine"},
                                },
                            },
                        },
                        "pdfs": {"type": "array", "items": {"type": "object"}},
                        "report": {"type": "object"},
                    },
                },
                "VerificationUnit": {
                    "type": "object",
                    "description": "One unit's signature as the validation at a time found it",
                    "required": ["code", "status"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "status": {"enum": ["passed", "failed", "missing", "indeterminate"]},
                        "indication": {"type": ["string", "null"]},
                        "sub_indication": {"type": ["string", "null"]},
                        "signer": {"type": ["string", "null"]},
                        "signing_time": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": "The signer's own claim (signed attribute)",
                        },
                        "explanation": {"type": "string"},
                        "trusted_time": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": (
                                "The earliest time a timestamp (or the bundle's archive "
                                "timestamp) proves the signature existed"
                            ),
                        },
                        "tsa": {
                            "type": ["string", "null"],
                            "description": "The TSA of the first valid timestamp, else the first",
                        },
                        "certificate_state": {
                            "enum": [
                                "valid",
                                "expired_after_poe",
                                "revoked_after_poe",
                                "revoked",
                                "expired_no_poe",
                                "revoked_no_poe",
                                None,
                            ],
                            "description": "The signer certificate's state at the validation time",
                        },
                        "certificate_state_text": {
                            "type": ["string", "null"],
                            "description": "That state in a sentence, in the reader's language",
                        },
                    },
                },
                "TimestampLine": {
                    "type": "object",
                    "properties": {
                        "time": {"type": ["string", "null"], "format": "date-time"},
                        "tsa": {"type": ["string", "null"]},
                        "passed": {"type": "boolean"},
                        "indication": {"type": "string"},
                        "sub_indication": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }
