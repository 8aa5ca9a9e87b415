"""Signals other domains listen to (playbooks), sent inside the transaction."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with (app, session=, incident_id=, statement_id=) when a version becomes fully approved,
#: before commit
statement_approved = _signals.signal("statement-approved")
