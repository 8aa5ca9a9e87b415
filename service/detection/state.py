"""Each monitor's detector state in Redis: folded forward bucket by bucket, rebuilt when lost.

An evaluation costs the same whatever the monitor's history: it reads the state (a few KB),
the buckets of the sliding windows (late mentions correct them) plus any closed since the last
evaluation, and the current bucket. Only when the state is missing (a new monitor, Redis
flushed, the settings changed) is it rebuilt from up to 8 days of stored buckets.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from service.detection import due, engine
from service.detection.buckets import Bucket, BucketStore
from service.detection.due import TRIP_KEY

log = logging.getLogger(__name__)

#: the state outlives the buckets it summarises by a day (then a rebuild finds none)
STATE_TTL_SECONDS = int(engine.REBUILD_SECONDS) + 86_400
#: rebuilds asked for by late history, per monitor, are paid from a budget counted in buckets
#: replayed: worth LATE_REBUILDS rebuilds of the full 8 days, refilled at one full rebuild per
#: LATE_REFILL_SECONDS. A backfill on a new monitor (hours of history, sent oldest first in
#: many batches) replays a few hundred buckets a batch, so every batch is learnt at once; a
#: tool that keeps sending hours-late stragglers to a monitor with days of history costs one
#: full rebuild a minute once the budget is spent, never one per batch
LATE_REBUILDS = 10
LATE_REFILL_SECONDS = 60
_LATE_BUDGET = """
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, per_second = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local since = now - (tonumber(t[2]) or now)
local tokens = math.min(cap, (tonumber(t[1]) or cap) + since * per_second)
local wait = 0
if tokens < cost then wait = (cost - tokens) / per_second else tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / per_second))
return tostring(wait)
"""


@dataclass(frozen=True)
class Observation:
    """What one evaluation saw: the buckets closed since the last one, and the current one."""

    closed: list[engine.Assessment]
    current: engine.Assessment
    model: engine.MonitorModel
    rebuilt: bool
    #: whether the current bucket would fire when it closes if nothing more arrived (if not,
    #: its close needs no evaluation of its own: more mentions ask for one anyway)
    close_fires: bool = True

    @property
    def opening(self) -> engine.Assessment | None:
        """The assessment where an incident opens (closed buckets first), if any."""
        return next((a for a in (*self.closed, self.current) if a.opens), None)

    @property
    def firing(self) -> engine.Assessment | None:
        """The most recent assessment that fires, if any (for an open incident's update)."""
        return next((a for a in (self.current, *reversed(self.closed)) if a.fire), None)


def state_key(monitor_id: int) -> str:
    """The Redis key of a monitor's detector state."""
    return f"fb:detect-state:{monitor_id}"


def stale_key(monitor_id: int) -> str:
    """The Redis flag saying history arrived late (a backfill) for buckets the state had
    already folded in, as they were then: the state must be rebuilt from the buckets."""
    return f"fb:detect-stale:{monitor_id}"


def mark_stale(redis: Redis, monitor_id: int) -> None:
    """Ask the next evaluation to rebuild the monitor's state from its buckets."""
    redis.set(stale_key(monitor_id), 1, ex=STATE_TTL_SECONDS)


def aggregate(bucket: Bucket) -> engine.BucketAgg:
    """A stored bucket as the detector's aggregate."""
    return engine.BucketAgg(
        start=bucket.start,
        count=bucket.count,
        negative=bucket.negative,
        sentiment_sum=bucket.sentiment_sum,
        reach=bucket.reach,
        scorable=bucket.readable,
    )


class ModelStore:
    """Loads, folds forward, and saves monitors' detector states."""

    def __init__(self, redis: Redis, buckets: BucketStore) -> None:
        self.redis = redis
        self.buckets = buckets

    def load(
        self, monitor_id: int, config: engine.DetectorConfig, now: datetime
    ) -> tuple[engine.MonitorModel, bool]:
        """The saved state, or one rebuilt from the stored buckets; (model, rebuilt).

        A state is also rebuilt when history older than its sliding windows arrived after it
        folded those buckets in (they were empty then, and it learnt them as silence), within
        a budget of rebuilds per monitor.
        """
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(state_key(monitor_id))
        pipe.exists(stale_key(monitor_id))
        raw, stale = pipe.execute()  # one round trip on every evaluation
        if raw is None:
            if stale:  # a rebuild reads all the history there is
                self.redis.delete(stale_key(monitor_id))
        elif stale and self._late_history(monitor_id, config, now):
            log.info("rebuilding the detector state of monitor %s: late history", monitor_id)
            raw = None
        if raw is not None:
            try:
                return engine.MonitorModel.from_dict(json.loads(raw), config), False
            except (ValueError, KeyError, TypeError) as exc:
                log.info("rebuilding the detector state of monitor %s: %s", monitor_id, exc)
        return self.rebuild(monitor_id, config, now), True

    def _late_history(self, monitor_id: int, config: engine.DetectorConfig, now: datetime) -> bool:
        """Whether the late-history flag may be honoured now (the budget pays for the buckets
        the rebuild replays); if not, the flag stays and the monitor is asked for again once
        the budget allows it."""
        b = config.bucket_seconds
        full = int(engine.REBUILD_SECONDS) // b
        cost = len(self._rebuild_span(monitor_id, config, now))
        wait = float(
            self.redis.eval(
                _LATE_BUDGET,
                1,
                f"fb:detect-late-rebuilds:{monitor_id}",
                now.timestamp(),
                cost,
                LATE_REBUILDS * full,
                full / LATE_REFILL_SECONDS,
            )
        )
        if wait > 0:
            due.ask(self.redis, [monitor_id], now=now, after=wait)
            return False
        return bool(self.redis.delete(stale_key(monitor_id)))

    def rebuild(
        self, monitor_id: int, config: engine.DetectorConfig, now: datetime
    ) -> engine.MonitorModel:
        """A state replayed from the closed buckets of the last 8 days (from the first one),
        up to an hour ago: `observe` folds the last hour itself, so a surge in it still opens
        (a replay would only have marked its episode as open)."""
        stored = self.buckets.fetch(monitor_id, self._rebuild_span(monitor_id, config, now))
        return engine.rebuild([aggregate(x) for x in stored], config)

    def _rebuild_span(self, monitor_id: int, config: engine.DetectorConfig, now: datetime) -> range:
        """The bucket starts a rebuild replays: from the monitor's first bucket (at most 8 days
        back) to an hour ago."""
        b = config.bucket_seconds
        current = int(now.timestamp()) // b * b
        recent = current - config.max_window_seconds
        first = self.buckets.first_bucket(monitor_id)
        lo = max(current - int(engine.REBUILD_SECONDS), first if first is not None else current)
        return range(lo - lo % b, recent, b)

    def observe(self, monitor_id: int, config: engine.DetectorConfig, now: datetime) -> Observation:
        """Fold in the buckets closed since the last evaluation, then assess the current one."""
        model, rebuilt = self.load(monitor_id, config, now)
        lo, current = self._span(monitor_id, model, now)
        b = model.config.bucket_seconds
        written = {
            int(x.start.timestamp()): aggregate(x)
            for x in self.buckets.fetch(monitor_id, range(lo, current + b, b))
            if x.count
        }
        return _fold(model, lo, current, written, now, rebuilt=rebuilt)

    def observe_many(
        self, configs: Mapping[int, engine.DetectorConfig], now: datetime
    ) -> dict[int, Observation]:
        """``observe`` for many monitors: one round trip for their states, one for their
        buckets (a monitor whose state must be rebuilt, or is new, takes the single path)."""
        ids = list(configs)
        pipe = self.redis.pipeline(transaction=False)
        for monitor_id in ids:
            pipe.get(state_key(monitor_id))
            pipe.exists(stale_key(monitor_id))
        raw = pipe.execute()
        ready: dict[int, engine.MonitorModel] = {}
        for i, monitor_id in enumerate(ids):
            state, stale = raw[2 * i], raw[2 * i + 1]
            if state is None or stale:
                continue
            try:
                model = engine.MonitorModel.from_dict(json.loads(state), configs[monitor_id])
            except (ValueError, KeyError, TypeError):
                continue
            if model.last is not None:
                ready[monitor_id] = model
        pipe = self.redis.pipeline(transaction=False)
        spans = {}
        for monitor_id, model in ready.items():
            lo, current = spans[monitor_id] = self._span(monitor_id, model, now)
            b = model.config.bucket_seconds
            self.buckets.fetch_on(pipe, monitor_id, range(lo, current + b, b))
        fetched = pipe.execute()
        out = {}
        for (monitor_id, model), reply in zip(ready.items(), fetched, strict=True):
            lo, current = spans[monitor_id]
            b = model.config.bucket_seconds
            written = {start: _agg(fields) for start, fields in self.buckets.rows(reply).items()}
            out[monitor_id] = _fold(model, lo, current, written, now, rebuilt=False)
        for monitor_id in ids:
            if monitor_id not in out:
                out[monitor_id] = self.observe(monitor_id, configs[monitor_id], now)
        return out

    def _span(self, monitor_id: int, model: engine.MonitorModel, now: datetime) -> tuple[int, int]:
        """The first bucket an evaluation reads, and the current bucket's start."""
        b = model.config.bucket_seconds
        current = int(now.timestamp()) // b * b
        oldest = current - int(engine.REBUILD_SECONDS)
        last = model.last
        if last is None:  # nothing folded yet: from the monitor's first bucket, if any
            first = self.buckets.first_bucket(monitor_id)
            lo = max(first - first % b, oldest) if first is not None else current
            return min(lo, current), current
        # the sliding windows' buckets (late mentions correct them) and any new ones
        return max(last - (len(model.ring) - 1) * b, oldest), current

    def save(
        self,
        monitor_id: int,
        model: engine.MonitorModel,
        *,
        evaluated: tuple[str, datetime] | None = None,
    ) -> None:
        """Keep the state for the next evaluation (and note when, in a sorted set, if asked)."""
        pipe = self.redis.pipeline(transaction=False)
        self.save_on(pipe, monitor_id, model, evaluated=evaluated)
        pipe.execute()

    @staticmethod
    def save_on(
        pipe: Redis,
        monitor_id: int,
        model: engine.MonitorModel,
        *,
        evaluated: tuple[str, datetime] | None = None,
    ) -> None:
        """Queue the state's save on a pipeline (several monitors' in one round trip)."""
        pipe.set(state_key(monitor_id), json.dumps(model.to_dict()), ex=STATE_TTL_SECONDS)
        trip = model.trip_count()  # ingest compares a minute's count with it (due.TRIP_KEY)
        if math.isfinite(trip):
            pipe.hset(TRIP_KEY, str(monitor_id), f"{trip:.3f}")
        else:
            pipe.hdel(TRIP_KEY, str(monitor_id))
        if evaluated is not None:
            pipe.zadd(evaluated[0], {str(monitor_id): evaluated[1].timestamp()})

    def forget(self, monitor_id: int) -> None:
        """Drop the state (it is rebuilt from the buckets at the next evaluation)."""
        self.redis.delete(state_key(monitor_id))


def _agg(fields: list[str]) -> engine.BucketAgg:
    """A fetch reply's row as the detector's aggregate."""
    return engine.BucketAgg(
        start=datetime.fromtimestamp(int(fields[0]), UTC),
        count=int(fields[1]),
        negative=int(fields[2]),
        sentiment_sum=float(fields[4]),
        reach=int(fields[5]),
        scorable=int(fields[7]),
    )


def _fold(
    model: engine.MonitorModel,
    lo: int,
    current: int,
    written: dict[int, engine.BucketAgg],
    now: datetime,
    *,
    rebuilt: bool,
) -> Observation:
    """Correct the sliding windows, fold the closed buckets in, assess the current one.

    ``written`` holds the buckets from ``lo`` to ``current`` that have mentions (the others
    are empty: counts only grow, so an empty bucket never corrects a remembered one)."""
    b = model.config.bucket_seconds
    last = model.last

    def at(start: int) -> engine.BucketAgg:
        agg = written.get(start)
        return agg if agg is not None else engine.BucketAgg(datetime.fromtimestamp(start, UTC))

    if last is not None:
        model.refresh({start: agg for start, agg in written.items() if start <= last})
    closed = [
        model.update(at(start)) for start in range(lo, current, b) if last is None or start > last
    ]
    close_fires = model.at_close(at(current)).fire
    return Observation(
        closed=closed,
        current=model.assess(now, at(current)),
        model=model,
        rebuilt=rebuilt,
        close_fires=close_fires,
    )
