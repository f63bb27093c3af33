"""Pattern subscriptions, as in the handbook (Chapter 6): ``psubscribe('chat*')`` receives
``pmessage`` messages from every channel matching the pattern, with the pattern and the
channel; glob syntax (``*``, ``?``, ``[...]``), several patterns, PUNSUBSCRIBE, and keyspace
notifications received through a pattern.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os
import threading
import time

import redis

HOST = os.environ.get("REDIS_HOST", "localhost")
PORT = int(os.environ.get("REDIS_PORT", "6379"))

r = redis.StrictRedis(host=HOST, port=PORT, db=0)
received = []


def next_message(pubsub, kinds=("pmessage",), timeout=5.0):
    """The next message of one of ``kinds`` (skipping the others)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None and message["type"] in kinds:
            return message
    raise AssertionError(f"no {kinds} message arrived")


def wait_for_confirmations(pubsub, count, kind="psubscribe"):
    """Subscribing is asynchronous: wait until the server confirmed ``count`` subscriptions."""
    for _ in range(count):
        next_message(pubsub, (kind,))

ready = threading.Event()


def receive_messages(channel):
    pubsub = redis.StrictRedis(host=HOST, port=PORT, db=0).pubsub()
    pubsub.psubscribe(channel)

    for message in pubsub.listen():
        if message["type"] == "psubscribe":
            ready.set()
        elif message["type"] == "pmessage":
            text = message["data"].decode("utf-8")
            print(f"Received message on channel {message['channel'].decode('utf-8')}: {text}")
            if text == "/quit":
                break
            received.append((message["pattern"], message["channel"], message["data"]))
    pubsub.close()


# Example usage: the subscriber listens to every channel starting with "chat".
thread = threading.Thread(target=receive_messages, args=("chat*",))
thread.start()
assert ready.wait(5)
assert r.publish("chatroom", "hello room") == 1
assert r.publish("chat:sports", "goal!") == 1
assert r.publish("news", "not for chat*") == 0
assert r.pubsub_numpat() == 1
r.publish("chat", "/quit")
thread.join(5)
assert received == [(b"chat*", b"chatroom", b"hello room"), (b"chat*", b"chat:sports", b"goal!")], received

# Glob syntax and several patterns on one connection: a message matching two patterns
# arrives once per pattern.
p = redis.StrictRedis(host=HOST, port=PORT).pubsub()
p.psubscribe("user:?:login", "user:[ab]*", "h[ae]llo")
wait_for_confirmations(p, 3)
assert r.publish("user:a:login", "1") == 2        # user:?:login and user:[ab]*
assert r.publish("user:bob", "2") == 1
assert r.publish("hallo", "3") == 1 and r.publish("hillo", "4") == 0
got = []
while len(got) < 4:
    message = next_message(p)
    got.append((message["pattern"], message["channel"], message["data"]))
assert sorted(got[:2]) == [(b"user:?:login", b"user:a:login", b"1"), (b"user:[ab]*", b"user:a:login", b"1")]
assert got[2:] == [(b"user:[ab]*", b"user:bob", b"2"), (b"h[ae]llo", b"hallo", b"3")]

# PUNSUBSCRIBE stops one pattern; the others keep working.
p.punsubscribe("user:[ab]*")
wait_for_confirmations(p, 1, "punsubscribe")
assert r.publish("user:a:login", "5") == 1
assert next_message(p)["pattern"] == b"user:?:login"
p.close()

# Keyspace notifications are Pub/Sub messages too: watch every key event of database 0.
r.config_set("notify-keyspace-events", "KEA")
try:
    events = r.pubsub()
    events.psubscribe("__keyevent@0__:*")
    wait_for_confirmations(events, 1)
    r.set("pattern-demo", "1")
    r.expire("pattern-demo", 100)
    r.delete("pattern-demo")
    seen = []
    while len(seen) < 3:
        message = next_message(events)
        seen.append((message["channel"], message["data"]))
    assert seen == [(b"__keyevent@0__:set", b"pattern-demo"), (b"__keyevent@0__:expire", b"pattern-demo"),
                    (b"__keyevent@0__:del", b"pattern-demo")], seen
    events.close()
finally:
    r.config_set("notify-keyspace-events", "")
print("patterns OK")
