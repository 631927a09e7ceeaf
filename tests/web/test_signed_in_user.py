"""The user a view acts for: never nobody."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import Unauthorized

from web.auth import actor, signed_in_user


def test_a_view_without_a_signed_in_user_refuses_with_401(app: Flask) -> None:
    with app.test_request_context("/documents"):
        assert actor() is None
        with pytest.raises(Unauthorized):
            signed_in_user()
