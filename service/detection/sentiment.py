"""Sentiment scoring: a pluggable scorer per language, VADER for English, cached per lexicon.

A mention is *read* when a scorer exists for its language (or its source gave a sentiment);
anything else is unread: it counts as a mention but never in the negative share.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple, Protocol, runtime_checkable

from service.detection.language import language_of

#: a text's language and sentiment are read from its first this many characters: VADER's cost
#: grows faster than the text (3,000 characters: 18 ms; 30,000: 1.1 s; 100,000: 12 s)
READ_CHARS = 3000
#: VADER's published cut-offs on the compound score.
NEGATIVE_AT_MOST = -0.05
POSITIVE_AT_LEAST = 0.05


def polarity(score: float) -> int:
    """-1 negative, 0 neutral, +1 positive, by VADER's thresholds."""
    if score <= NEGATIVE_AT_MOST:
        return -1
    if score >= POSITIVE_AT_LEAST:
        return 1
    return 0


@runtime_checkable
class SentimentScorer(Protocol):
    """Anything that scores a text from -1 (most negative) to +1 (most positive)."""

    def score(self, text: str, *, lexicon: Mapping[str, float] | None = None) -> float:
        """The sentiment of `text`, with optional per-monitor lexicon adjustments."""
        ...


def lexicon_key(lexicon: Mapping[str, float] | None) -> str:
    """A stable short key for a set of lexicon adjustments ('' for none)."""
    if not lexicon:
        return ""
    canonical = json.dumps(sorted((k.lower(), float(v)) for k, v in lexicon.items()))
    return hashlib.sha1(canonical.encode()).hexdigest()[:12]


class _LRU:
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: object) -> object | None:
        with self.lock:
            value = self.data.get(key)
            if value is None:
                self.misses += 1
                return None
            self.data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: object, value: object) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


class VaderScorer:
    """VADER's compound score; repeated texts (retweets) are scored once (an LRU cache)."""

    def __init__(self, cache_size: int = 50_000) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._base = SentimentIntensityAnalyzer()
        self._analyzers = _LRU(64)
        self.cache = _LRU(cache_size)

    def _analyzer(self, key: str, lexicon: Mapping[str, float] | None):  # noqa: ANN202
        if not key:
            return self._base
        analyzer = self._analyzers.get(key)
        if analyzer is None:
            analyzer = copy.copy(self._base)
            analyzer.lexicon = {**self._base.lexicon}
            analyzer.lexicon.update({k.lower(): float(v) for k, v in (lexicon or {}).items()})
            self._analyzers.put(key, analyzer)
        return analyzer

    def score(self, text: str, *, lexicon: Mapping[str, float] | None = None) -> float:
        """VADER compound score in [-1, 1]."""
        key = lexicon_key(lexicon)
        cached = self.cache.get((key, text))
        if cached is not None:
            return cached  # type: ignore[return-value]
        value = float(self._analyzer(key, lexicon).polarity_scores(text)["compound"])
        self.cache.put((key, text), value)
        return value


_default: SentimentScorer | None = None
_default_lock = threading.Lock()


def default_scorer() -> SentimentScorer:
    """The process-wide scorer (VADER unless a deployment installed another)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = VaderScorer()
        return _default


def install_scorer(scorer: SentimentScorer) -> None:
    """Swap the scorer (e.g. a model a deployment prefers)."""
    global _default
    if not isinstance(scorer, SentimentScorer):
        raise TypeError("scorer must implement score(text, *, lexicon=None) -> float")
    with _default_lock:
        _default = scorer


class Reading(NamedTuple):
    """What could be read of a mention: its sentiment (None: no scorer reads its language)."""

    sentiment: float | None
    language: str


_scorers: dict[str, SentimentScorer] = {}


def install_language_scorer(language: str, scorer: SentimentScorer) -> None:
    """Score another language with `scorer` (English is the default scorer's)."""
    if not isinstance(scorer, SentimentScorer):
        raise TypeError("scorer must implement score(text, *, lexicon=None) -> float")
    with _default_lock:
        _scorers[language] = scorer


def read(text: str, *, lexicon: Mapping[str, float] | None = None) -> Reading:
    """The language and, if a scorer reads that language, the sentiment of the text's first
    READ_CHARS characters."""
    text = text[:READ_CHARS]
    language = language_of(text)
    scorer = default_scorer() if language == "en" else _scorers.get(language)
    if scorer is None:
        return Reading(None, language)
    # the monitor's lexicon adjusts English words; other scorers get it to use as they can
    return Reading(scorer.score(text, lexicon=lexicon), language)
