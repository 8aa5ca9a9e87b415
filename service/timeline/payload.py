"""The machinery behind typed timeline events: declared fields, validation, stored JSON shape.

A payload class is a frozen, keyword-only dataclass. Its fields, in declaration order, are the
keys of the stored JSON object, in that order (a field may store under another key, e.g.
`from_` as "from"). A field without a default is always stored (its value may be None if its
type allows); a field defaulting to None is left out of the JSON while it is None (or when its
`omit` rule says so). Values are checked against the annotations on construction (lists become
tuples); `from_data` reads a stored object back, nested objects into their record classes.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from service.timeline.models import EventKind


class EventDataError(ValueError):
    """A payload that does not match the declared schema of its kind."""


def stored_as(key: str) -> Any:
    """A required field stored under another key (one that is not a Python name)."""
    return field(metadata={"key": key})


def optional(*, key: str | None = None, omit: Callable[[Any], bool] | None = None) -> Any:
    """A field defaulting to None, left out of the JSON while None (or when `omit(event)`)."""
    meta: dict[str, Any] = {"omit": omit or _omit_if_none}
    if key:
        meta["key"] = key
    return field(default=None, metadata=meta)


def _omit_if_none(value: Any) -> bool:
    return value is None


@dataclass(frozen=True)
class _Slot:
    name: str
    key: str
    hint: Any
    required: bool
    omit: Callable[[Any], bool] | None
    on_event: bool  # omit() takes the whole record (True) or the value (False)


@dataclass(frozen=True, kw_only=True)
class Record:
    """A typed JSON object: validated on construction, stored with `to_data()`."""

    def __post_init__(self) -> None:
        label = self._label()
        for slot in _slots(type(self)):
            value = getattr(self, slot.name)
            checked = _coerce(slot.hint, value, f"{label}: field {slot.key!r}")
            if checked is not value:
                object.__setattr__(self, slot.name, checked)

    def _label(self) -> str:
        return type(self).__name__

    def to_data(self) -> dict[str, Any]:
        """The JSON object stored for this record (keys in declaration order)."""
        out: dict[str, Any] = {}
        for slot in _slots(type(self)):
            value = getattr(self, slot.name)
            if slot.omit is not None and slot.omit(self if slot.on_event else value):
                continue
            out[slot.key] = _plain(value)
        return out

    @classmethod
    def from_data(cls, data: Any, *, label: str | None = None) -> Self:
        """Read a stored JSON object back; missing, unknown or ill-typed keys are refused."""
        label = label or cls.__name__
        if not isinstance(data, Mapping):
            raise EventDataError(f"{label}: expected an object, got {type(data).__name__}")
        slots = _slots(cls)
        unknown = set(data) - {s.key for s in slots}
        if unknown:
            names = ", ".join(map(repr, sorted(unknown)))
            raise EventDataError(f"{label}: unknown field(s) {names}")
        values = {}
        for slot in slots:
            if slot.key in data:
                values[slot.name] = _load(slot.hint, data[slot.key], f"{label}: field {slot.key!r}")
            elif slot.required:
                raise EventDataError(f"{label}: missing field {slot.key!r}")
        try:
            return cls(**values)
        except TypeError as exc:  # a bug in a class declaration, not in the data
            raise EventDataError(f"{label}: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class EventData(Record):
    """The payload of one kind of timeline event; subclasses set `kind`."""

    kind: ClassVar[EventKind]

    def __post_init__(self) -> None:
        if "kind" not in type(self).__dict__:
            raise TypeError(f"{type(self).__name__} has no kind: construct one of its subclasses")
        super().__post_init__()

    def _label(self) -> str:
        return f"{type(self).__name__} ({self.kind.value})"


_SLOTS: dict[type, tuple[_Slot, ...]] = {}


def _slots(cls: type[Record]) -> tuple[_Slot, ...]:
    """A record class's fields with their keys, types and omission rules (read once)."""
    found = _SLOTS.get(cls)
    if found is None:
        found = _SLOTS[cls] = _declared(cls)
    return found


def _declared(cls: type[Record]) -> tuple[_Slot, ...]:
    hints = get_type_hints(cls)
    out = []
    for f in fields(cls):
        omit = f.metadata.get("omit")
        out.append(
            _Slot(
                name=f.name,
                key=f.metadata.get("key", f.name),
                hint=hints[f.name],
                required=_required(f),
                omit=omit,
                on_event=omit is not None and omit is not _omit_if_none,
            )
        )
    return tuple(out)


def _required(f: Field[Any]) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def keys_of(cls: type[Record]) -> frozenset[str]:
    """The JSON keys a record class may store."""
    return frozenset(s.key for s in _slots(cls))


def _name(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_name(arm) for arm in get_args(hint))
    if get_origin(hint) is tuple:
        return f"list of {_name(get_args(hint)[0])}"
    if get_origin(hint) is dict:
        return "object"
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _fail(where: str, hint: Any, value: Any) -> EventDataError:
    got = "null" if value is None else f"{type(value).__name__} {value!r:.60}"
    return EventDataError(f"{where} must be {_name(hint)}, got {got}")


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check a constructed value against its annotation; lists become tuples."""
    return _convert(hint, value, where, loading=False)


def _load(hint: Any, value: Any, where: str) -> Any:
    """Convert a stored JSON value to its annotated type (nested objects to records)."""
    return _convert(hint, value, where, loading=True)


def _union(hint: Any, value: Any, where: str, loading: bool) -> Any:
    arms = [arm for arm in get_args(hint) if arm is not type(None)]
    if value is None:
        if len(arms) < len(get_args(hint)):
            return None
        raise _fail(where, hint, value)
    if len(arms) == 1:  # X | None: X's own error says more
        return _convert(arms[0], value, where, loading=loading)
    for arm in arms:
        try:
            return _convert(arm, value, where, loading=loading)
        except EventDataError:
            continue
    raise _fail(where, hint, value)


def _sequence(hint: Any, value: Any, where: str, loading: bool) -> Any:
    if not isinstance(value, list | tuple):
        raise _fail(where, hint, value)
    item = get_args(hint)[0]
    items = tuple(_convert(item, v, f"{where}[{i}]", loading=loading) for i, v in enumerate(value))
    same = type(value) is tuple and all(a is b for a, b in zip(items, value, strict=True))
    return value if same else items


def _mapping(hint: Any, value: Any, where: str, loading: bool) -> Any:
    if not isinstance(value, dict):
        raise _fail(where, hint, value)
    return value


def _record(hint: Any, value: Any, where: str, loading: bool) -> Any:
    if isinstance(value, hint):
        return value
    if loading:
        return hint.from_data(value, label=where)
    raise _fail(where, hint, value)


#: the scalar types a payload may hold, and what a value of each must be (bool is not an int)
_SCALARS: dict[Any, Callable[[Any], bool]] = {
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    bool: lambda v: isinstance(v, bool),
}
_GENERICS: dict[Any, Callable[[Any, Any, str, bool], Any]] = {
    Union: _union,
    types.UnionType: _union,
    tuple: _sequence,
    dict: _mapping,
}


def _convert(hint: Any, value: Any, where: str, *, loading: bool) -> Any:
    if hint is Any:
        return value
    generic = _GENERICS.get(get_origin(hint))
    if generic is not None:
        return generic(hint, value, where, loading)
    if isinstance(hint, type) and issubclass(hint, Record):
        return _record(hint, value, where, loading)
    accepts = _SCALARS.get(hint)
    if accepts is None:
        raise TypeError(f"{where}: unsupported annotation {hint!r}")
    if not accepts(value):
        raise _fail(where, hint, value)
    # an int stays an int for a float (the stored JSON must not change); a StrEnum member
    # becomes its plain value
    return str(value) if hint is str and type(value) is not str else value


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# --- a part of payloads of several domains -----------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UserRef(Record):
    """A person, as role assignments and step reminders name them."""

    user_id: int
    user: str
