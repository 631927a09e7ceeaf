"""The verification link a document prints: only a public address, never a developer's
loopback default (issue 15: "http://127.0.0.1:5000/verify?ref=…" on an official page)."""

from __future__ import annotations

import pytest

from workflow.config import printed_verify_url, public_url


@pytest.mark.parametrize(
    "base",
    [
        "",
        "http://127.0.0.1:5000",
        "http://127.8.9.10",
        "http://localhost:8000/",
        "https://LOCALHOST.",
        "http://app.localhost",
        "http://[::1]:5000",
        "http://0.0.0.0:8000",
        "http://[::]:80",
        "not a url",
    ],
)
def test_no_public_address_prints_no_link(base):
    assert printed_verify_url(base, "GU-2018-ABC12") is None


@pytest.mark.parametrize(
    ("base", "link"),
    [
        ("https://thidua.hanoi.dcs.vn", "https://thidua.hanoi.dcs.vn/verify?ref=GU-2018-ABC12"),
        ("https://thidua.vn/cum4/", "https://thidua.vn/cum4/verify?ref=GU-2018-ABC12"),
        ("http://10.0.4.7:8080", "http://10.0.4.7:8080/verify?ref=GU-2018-ABC12"),
    ],
)
def test_a_public_address_prints_its_link(base, link):
    assert printed_verify_url(base, "GU-2018-ABC12") == link


def test_the_address_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("THIDUA_PUBLIC_URL", raising=False)
    assert public_url() == ""
    monkeypatch.setenv("THIDUA_PUBLIC_URL", " https://thidua.vn ")
    assert public_url() == "https://thidua.vn"
    assert public_url("https://other.vn") == "https://other.vn"
