"""Sorted sets, as in the handbook (Chapter 3): a game leaderboard with scores, ranks and ranges.

Run against any Redis-compatible server: REDIS_HOST / REDIS_PORT (default localhost:6379).
"""

import os
import threading

import redis

r = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                decode_responses=True)
r.delete("leaderboard", "week1", "week2", "total", "tasks")

# The handbook's example: the top two players, best first, with their scores.
r.zadd("leaderboard", {"player1": 100, "player2": 200})
top_players = r.zrevrange("leaderboard", 0, 1, withscores=True)
assert top_players == [("player2", 200.0), ("player1", 100.0)], top_players

# Points come in; ranks and scores follow.
r.zadd("leaderboard", {"player3": 150, "player4": 50})
assert r.zincrby("leaderboard", 75, "player1") == 175.0
assert r.zscore("leaderboard", "player1") == 175.0
assert r.zrevrank("leaderboard", "player1") == 1           # second place
assert r.zrank("leaderboard", "player4") == 0               # last place
assert r.zcard("leaderboard") == 4
assert r.zcount("leaderboard", 100, "+inf") == 3

# Only raise a score if it beats the player's best (GT), and only for known players (XX).
assert r.zadd("leaderboard", {"player4": 40}, gt=True) == 0 and r.zscore("leaderboard", "player4") == 50
r.zadd("leaderboard", {"player4": 60}, gt=True, xx=True)
assert r.zscore("leaderboard", "player4") == 60
assert r.zadd("leaderboard", {"newcomer": 1}, xx=True) == 0 and r.zscore("leaderboard", "newcomer") is None

# Ranges by rank, by score (with a page size) and the whole board.
assert r.zrange("leaderboard", 0, -1) == ["player4", "player3", "player1", "player2"]
assert r.zrangebyscore("leaderboard", 100, 200, start=0, num=2) == ["player3", "player1"]
assert r.zrange("leaderboard", 0, 1, desc=True, withscores=True) == [("player2", 200.0), ("player1", 175.0)]

# Weekly boards summed into a total, and the players who played both weeks.
r.zadd("week1", {"ann": 10, "ben": 20})
r.zadd("week2", {"ben": 5, "cid": 30})
assert r.zunionstore("total", ["week1", "week2"]) == 3
assert r.zrevrange("total", 0, -1, withscores=True) == [("cid", 30.0), ("ben", 25.0), ("ann", 10.0)]
assert r.zinter(["week1", "week2"], withscores=True) == [("ben", 25.0)]

# Scores are doubles, sent back as Redis 7.0 prints them (17 significant digits).
r.zadd("week1", {"dan": 0.1})
as_text = lambda score: score.decode() if isinstance(score, bytes) else str(score)  # noqa: E731
assert r.zrange("week1", 0, 0, withscores=True, score_cast_func=as_text) == [("dan", "0.10000000000000001")]

# A priority queue: ZPOPMIN takes the most urgent task; BZPOPMIN waits for one.
r.zadd("tasks", {"write report": 2, "fix outage": 0, "lunch": 5})
assert r.zpopmin("tasks") == [("fix outage", 0.0)]
assert r.zpopmax("tasks", 1) == [("lunch", 5.0)]
assert r.zpopmin("tasks") == [("write report", 2.0)]
threading.Timer(0.2, lambda: redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                                         port=r.connection_pool.connection_kwargs["port"])
                .zadd("tasks", {"late task": 1})).start()
assert r.bzpopmin("tasks", timeout=5) == ("tasks", "late task", 1.0)

r.delete("leaderboard", "week1", "week2", "total", "tasks")
print("sorted sets: ok")
