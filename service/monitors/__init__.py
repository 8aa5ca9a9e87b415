"""Monitors: the brands and topics Firebreak watches."""
