"""Which monitors wait for an evaluation, in Redis: asked for by ingest, claimed in batches.

An evaluation of a quiet monitor costs well under a millisecond of model work; as one RQ job per
monitor it cost several (the job's own bookkeeping, a transaction, four round trips). So
monitors wait in sorted sets and a drain job claims them in batches (one round trip for all the
states, one for all the buckets, one for all the saves):

* ``DUE_KEY``: monitors with new mentions (or found stale by the sweep), scored by when they
  were asked for; a monitor waits there once however many batches arrive meanwhile.
* ``CLOSING_KEY``: monitors whose current minute has mentions, scored by when that minute
  closes; judged ``CLOSE_DELAY_SECONDS`` after, unless an evaluation since has judged it.
* ``CLAIMED_KEY``: monitors being evaluated, scored by the claim; a claim older than
  ``LEASE_SECONDS`` (its worker died) goes back to the due set, so nothing asked for is lost.
* ``TRIP_KEY``: per monitor, the count in one minute at which its last evaluation found that
  it would fire (``MonitorModel.trip_count``). A batch that takes a recent minute to it makes
  the monitor **urgent**: its due score becomes negative (asked-for time minus
  ``URGENT_OFFSET``), and a drain's next batch takes urgent monitors first (up to half of it),
  so a spike is judged within a batch or two however many monitors wait.
* ``DRAIN_FLAG``: a drain job is queued or running; whoever sets it queues one, and the drain
  clears it when nothing is left (then looks once more, for monitors asked for meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from redis import Redis

DUE_KEY = "fb:detect-due"
CLOSING_KEY = "fb:detect-closing"
CLAIMED_KEY = "fb:detect-claimed"
DRAIN_FLAG = "fb:detect-drain-queued"
#: monitors with mentions in the last hours (the sweep's list), scored by the last mention batch
ACTIVE_KEY = "fb:detect-active"
#: when each monitor was last evaluated (a sorted set)
EVALUATED_KEY = "fb:detect-evaluated"
#: each monitor's trip count (a hash written with the states)
TRIP_KEY = "fb:detect-trip"
#: an urgent monitor's due score is its asked-for time minus this (negative: first in line)
URGENT_OFFSET = float(2**40)
#: how long a queued drain's flag lives: if its job was lost, the next batch queues another
DRAIN_FLAG_TTL_SECONDS = 10
#: a minute is judged this long after it closes (late writes settle), if the evaluation after
#: its last mention found that its close could fire
CLOSE_DELAY_SECONDS = 1.0
#: a claim older than this is a dead worker's: the monitor is due again
LEASE_SECONDS = 60.0
#: an evaluation that failed is due again this much later (the sweep queues its drain)
RETRY_SECONDS = 10.0
#: the seconds-waited histogram of evaluations (a Redis hash of cumulative bucket counts)
WAITS_KEY = "fb:metrics:detect-waits"
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def wake_key(closes_at: int) -> str:
    """The flag saying a drain is scheduled for the minute closing at ``closes_at``."""
    return f"fb:detect-close-wake:{closes_at}"


def asked_at(score: float) -> float:
    """When a monitor was asked for, from its due score (an urgent one's is offset)."""
    return score + URGENT_OFFSET if score < 0 else score


def ask_arguments(
    monitor_id: int, *, now: datetime, closes_at: int, bucket_seconds: int
) -> list[str]:
    """What the bucket store's record script needs to ask for an evaluation in the same call
    that counts the mentions (a retried batch is all duplicates, so asking later could be lost),
    and to make the monitor urgent if a recent minute reached its trip count."""
    return [
        DUE_KEY,
        CLOSING_KEY,
        ACTIVE_KEY,
        DRAIN_FLAG,
        str(DRAIN_FLAG_TTL_SECONDS),
        wake_key(closes_at),
        "120",
        str(monitor_id),
        repr(now.timestamp()),
        str(closes_at),
        TRIP_KEY,
        repr(URGENT_OFFSET),
        str(bucket_seconds),
    ]


#: claim up to ARGV[2] monitors: dead workers' claims first come back; then urgent monitors
#: (negative scores; at most half the batch, so a surge on many monitors cannot starve the
#: others), then the due set oldest first, then minutes closed at least ARGV[4] s ago (dropped
#: if evaluated since they closed); a monitor being evaluated stays where it is. Answers
#: id, asked-at pairs.
_CLAIM = r"""
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local lease, delay, offset = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - lease)) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], 'NX', now - lease, id)
end
local out, taken = {}, 0
local function take(id, asked)
  if redis.call('ZSCORE', KEYS[3], id) then return false end
  redis.call('ZADD', KEYS[3], now, id)
  out[#out + 1] = id
  out[#out + 1] = asked
  taken = taken + 1
  return true
end
local function asked(score)
  local s = tonumber(score)
  if s < 0 then s = s + offset end
  return string.format('%.6f', s)
end
local function take_from(list, upto)
  for i = 1, #list, 2 do
    if taken >= upto then break end
    if list[i] and take(list[i], asked(list[i + 1])) then redis.call('ZREM', KEYS[1], list[i]) end
    list[i] = false
  end
end
local urgent = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(0', 'WITHSCORES', 'LIMIT', 0, limit)
take_from(urgent, math.max(math.floor(limit / 2), 1))
take_from(redis.call('ZRANGEBYSCORE', KEYS[1], 0, now, 'WITHSCORES', 'LIMIT', 0, 2 * limit), limit)
take_from(urgent, limit)
if taken < limit then
  local closing = redis.call(
    'ZRANGEBYSCORE', KEYS[2], '-inf', now - delay, 'WITHSCORES', 'LIMIT', 0, 2 * limit)
  for i = 1, #closing, 2 do
    if taken >= limit then break end
    local id, closed = closing[i], tonumber(closing[i + 1])
    local seen = tonumber(redis.call('ZSCORE', KEYS[4], id) or '-1')
    if seen >= closed or take(id, tostring(closed + delay)) then
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
return out
"""


@dataclass(frozen=True)
class Claim:
    """Monitors claimed for one batch of evaluations, with when each was asked for."""

    at: float
    asked: dict[int, float]

    @property
    def monitor_ids(self) -> list[int]:
        """The claimed monitors, longest waiting first."""
        return list(self.asked)

    def waits(self) -> list[float]:
        """Seconds each monitor waited between being asked for and being claimed."""
        return [max(self.at - asked, 0.0) for asked in self.asked.values()]


def claim(redis: Redis, *, now: datetime, limit: int) -> Claim:
    """Claim up to ``limit`` monitors due for an evaluation (closed minutes included)."""
    script = redis.register_script(_CLAIM)
    at = now.timestamp()
    raw = script(
        keys=[DUE_KEY, CLOSING_KEY, CLAIMED_KEY, EVALUATED_KEY],
        args=[repr(at), limit, LEASE_SECONDS, CLOSE_DELAY_SECONDS, repr(URGENT_OFFSET)],
    )
    pairs = [x.decode() if isinstance(x, bytes) else str(x) for x in raw]
    return Claim(at=at, asked={int(pairs[i]): float(pairs[i + 1]) for i in range(0, len(pairs), 2)})


def release(pipe: Redis, monitor_ids: Iterable[int], waits: Sequence[float] = ()) -> None:
    """Drop the claims (on ``pipe``, with the states' saves) and count the waits."""
    ids = [str(i) for i in monitor_ids]
    if ids:
        pipe.zrem(CLAIMED_KEY, *ids)
    counts: dict[str, int] = {}
    for wait in waits:
        for bound in (*WAIT_BUCKETS, float("inf")):
            if wait <= bound:
                label = "+Inf" if bound == float("inf") else repr(bound)
                counts[label] = counts.get(label, 0) + 1
        counts["count"] = counts.get("count", 0) + 1
    for field, n in counts.items():
        pipe.hincrby(WAITS_KEY, field, n)
    if waits:
        pipe.hincrbyfloat(WAITS_KEY, "sum", sum(waits))


#: drop members' closing entries that are not later than ARGV[1] (a later one is a new minute's)
_SETTLE = r"""
local latest = tonumber(ARGV[1])
for i = 2, #ARGV do
  local closes = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if closes and tonumber(closes) <= latest then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 0
"""


def settle(pipe: Redis, monitor_ids: Sequence[int], *, closes_at: int) -> None:
    """The evaluation found these monitors' current minutes would not fire at their close as
    they are: drop those closes (on ``pipe``); a mention arriving later asks again."""
    if monitor_ids:  # EVAL: see BucketStore.fetch_on
        pipe.eval(_SETTLE, 1, CLOSING_KEY, closes_at, *monitor_ids)


def ask(redis: Redis, monitor_ids: Iterable[int], *, now: datetime, after: float = 0.0) -> int:
    """Put monitors in the due set (where not already waiting), due ``after`` seconds from
    ``now``; how many were added."""
    mapping = {str(i): now.timestamp() + after for i in monitor_ids}
    return int(redis.zadd(DUE_KEY, mapping, nx=True) or 0) if mapping else 0


def take_drain_flag(redis: Redis) -> bool:
    """Set the drain flag if unset: True means the caller must queue a drain."""
    return bool(redis.set(DRAIN_FLAG, 1, nx=True, ex=DRAIN_FLAG_TTL_SECONDS))


def keep_drain_flag(redis: Redis) -> None:
    """Renew the drain flag (a drain hands over to its successor)."""
    redis.set(DRAIN_FLAG, 1, ex=DRAIN_FLAG_TTL_SECONDS)


def ready(redis: Redis, *, now: datetime) -> bool:
    """Whether any monitor is due now (asked for, or its minute's close has settled)."""
    pipe = redis.pipeline(transaction=False)
    pipe.zcount(DUE_KEY, "-inf", now.timestamp())
    pipe.zcount(CLOSING_KEY, "-inf", now.timestamp() - CLOSE_DELAY_SECONDS)
    return any(int(n) for n in pipe.execute())


def backlog(redis: Redis, *, now: datetime) -> tuple[int, float]:
    """Monitors waiting (due, minutes closed, claimed), and how long the oldest due has waited."""
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(DUE_KEY)
    pipe.zcount(CLOSING_KEY, "-inf", now.timestamp() - CLOSE_DELAY_SECONDS)
    pipe.zcard(CLAIMED_KEY)
    pipe.zrange(DUE_KEY, 0, 0, withscores=True)  # the first urgent one, if any
    pipe.zrangebyscore(DUE_KEY, 0, "+inf", start=0, num=1, withscores=True)
    due, closing, claimed, first, first_plain = pipe.execute()
    asked = [asked_at(float(score)) for _member, score in (*first, *first_plain)]
    age = max(now.timestamp() - min(asked), 0.0) if asked else 0.0
    return int(due) + int(closing) + int(claimed), age
