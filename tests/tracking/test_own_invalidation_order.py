"""Where a RESP3 tracking client's invalidation of a key it changed itself falls among its own
output, compared byte for byte with Redis 7.0.15: after the command's reply, and after the
keyspace-event pushes the command writes after its reply (GETDEL, SET ... GET, LPOP...), for
commands run directly, from scripts and inside EXEC."""

from __future__ import annotations

from servers import ServerProcess

from specredis.protocol.client import RespClient, encode_command

# (setup, read that makes the key tracked, command under test)
CASES = [
    (["SET", "k", "1"], ["GET", "k"], ["SET", "k", "2"]),
    (["SET", "k", "1"], ["GET", "k"], ["GETDEL", "k"]),
    (["SET", "k", "1"], ["GET", "k"], ["SET", "k", "2", "GET"]),
    (["SET", "k", "1"], ["GET", "k"], ["EXPIRE", "k", "100"]),
    (["RPUSH", "l", "a", "b"], ["LRANGE", "l", "0", "-1"], ["LPOP", "l"]),
    (["RPUSH", "l", "a"], ["LRANGE", "l", "0", "-1"], ["LMOVE", "l", "l2", "LEFT", "RIGHT"]),
    (["HSET", "h", "f", "v"], ["HGET", "h", "f"], ["HSET", "h", "f", "w"]),
    (["ZADD", "z", "1", "m"], ["ZRANGE", "z", "0", "-1"], ["ZPOPMIN", "z"]),
    (["SET", "k", "1"], ["GET", "k"], ["EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('getdel', KEYS[1])",
                                       "1", "k"]),
    (["SET", "k", "1"], ["GET", "k"], ["DEL", "k"]),
]


def _run(server: ServerProcess, subscribed: bool) -> list[bytes]:
    conn = RespClient(server.host, server.port, protocol=3)
    out = []
    try:
        conn.call("FLUSHALL")
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        conn.call("CLIENT", "TRACKING", "on")
        if subscribed:
            conn.call("PSUBSCRIBE", "__key*__:*")
        for number, (setup, read, command) in enumerate(CASES):
            marker = f"case-{number}".encode()
            conn.sock.sendall(b"".join(encode_command(argv) for argv in (setup, read, ["ECHO", b"ready" + marker])))
            data = b""
            while not data.endswith(b"ready" + marker + b"\r\n"):
                data += conn.sock.recv(65536)
            conn.sock.sendall(encode_command(command) + encode_command(["ECHO", marker]))
            data = b""
            while not data.endswith(marker + b"\r\n"):
                data += conn.sock.recv(65536)
            out.append(data)
    finally:
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
        conn.close()
    return out


def test_own_invalidations_come_after_the_reply_and_its_pushes(specredis: ServerProcess,
                                                                reference: ServerProcess) -> None:
    for subscribed in (False, True):
        expected = _run(reference, subscribed)
        actual = _run(specredis, subscribed)
        for (_, _, command), want, got in zip(CASES, expected, actual, strict=True):
            assert b"invalidate" in want, command
            assert got == want, f"{command} (subscribed={subscribed})"
