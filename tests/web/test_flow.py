"""The 2019 pledge from draft to archive through the HTML forms, as the demo users."""

from __future__ import annotations

import io
import re
import zipfile

from flask import Flask

from tests.web.conftest import UNITS, login, signer


def doc_id(app: Flask) -> int:
    return app.config["DEMO_DOCUMENTS"]["pledge-2019"]


def version_of(html: str) -> str:
    match = re.search(r'name="expected_version" value="(\d+)"', html)
    assert match, "the page carries the document's version in its forms"
    return match.group(1)


def actions(html: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', html))


def fire(client, document: int, trigger: str, **data: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/documents/{document}").get_data(as_text=True)
    assert trigger in actions(page), f"{trigger} not offered: {sorted(actions(page))}"
    data.setdefault("expected_version", version_of(page))
    return client.post(f"/documents/{document}/action/{trigger}", data=data)


def test_pledge_2019_from_draft_to_archive(app: Flask) -> None:
    document = doc_id(app)
    drafter = login(app, "vphu-uh-drafter")
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "Dự thảo" in page
    assert {"submit_for_review", "cancel"} <= actions(page)
    assert "sign" not in actions(page)

    r = fire(drafter, document, "submit_for_review")
    assert r.status_code == 302
    # Two units comment on items.
    for code, anchor in (("VPHU-MD", "contents[0]"), ("VPHU-PX", "criteria.items[1]")):
        client = login(app, signer(code))
        r = fire(client, document, "comment", anchor=anchor, text=f"Góp ý của {code}")
        assert r.status_code == 302, r.get_data(as_text=True)[:400]
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "Góp ý của VPHU-MD" in page
    assert "Góp ý của VPHU-PX" in page
    # All eight concur.
    for code in UNITS:
        r = fire(login(app, signer(code)), document, "concur")
        assert r.status_code == 302, (code, r.get_data(as_text=True)[:400])
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "8/8" in page
    r = fire(drafter, document, "open_signing")
    assert r.status_code == 302, r.get_data(as_text=True)[:600]
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "0/8 đơn vị đã ký" in page
    sha = re.search(r'data-test="sha256">([0-9a-f]{64})<', page).group(1)

    for n, code in enumerate(UNITS, start=1):
        client = login(app, signer(code))
        sign_page = client.get(f"/documents/{document}/sign").get_data(as_text=True)
        assert sha in sign_page
        assert 'name="pin"' in sign_page
        r = client.post(
            f"/documents/{document}/sign",
            data={"pin": "123456", "expected_version": version_of(sign_page)},
        )
        assert r.status_code == 302, (code, r.get_data(as_text=True)[:800])
        page = client.get(f"/documents/{document}").get_data(as_text=True)
        assert f"{n}/8 đơn vị đã ký" in page

    r = fire(drafter, document, "submit")
    assert r.status_code == 302
    board = login(app, "board-approver")
    approve_page = board.get(f"/documents/{document}/approve").get_data(as_text=True)
    assert 'data-action="approve"' in approve_page
    r = board.post(
        f"/documents/{document}/approve",
        data={
            "pin": "123456",
            "expected_version": version_of(approve_page),
            "decision_number": "",
            "decision_date": "",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    page = board.get(f"/documents/{document}").get_data(as_text=True)
    assert "Đã lưu trữ" in page
    link = re.search(r'href="(/archive/\d+/thidua-\d+\.zip)"', page).group(1)
    bundle = board.get(link)
    assert bundle.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()

    report = login(app, "vphu-md-signer").post(
        "/verify",
        data={"bundle": (io.BytesIO(bundle.data), "thidua.zip")},
        content_type="multipart/form-data",
    )
    text = report.get_data(as_text=True)
    assert report.status_code == 200
    assert 'data-indication="TOTAL_PASSED"' in text, text[text.find("verify-result") :][:1500]
