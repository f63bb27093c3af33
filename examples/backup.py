"""Backing up a running server: BGSAVE, wait for it (LASTSAVE and INFO persistence), then copy
the RDB file and gzip it, as the handbook's persistence chapter suggests for full backups.

Run against a Redis-compatible server on this machine (the RDB file is read from the
server's ``dir``): REDIS_HOST / REDIS_PORT (default localhost:6379). The backup goes to
BACKUP_DIR (default: a new temporary directory).
"""

import gzip
import os
import shutil
import tempfile
import time

import redis

r = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "localhost"), port=int(os.environ.get("REDIS_PORT", "6379")),
                      db=0)
r.set("backup:example", "this value is in the backup")

# LASTSAVE has a one-second resolution: a snapshot started in the same second as the last one
# would not move it, so wait for the next second first.
before = r.lastsave()
while int(time.time()) <= before.timestamp():
    time.sleep(0.05)

# Start the snapshot; if one is already running, BGSAVE SCHEDULE queues ours after it.
try:
    r.bgsave()
except redis.ResponseError as error:
    if "already in progress" not in str(error):
        raise
    r.bgsave(schedule=True)

# Wait until the server reports the snapshot finished, and check that it succeeded.
deadline = time.monotonic() + 60
while True:
    info = r.info("persistence")
    if not info["rdb_bgsave_in_progress"] and r.lastsave() > before:
        break
    assert time.monotonic() < deadline, "the snapshot did not finish in time"
    time.sleep(0.05)
assert info["rdb_last_bgsave_status"] == "ok", info
print("Snapshot written at", r.lastsave())

# Copy the file (never gzip it in place: the next save would replace it meanwhile) and compress.
config = r.config_get("dir")
source = os.path.join(config["dir"], r.config_get("dbfilename")["dbfilename"])
backup_dir = os.environ.get("BACKUP_DIR") or tempfile.mkdtemp(prefix="rdb-backup-")
copy = os.path.join(backup_dir, "dump.rdb")
shutil.copyfile(source, copy)
archive = copy + ".gz"
with open(copy, "rb") as plain, gzip.open(archive, "wb") as packed:
    shutil.copyfileobj(plain, packed)
os.unlink(copy)

# An RDB file starts with REDIS and its format version; the key we set is inside.
with gzip.open(archive, "rb") as packed:
    content = packed.read()
assert content[:5] == b"REDIS" and content[5:9].isdigit(), content[:9]
assert b"backup:example" in content
print(f"Backup: {archive} ({os.path.getsize(archive)} bytes, RDB version {int(content[5:9])})")

r.delete("backup:example")
