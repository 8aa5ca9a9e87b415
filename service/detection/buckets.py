"""Per-monitor time buckets and evidence in Redis, written atomically with the dedupe check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from redis import Redis

#: One Lua call per batch: dedupe (per hour of created_at), bucket counters, top-K evidence.
#: The batch travels as one argument, a line per mention with tab-separated fields (packing
#: thousands of separate arguments cost more than the script itself).
#: Atomic, so a mention is either seen-and-counted or neither, however often a batch is retried.
_RECORD = r"""
local prefix, ttl, keep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out, agg, order, hours = {}, {}, {}, {}
local fresh = 0
local first = tonumber(redis.call('GET', prefix .. ':first') or '-1')
local n = 0
for line in string.gmatch(ARGV[4], '[^\n]+') do
  local f, pos0 = {}, 1
  for k = 1, 10 do
    local tab = string.find(line, '\t', pos0, true)
    f[k] = string.sub(line, pos0, tab - 1)
    pos0 = tab + 1
  end
  local hour, member, bucket, neg, pos = f[1], f[2], f[3], f[4], f[5]
  local sent, reach, damage = tonumber(f[6]), tonumber(f[7]), f[8]
  local readable, lang = f[9], f[10]
  local evidence = string.sub(line, pos0)
  n = n + 1
  local seen = prefix .. ':seen:' .. hour
  hours[seen] = true
  if redis.call('SADD', seen, member) == 1 then
    local a = agg[bucket]
    if not a then
      a = {n = 0, neg = 0, pos = 0, sent = 0, reach = 0, nreach = 0, sc = 0, unread = {}, ev = {}}
      agg[bucket] = a
      order[#order + 1] = bucket
    end
    a.n = a.n + 1
    a.sent = a.sent + sent
    a.reach = a.reach + reach
    if neg == '1' then a.neg = a.neg + 1; a.nreach = a.nreach + reach end
    if pos == '1' then a.pos = a.pos + 1 end
    if readable == '1' then
      a.sc = a.sc + 1
    else
      a.unread[lang] = (a.unread[lang] or 0) + 1
    end
    if evidence ~= '' then a.ev[#a.ev + 1] = damage; a.ev[#a.ev + 1] = evidence end
    out[n] = 1
    fresh = fresh + 1
  else
    out[n] = 0
  end
end
for seen in pairs(hours) do redis.call('EXPIRE', seen, ttl) end
for _, bucket in ipairs(order) do
  local a, b = agg[bucket], prefix .. ':b:' .. bucket
  a.total = redis.call('HINCRBY', b, 'n', a.n)
  if a.neg > 0 then
    redis.call('HINCRBY', b, 'neg', a.neg)
    redis.call('HINCRBY', b, 'nreach', a.nreach)
  end
  if a.pos > 0 then redis.call('HINCRBY', b, 'pos', a.pos) end
  if a.sc > 0 then redis.call('HINCRBY', b, 'sc', a.sc) end
  for lang, k in pairs(a.unread) do redis.call('HINCRBY', b, 'u:' .. lang, k) end
  redis.call('HINCRBYFLOAT', b, 'sent', a.sent)
  redis.call('HINCRBY', b, 'reach', a.reach)
  redis.call('EXPIRE', b, ttl)
  if #a.ev > 0 then
    local e = prefix .. ':ev:' .. bucket
    redis.call('ZADD', e, unpack(a.ev))
    redis.call('ZREMRANGEBYRANK', e, 0, -(keep + 1))
    redis.call('EXPIRE', e, ttl)
  end
  if first < 0 or tonumber(bucket) < first then
    first = tonumber(bucket)
    redis.call('SET', prefix .. ':first', bucket)
  end
end
-- the evaluation request rides along (service.detection.due): the monitor waits in the due
-- set (urgent: first in line), its minute in the closing set; the last two elements say
-- whether a drain must be queued now and whether one must be scheduled for the minute's close
local queue, wake = 0, 0
if fresh > 0 and ARGV[5] then
  local due, closing, active, flag, flag_ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  local wk, wk_ttl, member, now, closes = ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]
  redis.call('ZADD', due, 'NX', now, member)
  -- urgent if this batch took a recent minute to the count at which the monitor would fire
  local trip = tonumber(redis.call('HGET', ARGV[15], member) or '')
  if trip then
    local recent = tonumber(closes) - 2 * tonumber(ARGV[17])
    for _, bucket in ipairs(order) do
      if tonumber(bucket) >= recent and agg[bucket].total >= trip then
        local score = tonumber(redis.call('ZSCORE', due, member) or '0')
        local urgent = string.format('%.6f', tonumber(now) - tonumber(ARGV[16]))
        if score >= 0 then redis.call('ZADD', due, urgent, member) end
        break
      end
    end
  end
  redis.call('ZADD', closing, 'GT', closes, member)
  redis.call('ZADD', active, now, member)
  if redis.call('SET', flag, 1, 'NX', 'EX', flag_ttl) then queue = 1 end
  if redis.call('SET', wk, 1, 'NX', 'EX', wk_ttl) then wake = 1 end
end
out[n + 1] = queue
out[n + 2] = wake
return out
"""


#: Reads many buckets in one round trip, answering one compact string (parsing thousands of
#: pipelined replies in redis-py cost ~100 ms for a day of minute buckets).
_FETCH = r"""
local prefix, out = ARGV[1], {}
for start in string.gmatch(ARGV[2], '[^,]+') do
  local key = prefix .. ':b:' .. start
  local v = redis.call('HMGET', key, 'n', 'neg', 'pos', 'sent', 'reach', 'nreach', 'sc')
  if v[1] then
    out[#out + 1] = start .. ',' .. (v[1] or '0') .. ',' .. (v[2] or '0') .. ',' .. (v[3] or '0')
      .. ',' .. (v[4] or '0') .. ',' .. (v[5] or '0') .. ',' .. (v[6] or '0')
      .. ',' .. (v[7] or '0')
  end
end
return table.concat(out, ';')
"""


class Scored(NamedTuple):
    """A valid mention, scored and ready to count."""

    source: str
    source_id: str
    text: str
    author: str | None
    reach: int
    url: str | None
    created_at: datetime
    sentiment: float  # 0.0 when unread
    polarity: int
    readable: bool = True  # a scorer read its language (or the source gave a sentiment)
    language: str = "en"


#: one compact encoder, not one per evidence item (json.dumps with separators builds a new one)
_compact = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True)
class Bucket:
    """Aggregates of one bucket as stored."""

    start: datetime
    count: int
    negative: int
    positive: int
    sentiment_sum: float
    reach: int
    negative_reach: int
    readable: int  # mentions whose sentiment was read (the negative share's denominator)


def damage(m: Scored) -> float:
    """How damaging a mention is: its author's reach times its negativity (an unread mention's
    negativity is unknown: it weighs half, so a far-reaching post in another language shows)."""
    negativity = max(0.0, -m.sentiment) if m.readable else 0.5
    return (m.reach + 1) * negativity


class BucketStore:
    """Reads and writes one Redis database's monitor buckets."""

    def __init__(self, redis: Redis, *, bucket_seconds: int = 60, ttl_seconds: int, keep: int = 25):
        self.redis = redis
        self.bucket_seconds = bucket_seconds
        self.ttl = ttl_seconds
        self.keep = keep
        self._record = redis.register_script(_RECORD)
        self._fetch = redis.register_script(_FETCH)

    @staticmethod
    def prefix(monitor_id: int) -> str:
        """The key prefix of a monitor."""
        return f"fb:m:{monitor_id}"

    def bucket_of(self, at: datetime) -> int:
        """The epoch second a time's bucket starts at."""
        ts = int(at.timestamp())
        return ts - ts % self.bucket_seconds

    def record(self, monitor_id: int, mentions: Sequence[Scored]) -> list[bool]:
        """Count the mentions not seen before; True where one was new."""
        return self.record_and_ask(monitor_id, mentions)[0]

    def record_and_ask(
        self, monitor_id: int, mentions: Sequence[Scored], *, ask: Sequence[str] = ()
    ) -> tuple[list[bool], bool, bool]:
        """Count the mentions; if any was new, ask for an evaluation in the same call (``ask``:
        ``due.ask_arguments``). Answers (new per mention, queue a drain, schedule the close's)."""
        if not mentions:
            return [], False, False
        size = self.bucket_seconds
        stamps = [int(m.created_at.timestamp()) for m in mentions]
        by_bucket: dict[int, list[tuple[float, int]]] = {}
        for i, m in enumerate(mentions):
            if m.polarity < 0 or not m.readable:
                ts = stamps[i]
                by_bucket.setdefault(ts - ts % size, []).append((damage(m), i))
        candidates: set[int] = set()
        for group in by_bucket.values():
            group.sort(key=lambda p: p[0], reverse=True)  # stable: ties keep batch order
            candidates.update(i for _, i in group[: self.keep])
        blake2b = hashlib.blake2b
        lines: list[str] = []
        for i, m in enumerate(mentions):
            ident = blake2b(f"{m.source}\x1f{m.source_id}".encode(), digest_size=12).hexdigest()
            evidence = ""
            if i in candidates:
                evidence = _compact(
                    {
                        "source": m.source,
                        "source_id": m.source_id,
                        "text": m.text[:280],
                        "author": m.author,
                        "reach": m.reach,
                        "url": m.url,
                        "created_at": m.created_at.astimezone(UTC).isoformat(),
                        "sentiment": round(m.sentiment, 4) if m.readable else None,
                        "lang": m.language,
                    }
                )
            ts = stamps[i]
            lines.append(
                f"{ts - ts % 3600}\t{ident}\t{ts - ts % size}\t"
                f"{int(m.polarity < 0)}\t{int(m.polarity > 0)}\t{m.sentiment!r}\t{m.reach}\t"
                f"{damage(m)!r}\t{int(m.readable)}\t{m.language}\t{evidence}"
            )
        args = [
            self.prefix(monitor_id),
            self.ttl,
            self.keep,
            "\n".join(lines),
            *ask,
        ]
        *flags, queue, wake = self._record(args=args)  # type: ignore[arg-type]
        return [bool(x) for x in flags], bool(queue), bool(wake)

    def fetch(self, monitor_id: int, starts: Iterable[int]) -> list[Bucket]:
        """The buckets at these start times (zeros where none was written)."""
        starts = list(starts)
        raw = self._fetch(args=[self.prefix(monitor_id), ",".join(map(str, starts))])
        return self.parse(raw, starts)

    def fetch_on(self, pipe: Redis, monitor_id: int, starts: Iterable[int]) -> None:
        """Queue ``fetch`` on a pipeline (its reply goes to ``parse``)."""
        # EVAL, not EVALSHA: a pipeline with registered scripts asks SCRIPT EXISTS first (one
        # more round trip per batch); Redis compiles the text once and keeps it by its SHA
        pipe.eval(_FETCH, 0, self.prefix(monitor_id), ",".join(map(str, starts)))

    @staticmethod
    def rows(raw: bytes | str | None) -> dict[int, list[str]]:
        """The written buckets of a fetch reply by start: start, n, neg, pos, sent, reach,
        nreach, sc (as text)."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        found: dict[int, list[str]] = {}
        for row in text.split(";") if text else ():
            fields = row.split(",")
            found[int(fields[0])] = fields
        return found

    @staticmethod
    def parse(raw: bytes | str | None, starts: Iterable[int]) -> list[Bucket]:
        """The buckets of a fetch reply, in the order of ``starts`` (zeros where none)."""
        found = BucketStore.rows(raw)
        out = []
        for s in starts:
            f = found.get(s)
            out.append(
                Bucket(
                    start=datetime.fromtimestamp(s, UTC),
                    count=int(f[1]) if f else 0,
                    negative=int(f[2]) if f else 0,
                    positive=int(f[3]) if f else 0,
                    sentiment_sum=float(f[4]) if f else 0.0,
                    reach=int(f[5]) if f else 0,
                    negative_reach=int(f[6]) if f else 0,
                    readable=int(f[7]) if f else 0,
                )
            )
        return out

    def unread_languages(self, monitor_id: int, starts: Iterable[int]) -> dict[str, int]:
        """How many mentions of each language no scorer could read, in these buckets."""
        prefix = self.prefix(monitor_id)
        pipe = self.redis.pipeline(transaction=False)
        for s in starts:
            pipe.hgetall(f"{prefix}:b:{s}")
        out: dict[str, int] = {}
        for fields in pipe.execute():
            for key, value in fields.items():
                name = key.decode() if isinstance(key, bytes) else str(key)
                if name.startswith("u:"):
                    out[name[2:]] = out.get(name[2:], 0) + int(value)
        return out

    def first_bucket(self, monitor_id: int) -> int | None:
        """The earliest bucket ever recorded for the monitor (when its data starts)."""
        raw = self.redis.get(f"{self.prefix(monitor_id)}:first")
        return int(raw) if raw is not None else None

    def evidence(self, monitor_id: int, starts: Iterable[int], *, limit: int = 10) -> list[dict]:
        """The most damaging mentions in these buckets, worst first."""
        prefix = self.prefix(monitor_id)
        pipe = self.redis.pipeline(transaction=False)
        for s in starts:
            pipe.zrevrange(f"{prefix}:ev:{s}", 0, limit - 1, withscores=True)
        scored = [(score, json.loads(member)) for rows in pipe.execute() for member, score in rows]
        scored.sort(key=lambda p: p[0], reverse=True)
        out, texts = [], set()
        for score, item in scored:  # one entry per text: retweets of one post are one piece
            key = item["text"].removeprefix("RT ").strip().lower()
            if key not in texts:
                texts.add(key)
                out.append({**item, "damage": round(score, 2)})
            if len(out) == limit:
                break
        return out
