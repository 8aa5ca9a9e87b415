"""The playbooks the running app uses: one registry per app, reloaded when files change.

The folder is PLAYBOOKS_DIR. Before each use the files' (name, mtime, size) are compared with
the last load; on a change the registry reloads, and an invalid file never replaces the last
valid version of that file (see `PlaybookRegistry.reload`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from service import config
from service.playbooks.format import PlaybookRegistry, playbook_files

log = logging.getLogger(__name__)

_KEY = "firebreak.playbooks"
_lock = threading.Lock()


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    if not folder.is_dir():
        return ()
    out = []
    for path in playbook_files(folder):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def registry(app: Flask | None = None) -> PlaybookRegistry:
    """The app's playbook registry, reloaded first if any file changed since the last load."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    folder = Path(app.extensions[config.SETTINGS_KEY].playbooks_dir)
    with _lock:
        state = app.extensions.get(_KEY)
        signature = _signature(folder)
        if state is None or state[0] != folder:
            state = [folder, signature, PlaybookRegistry(folder)]
            app.extensions[_KEY] = state
            _report(state[2])
        elif state[1] != signature:
            state[1] = signature
            state[2].reload()
            _report(state[2])
        return state[2]


def _report(reg: PlaybookRegistry) -> None:
    for issue in reg.issues:
        log.warning("playbook problem: %s", issue)
    for name in reg.stale:
        log.warning("playbook %s is invalid now; still using its last valid version", name)
