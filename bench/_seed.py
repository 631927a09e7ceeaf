"""Bulk seeding of a national-scale thidua database for ``bench/web.py`` (psycopg COPY).

Shape, per cluster (8 member units, one board per 25 clusters), for each of 10 years:
one cluster term; 20 documents (the live pledge and nomination, and 18 cancelled attempts,
since only one live document of each kind per term is allowed); 5 frozen versions per
document; the 8 members' signatures on each version (those of superseded versions voided):
40 signatures a document; 4 comments; review decisions on the current version; audit events
(creation, review, each freezing, each live signature, the closing approval or cancellation)
forming a valid global and per-document hash chain (``signing.audit.event_hash``).
Past years are archived (with an approval row); the last year has a pledge in signing (two
members signed) and a nomination in review, so the actors' inboxes have real work.

Bytes are shared through the content-addressed ``blobs`` table: 8 real CMS signatures
(``signing.cms.sign_detached`` over one DOCX rendered by ``documents.render``), one DOCX,
one approval manifest and signature, and one bundle-sized blob per archive.

Every CHECK and UNIQUE constraint is enforced by PostgreSQL during the COPY. Foreign keys
are too, except for ``documents.current_version_id``/``frozen_version_id`` (a cycle with
``document_versions``): documents are copied with ``session_replication_role = replica``
and those two columns are checked with an anti-join once the versions are in.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

import documents
from documents import samples
from signing import TEST_KDF, KeySigner
from signing.audit import GENESIS, event_hash
from signing.ca import CertificateAuthority, fingerprint_sha256
from signing.cms import sign_detached
from signing.credentials import generate_private_key
from workflow.clock import iso
from workflow.security import TOKEN_PREFIX, hash_password, token_digest

YEARS = tuple(range(2017, 2027))
CURRENT_YEAR = YEARS[-1]
UNITS_PER_CLUSTER = 8
CLUSTERS_PER_BOARD = 25
DOCS_PER_TERM = 20
VERSIONS_PER_DOC = 5
COMMENTS_PER_DOC = 4
TITLES = {"pledge": "Giao ước thi đua", "nomination": "Đề nghị khen thưởng"}
PASSWORD = "bench-password-2026"
EPOCH = datetime(2017, 1, 1, tzinfo=UTC)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.last = label, max(total, 1), 0, 0.0

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last > 0.5 or self.done >= self.total:
            self.last = now
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            print(
                f"\r  {self.label:<18} [{bar:<30}] {self.done:>9,}/{self.total:,}",
                end="" if self.done < self.total else "\n",
                file=sys.stderr,
                flush=True,
            )


@dataclass
class Actors:
    """The users the bench logs in as, and their API tokens."""

    signer: str
    drafter: str
    board: str
    password: str
    tokens: dict[str, str] = field(default_factory=dict)
    signing_doc_id: int = 0
    review_doc_id: int = 0
    archived_doc_ids: list[int] = field(default_factory=list)


@dataclass
class Material:
    """Real bytes shared by every row (content-addressed)."""

    docx: bytes
    cms: list[bytes]
    cert_sha256: list[str]
    board_cert_der: bytes
    ca_pem: bytes
    ca_key: bytes
    manifest: bytes
    approval_sig: bytes
    password_hash: str


def make_material(ca_secret: bytes) -> Material:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    ca = CertificateAuthority.create(
        "thidua bench CA", "Cụm thi đua", ca_secret, EPOCH, kdf_params=TEST_KDF
    )
    docx = documents.render(samples.pledge_2018())
    cms, certs = [], []
    for i in range(UNITS_PER_CLUSTER):
        key = generate_private_key("ec-p256")
        cert = ca.issue(
            key.public_key(),
            person=f"Lãnh đạo đơn vị {i}",
            unit_name=f"Đơn vị {i}",
            unit_code=f"DV-{i}",
            user_id=f"u{i}",
            now=EPOCH,
            validity_days=3650,
        )
        cms.append(sign_detached(docx, KeySigner(key, cert, [ca.certificate]), signing_time=at))
        certs.append(fingerprint_sha256(cert))
    board_key = generate_private_key("ec-p256")
    board_cert = ca.issue(
        board_key.public_key(),
        person="Trưởng ban",
        unit_name="Ban Thi đua – Khen thưởng",
        unit_code="BTDKT",
        user_id="board",
        now=EPOCH,
        validity_days=3650,
    )
    manifest = json.dumps({"bench": True, "docx": hashlib.sha256(docx).hexdigest()}).encode()
    from cryptography.hazmat.primitives import serialization

    return Material(
        docx=docx,
        cms=cms,
        cert_sha256=certs,
        board_cert_der=board_cert.public_bytes(serialization.Encoding.DER),
        ca_pem=ca.certificate_pem,
        ca_key=ca.encrypted_key,
        manifest=manifest,
        approval_sig=sign_detached(manifest, KeySigner(board_key, board_cert), signing_time=at),
        password_hash=hash_password(PASSWORD),
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(kind: str, year: int, cluster_name: str, units: Sequence[tuple[str, str]]) -> str:
    """The JSON text of a valid content for this term (validated by documents)."""
    base = samples.pledge_2018() if kind == "pledge" else samples.nomination_2018()
    data = documents.content_to_dict(base)
    data["cluster_name"] = cluster_name
    # Rename the sample's unit codes (wherever they appear: members, meeting, nominees) to
    # this term's, and its unit names likewise.
    text = json.dumps(data, ensure_ascii=False)
    for old, (code, name) in zip(data["member_units"], units, strict=True):
        text = text.replace(f'"{old["code"]}"', f'"{code}"')
        text = text.replace(f'"{old["name"]}"', f'"{name}"')
    # The sample is of 2018 (signed in 2017-2018): move every date to this year.
    text = text.replace("2017", "\x00").replace("2018", str(year)).replace("\x00", str(year - 1))
    data = json.loads(text)
    documents.content_from_dict(data)  # raises if the bench built an invalid content
    return text


def _copy(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


def seed(dsn: str, n_clusters: int, ca_secret: bytes, material: Material) -> Actors:
    """Fill an empty, migrated database; returns the actors. ``dsn`` is a libpq URL."""
    started = time.monotonic()
    n_boards = max(1, -(-n_clusters // CLUSTERS_PER_BOARD))
    n_units = n_clusters * UNITS_PER_CLUSTER
    with psycopg.connect(dsn, autocommit=False) as conn:
        t0 = EPOCH
        # Units: members 1..n_units, boards after them.
        units = [
            (i, f"DV{i:05d}", f"Văn phòng đơn vị số {i}", "member", t0)
            for i in range(1, n_units + 1)
        ]
        boards = [
            (n_units + b, f"BTD{b:03d}", f"Ban Thi đua – Khen thưởng khu vực {b}", "board", t0)
            for b in range(1, n_boards + 1)
        ]
        _copy(conn, "units", ("id", "code", "name", "kind", "created_at"), units + boards)
        _copy(
            conn,
            "clusters",
            ("id", "code", "name", "created_at"),
            ((c, f"CUM{c:04d}", f"Cụm thi đua số {c}", t0) for c in range(1, n_clusters + 1)),
        )

        def members(c: int) -> list[int]:
            return [(c - 1) * UNITS_PER_CLUSTER + k + 1 for k in range(UNITS_PER_CLUSTER)]

        def board_of(c: int) -> int:
            return n_units + (c - 1) // CLUSTERS_PER_BOARD + 1

        terms = []  # (term_id, cluster, year)
        term_rows, tm_rows = [], []
        tid = 0
        for c in range(1, n_clusters + 1):
            ms = members(c)
            for year in YEARS:
                tid += 1
                terms.append((tid, c, year))
                term_rows.append(
                    (tid, c, year, ms[0], ms[1], board_of(c), datetime(year, 1, 2, tzinfo=UTC))
                )
                tm_rows.extend((tid, u, pos) for pos, u in enumerate(ms))
        _copy(
            conn,
            "cluster_terms",
            (
                "id",
                "cluster_id",
                "year",
                "head_unit_id",
                "deputy_unit_id",
                "board_unit_id",
                "created_at",
            ),
            term_rows,
        )
        _copy(conn, "term_members", ("term_id", "unit_id", "position"), tm_rows)

        # Users: one per unit (member units draft and sign; boards approve).
        user_rows, role_rows = [], []
        rid = 0
        for uid, code, name, kind, _ in units + boards:
            user_rows.append(
                (uid, code.lower(), f"Cán bộ {name}", material.password_hash, True, t0)
            )
            for role in ("board",) if kind == "board" else ("drafter", "signer"):
                rid += 1
                role_rows.append((rid, uid, uid, role))
        _copy(
            conn,
            "users",
            ("id", "username", "full_name", "password_hash", "active", "created_at"),
            user_rows,
        )
        _copy(conn, "role_memberships", ("id", "user_id", "unit_id", "role"), role_rows)
        actors = Actors(
            signer=units[2][1].lower(),  # cluster 1, position 2: a member, not head/deputy
            drafter=units[0][1].lower(),  # cluster 1's head unit
            board=boards[0][1].lower(),
            password=PASSWORD,
        )
        token_rows = []
        for n, (name, user_id) in enumerate(
            (("signer", 3), ("drafter", 1), ("board", n_units + 1)), start=1
        ):
            token = TOKEN_PREFIX + hashlib.sha256(f"bench-{name}-{dsn}".encode()).hexdigest()
            actors.tokens[name] = token
            # Tokens expire (issue 14): these live a year from now, whatever EPOCH is.
            expires = datetime.now(UTC) + timedelta(days=365)
            token_rows.append((n, user_id, token_digest(token), t0, expires))
        columns = ("id", "user_id", "token_sha256", "created_at", "expires_at")
        _copy(conn, "api_tokens", columns, token_rows)
        _copy(
            conn,
            "certificate_authorities",
            (
                "id",
                "certificate_pem",
                "encrypted_key",
                "fingerprint_sha256",
                "active",
                "created_at",
            ),
            [(1, material.ca_pem, material.ca_key, _sha(material.ca_pem), True, t0)],
        )
        cred_rows = [
            (
                b,
                n_units + b,
                n_units + b,
                material.board_cert_der,
                _sha(material.board_cert_der + str(b).encode()),  # unique per row
                str(1000 + b),
                datetime(2030, 1, 1, tzinfo=UTC),
                "active",
                0,
                t0,
            )
            for b in range(1, n_boards + 1)
        ]
        _copy(
            conn,
            "credentials",
            (
                "id",
                "user_id",
                "unit_id",
                "certificate_der",
                "fingerprint_sha256",
                "serial_number",
                "not_after",
                "status",
                "failed_pins",
                "created_at",
            ),
            cred_rows,
        )
        docx_sha = _sha(material.docx)
        cms_sha = [_sha(b) for b in material.cms]
        bundle = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: the pages never open it
        blobs = {
            docx_sha: (material.docx, "application/vnd.openxmlformats-officedocument"),
            _sha(material.manifest): (material.manifest, "application/json"),
            _sha(material.approval_sig): (material.approval_sig, "application/pkcs7-signature"),
            _sha(bundle): (bundle, "application/zip"),
        }
        for b, s in zip(material.cms, cms_sha, strict=True):
            blobs[s] = (b, "application/pkcs7-signature")
        _copy(
            conn,
            "blobs",
            ("sha256", "size", "media_type", "data", "created_at"),
            ((s, len(d), m, d, t0) for s, (d, m) in blobs.items()),
        )
        conn.commit()
        log(f"  reference rows in {time.monotonic() - started:.1f} s")

        # Documents and everything hanging off them, generated in one pass.
        n_docs = len(terms) * DOCS_PER_TERM
        bar = Progress("documents", n_docs)
        doc_rows: list[tuple[Any, ...]] = []
        ver_rows: list[tuple[Any, ...]] = []
        sig_rows: list[tuple[Any, ...]] = []
        com_rows: list[tuple[Any, ...]] = []
        dec_rows: list[tuple[Any, ...]] = []
        appr_rows: list[tuple[Any, ...]] = []
        evt_rows: list[tuple[Any, ...]] = []
        doc_id = ver_id = sig_id = com_id = dec_id = 0
        seq = 0
        prev = GENESIS
        contents: dict[tuple[int, str], str] = {}
        unit_code = {u[0]: u[1] for u in units}

        def event(
            doc: int, doc_prev: str, at: datetime, action: str, actor: str, fs: Any, ts: Any
        ) -> str:
            nonlocal seq, prev
            seq += 1
            fields = {
                "seq": seq,
                "at": iso(at),
                "action": action,
                "document_id": doc,
                "actor": actor,
                "from_state": fs,
                "to_state": ts,
                "data": {},
                "prev_hash": prev,
                "doc_prev_hash": doc_prev,
            }
            h = event_hash(fields)
            evt_rows.append(
                (seq, seq, fields["at"], action, doc, actor, fs, ts, "{}", prev, doc_prev, h)
            )
            prev = h
            return h

        for term_id, c, year in terms:
            ms = members(c)
            head_user = unit_code[ms[0]].lower()
            board_user = f"btd{(c - 1) // CLUSTERS_PER_BOARD + 1:03d}"
            for k in range(DOCS_PER_TERM):
                kind = ("pledge", "nomination")[k % 2]
                text_key = (term_id, kind)
                if text_key not in contents:
                    if len(contents) > 64:
                        contents.clear()
                    contents[text_key] = _content(
                        kind,
                        year,
                        f"Cụm thi đua số {c}",
                        [(unit_code[u], f"Đơn vị {unit_code[u]}") for u in ms],
                    )
                content = contents[text_key]
                doc_id += 1
                live = k < 2
                created = datetime(year, 1, 10, tzinfo=UTC) + timedelta(hours=k)
                if live and year == CURRENT_YEAR:
                    state = "signing" if kind == "pledge" else "in_review"
                elif live:
                    state = "archived"
                else:
                    state = "cancelled"
                n_versions = 1 if state == "in_review" else VERSIONS_PER_DOC
                first_ver = ver_id + 1
                last_ver = ver_id + n_versions
                frozen = state != "in_review"
                h = GENESIS
                h = event(doc_id, h, created, "create", head_user, None, "draft")
                h = event(
                    doc_id,
                    h,
                    created + timedelta(hours=1),
                    "submit_for_review",
                    head_user,
                    "draft",
                    "in_review",
                )
                for n in range(1, n_versions + 1):
                    ver_id += 1
                    vat = created + timedelta(days=n)
                    ver_rows.append(
                        (
                            ver_id,
                            doc_id,
                            n,
                            content,
                            ms[0],
                            vat,
                            vat if frozen else None,
                            docx_sha if frozen else None,
                            f"TD-{doc_id:06d}-{n}" if frozen else None,
                        )
                    )
                    if not frozen:
                        continue
                    h = event(doc_id, h, vat, "open_signing", head_user, "in_review", "signing")
                    latest = n == n_versions
                    signers = (
                        range(2) if state == "signing" and latest else range(UNITS_PER_CLUSTER)
                    )
                    for pos in signers:
                        sig_id += 1
                        sat = vat + timedelta(hours=pos + 1)
                        voided = not latest
                        sig_rows.append(
                            (
                                sig_id,
                                doc_id,
                                ver_id,
                                ms[pos],
                                ms[pos],
                                None,
                                "upload",
                                cms_sha[pos],
                                material.cert_sha256[pos],
                                sat,
                                sat + timedelta(hours=12) if voided else None,
                                "Nội dung được sửa, ký lại" if voided else None,
                            )
                        )
                        if latest:
                            h = event(
                                doc_id, h, sat, "sign", unit_code[ms[pos]].lower(), None, None
                            )
                for i in range(COMMENTS_PER_DOC):
                    com_id += 1
                    com_rows.append(
                        (
                            com_id,
                            doc_id,
                            first_ver + i % n_versions,
                            ms[i % UNITS_PER_CLUSTER],
                            ms[i % UNITS_PER_CLUSTER],
                            f"criteria[{i}]",
                            f"Đề nghị làm rõ tiêu chí {i + 1}.",
                            created + timedelta(hours=2 + i),
                        )
                    )
                if state != "cancelled":
                    deciders = range(2) if state == "in_review" else range(UNITS_PER_CLUSTER)
                    for pos in deciders:
                        dec_id += 1
                        dec_rows.append(
                            (
                                dec_id,
                                last_ver,
                                ms[pos],
                                ms[pos],
                                "concur",
                                None,
                                created + timedelta(hours=3),
                            )
                        )
                end = created + timedelta(days=40)
                if state == "archived":
                    h = event(doc_id, h, end, "approve", board_user, "submitted", "approved")
                    event(doc_id, h, end, "archive", board_user, "approved", "archived")
                    appr_rows.append(
                        (
                            len(appr_rows) + 1,
                            doc_id,
                            last_ver,
                            board_of(c),
                            (c - 1) // CLUSTERS_PER_BOARD + 1,
                            f"{doc_id}/QĐ-BTĐ",
                            date(year, 12, 1),
                            _sha(material.manifest),
                            _sha(material.approval_sig),
                            _sha(bundle),
                            end,
                        )
                    )
                elif state == "cancelled":
                    event(doc_id, h, end, "cancel", head_user, "signing", "cancelled")
                doc_rows.append(
                    (
                        doc_id,
                        kind,
                        term_id,
                        state,
                        1,
                        f"{TITLES[kind]} năm {year} – Cụm {c}",
                        1,
                        last_ver,
                        last_ver if frozen else None,
                        _sha(bundle) if state == "archived" else None,
                        "Thay bằng văn bản khác" if state == "cancelled" else None,
                        ms[0],
                        created,
                        end,
                    )
                )
                if c == 1 and year == CURRENT_YEAR and state == "signing":
                    actors.signing_doc_id = doc_id
                if c == 1 and year == CURRENT_YEAR and state == "in_review":
                    actors.review_doc_id = doc_id
                if c == 1 and state == "archived":
                    actors.archived_doc_ids.append(doc_id)
                bar.step()
        log(
            f"  generated {doc_id:,} documents, {ver_id:,} versions, {sig_id:,} signatures, "
            f"{com_id:,} comments, {seq:,} audit events in {time.monotonic() - started:.1f} s"
        )

        def copy_with_bar(table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
            b = Progress(table, len(rows))

            def gen() -> Iterable[tuple[Any, ...]]:
                for i, r in enumerate(rows):
                    if i % 5000 == 0 and i:
                        b.step(5000)
                    yield r
                b.step(len(rows) - b.done)

            _copy(conn, table, cols, gen())

        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
        copy_with_bar(
            "documents",
            (
                "id",
                "kind",
                "term_id",
                "state",
                "definition_version",
                "title",
                "version",
                "current_version_id",
                "frozen_version_id",
                "bundle_sha256",
                "cancel_reason",
                "created_by_id",
                "created_at",
                "updated_at",
            ),
            doc_rows,
        )
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = DEFAULT")
        copy_with_bar(
            "document_versions",
            (
                "id",
                "document_id",
                "number",
                "content",
                "created_by_id",
                "created_at",
                "frozen_at",
                "signed_sha256",
                "reference_code",
            ),
            ver_rows,
        )
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM documents d WHERE "
                "(d.current_version_id IS NOT NULL AND NOT EXISTS "
                " (SELECT 1 FROM document_versions v WHERE v.id = d.current_version_id)) OR "
                "(d.frozen_version_id IS NOT NULL AND NOT EXISTS "
                " (SELECT 1 FROM document_versions v WHERE v.id = d.frozen_version_id)) OR "
                "NOT EXISTS (SELECT 1 FROM cluster_terms t WHERE t.id = d.term_id)"
            )
            bad = cur.fetchone()[0]  # type: ignore[index]
            if bad:
                raise RuntimeError(f"{bad} documents point at missing rows")
        copy_with_bar(
            "signatures",
            (
                "id",
                "document_id",
                "version_id",
                "unit_id",
                "signer_id",
                "credential_id",
                "method",
                "cms_sha256",
                "certificate_sha256",
                "signed_at",
                "voided_at",
                "void_reason",
            ),
            sig_rows,
        )
        copy_with_bar(
            "comments",
            (
                "id",
                "document_id",
                "version_id",
                "author_id",
                "unit_id",
                "anchor",
                "body",
                "created_at",
            ),
            com_rows,
        )
        copy_with_bar(
            "review_decisions",
            ("id", "version_id", "unit_id", "user_id", "decision", "reason", "created_at"),
            dec_rows,
        )
        copy_with_bar(
            "approvals",
            (
                "id",
                "document_id",
                "version_id",
                "approver_id",
                "credential_id",
                "decision_number",
                "decision_date",
                "manifest_sha256",
                "signature_sha256",
                "bundle_sha256",
                "approved_at",
            ),
            appr_rows,
        )
        copy_with_bar(
            "audit_events",
            (
                "id",
                "seq",
                "at",
                "action",
                "document_id",
                "actor",
                "from_state",
                "to_state",
                "data",
                "prev_hash",
                "doc_prev_hash",
                "hash",
            ),
            evt_rows,
        )
        with conn.cursor() as cur:
            cur.execute("UPDATE audit_chain_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))
            # The page-cache versions (workflow.audit.append_event keeps them on every write).
            cur.execute(
                "UPDATE audit_chain_head SET structure_seq ="
                " (SELECT coalesce(max(seq), 0) FROM audit_events WHERE document_id IS NULL)"
            )
            cur.execute(
                "UPDATE clusters c SET data_seq = coalesce((SELECT max(e.seq) FROM audit_events e"
                " JOIN documents d ON d.id = e.document_id"
                " JOIN cluster_terms t ON t.id = d.term_id WHERE t.cluster_id = c.id), 0)"
            )
            for table in (
                "units",
                "clusters",
                "cluster_terms",
                "users",
                "role_memberships",
                "api_tokens",
                "certificate_authorities",
                "credentials",
                "documents",
                "document_versions",
                "signatures",
                "comments",
                "review_decisions",
                "approvals",
                "audit_events",
            ):
                query = (
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
                )
                cur.execute(query.format(t=table))  # a fixed table name, not input
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        # Write the bulk load's dirty pages out now: a checkpoint spread over the next
        # minutes would otherwise compete with the timed requests for the two cores.
        conn.execute("CHECKPOINT")
    log(f"  seeded {n_clusters} clusters in {time.monotonic() - started:.1f} s")
    return actors
