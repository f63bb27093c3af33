"""Keys expire against one fixed time for the whole of EXEC and of a script, as in Redis 7.0
(call()'s fixed_time_expire, scriptTimeSnapshot): a key with a 1 ms TTL set by the first
queued command is still there for the last one, however long the queue takes.

Found by the transactions model under load: EXEC [PEXPIRE a 1, SET a x KEEPTTL] left the
reference with an expiring key and specredis (which had expired it mid-EXEC) with a
persistent one.
"""

from __future__ import annotations

from typing import Any

from specredis.engine.core import Engine
from specredis.protocol.client import RespClient

EXEC_SEQUENCE: list[list[str]] = [
    ["SET", "a", "1"], ["MULTI"], ["PEXPIRE", "a", "1"], ["DEBUG", "SLEEP", "0.01"], ["GET", "a"],
    ["SET", "a", "x", "KEEPTTL"], ["EXISTS", "a"], ["EXEC"],
]

# The script waits (busy, on the server's own clock) well past the 1 ms TTL it set.
SCRIPT = """
redis.call('SET', KEYS[1], 'v', 'PX', 1)
local t = redis.call('TIME')
while true do
  local u = redis.call('TIME')
  if (u[1] - t[1]) * 1000000 + (u[2] - t[2]) > 5000 then break end
end
return {redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[1]), redis.call('PTTL', KEYS[1]) > -2}
"""


def _run(server: Any) -> list:
    with RespClient(server.host, server.port) as conn:
        conn.call("FLUSHALL")
        conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        try:
            replies = [conn.call(*argv) for argv in EXEC_SEQUENCE]
            # After EXEC the key has its TTL still (KEEPTTL); it is gone by the next command.
            replies.append(conn.call("DEBUG", "SLEEP", "0.005"))
            replies.append(conn.call("EXISTS", "a"))
            replies.append(conn.call("EVAL", SCRIPT, "1", "s"))
            return replies
        finally:
            conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_exec_and_scripts_fix_the_expiry_time_like_redis(specredis: Any, reference: Any) -> None:
    expected = _run(reference)
    assert expected[-3:] == [expected[-3], 0, [b"v", 1, 1]]      # the reference as described above
    assert expected[-4][2:] == [b"1", expected[-4][3], 1]
    assert _run(specredis) == expected


def test_exec_sees_one_time_with_a_clock_that_moves_at_every_reading() -> None:
    ticks = [1_000_000]

    def clock() -> int:
        ticks[0] += 1
        return ticks[0]

    engine = Engine(clock=clock)
    client = engine.new_client()
    run = lambda *argv: engine.execute(client, [a.encode() for a in argv])  # noqa: E731
    run("SET", "k", "v")
    run("MULTI")
    for argv in (("PEXPIRE", "k", "1"), ("GET", "k"), ("GET", "k"), ("SET", "k", "w", "KEEPTTL")):
        run(*argv)
    replies = run("EXEC")
    assert replies[1:3] == [b"v", b"v"]
    db = client.db
    assert db.data.get(b"k") == b"w" and b"k" in db.expires       # the TTL survived KEEPTTL
    assert run("GET", "k") is None                                  # expired once EXEC is over
    assert "now_ms" not in engine.__dict__                          # the clock moves again
