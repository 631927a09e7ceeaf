"""The state of one bundle verification: the files, what was hashed, what was found."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signing.archive.canonical import strict_json
from signing.archive.report import Problem
from signing.errors import BundleError
from signing.validation.status import Indication, SubIndication

__all__ = ["Run"]


@dataclass
class Run:
    """One verification run: collects problems instead of stopping at the first."""

    top: str
    files: dict[str, bytes]
    at: datetime
    problems: list[Problem] = field(default_factory=list)
    # The time the archive timestamps prove the payload existed (issue 17), once checked.
    proven_at: datetime | None = None
    # SHA-256 of payload files by path, shared by every step: the fixity check hashes each
    # file once (the document too), and the signatures, the approval manifest's pins and the
    # rebuilt tag files reuse those digests.
    digests: dict[str, bytes] = field(default_factory=dict)
    _parsed: dict[str, Any] = field(default_factory=dict)

    def fail(
        self,
        code: str,
        message: str,
        sub: SubIndication = SubIndication.FORMAT_FAILURE,
        *,
        path: str | None = None,
    ) -> None:
        self.problems.append(Problem(code, message, Indication.TOTAL_FAILED, sub, path))

    def note(self, code: str, message: str, sub: SubIndication, *, path: str | None = None) -> None:
        self.problems.append(Problem(code, message, Indication.INDETERMINATE, sub, path))

    def reported(self, code: str, message: str) -> bool:
        return any(p.code == code and p.message == message for p in self.problems)

    def digest(self, path: str) -> bytes:
        """SHA-256 of a file of the bundle, hashed at most once per run."""
        value = self.digests.get(path)
        if value is None:
            value = self.digests[path] = hashlib.sha256(self.files[path]).digest()
        return value

    def json(self, path: str) -> Any:
        """A JSON file of the bundle, read strictly once per run; raises BundleError."""
        if path not in self._parsed:
            try:
                self._parsed[path] = strict_json(self.files[path], path)
            except BundleError as exc:
                self._parsed[path] = exc
        value = self._parsed[path]
        if isinstance(value, BundleError):
            raise value
        return value
