"""Paging latency: incident opened -> first SMS request at the Twilio stand-in, and escalation
lateness (next level's SMS at the stand-in minus the time the level was due).

gunicorn + a forking RQ worker (with its scheduler) on PostgreSQL + Redis, the real twilio SDK
speaking HTTP to the local stand-in. Targets: first SMS p99 <= 500 ms; lateness <= 2 s.

    python benchmarks/paging_latency.py [--trials 30] [--storm 20]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# a database and Redis db of its own, so it can run beside the other benchmarks
os.environ.setdefault(
    "FIREBREAK_BENCH_DATABASE_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/firebreak_bench_paging",
)
os.environ.setdefault("FIREBREAK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

from harness import Stack, percentile  # noqa: E402

from tests.support.twilio_standin import TwilioStandIn  # noqa: E402

FROM = "+15005550006"
DELAY = 10  # seconds before the next level (the API's minimum)


def person(stack: Stack, name: str, roles: str, phone: str) -> int:
    """A contact with a verified phone; returns the user id."""
    out = stack.cli(
        "users", "create", "--name", name, "--roles", roles, "--phone", phone, "--phone-verified"
    )
    return int(out.split()[1].rstrip(":"))


def api(stack: Stack, method: str, path: str, **kwargs) -> dict:
    """An admin API call that must succeed."""
    resp = requests.request(
        method, f"{stack.base}/api/v1{path}", headers=stack.headers("admin"), timeout=10, **kwargs
    )
    resp.raise_for_status()
    return resp.json() if resp.content else {}


def first_sms(standin: TwilioStandIn, to: str, number: int, timeout: float = 20.0) -> float:
    """When the first SMS to `to` naming incident `number` reached the stand-in (epoch s)."""
    tag = re.compile(rf"#{number}\b")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in list(standin.messages):
            if m.params.get("To") == to and tag.search(m.params.get("Body", "")):
                return m.received_at
        time.sleep(0.002)
    raise RuntimeError(f"no SMS to {to} for #{number} within {timeout} s")


def summary(values: list[float]) -> str:
    """min / p50 / p99 / max in milliseconds (min < 0 would mean something fired early)."""
    ms = [v * 1000 for v in values]
    return (
        f"min {min(ms):.0f} ms, p50 {percentile(ms, 0.5):.0f} ms, "
        f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms (n={len(ms)})"
    )


def main() -> None:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50, help="incidents for first-SMS latency")
    parser.add_argument("--warmup", type=int, default=3, help="first incidents not counted")
    parser.add_argument("--storm", type=int, default=20, help="incidents for escalation lateness")
    args = parser.parse_args()
    with TwilioStandIn() as standin:
        env = {
            "FIREBREAK_SMS_BACKEND": "twilio",
            "FIREBREAK_TWILIO_ACCOUNT_SID": standin.account_sid,
            "FIREBREAK_TWILIO_AUTH_TOKEN": standin.auth_token,
            "FIREBREAK_TWILIO_FROM_NUMBER": FROM,
            "FIREBREAK_TWILIO_API_BASE_URL": standin.url,
            "FIREBREAK_SMS_THROTTLE_SECONDS": "0",
        }
        with Stack(extra_env=env, workers=1) as stack:
            wolf = person(stack, "Bench Wolf", "wolf", "+14155550101")
            backup = person(stack, "Bench Backup", "wolf", "+14155550102")
            api(
                stack,
                "POST",
                "/escalation-policies",
                json={
                    "key": "bench",
                    "name": "bench",
                    "is_default": True,
                    "levels": [
                        {"targets": [{"user_id": wolf}], "delay_seconds": DELAY},
                        {"targets": [{"user_id": backup}], "delay_seconds": DELAY},
                    ],
                    "repeat": 0,
                },
            )
            first: list[float] = []
            for i in range(args.warmup + args.trials):
                t0 = time.time()
                number = api(
                    stack, "POST", "/incidents", json={"title": f"bench {i}", "severity": "sev1"}
                )["number"]
                latency = first_sms(standin, "+14155550101", number) - t0
                if i >= args.warmup:
                    first.append(latency)
                api(stack, "POST", f"/incidents/{number}/resolve", json={"note": "bench"})
                time.sleep(0.05)
            print(f"incident opened -> first SMS at the stand-in: {summary(first)}")

            numbers = []
            for i in range(args.storm):
                numbers.append(
                    api(
                        stack,
                        "POST",
                        "/incidents",
                        json={"title": f"storm {i}", "severity": "sev2"},
                    )["number"]
                )
                time.sleep(0.25)
            late: list[float] = []
            for number in numbers:
                events = api(stack, "GET", f"/incidents/{number}/timeline")["events"]
                due = next(
                    e["data"]["next_level_at"]
                    for e in events
                    if e["kind"] == "escalation.level" and e["data"]["level"] == 1
                )
                due_at = datetime.fromisoformat(due.replace("Z", "+00:00")).timestamp()
                late.append(first_sms(standin, "+14155550102", number, DELAY + 30) - due_at)
            print(f"escalation lateness (next level's SMS minus due time): {summary(late)}")
            early = [v for v in late if v < 0]
            print(f"escalations early: {len(early)} of {len(late)} (must be 0)")
            print(f"machine load (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
