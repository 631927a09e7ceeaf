"""Language selection and Vietnamese-first formatting of dates and times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime, get_locale

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LOCALE = "vi"
# Vietnam has one time zone and no daylight saving; timestamps are stored in UTC.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def select_locale() -> str:
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    # Vietnamese first: only an explicit choice switches to English.
    return DEFAULT_LOCALE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT_LOCALE


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def vn_date(value: date | datetime | None) -> str:
    """'ngày 31 tháng 3 năm 2018' in Vietnamese; '31 March 2018' in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    if current_language() == "vi":
        return f"ngày {value.day} tháng {value.month} năm {value.year}"
    return str(format_date(value, "d MMMM y"))


def vn_iso_date(value: str | None) -> str:
    """An ISO date string from content ('2018-03-31') in the reader's words."""
    if not value:
        return ""
    try:
        return vn_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def vn_datetime(value: datetime | None) -> str:
    """'08:15, ngày 31 tháng 3 năm 2018' (local time) or its English form."""
    if value is None:
        return ""
    local = _local(value)
    if current_language() == "vi":
        return f"{local:%H:%M}, {vn_date(local)}"
    return str(format_datetime(local, "HH:mm, d MMMM y"))


def iso_datetime(value: str | None) -> str:
    """An audit event's ISO 8601 UTC text as local time, in the reader's words."""
    if not value:
        return ""
    try:
        return vn_datetime(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return str(value)


def short_datetime(value: datetime | None) -> str:
    """Compact form for tables: '31/03/2018 08:15'."""
    if value is None:
        return ""
    return f"{_local(value):%d/%m/%Y %H:%M}"


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["vn_date"] = vn_date
    app.jinja_env.filters["vn_datetime"] = vn_datetime
    app.jinja_env.filters["vn_iso_date"] = vn_iso_date
    app.jinja_env.filters["iso_datetime"] = iso_datetime
    app.jinja_env.filters["short_datetime"] = short_datetime
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = current_language

    @app.context_processor
    def _lang() -> dict[str, object]:
        return {"html_lang": current_language(), "request_path": request.path}
