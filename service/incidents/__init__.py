"""Incidents: declared by people or opened by the detector; their lifecycle."""
