"""Detection: ingest mentions, score sentiment, aggregate, detect negative spikes."""
