"""Domain events published inside a transaction, and the ordered reactions to them.

A domain publishes a fact (``IncidentOpened``, ``StatementApproved``, ...) as a dataclass; the
reactions to each fact, in order, are listed in one place, :mod:`service.registry`, and bound
to the app by ``create_app``. Nothing reacts because of an import side effect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import current_app

REACTIONS_KEY = "firebreak.reactions"

Reaction = Callable[[Any], None]


def install_reactions(app: Any, reactions: Mapping[type, Sequence[Reaction]]) -> None:
    """Bind the event type → ordered reactions table (from the registry) to an app."""
    app.extensions[REACTIONS_KEY] = {kind: tuple(rs) for kind, rs in reactions.items()}


def publish(event: Any) -> None:
    """Run the reactions to `event` in their listed order, in the caller's transaction."""
    table: Mapping[type, tuple[Reaction, ...]] = current_app.extensions.get(REACTIONS_KEY, {})
    for react in table.get(type(event), ()):
        react(event)
