"""Signals other domains listen to (paging, playbooks, evidence), sent inside the transaction.

Receivers run in the order they were connected (the order ``create_app`` imports the wiring
modules): blinker's default bookkeeping is a plain ``set`` of receiver ids (memory addresses),
which would run them in an arbitrary order, and the order is visible on the timeline (the page
before the playbook).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from blinker import NamedSignal


class _ConnectionOrder:
    """The few set operations blinker uses, iterating in insertion order."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items = dict.fromkeys(items)

    def add(self, item: Any) -> None:
        self._items[item] = None

    def discard(self, item: Any) -> None:
        self._items.pop(item, None)

    def copy(self) -> _ConnectionOrder:
        return _ConnectionOrder(self._items)

    def __or__(self, other: Iterable[Any]) -> _ConnectionOrder:
        return _ConnectionOrder([*self._items, *other])

    def __contains__(self, item: Any) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class _OrderedSignal(NamedSignal):
    """A named signal whose receivers run in connection order."""

    set_class = _ConnectionOrder  # type: ignore[assignment]


#: sent with (app, session=, incident=) when an incident opens, before commit
incident_opened = _OrderedSignal("incident-opened")
#: sent with (app, session=, incident=, action=) after a lifecycle transition, before commit
incident_transitioned = _OrderedSignal("incident-transitioned")
