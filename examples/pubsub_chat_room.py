"""A Pub/Sub chat room, as in the handbook (Chapter 6): a subscriber thread listens on the
``chatroom`` channel with ``pubsub.listen()`` while the main thread publishes with
``send_message``; a second room shows that channels are separate, and unsubscribing ends
the listener.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os
import threading
import time

import redis

HOST = os.environ.get("REDIS_HOST", "localhost")
PORT = int(os.environ.get("REDIS_PORT", "6379"))

r = redis.StrictRedis(host=HOST, port=PORT, db=0)


def send_message(channel, message):
    # PUBLISH answers with the number of clients that received the message.
    return r.publish(channel, message)


received = []
subscribed = threading.Event()


def receive_messages(channel):
    # Each subscriber has its own connection: a subscribed connection only listens.
    pubsub = redis.StrictRedis(host=HOST, port=PORT, db=0).pubsub()
    pubsub.subscribe(channel)

    for message in pubsub.listen():
        if message["type"] == "subscribe":
            subscribed.set()
        elif message["type"] == "message":
            text = message["data"].decode("utf-8")
            print(f"Received message: {text}")
            if text == "/quit":
                pubsub.unsubscribe(channel)
            else:
                received.append(text)
        elif message["type"] == "unsubscribe" and message["data"] == 0:
            break       # no subscription left: listen() would wait forever
    pubsub.close()


# Example usage: the subscriber runs in a thread...
thread = threading.Thread(target=receive_messages, args=("chatroom",))
thread.start()
assert subscribed.wait(5), "the subscriber did not subscribe"

# ... while we publish. Messages to another room do not reach it.
assert send_message("chatroom", "Hello, Redis Chat!") == 1
assert send_message("chatroom", "How is everyone doing?") == 1
assert send_message("another-room", "nobody here") == 0
assert r.pubsub_numsub("chatroom") == [(b"chatroom", 1)]
assert b"chatroom" in r.pubsub_channels()

send_message("chatroom", "/quit")
thread.join(5)
assert not thread.is_alive(), "the subscriber did not stop"
assert received == ["Hello, Redis Chat!", "How is everyone doing?"], received

# Once it has unsubscribed (and disconnected), nobody listens any more.
deadline = time.monotonic() + 5
while r.pubsub_numsub("chatroom") != [(b"chatroom", 0)] and time.monotonic() < deadline:
    time.sleep(0.01)
assert send_message("chatroom", "anyone?") == 0

# Several subscribers each get every message, in order, without a thread: get_message() polls.
members = [redis.StrictRedis(host=HOST, port=PORT).pubsub() for _ in range(3)]
for member in members:
    member.subscribe("chatroom")
for member in members:
    # Subscribing is asynchronous: wait for the server's confirmation.
    confirmation = member.get_message(timeout=5)
    assert confirmation is not None and confirmation["type"] == "subscribe", confirmation
for n in range(5):
    assert send_message("chatroom", f"line {n}") == 3
for member in members:
    lines = [member.get_message(timeout=5) for _ in range(5)]
    assert [line["data"] for line in lines] == [f"line {n}".encode() for n in range(5)], lines
    member.close()
print("chat room OK")
