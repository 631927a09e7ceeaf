"""A user's walk through the 2019 pledge in Debian's Chromium, driven by Playwright.

The app runs in a real HTTP server on 127.0.0.1 and a free port. The drafter submits, two
units comment, all eight concur, the drafter opens signing, eight signers sign with their PIN
(one uploads a signature made with ``openssl cms -sign``), the drafter submits, the board
approves; the bundle is downloaded and verified on /verify. Screenshots of the main pages go
to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import require_executable
from tests.web.conftest import PASSWORD, PIN, UNITS, signer

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UPLOADING_UNIT = "VPTU-ST"


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    chromium = require_executable("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


class Person:
    """One user at their own browser (own cookies)."""

    def __init__(self, browser, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(
            base_url=base,
            viewport={"width": 1360, "height": 900},
            accept_downloads=True,
            locale="vi-VN",
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        # CSP violations and script errors surface here; a 4xx page we provoked on purpose
        # (a wrong PIN) is logged as "Failed to load resource" and is not an error of the UI.
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto("/login")
        self.page.fill('input[name="username"]', username)
        self.page.fill('input[name="password"]', PASSWORD)
        self.page.click('[data-test="login-submit"]')
        self.page.wait_for_url(lambda url: "/login" not in url)

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def open(self, document: int) -> None:
        self.page.goto(f"/documents/{document}")

    def click_action(self, trigger: str) -> None:
        with self.page.expect_navigation():
            self.page.click(f'button[data-action="{trigger}"]')

    def flash(self) -> str:
        return self.page.locator(".flash").first.inner_text()

    def close(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        self.context.close()


def _key_and_cert(app: Flask, username: str, tmp: Path) -> tuple[Path, Path]:
    """The signer's own key and certificate, as they would hold them outside thidua."""
    demo = app.config["DEMO_DATA"]
    key_path, cert_path = tmp / "key.pem", tmp / "cert.pem"
    key_path.write_bytes(
        demo.keys[username].private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = x509.load_der_x509_certificate(demo.certificates[username])
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.mark.slow
def test_pledge_2019_in_chromium(app: Flask, server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    openssl = require_executable("openssl")
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]

    drafter = Person(browser, server, "vphu-uh-drafter")
    page = drafter.page
    shot(page, "01-inbox")
    assert page.locator('[data-test="inbox"]').inner_text()
    drafter.open(document)
    shot(page, "02-document-draft")
    page.click('[data-test="edit"]')
    page.wait_for_selector('[data-test="editor"]')
    total = page.locator('output[data-total-of="criteria"]').inner_text()
    first_points = page.locator('input[data-points="criteria"]').first
    before = int(first_points.input_value())
    first_points.fill(str(before + 5))
    assert int(page.locator('output[data-total-of="criteria"]').inner_text()) == int(total) + 5
    first_points.fill(str(before))
    # A new criterion row: added in the browser, counted in the live total, then removed.
    rows = page.locator("#f-criteria-items .repeat-item")
    count = rows.count()
    page.click('[data-add-row="f-criteria-items"]')
    assert rows.count() == count + 1
    rows.last.locator('input[data-points="criteria"]').fill("7")
    assert int(page.locator('output[data-total-of="criteria"]').inner_text()) == int(total) + 7
    rows.last.locator("[data-remove-row]").click()
    assert rows.count() == count
    assert page.locator('output[data-total-of="criteria"]').inner_text() == total
    shot(page, "03-editor")
    drafter.open(document)
    drafter.click_action("submit_for_review")
    assert "góp ý" in drafter.flash()

    for code, text in (
        ("VPHU-MD", "Đề nghị bổ sung chỉ tiêu chuyển đổi số."),
        ("VPHU-PX", "Tiêu chí 2 nên tách thành hai ý."),
    ):
        person = Person(browser, server, signer(code))
        person.open(document)
        person.page.select_option('select[name="anchor"]', index=3)
        person.page.fill('textarea[name="text"]', text)
        person.click_action("comment")
        assert text in person.page.content()
        person.close()

    for code in UNITS:
        person = Person(browser, server, signer(code))
        person.open(document)
        person.click_action("concur")
        if code == "VPHU-TT":
            shot(person.page, "04-document-review")
        person.close()

    drafter.open(document)
    drafter.click_action("open_signing")
    assert "0/8" in page.locator('[data-test="sig-progress"]').inner_text()

    for n, code in enumerate(UNITS, start=1):
        person = Person(browser, server, signer(code))
        p = person.page
        person.open(document)
        with p.expect_navigation():
            p.click('a[data-action="sign"]')
        sha = p.locator('[data-test="sha256"]').inner_text()
        assert len(sha) == 64
        if code == UPLOADING_UNIT:
            with p.expect_download() as info:
                p.click('[data-test="download-docx"]')
            docx = tmp_path / "document.docx"
            info.value.save_as(docx)
            key, cert = _key_and_cert(app, signer(code), tmp_path)
            p7s = tmp_path / f"{code}.p7s"
            subprocess.run(
                [
                    openssl,
                    "cms",
                    "-sign",
                    "-binary",
                    "-md",
                    "sha256",
                    "-outform",
                    "DER",
                    "-in",
                    str(docx),
                    "-signer",
                    str(cert),
                    "-inkey",
                    str(key),
                    "-out",
                    str(p7s),
                ],
                check=True,
            )
            p.set_input_files('input[name="signature_file"]', str(p7s))
            with p.expect_navigation():
                p.click('form:has(input[name="signature_file"]) button[data-action="sign"]')
        else:
            if n == 2:
                p.fill('input[name="pin"]', "000000")
                with p.expect_navigation():
                    p.click('form:has(input[name="pin"]) button[data-action="sign"]')
                assert "4" in p.locator('[data-test="tries-left"]').inner_text()
                shot(p, "05-sign-wrong-pin")
            if n == 1:
                shot(p, "05-sign")
            p.fill('input[name="pin"]', PIN)
            with p.expect_navigation():
                p.click('form:has(input[name="pin"]) button[data-action="sign"]')
        assert f"{n}/8" in p.locator('[data-test="sig-progress"]').inner_text(), p.content()[:2000]
        if n == 6:
            shot(p, "06-signing-progress")
        person.close()

    drafter.open(document)
    drafter.click_action("submit")
    board = Person(browser, server, "board-approver")
    bp = board.page
    shot(bp, "07-board-inbox")
    board.open(document)
    with bp.expect_navigation():
        bp.click('a[data-action="approve"]')
    shot(bp, "08-approve")
    bp.fill('input[name="pin"]', PIN)
    board.click_action("approve")
    shot(bp, "09-archived")
    with bp.expect_download() as info:
        bp.click('a[href$=".zip"]')
    bundle = tmp_path / "bundle.zip"
    info.value.save_as(bundle)
    bp.goto("/archive")
    shot(bp, "10-archive")

    # Anyone, logged in or not, verifies the bundle.
    visitor = browser.new_context(base_url=server, viewport={"width": 1360, "height": 900})
    vp = visitor.new_page()
    vp.goto("/verify")
    vp.set_input_files('input[name="bundle"]', str(bundle))
    with vp.expect_navigation():
        vp.click('[data-test="verify-bundle"]')
    result = vp.locator('[data-test="verify-result"]')
    assert result.get_attribute("data-indication") == "TOTAL_PASSED"
    assert "HỢP LỆ" in result.inner_text()
    assert vp.locator('tr[data-status="passed"]').count() == 8
    shot(vp, "11-verify-passed")
    vp.goto("/workflow")
    shot(vp, "12-workflow")
    vp.goto("/login")
    shot(vp, "00-login")
    visitor.close()

    admin = Person(browser, server, "admin")
    admin.page.goto("/admin/credentials")
    shot(admin.page, "13-admin-credentials")
    admin.close()
    board.close()
    drafter.close()
