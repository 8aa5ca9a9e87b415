"""The append-only, hash-chained incident timeline."""
