"""gunicorn settings for the Firebreak web process (override with GUNICORN_* env vars)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 25  # drain in-flight requests on SIGTERM
# 0: a fresh connection per request, taken by whichever worker process is free. Ingest batches
# are CPU-bound; a kept-alive connection stays pinned to one process, so a few busy clients can
# leave a core idle (measured: one worker at 1.2 s CPU, the other at 0). Set it for many small
# requests straight from browsers.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") else None
errorlog = "-"
worker_tmp_dir = "/tmp"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
