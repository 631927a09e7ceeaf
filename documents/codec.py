"""Content <-> plain dicts (JSON-safe), for storage and for the web editor's forms.

``content_from_dict`` is strict: unknown keys, missing keys and wrong shapes raise
:class:`DocumentError` with the dotted path of the field, e.g. ``member_units[3].name``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from documents.content import CONTENT_TYPES, NESTED_TYPES, Content
from documents.errors import DocumentError
from documents.fields import MISSING_FIELD, REQUIRED

_MAX_LIST = 1000

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_T = TypeVar("_T", bound="DataclassInstance")


def content_to_dict(content: Content) -> dict[str, Any]:
    """A JSON-safe dict with ``"kind"`` first; :func:`content_from_dict` inverts it exactly."""
    if not isinstance(content, tuple(CONTENT_TYPES.values())):
        raise TypeError(f"not document content: {type(content).__name__}")
    return {"kind": content.kind, **_dump(content)}


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content_from_dict(data: Mapping[str, Any]) -> Content:
    """Build and validate content from a dict; raise DocumentError naming the bad field."""
    if not isinstance(data, Mapping):
        raise DocumentError("kind", "nội dung phải là một đối tượng JSON")
    kind = data.get("kind")
    cls = CONTENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DocumentError("kind", "loại văn bản phải là 'pledge' hoặc 'nomination'")
    return _build(cls, data, "", skip=("kind",))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type[_T], data: Any, path: str, skip: tuple[str, ...] = ()) -> _T:
    if not isinstance(data, Mapping):
        raise DocumentError(path, "phải là một đối tượng")
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    for key in data:
        if key not in names and key not in skip:
            raise DocumentError(_join(path, str(key)), "trường không xác định")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields:
        where = _join(path, f.name)
        if f.name not in data:
            if f.default is REQUIRED:
                raise DocumentError(where, MISSING_FIELD)
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], where)
    try:
        return cls(**kwargs)
    except DocumentError as exc:
        raise exc.within(path) from None


def _convert(hint: Any, value: Any, path: str) -> Any:
    if hint in NESTED_TYPES:
        return _build(hint, value, path)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and args and args[0] in NESTED_TYPES:
        if not isinstance(value, list | tuple):
            raise DocumentError(path, "phải là danh sách")
        if len(value) > _MAX_LIST:  # the dataclass states the exact limit; this bounds the work
            raise DocumentError(path, f"quá nhiều mục ({len(value)})")
        return tuple(_build(args[0], item, f"{path}[{i}]") for i, item in enumerate(value))
    # Scalars and lists of text are checked by the dataclasses themselves.
    return value
