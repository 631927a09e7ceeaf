"""Vietnamese first, English on request (a real catalog); dates in Vietnamese words; the
workflow diagram generated from the running definitions."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

from tests.web.conftest import login
from web.diagram import render_svg
from web.i18n import vn_date, vn_datetime
from web.views.diagram import mermaid_source
from workflow.definitions import DEFINITIONS, STATES

WEB = Path(__file__).resolve().parents[2] / "web"
CATALOG = WEB / "translations" / "en" / "LC_MESSAGES"


def test_vietnamese_is_the_default_and_english_is_one_click_away(app: Flask) -> None:
    client = login(app, "vphu-md-signer")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Việc chờ tôi xử lý" in page
    client.post("/language", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "My tasks" in page
    assert "Việc chờ tôi xử lý" not in page
    client.post("/language", data={"lang": "vi", "next": "/"})
    assert "Việc chờ tôi xử lý" in client.get("/").get_data(as_text=True)


def test_unknown_language_and_foreign_next_are_ignored(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/") or "/login" in response.headers["Location"]
    assert "evil" not in response.headers["Location"]
    assert '<html lang="vi">' in client.get("/login").get_data(as_text=True)


def test_vietnamese_dates(app: Flask) -> None:
    with app.test_request_context("/"):
        assert vn_date(date(2018, 3, 31)) == "ngày 31 tháng 3 năm 2018"
        # 17:30 UTC is 00:30 the next day in Hà Nội.
        moment = datetime(2018, 3, 30, 17, 30, tzinfo=UTC)
        assert vn_datetime(moment) == "00:30, ngày 31 tháng 3 năm 2018"
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = "en"
        assert vn_date(date(2018, 3, 31)) == "31 March 2018"


def test_document_page_shows_dates_in_words(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    page = login(app, "vphu-md-signer").get(f"/documents/{archived}").get_data(as_text=True)
    assert re.search(r"ngày \d{1,2} tháng \d{1,2} năm \d{4}", page)


def test_english_catalog_is_complete_and_compiled(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(WEB / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            str(WEB.parent),
        ],
        check=True,
        capture_output=True,
        cwd=WEB.parent,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (CATALOG / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    missing = sorted(wanted - po.keys())
    assert not missing, f"untranslated (run pybabel update): {missing[:10]}"
    assert all(po[k] for k in wanted), "empty English translations"
    with (CATALOG / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert {k: po[k] for k in wanted} == {k: mo.get(k) for k in wanted}, (
        "messages.mo is stale: run pybabel compile -d web/translations"
    )


def test_mermaid_comes_from_the_definitions() -> None:
    for definition in DEFINITIONS.values():
        text = mermaid_source(definition)
        assert "stateDiagram-v2" in text
        for spec in definition.transitions:
            for source in spec.source:
                dest = spec.dest or source
                line = re.search(rf"^\s*{source} --> {dest}: (.*)$", text, re.M)
                assert line, (source, dest)
                assert spec.trigger in line.group(1)


def test_svg_has_every_state_and_edge() -> None:
    definition = DEFINITIONS[("pledge", 1)]
    edges = [(t.trigger, s, t.dest or s) for t in definition.transitions for s in t.source]
    svg = render_svg(
        list(STATES),
        edges,
        initial="draft",
        finals={"archived", "cancelled"},
        labels={"draft": "<Dự thảo>"},
    )
    for state in STATES:
        assert f'data-state="{state}"' in svg
    for _trigger, source, dest in edges:
        assert f'data-source="{source}" data-dest="{dest}"' in svg
    assert "&lt;Dự thảo&gt;" in svg
    assert "style=" not in svg


def test_workflow_page_renders_without_scripts(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/workflow").get_data(as_text=True)
    assert page.count("<svg") == len(DEFINITIONS)
    assert "stateDiagram-v2" in page
    # Nothing is fetched from elsewhere (no CDN script or style): every link is our own.
    # (A bare "cdn" search also matched a random CSRF token now and then.)
    external = [
        url
        for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
        if not url.startswith(("/", "#", "data:", "?"))
    ]
    assert external == []


def test_every_trigger_and_state_has_a_label() -> None:
    from web.labels import STATE_LABELS, TRIGGER_LABELS

    for definition in DEFINITIONS.values():
        assert set(definition.triggers) <= set(TRIGGER_LABELS)
    assert set(STATES) == set(STATE_LABELS)
