"""Post-mortems: metrics, exports (JSON and Markdown) and the aggregate report."""
