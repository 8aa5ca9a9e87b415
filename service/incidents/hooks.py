"""Signals other domains listen to (paging, playbooks), sent inside the transaction."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with (app, session=, incident=) when an incident opens, before commit
incident_opened = _signals.signal("incident-opened")
#: sent with (app, session=, incident=, action=) after a lifecycle transition, before commit
incident_transitioned = _signals.signal("incident-transitioned")
