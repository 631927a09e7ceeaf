"""The one error type the documents package raises for bad content."""

from __future__ import annotations


class DocumentError(ValueError):
    """Content that cannot become a document.

    ``field`` is a dotted path into the content (``"member_units[3].name"``) so that a form can
    show the message next to the input that caused it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")

    def within(self, prefix: str) -> DocumentError:
        """The same error seen from an enclosing object (``prefix`` + "." + field)."""
        if not prefix:
            return self
        joined = (
            prefix
            if not self.field
            else (
                f"{prefix}{self.field}" if self.field.startswith("[") else f"{prefix}.{self.field}"
            )
        )
        return DocumentError(joined, self.reason)
