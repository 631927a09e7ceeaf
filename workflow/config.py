"""Instance configuration: where the data lives and the secrets that protect it.

Sources, first match wins:

- instance folder: the ``instance_dir`` argument, else ``THIDUA_INSTANCE``, else ``./instance``;
- database: ``DATABASE_URL``, else a SQLite file ``thidua.db`` in the instance folder;
- session secret: ``THIDUA_SECRET_KEY``, else the instance file ``secret_key``;
- CA master secret (encrypts the CA key at rest): ``THIDUA_CA_SECRET``, else the instance
  file ``ca_master_secret``;
- public base URL printed in documents' verification links: ``THIDUA_PUBLIC_URL``; with none,
  or with a loopback address, documents print their reference code alone;
- timestamp authority: ``THIDUA_TSA_URL``, an external RFC 3161 TSA (http or https); with
  none, signatures get their timestamps from the deployment's own TSA (workflow.tsa).

``init_instance`` (run by ``thidua init``) creates the folder and both secret files with mode
0600; ``load_config`` never creates anything and raises ``ConfigError`` if a secret is missing.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import documents
from workflow.errors import ConfigError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
CA_SECRET_FILE = "ca_master_secret"  # noqa: S105
DATABASE_FILE = "thidua.db"


@dataclass(frozen=True)
class Config:
    instance_dir: Path
    database_url: str
    secret_key: str
    ca_master_secret: bytes
    public_url: str = ""
    # Freezing makes each document's certified PDF, signed in place by every unit (issue
    # 16; needs LibreOffice). load_config turns it on unless THIDUA_SIGNED_PDF=0.
    signed_pdf: bool = False
    # An external RFC 3161 timestamp authority (THIDUA_TSA_URL); "" = the built-in one.
    tsa_url: str = ""


def public_url(configured: str | None = None) -> str:
    """The site's public address: the one given, else ``THIDUA_PUBLIC_URL``, else ""."""
    return (configured or os.environ.get("THIDUA_PUBLIC_URL", "")).strip()


def signed_pdf_enabled() -> bool:
    """``THIDUA_SIGNED_PDF``: "1" (the default) or "0"; anything else is refused."""
    raw = os.environ.get("THIDUA_SIGNED_PDF", "1").strip() or "1"
    if raw not in ("0", "1"):
        raise ConfigError(
            f"THIDUA_SIGNED_PDF phải là 0 hoặc 1, không phải {raw!r}.", code="bad_signed_pdf"
        )
    return raw == "1"


def check_tsa_url(url: str) -> str:
    """``url`` if it is an http(s) address with a host, else ``ConfigError``: the request
    goes out with urllib, which would also open ``file:`` and ``ftp:`` addresses."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or not port_ok
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not url.isprintable()
        or any(c.isspace() for c in url)
    ):
        raise ConfigError(
            f"THIDUA_TSA_URL phải là một địa chỉ http:// hoặc https:// có tên máy chủ, "
            f"không phải {url!r}.",
            code="bad_tsa_url",
        )
    return url


def tsa_url() -> str:
    """``THIDUA_TSA_URL``, checked; "" when unset (the deployment's own TSA answers)."""
    raw = os.environ.get("THIDUA_TSA_URL", "").strip()
    return check_tsa_url(raw) if raw else ""


def printed_verify_url(base: str, reference_code: str) -> str | None:
    """The public page where anyone checks a document by its reference code, as printed on
    the document; None when there is no public address to print. A loopback or unspecified
    host ("http://127.0.0.1:5000", a developer's default) is no address: on an official page
    it would send every reader to their own machine (documents.is_public_url decides)."""
    if not base:
        return None
    url = f"{base.rstrip('/')}/verify?ref={reference_code}"
    return url if documents.is_public_url(url) else None


def instance_path(instance_dir: str | os.PathLike[str] | None = None) -> Path:
    raw = instance_dir if instance_dir is not None else os.environ.get("THIDUA_INSTANCE")
    return Path(raw or "instance").resolve()


def database_url(instance_dir: str | os.PathLike[str] | None = None) -> str:
    """``DATABASE_URL`` or the default SQLite file inside the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{instance_path(instance_dir) / DATABASE_FILE}"


def _read_secret_file(path: Path) -> bytes | None:
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # A secret readable by others is a leak waiting to happen; refuse rather than use it.
        raise ConfigError(
            f"Tệp bí mật {path} có quyền {oct(mode)}; chỉ chủ sở hữu được đọc (chmod 600).",
            code="insecure_secret_file",
        )
    data = path.read_bytes().strip()
    if not data:
        raise ConfigError(f"Tệp bí mật {path} rỗng.", code="empty_secret_file")
    return data


def _write_secret_file(path: Path, value: bytes) -> None:
    # O_EXCL: never overwrite an existing secret (that would orphan the encrypted CA key).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value + b"\n")
    finally:
        os.close(fd)


def _secret(env_name: str, path: Path) -> bytes | None:
    env = os.environ.get(env_name, "").strip()
    if env:
        return env.encode("utf-8")
    return _read_secret_file(path)


def load_config(instance_dir: str | os.PathLike[str] | None = None) -> Config:
    """Read the configuration of an initialised instance. Raises ``ConfigError``."""
    folder = instance_path(instance_dir)
    secret_key = _secret("THIDUA_SECRET_KEY", folder / SECRET_KEY_FILE)
    ca_secret = _secret("THIDUA_CA_SECRET", folder / CA_SECRET_FILE)
    missing = [
        name
        for name, value in (("THIDUA_SECRET_KEY", secret_key), ("THIDUA_CA_SECRET", ca_secret))
        if value is None
    ]
    if missing:
        raise ConfigError(
            f"Thư mục {folder} chưa được khởi tạo (thiếu {', '.join(missing)}); "
            "hãy chạy `thidua init`.",
            code="not_initialised",
        )
    assert secret_key is not None
    assert ca_secret is not None
    return Config(
        instance_dir=folder,
        database_url=database_url(folder),
        secret_key=secret_key.decode("utf-8"),
        ca_master_secret=ca_secret,
        public_url=public_url(),
        signed_pdf=signed_pdf_enabled(),
        tsa_url=tsa_url(),
    )


def init_instance(instance_dir: str | os.PathLike[str] | None = None) -> Config:
    """Create the instance folder and any missing secret file (mode 0600); idempotent."""
    folder = instance_path(instance_dir)
    # The folder holds the SQLite database (sealed keys, password hashes) beside the secrets:
    # only its owner may list or read it.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for env_name, filename in (
        ("THIDUA_SECRET_KEY", SECRET_KEY_FILE),
        ("THIDUA_CA_SECRET", CA_SECRET_FILE),
    ):
        path = folder / filename
        if not os.environ.get(env_name, "").strip() and not path.exists():
            _write_secret_file(path, secrets.token_urlsafe(48).encode("ascii"))
    return load_config(folder)
