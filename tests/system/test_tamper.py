"""Forgery is caught at every front door.

The real archive of the demo's 2018 pledge (exported from the database, as ``thidua export``
does) is altered in many ways; each altered bundle must fail ``thidua verify`` (exit 1, or 2
when unreadable), the public page ``POST /verify`` and ``POST /api/verify``. Rows edited by
hand in the database must make ``thidua audit verify`` exit 1 naming the event.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text, update

from signing._seal import TEST_KDF
from signing.archive import canonical_json
from signing.audit import event_hash
from signing.ca import CertificateAuthority, fingerprint_sha256
from tests.fixtures_db import DemoData, restore
from tests.signing.bundle_fixtures import edit, flip_byte, rebag, unzip
from tests.signing.zip_forge import Entry, change, entries_of, forge_zip, unicode_path
from tests.system.conftest import FIGURES
from tests.web.conftest import make_app
from web.cli import main
from workflow.db import session_factory
from workflow.models import AuditEvent, Blob, Document
from workflow.services import admin

Files = dict[str, bytes]


@pytest.fixture(scope="module")
def archive(
    db_engine: Engine, demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The exported bundle, the CA PEM on disk, and an app over the demo database."""
    restore(db_engine, demo_data.snapshot)
    with session_factory(db_engine)() as s:
        bundle = admin.document_bundle(s, None, demo_data.pledge_2018)
        ca_pem = admin.ca_pem(s)
    folder = tmp_path_factory.mktemp("tamper")
    (folder / "ca.pem").write_bytes(ca_pem)
    app = make_app(folder, db_engine, demo_data.ca_secret)
    return {"bundle": bundle, "folder": folder, "app": app}


_NOW = datetime.now(UTC)


def _swap(a: str, b: str) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        files[a], files[b] = files[b], files[a]

    return mutate


def _audit_lines(change: Callable[[list[bytes]], list[bytes]]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        lines = files["data/audit.jsonl"].splitlines()
        files["data/audit.jsonl"] = b"\n".join(change(lines)) + b"\n"

    return mutate


def _edit_audit_line(lines: list[bytes]) -> list[bytes]:
    event = json.loads(lines[1])
    event["actor"] = "ke-gia-mao"
    return [lines[0], json.dumps(event, ensure_ascii=False).encode(), *lines[2:]]


def _edit_json(path: str, change: Callable[[Any], None]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        data = json.loads(files[path])
        change(data)
        files[path] = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    return mutate


def _first(files: Files, prefix: str, suffix: str = "") -> str:
    return sorted(n for n in files if n.startswith(prefix) and n.endswith(suffix))[0]


@functools.cache
def _foreign_ca() -> CertificateAuthority:
    return CertificateAuthority.create(
        "CA khác", "Tổ chức khác", b"another-master-secret!", _NOW, kdf_params=TEST_KDF
    )


def _foreign_crl() -> bytes:
    return _foreign_ca().crl([], now=_NOW)


def _impostor_pem() -> bytes:
    return _foreign_ca().certificate_pem


def _cases(bundle: bytes) -> list[tuple[str, bytes, int]]:
    """(case id, altered bundle, expected ``thidua verify`` exit code)."""
    top, files = unzip(bundle)
    cases: list[tuple[str, bytes, int]] = []
    for name in sorted(files):
        if files[name]:
            cases.append(
                (
                    f"flip:{name}",
                    edit(bundle, lambda f, n=name: f.__setitem__(n, flip_byte(f[n]))),
                    1,
                )
            )
        cases.append((f"remove:{name}", edit(bundle, lambda f, n=name: f.pop(n)), 1))
    for name in sorted(n for n in files if n.startswith("data/")):
        renamed = name.replace(".", "-renamed.", 1) if "." in name else name + "-renamed"
        cases.append(
            (
                f"rename:{name}",
                edit(bundle, lambda f, n=name, r=renamed: f.__setitem__(r, f.pop(n))),
                1,
            )
        )
    cases.append(
        ("add:data/extra.txt", edit(bundle, lambda f: f.__setitem__("data/extra.txt", b"x")), 1)
    )
    cases.append(
        (
            "add+rebag:data/extra.txt",
            rebag(bundle, lambda f: f.__setitem__("data/extra.txt", b"x")),
            1,
        )
    )
    cases.append(
        (
            "add:fetch.txt",
            edit(bundle, lambda f: f.__setitem__("fetch.txt", b"http://x 1 data/a\n")),
            1,
        )
    )
    sigs = sorted(n for n in files if n.startswith("data/signatures/"))
    # Re-bagged: fixity passes, only signatures, approval and audit chain can tell.
    rebagged: dict[str, Callable[[Files], None]] = {
        "document-flip": lambda f: f.__setitem__(
            "data/document.docx", flip_byte(f["data/document.docx"])
        ),
        "signature-flip": lambda f: f.__setitem__(sigs[0], flip_byte(f[sigs[0]])),
        "signatures-swapped": _swap(sigs[0], sigs[1]),
        "signature-removed": lambda f: f.pop(sigs[-1]),
        "crl-removed": lambda f: f.pop("data/crl.der"),
        "crl-garbage": lambda f: f.__setitem__("data/crl.der", b"\x30\x03\x02\x01\x00"),
        "audit-line-edited": _audit_lines(_edit_audit_line),
        "audit-line-deleted": _audit_lines(lambda ls: [ls[0], *ls[2:]]),
        "audit-lines-reordered": _audit_lines(lambda ls: [ls[1], ls[0], *ls[2:]]),
        "approval-manifest-edited": _edit_json(
            "data/approval/manifest.json", lambda d: d.__setitem__("document_sha256", "0" * 64)
        ),
        "approval-signature-flip": lambda f: f.__setitem__(
            "data/approval/manifest.json.p7s", flip_byte(f["data/approval/manifest.json.p7s"])
        ),
        "document-json-member-dropped": _edit_json(
            "data/document.json", lambda d: d["member_units"].pop()
        ),
        # A foreign CA's CRL in place of ours would hide a revocation.
        "crl-of-another-ca": lambda f: f.__setitem__("data/crl.der", _foreign_crl()),
        "audit-last-line-deleted": _audit_lines(lambda ls: ls[:-1]),
        "certificate-replaced-by-impostor": lambda f: f.__setitem__(
            min(n for n in f if n.startswith("data/certs/") and "/ca-" not in n),
            _impostor_pem(),
        ),
    }
    for case, mutate in rebagged.items():
        cases.append((f"rebag:{case}", rebag(bundle, mutate), 1))
    # Unreadable: not a zip at all, or a truncated one.
    cases.append(("unreadable:truncated", bundle[: len(bundle) // 2], 2))
    cases.append(("unreadable:not-a-zip", b"not a zip at all" * 10, 2))
    del top
    return cases


def test_every_altered_bundle_fails_at_every_front_door(archive) -> None:
    bundle, folder, app = archive["bundle"], archive["folder"], archive["app"]
    runner = CliRunner()

    # The unaltered archive passes everywhere (else the failures below would prove nothing).
    (folder / "good.zip").write_bytes(bundle)
    good = runner.invoke(
        main, ["verify", str(folder / "good.zip"), "--trust", str(folder / "ca.pem")]
    )
    assert good.exit_code == 0, good.output
    client = app.test_client()
    api = client.post("/api/verify", data={"bundle": (io.BytesIO(bundle), "b.zip")})
    assert api.status_code == 200
    assert api.get_json()["passed"] is True
    page = client.post("/verify", data={"bundle": (io.BytesIO(bundle), "b.zip")})
    assert 'data-indication="TOTAL_PASSED"' in page.get_data(as_text=True)

    missed: list[str] = []
    cases = _cases(bundle)
    assert len(cases) > 60
    for case, data, exit_code in cases:
        path = folder / "altered.zip"
        path.write_bytes(data)
        cli = runner.invoke(main, ["verify", str(path), "--trust", str(folder / "ca.pem")])
        if cli.exit_code != exit_code or "Traceback" in cli.output:
            missed.append(f"{case}: thidua verify exit {cli.exit_code}: {cli.output[-300:]}")
        api = client.post("/api/verify", data={"bundle": (io.BytesIO(data), "b.zip")})
        if api.status_code == 200:
            if api.get_json()["passed"] is not False:
                missed.append(f"{case}: /api/verify passed")
        elif api.status_code != 422 or "error" not in api.get_json():
            missed.append(f"{case}: /api/verify answered {api.status_code}")
        page = client.post("/verify", data={"bundle": (io.BytesIO(data), "b.zip")})
        html = page.get_data(as_text=True)
        if page.status_code >= 500 or 'data-indication="TOTAL_PASSED"' in html:
            missed.append(f"{case}: /verify answered {page.status_code} without a failure")
        if page.status_code == 200 and 'data-test="verify-result"' not in html:
            missed.append(f"{case}: /verify showed no result")
        FIGURES["tamper cases caught"] += 1
    FIGURES["tamper cases caught"] -= len(missed)
    assert missed == [], "\n".join(missed)


# --- rows edited by hand in the database -----------------------------------------------------


def _audit_verify(env_db: Engine) -> tuple[int, str]:
    return _cli_on(env_db, "audit", "verify")


def _cli_on(engine: Engine, *args: str) -> tuple[int, str]:
    result = _runner(engine).invoke(main, list(args))
    return result.exit_code, result.output


def _runner(engine: Engine) -> CliRunner:
    return CliRunner(
        env={
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "THIDUA_SECRET_KEY": "tamper-test",
            "THIDUA_CA_SECRET": "unused-for-audit-verify",
        }
    )


@pytest.fixture
def cli_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("THIDUA_INSTANCE", str(tmp_path))
    return tmp_path


def _event(engine: Engine, document_id: int, action: str) -> AuditEvent:
    with session_factory(engine)() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.document_id == document_id, AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        assert event is not None
        s.expunge(event)
        return event


def test_untouched_database_verifies(demo_db: Engine, cli_instance: Path) -> None:
    code, output = _audit_verify(demo_db)
    assert code == 0, output


def test_audit_payload_edited_by_hand_is_named(
    demo_db: Engine, demo: DemoData, cli_instance: Path
) -> None:
    event = _event(demo_db, demo.pledge_2018, "sign")
    data = dict(event.data)
    data["unit"] = "VPHU-XX"
    with session_factory(demo_db)() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(data=data))
        s.commit()
    code, output = _audit_verify(demo_db)
    assert code == 1, output
    assert str(event.seq) in output or str(event.id) in output, output
    FIGURES["db tamper cases caught"] += 1


def test_audit_event_deleted_by_hand_is_named(
    demo_db: Engine, demo: DemoData, cli_instance: Path
) -> None:
    event = _event(demo_db, demo.pledge_2018, "approve")
    with session_factory(demo_db)() as s:
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
        s.commit()
    code, output = _audit_verify(demo_db)
    assert code == 1, output
    FIGURES["db tamper cases caught"] += 1


def test_bundle_blob_edited_by_hand_fails_export_verification(
    demo_db: Engine, demo: DemoData, cli_instance: Path, tmp_path: Path
) -> None:
    with session_factory(demo_db)() as s:
        doc = s.get(Document, demo.pledge_2018)
        assert doc is not None
        assert doc.bundle_sha256
        stored_sha = doc.bundle_sha256
        blob = s.get(Blob, doc.bundle_sha256)
        assert blob is not None
        top, files = unzip(bytes(blob.data))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, content in files.items():
                if name == "data/document.docx":
                    content = flip_byte(content)
                z.writestr(f"{top}/{name}", content)
        s.execute(update(Blob).where(Blob.sha256 == blob.sha256).values(data=buffer.getvalue()))
        ca = admin.ca_pem(s)
        s.commit()
    (tmp_path / "ca.pem").write_bytes(ca)
    out = tmp_path / "export.zip"
    code, output = _cli_on(demo_db, "export", str(demo.pledge_2018), "--out", str(out))
    if code == 0:
        code, output = _cli_on(demo_db, "verify", str(out), "--trust", str(tmp_path / "ca.pem"))
        assert code == 1, output
    else:
        assert code in {1, 2}, output
    # What an auditor downloads no longer hashes to what was archived.
    assert not out.exists() or hashlib.sha256(out.read_bytes()).hexdigest() != stored_sha


# --- nothing unsigned can pass (issue 13): each alteration at each front door ----------------


def _json_file(path: str, change: Callable[[Any], None]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        data = json.loads(files[path])
        change(data)
        files[path] = (
            json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        ).encode()

    return mutate


def _content(key: str, value: Any) -> Callable[[Any], None]:
    return lambda body: body["content"].__setitem__(key, value)


def _rehash_from(events: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """Recompute hashes and links from ``start`` on, as a forger who knows the rules."""
    for index in range(start, len(events)):
        events[index]["doc_prev_hash"] = events[index - 1]["hash"]
        events[index]["prev_hash"] = events[index - 1]["hash"]
        events[index]["hash"] = event_hash(events[index])
    return events


def _events(
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        events = [json.loads(line) for line in files["data/audit.jsonl"].splitlines()]
        files["data/audit.jsonl"] = b"".join(canonical_json(e) + b"\n" for e in change(events))

    return mutate


def _actor_changed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events[1]["actor"] = "ke-gia-mao"
    return _rehash_from(events, 1)


def _id_changed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events[2]["id"] = 999_999  # ids are not hashed: only the board's pin of the file tells
    return events


def _appended(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events.append({**events[-1], "action": "archive", "id": 999_998, "actor": "ke-gia-mao"})
    return _rehash_from(events, len(events) - 1)


def _foreign_ca_file(files: Files) -> None:
    cert = _foreign_ca().certificate
    files[f"data/certs/cert-{fingerprint_sha256(cert)[:16]}.pem"] = _impostor_pem()


def _bag_info(old: str, new: str) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        text = files["bag-info.txt"].decode()
        assert old in text
        files["bag-info.txt"] = text.replace(old, new, 1).encode()

    return mutate


# case -> (alteration re-hashed with ``rebag``, the file every door must name)
UNSIGNED: dict[str, tuple[Callable[[Files], None], str]] = {
    "document.json title": (
        _json_file("data/document.json", _content("title", "ĐÃ SỬA")),
        "data/document.json",
    ),
    "document.json year": (
        _json_file("data/document.json", _content("year", 1999)),
        "data/document.json",
    ),
    "document.json cluster": (
        _json_file("data/document.json", _content("cluster", "Cụm giả")),
        "data/document.json",
    ),
    "document.json structured content": (
        _json_file("data/document.json", _content("content", {"sửa": True})),
        "data/document.json",
    ),
    "bag-info free field": (
        _bag_info("External-Description: ", "External-Description: SỬA "),
        "bag-info.txt",
    ),
    "bag-info added field": (
        _bag_info("Bagging-Date", "Contact-Name: giả\nBagging-Date"),
        "bag-info.txt",
    ),
    "verification.json": (
        _json_file("data/verification.json", lambda d: d.__setitem__("status", "đã sửa")),
        "data/verification.json",
    ),
    "audit event appended after the head": (_events(_appended), "data/audit.jsonl"),
    "audit actor changed and re-hashed": (_events(_actor_changed), "data/audit.jsonl"),
    "audit id changed": (_events(_id_changed), "data/audit.jsonl"),
    "foreign CA certificate added": (_foreign_ca_file, "data/certs/cert-"),
}


def _forged(bundle: bytes, **kwargs: Any) -> bytes:
    top, files = unzip(bundle)
    return forge_zip(entries_of(top, files), **kwargs)


def _forged_entry(bundle: bytes, path_end: str, **fields: Any) -> bytes:
    top, files = unzip(bundle)
    return forge_zip(change(entries_of(top, files), path_end, **fields))


# case -> (the altered zip, what the refusal says): exit 2, 422, and a message on the page
TWO_READINGS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "prefix before the zip": (lambda b: _forged(b, prefix=b"MZ" * 40), "trước tiêu đề zip"),
    "zip comment": (lambda b: _forged(b, comment=b"note"), "chú thích"),
    "bytes after the end record": (
        lambda b: _forged(b, trailing=b"\x00" * 5),
        "sau thư mục trung tâm",
    ),
    "unicode path extra naming another file": (
        lambda b: _forged_entry(
            b, "data/crl.der", central_extra=unicode_path("x", "thidua-x/data/khac.der")
        ),
        "0x7075",
    ),
    "local size differs from the directory": (
        lambda b: _forged_entry(b, "data/crl.der", local_size=1),
        "kích thước hoặc CRC",
    ),
    "local CRC differs from the directory": (
        lambda b: _forged_entry(b, "data/crl.der", local_crc=1),
        "kích thước hoặc CRC",
    ),
    "encrypted flag in the local header": (
        lambda b: _forged_entry(b, "data/crl.der", local_flags=0x801),
        "cờ của tiêu đề cục bộ",
    ),
    "bytes hidden between entries": (
        lambda b: _forged_entry(b, "data/crl.der", gap_after=b"hidden"),
        "dữ liệu ẩn giữa các mục",
    ),
    "local name differs from the directory": (
        lambda b: _forged_entry(b, "data/crl.der", local_name="thidua-x/data/khac.der"),
        "tên trong tiêu đề cục bộ khác",
    ),
    "local method differs from the directory": (
        lambda b: _forged_entry(b, "data/crl.der", local_method=8),
        "phương thức nén trong tiêu đề cục bộ khác",
    ),
    "two entries with one name": (lambda b: _with_entry(b, "data/crl.der", b"khac"), "trùng tên"),
    "names equal after case folding": (
        lambda b: _with_entry(b, "data/CRL.der", b"khac"),
        "trùng tên",
    ),
    "a name that is not NFC": (
        lambda b: _with_entry(b, "data/My\u0303.txt", b"khac"),  # "ỹ" decomposed
        "NFC",
    ),
}


def _with_entry(bundle: bytes, path: str, data: bytes) -> bytes:
    """The bundle with one more entry, written after the others."""
    top, files = unzip(bundle)
    return forge_zip([*entries_of(top, files), Entry(f"{top}/{path}", data)])


_NOT_A_ZIP = "không phải gói lưu trữ"


def _doors(archive: dict[str, Any], data: bytes) -> tuple[Any, Any, Any]:
    folder, client = archive["folder"], archive["app"].test_client()
    path = folder / "unsigned.zip"
    path.write_bytes(data)
    cli = CliRunner().invoke(main, ["verify", str(path), "--trust", str(folder / "ca.pem")])
    api = client.post("/api/verify", data={"bundle": (io.BytesIO(data), "b.zip")})
    page = client.post("/verify", data={"bundle": (io.BytesIO(data), "b.zip")})
    return cli, api, page


@pytest.mark.parametrize("case", list(UNSIGNED))
def test_unsigned_content_fails_at_every_door_naming_the_file(archive, case: str) -> None:
    mutate, path = UNSIGNED[case]
    cli, api, page = _doors(archive, rebag(archive["bundle"], mutate))
    assert cli.exit_code == 1, cli.output
    assert path in cli.output
    assert "Traceback" not in cli.output
    assert api.status_code == 200
    body = api.get_json()
    assert body["passed"] is False
    problems = body["report"]["problems"]
    assert any(path in (p.get("path") or "") for p in problems), problems
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-indication="TOTAL_PASSED"' not in html
    assert path in html


@pytest.mark.parametrize("case", list(TWO_READINGS))
def test_a_zip_with_two_readings_is_refused_at_every_door(archive, case: str) -> None:
    make, needle = TWO_READINGS[case]
    cli, api, page = _doors(archive, make(archive["bundle"]))
    assert cli.exit_code == 2, cli.output
    assert needle in cli.output
    assert "Traceback" not in cli.output
    # The web's upload check refuses a file that does not start like a zip before reading it.
    web_needle = _NOT_A_ZIP if case == "prefix before the zip" else needle
    assert api.status_code == 422
    assert web_needle in api.get_json()["error"]["message"]
    assert 400 <= page.status_code < 500
    assert web_needle in page.get_data(as_text=True)


def test_the_forged_writer_alone_changes_nothing(archive) -> None:
    """The hand-written zip of the untouched archive passes everywhere: each refusal above is
    for its one lie."""
    cli, api, page = _doors(archive, _forged(archive["bundle"]))
    assert cli.exit_code == 0, cli.output
    assert api.get_json()["passed"] is True
    assert 'data-indication="TOTAL_PASSED"' in page.get_data(as_text=True)
