"""A scrapy-redis queue whose requests are leased, not popped.

scrapy-redis's own queues pop a request for good: a worker killed right
after loses it. Here a pop moves the request into a lease held by the worker
(``<key>:leases``, a sorted set by deadline, and ``<key>:owners``). The
worker renews its leases with its heartbeat and acknowledges a request once
its callback or errback, the items it yielded and the requests it scheduled
are all done (crawler.distributed.scheduler). A lease whose deadline passes
(its worker died, or hung past ``REDIS_LEASE_TIMEOUT``) is put back in the
queue by the next pop, anywhere, and done again by another worker, once.

Layout under ``key``: ``:pending`` (sorted set: score ``-priority``, members
are zero-padded sequence numbers, so equal priorities come out first in,
first out), ``:data`` and ``:score`` (hashes by member), ``:seq``, and
``:once`` (the start requests pushed already). Every step is one Lua script,
so workers never see a request half moved. Time is the Redis server's, so
the workers' clocks do not matter.
"""

from __future__ import annotations

from scrapy_redis.queue import Base

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: seq data score pending once; ARGV: encoded request, score, once member ('' for none)
_PUSH = """
if ARGV[3] ~= '' and redis.call('SADD', KEYS[5], ARGV[3]) == 0 then return 0 end
local id = string.format('%012d', redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('HSET', KEYS[3], id, ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[2], id)
return 1
"""

# KEYS: pending data score leases owners; ARGV: worker, lease ms
_POP = _NOW + """
local reclaimed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[3], id) or 0, id)
  reclaimed = reclaimed + 1
end
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return {reclaimed} end
local id = popped[1]
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), id)
redis.call('HSET', KEYS[5], id, ARGV[1])
return {reclaimed, id, redis.call('HGET', KEYS[2], id)}
"""

# KEYS: data score leases owners pending; ARGV: worker, action, lease ms, ids...
# action 'ack': done, forget it; 'release': back in the queue now; 'extend': renew.
# Returns the ids this worker no longer held (their lease ran out and was taken back).
_SETTLE = _NOW + """
local lost = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[4], id) == ARGV[1] then
    if ARGV[2] == 'extend' then
      redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[3]), id)
    else
      redis.call('ZREM', KEYS[3], id)
      redis.call('HDEL', KEYS[4], id)
      if ARGV[2] == 'release' then
        redis.call('ZADD', KEYS[5], redis.call('HGET', KEYS[2], id) or 0, id)
      else
        redis.call('HDEL', KEYS[1], id)
        redis.call('HDEL', KEYS[2], id)
      end
    end
  else
    table.insert(lost, id)
  end
end
return lost
"""


class LeasedQueue(Base):
    """Priority queue with leases (``SCHEDULER_QUEUE_CLASS``).

    ``pop`` returns the request and keeps its lease id in ``last_id``;
    ``ack``, ``release`` and ``extend`` take lease ids.
    """

    def __init__(self, server, spider, key, serializer=None, worker: str = "", lease_ms: int = 60_000):
        super().__init__(server, spider, key, serializer)
        self.worker = worker
        self.lease_ms = int(lease_ms)
        self.reclaimed = 0  # leases this worker put back in the queue
        self.last_id: str | None = None
        self._push = server.register_script(_PUSH)
        self._pop = server.register_script(_POP)
        self._settle = server.register_script(_SETTLE)

    def sub(self, name: str) -> str:
        return f"{self.key}:{name}"

    def __len__(self) -> int:
        """Requests waiting (not those leased out)."""
        return self.server.zcard(self.sub("pending"))

    def leased(self) -> int:
        return self.server.zcard(self.sub("leases"))

    def push(self, request, once: str | None = None) -> bool:
        """Queue ``request``; with ``once``, only if no request was pushed
        under that name before in this run (False then)."""
        keys = [self.sub("seq"), self.sub("data"), self.sub("score"), self.sub("pending"), self.sub("once")]
        return bool(self._push(keys=keys, args=[self._encode_request(request), -request.priority, once or ""]))

    def pop(self, timeout=0):
        """Lease the next request to this worker, after putting back every
        lease that ran out."""
        keys = [self.sub("pending"), self.sub("data"), self.sub("score"), self.sub("leases"), self.sub("owners")]
        result = self._pop(keys=keys, args=[self.worker, self.lease_ms])
        self.reclaimed += int(result[0])
        self.last_id = None
        if len(result) < 3:
            return None
        self.last_id = result[1].decode() if isinstance(result[1], bytes) else result[1]
        return self._decode_request(result[2])

    def _apply(self, action: str, ids) -> list[str]:
        ids = list(ids)
        if not ids:
            return []
        keys = [self.sub("data"), self.sub("score"), self.sub("leases"), self.sub("owners"), self.sub("pending")]
        lost = self._settle(keys=keys, args=[self.worker, action, self.lease_ms, *ids])
        return [x.decode() if isinstance(x, bytes) else x for x in lost]

    def ack(self, ids) -> list[str]:
        """The requests are done. Returns those whose lease was lost meanwhile."""
        return self._apply("ack", ids)

    def release(self, ids) -> list[str]:
        """Put unfinished requests back in the queue now (a worker stopping)."""
        return self._apply("release", ids)

    def extend(self, ids) -> list[str]:
        """Renew the leases (the heartbeat). Returns those lost."""
        return self._apply("extend", ids)

    def clear(self) -> None:
        self.server.delete(*(self.sub(n) for n in ("pending", "data", "score", "leases", "owners", "seq", "once")))
