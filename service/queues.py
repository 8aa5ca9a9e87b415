"""RQ queues by purpose, all with the JSON serializer."""

from __future__ import annotations

from enum import StrEnum

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer


class QueueName(StrEnum):
    """RQ queues, named by purpose; workers listen in this order (first = most urgent)."""

    SMS = "sms"
    ESCALATIONS = "escalations"
    INCIDENTS = "incidents"
    DETECT = "detect"
    DEFAULT = "default"


ALL_QUEUES = tuple(QueueName)


def queue(name: QueueName, connection: Redis) -> Queue:
    """The RQ queue for a purpose."""
    return Queue(name.value, connection=connection, serializer=JSONSerializer)
