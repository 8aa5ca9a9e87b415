"""The Firebreak demo: web + worker on SQLite and local Redis, driven over HTTP."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.stack import Stack, exit_on_sigterm  # noqa: E402

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"
DEMO_TWILIO_TOKEN = "demo-twilio-auth-token"
PHONES = {
    "wolf": "+14155550101",
    "legal": "+14155550102",
    "comms": "+14155550103",
    "backup": "+14155550104",
}


def say(text: str) -> None:
    """A headline."""
    print(f"\n{BOLD}== {text}{RESET}", flush=True)


def settings(workdir: Path, redis_url: str) -> dict[str, str]:
    """The demo's settings: SQLite in the work directory, SMS to a file there."""
    return {
        "FIREBREAK_DATABASE_URL": f"sqlite:///{workdir / 'firebreak.db'}",
        "FIREBREAK_REDIS_URL": redis_url,
        "FIREBREAK_SECRET_KEY": "demo-only-secret",
        "FIREBREAK_SMS_BACKEND": "console",
        "FIREBREAK_CONSOLE_OUTBOX_PATH": str(workdir / "outbox.jsonl"),
        # the demo plays Twilio for SMS replies, so it signs webhooks with this token
        "FIREBREAK_TWILIO_AUTH_TOKEN": DEMO_TWILIO_TOKEN,
        "FIREBREAK_LOG_LEVEL": "warning",
        # notices and reminders to one phone are spaced (pages never wait); shorter for a demo
        "FIREBREAK_SMS_THROTTLE_SECONDS": "10",
    }


class Demo:
    """Seeds people and talks to the API of its stack (web, worker and reconciler)."""

    def __init__(self, workdir: Path, port: int, redis_url: str) -> None:
        self.workdir = workdir
        self.stack = Stack(
            settings(workdir, redis_url),
            port=port,
            log=workdir / "processes.log",
            append_log=False,
            # an RQ worker (with its scheduler), and the sweep that repairs lost timers
            commands=(["worker"], ["reconcile", "--loop"]),
        )
        self.base = self.stack.base
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def prepare(self) -> None:
        """A fresh database and Redis db, migrated."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for f in (*self.workdir.glob("firebreak.db*"), self.workdir / "outbox.jsonl"):
            f.unlink(missing_ok=True)
        self.stack.prepare()

    def person(self, key: str, name: str, roles: str, phone: str | None = None) -> None:
        """Create a user with a token."""
        user = self.stack.create_user(name, roles, token_name="demo", phone=phone)
        self.ids[key], self.tokens[key] = user.id, user.token or ""

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        """An API call as one of the demo people; fails loudly on an error."""
        resp = requests.request(
            method,
            f"{self.base}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=10,
            **kwargs,
        )
        if resp.status_code >= 400:
            raise SystemExit(f"{method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def show_timeline(self, number: int) -> None:
        """Print an incident's timeline and its chain verification."""
        body = self.call("reviewer", "GET", f"/incidents/{number}/timeline")
        for e in body["events"]:
            data = {k: v for k, v in e["data"].items() if k not in ("evidence", "window")}
            detail = ", ".join(f"{k}={v}" for k, v in data.items())[:110]
            print(f"  {e['seq']:>3}  {e['at']}  {e['kind']:<26} {DIM}{e['actor']}{RESET}  {detail}")
        report = self.call("reviewer", "GET", f"/incidents/{number}/timeline/verify")
        state = "intact" if report["intact"] else f"BROKEN at {report['first_bad_seq']}"
        print(f"  hash chain: {state} ({report['events']} events, head {report['head_hash'][:16]})")


def main() -> None:
    """Run the demo end to end."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="web port (default: a free one)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("FIREBREAK_DEMO_REDIS_URL", "redis://127.0.0.1:6379/1"),
        help="a Redis db the demo may flush (default db 1)",
    )
    parser.add_argument("--workdir", default=str(ROOT / "var" / "demo"))
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep web and worker running at the end, to read the incident page (Ctrl-C stops)",
    )
    args = parser.parse_args()
    # SIGTERM (kill, pkill) stops the demo like Ctrl-C: its web and worker processes go with it
    exit_on_sigterm()
    demo = Demo(Path(args.workdir), args.port, args.redis_url)

    say("Preparing a fresh SQLite database and Redis db")
    demo.prepare()
    demo.person("admin", "Ada Admin", "admin")
    demo.person("wolf", "Winston Wolf", "wolf", "+14155550101")
    demo.person("backup", "Bea Backup", "responder", "+14155550104")
    demo.person("legal", "Lena Legal", "legal", "+14155550102")
    demo.person("comms", "Colin Comms", "comms", "+14155550103")
    demo.person("reviewer", "Rita Reviewer", "reviewer")
    demo.person("ingest", "Listening tool", "ingest")
    print(
        "  people: Ada (admin), Winston (the Wolf), Bea (backup), Lena (legal), Colin (comms),"
        " Rita (reviewer)"
    )
    say(f"Starting web (gunicorn) and worker (RQ) at {demo.base}")
    with demo.stack:
        number = run_story(demo)
        if args.serve:
            serve(demo, number)
    if not args.serve:
        print("\n  The pages stopped with the demo (the links above no longer answer);")
        print("  run it with --serve to keep them up and get a sign-in token.")
    print(f"\n{DIM}Files: {demo.workdir}{RESET}")


def replay_firestorm(demo: Demo) -> int:
    """Replay samples/firestorm.jsonl so the firestorm is happening now; return the incident."""
    import json
    from datetime import UTC, datetime, timedelta

    rows = [json.loads(line) for line in (ROOT / "samples" / "firestorm.jsonl").open()]
    onset = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    last = max(datetime.fromisoformat(r["created_at"]) for r in rows)
    # The detector judges the bucket of the wall-clock minute, so the replay's last minute must
    # be the current one when it arrives: start early in a minute (the replay takes ~15 s) and
    # shift the sample by whole minutes onto the clock.
    while datetime.now(UTC).second > 30:
        time.sleep(0.5)
    now = datetime.now(UTC)
    shift = now.replace(second=0, microsecond=0) - last.replace(second=0, microsecond=0)
    print(f"  (replaying so that the sample's last minute is {now:%H:%M} UTC)")
    for r in rows:
        r["created_at"] = (datetime.fromisoformat(r["created_at"]) + shift).isoformat()
    live_from = onset + shift - timedelta(minutes=2)
    history = [r for r in rows if datetime.fromisoformat(r["created_at"]) < live_from]
    live = [r for r in rows if datetime.fromisoformat(r["created_at"]) >= live_from]
    for i in range(0, len(history), 1000):
        demo.call(
            "ingest", "POST", "/monitors/acme/mentions", json={"mentions": history[i : i + 1000]}
        )
    print(f"  {len(history)} mentions of calm history (7 h, ~20% negative) pushed")
    time.sleep(1.5)
    by_minute: dict[str, list] = {}
    for r in live:
        by_minute.setdefault(r["created_at"][:16], []).append(r)
    number = None
    for minute, batch in sorted(by_minute.items()):
        result = demo.call("ingest", "POST", "/monitors/acme/mentions", json={"mentions": batch})
        negative = sum(
            1
            for r in batch
            if any(
                w in r["text"]
                for w in (
                    "EXPLODED",
                    "horrifying",
                    "Disgusting",
                    "bin",
                    "shameful",
                    "scared",
                    "Never",
                )
            )
        )
        print(f"  {minute}Z  +{result['accepted']:>3} mentions ({negative} alarming)")
        time.sleep(0.6)
        found = demo.call("reviewer", "GET", "/incidents?monitor=acme")
        if found and number is None:
            number = found[0]["number"]
            print(
                f"  {BOLD}-> incident #{number} opened by the detector: {found[0]['title']}{RESET}"
            )
    deadline = time.monotonic() + 10
    while number is None and time.monotonic() < deadline:
        found = demo.call("reviewer", "GET", "/incidents?monitor=acme")
        number = found[0]["number"] if found else None
        time.sleep(0.3)
    if number is None:
        raise SystemExit("the detector did not open an incident; see var/demo/processes.log")
    return number


def serve(demo: Demo, number: int) -> None:
    """Keep the processes up so a person can sign in and read the incident page."""
    say("Serving the pages (Ctrl-C to stop)")
    print(f"  the incident page: {demo.base}/ui/incidents/{number}")
    print(f"  sign in there with Rita Reviewer's token: {demo.tokens['reviewer']}")
    status = reply_sms(demo, PHONES["wolf"], f"STATUS {number}")
    print(f"  Winston's phone page (his own 12-hour link, from STATUS {number}): {status}")
    try:
        while all(p.poll() is None for p in demo.stack.procs):
            time.sleep(1)
    except KeyboardInterrupt:
        print()


def run_story(demo: Demo) -> int:
    """The firestorm story the demo tells."""
    say("A monitor for the brand, and a listening tool's token")
    demo.call(
        "admin",
        "POST",
        "/monitors",
        json={
            "key": "acme",
            "name": "Acme Kettles",
            "tags": ["consumer"],
            "lexicon": {"explode": -3.0, "exploded": -3.0, "recall": -2.0},
        },
    )
    print("  monitor 'acme' (lexicon: explode/exploded/recall count as negative)")
    demo.call(
        "admin",
        "POST",
        "/escalation-policies",
        json={
            "key": "brand-on-call",
            "name": "Brand on-call",
            "is_default": True,
            "levels": [
                {"targets": [{"user_id": demo.ids["wolf"]}], "delay_seconds": 10},
                {"targets": [{"user_id": demo.ids["backup"]}], "delay_seconds": 10},
            ],
            "notify": [{"role": "legal"}],
            "repeat": 0,
        },
    )
    print("  escalation: Winston (10 s), then Bea (10 s); legal is notified at open")
    say("Replaying a firestorm from samples/firestorm.jsonl")
    number = replay_firestorm(demo)
    incident = demo.call("reviewer", "GET", f"/incidents/{number}")
    print(f"  #{number} [{incident['severity']}, {incident['status']}] {incident['title']}")
    say("The evidence: the most damaging mentions (reach x negativity)")
    events = demo.call("reviewer", "GET", f"/incidents/{number}/timeline")["events"]
    for e in events[0]["data"].get("evidence", [])[:5]:
        print(f"  {e['reach']:>9,} followers  {e['sentiment']:+.2f}  {e['text'][:70]}")
    page_and_escalate(demo, number)
    take_command(demo, number)
    walk_playbook(demo, number)
    holding_statement(demo, number)
    say("The playbook now")
    show_steps(demo, number)
    resolve_and_tell(demo, number)
    say(f"Timeline of #{number}")
    demo.show_timeline(number)
    say("Post-mortem: the incident page, its chart and the Markdown draft")
    files = {
        "html": demo.workdir / f"incident-{number}.html",
        "svg": demo.workdir / f"incident-{number}-chart.svg",
        "markdown": demo.workdir / f"postmortem-{number}.md",
    }
    for fmt, path in files.items():
        resp = requests.get(
            f"{demo.base}/api/v1/incidents/{number}/export",
            params={"format": fmt},
            headers={"Authorization": f"Bearer {demo.tokens['reviewer']}"},
            timeout=30,
        )
        resp.raise_for_status()
        path.write_text(resp.text, encoding="utf-8")
    draft = files["markdown"].read_text(encoding="utf-8")
    for line in draft.splitlines()[:16]:
        print(f"  {line}")
    print(f"  ... the whole draft: {files['markdown']} (chart: {files['svg'].name})")
    print(f"  the incident page as one file, for any browser: {files['html']}")
    return number


def outbox(demo: Demo) -> list[dict[str, Any]]:
    """The SMS the console backend has 'sent' so far."""
    import json

    path = demo.workdir / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_sms(demo: Demo, to: str, timeout: float = 30.0) -> dict[str, Any]:
    """The first SMS to `to`, waiting for it if needed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in outbox(demo):
            if m["kind"] == "sms" and m["to"] == to:
                return m
        time.sleep(0.2)
    raise SystemExit(f"no SMS to {to} within {timeout:.0f} s; see {demo.workdir}/processes.log")


def reply_sms(demo: Demo, from_: str, body: str) -> str:
    """Play Twilio: post a signed inbound SMS webhook; return the reply text."""
    import re
    import uuid

    from service.paging.webhook_auth import sign_twilio_request

    url = f"{demo.base}/webhooks/twilio/sms"
    params = {
        "From": from_,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{uuid.uuid4().hex}",
    }
    sig = sign_twilio_request(DEMO_TWILIO_TOKEN, url, params)
    resp = requests.post(url, data=params, headers={"X-Twilio-Signature": sig}, timeout=10)
    if resp.status_code != 200:
        raise SystemExit(f"SMS webhook -> {resp.status_code}: {resp.text}")
    found = re.search(r"<Message>(.*?)</Message>", resp.text, re.S)
    return found.group(1) if found else ""


def page_and_escalate(demo: Demo, number: int) -> None:
    """The pages go out, nobody answers, the next level is paged and answers by SMS."""
    import re

    phones = PHONES
    say("Paging (console SMS backend; each message is also in var/demo/outbox.jsonl)")
    opened = time.monotonic()
    for who in ("wolf", "legal"):
        m = wait_for_sms(demo, phones[who])
        print(f"  SMS to {m['to']}: {m['body']}")
    say("Winston does not answer: 10 s later the next level is paged")
    m = wait_for_sms(demo, phones["backup"])
    print(f"  +{time.monotonic() - opened:4.1f} s  SMS to {m['to']}: {m['body']}")
    code = re.search(r"Reply (\d+)A ack", m["body"]).group(1)
    say(f"Bea answers by SMS: {code}A")
    print(f"  reply: {reply_sms(demo, phones['backup'], f'{code}A')}")
    incident = demo.call("reviewer", "GET", f"/incidents/{number}")
    print(f"  #{number} is {incident['status']}; escalation stopped")
    link = re.search(r"(https?://\S+/r/[A-Za-z0-9_-]{22})", m["body"])
    if link:
        page = requests.get(link.group(1), timeout=10)
        print(
            f"  the link in Bea's SMS opens #{number} on her phone without a sign-in "
            f"(HTTP {page.status_code}; opening it never acts, its buttons do)"
        )
    for p in demo.call("reviewer", "GET", f"/incidents/{number}/pages"):
        level = f"level {p['level']}" if p["level"] is not None else "notice"
        print(f"  page {p['id']}: {p['user']:<13} {p['kind']:<7} {level:<8} {p['status']}")


def _cut(text: str, width: int) -> str:
    """Text that fits `width`, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def show_steps(demo: Demo, number: int) -> None:
    """The incident's playbook steps: owner, state, and when they became ready and finished."""
    run = demo.call("reviewer", "GET", f"/incidents/{number}/playbook")
    print(f"  {'#':>2}  {'step':<46} {'owner':<9} {'state':<11} {'ready (UTC)':<13} done (UTC)")
    for st in run["steps"]:
        ready = (st["ready_at"] or "")[11:23]
        done = (st["finished_at"] or "")[11:23]
        print(
            f"  {st['position']:>2}. {_cut(st['title'], 46):<46} {st['owner']:<9} "
            f"{st['state']:<11} {ready or '-':<13} {done or '-'}"
        )


def walk_playbook(demo: Demo, number: int) -> None:
    """The attached playbook, and its first steps done by SMS and through the API."""
    run = demo.call("reviewer", "GET", f"/incidents/{number}/playbook")
    say(f"Playbook attached: {run['title']} (v{run['version']}, sha256 {run['sha256'][:12]})")
    show_steps(demo, number)
    steps = {st["id"]: st for st in run["steps"]}
    for step_id in ("take-command", "assess-scope"):
        st = steps[step_id]
        say(f"Winston texts DONE {number} {st['position']} ({st['title']})")
        command = f"DONE {number} {st['position']}"
        print(f"  reply: {reply_sms(demo, PHONES['wolf'], command)}")
    comms_step = next(st for st in run["steps"] if st["owner"] == "comms" and not st["depends_on"])
    say(f"Colin (comms) marks step {comms_step['position']} done through the API")
    demo.call(
        "comms", "POST", f"/incidents/{number}/playbook/steps/{comms_step['id']}/done", json={}
    )
    print(f"  '{comms_step['title']}' done")
    legal_step = next(
        st for st in run["steps"] if st["owner"] == "legal" and st["depends_on"] == ["assess-scope"]
    )
    say(f"Lena (legal) texts DONE {number} {legal_step['position']} ({legal_step['title']})")
    reply = reply_sms(demo, PHONES["legal"], f"DONE {number} {legal_step['position']}")
    print(f"  reply: {reply}")


def take_command(demo: Demo, number: int) -> None:
    """Who leads, and legal's first word on the timeline."""
    say("The Wolf takes command")
    incident = demo.call("reviewer", "GET", f"/incidents/{number}")
    roles = ", ".join(f"{a['role']}: {a['user']}" for a in incident["assignments"])
    print("  Winston leads as the Wolf (assigned when level 1 paged him); Bea acknowledged")
    print(f"  incident roles: {roles}")
    note = "No admission of fault in any statement until engineering reports."
    demo.call("legal", "POST", f"/incidents/{number}/notes", json={"text": note})
    print(f"  Lena (legal) notes: {note}")


def wait_for_text(demo: Demo, to: str, needle: str, timeout: float = 40.0) -> dict[str, Any]:
    """The first SMS to `to` containing `needle`, waiting for it if needed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in outbox(demo):
            if m["kind"] == "sms" and m["to"] == to and needle in m["body"]:
                return m
        time.sleep(0.2)
    raise SystemExit(f"no SMS to {to} with {needle!r} within {timeout:.0f} s")


def approve_by_link(demo: Demo, link: str, version: dict, ticks: list[str]) -> str:
    """Lena opens the link in her SMS and approves that exact version on the phone page."""
    import re

    page = requests.get(link, timeout=10)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    if page.status_code != 200 or not csrf:
        raise SystemExit(f"legal's link did not open the approval page: {page.status_code}")
    form = {
        "csrf": csrf.group(1),
        "sha256": version["hash"],
        "decision": "approve",
        "checklist": ticks,
        "comment": "approved as written",
    }
    done = requests.post(f"{link}/decide", data=form, timeout=10)
    found = re.search(r"Done: ([^<]+)\.", done.text)
    if done.status_code != 200 or not found:
        raise SystemExit(f"approval on the phone page failed: {done.status_code}")
    return found.group(1)


def resolve_and_tell(demo: Demo, number: int) -> None:
    """Resolve; everyone paged gets one short SMS, and nothing else goes out about it."""
    before = len(outbox(demo))
    say(f"Winston resolves #{number}: everyone paged is told, nothing else is sent")
    demo.call(
        "wolf",
        "POST",
        f"/incidents/{number}/resolve",
        json={"note": "video debunked by the creator; volume back to normal"},
    )
    reached = {m["to"] for m in outbox(demo)[:before] if m["kind"] == "sms"}
    told: dict[str, str] = {}
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline and set(told) < reached:
        told = {m["to"]: m["body"] for m in outbox(demo)[before:] if m["kind"] == "sms"}
        time.sleep(0.3)
    names = {phone: who for who, phone in PHONES.items()}
    for phone, body in sorted(told.items()):
        print(f"  SMS to {names.get(phone, phone)}: {body}")
    others = [m for m in outbox(demo)[before:] if "resolved" not in m.get("body", "")]
    print(f"  anything else sent about #{number} after it resolved: {len(others)}")
    events = demo.call("reviewer", "GET", f"/incidents/{number}/timeline")["events"]
    dropped = [e for e in events if e["kind"] == "page.dropped"]
    if dropped:
        print(f"  {len(dropped)} unsent reminder(s) dropped, each on the timeline")


def holding_statement(demo: Demo, number: int) -> None:
    """Draft; legal approves on her phone from the SMS link, comms through the API; publish."""
    import re

    say("Holding statement: drafted by the Wolf, approved by legal and comms, published")
    text = (
        "We have seen the video of an Acme kettle and we are taking it seriously. Our safety team "
        "is examining the product now. If you are worried, stop using your kettle and contact us "
        "at acme.example/safety. We will update here by 3 pm UTC."
    )
    base = f"/incidents/{number}/statements"
    st = demo.call("wolf", "POST", base, json={"purpose": "holding", "channel": "x", "text": text})
    version = st["versions"][-1]
    path = f"{base}/{st['id']}/versions/{version['number']}"
    demo.call("wolf", "POST", f"{path}/submit", json={})
    approval = demo.call("reviewer", "GET", f"{base}/{st['id']}")["versions"][-1]["approval"]
    print(
        f"  submitted v{version['number']} (sha256 {version['hash'][:12]}); approvals needed: "
        f"{', '.join(approval['required_roles'])}; checklist of {len(approval['checklist'])}"
    )
    ticks = [item["id"] for item in approval["checklist"]]
    request = wait_for_text(demo, PHONES["legal"], "needs approval")
    print(f"  SMS to Lena: {request['body']}")
    link = re.search(r"(https?://\S+/r/[A-Za-z0-9_-]{22})", request["body"])
    if link is None:
        raise SystemExit("the approval request carries no link")
    print(f"  Lena on her phone: {approve_by_link(demo, link.group(1), version, ticks)}")
    demo.call(
        "comms",
        "POST",
        f"{path}/approve",
        json={"hash": version["hash"], "comment": "approved as written", "checklist": ticks},
    )
    print("  Colin (comms) approved the exact text through the API")
    demo.call(
        "comms",
        "POST",
        f"{path}/publish",
        json={"hash": version["hash"], "channel": "x", "url": "https://x.example/acme/status/1"},
    )
    print("  Colin published it on x: the published text is the approved text (hash checked)")


if __name__ == "__main__":
    main()
