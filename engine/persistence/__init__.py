"""Persistence: RDB snapshots (``rdb*.py``, ``snapshot.py``) and the append-only file.

* ``rdb.py``       -- format primitives: lengths, strings, CRC64, listpack/ziplist/intset/zipmap
* ``lzf.py``       -- LZF compression (C extension when installed, pure Python otherwise)
* ``rdb_save.py``  -- values, DUMP payloads and whole files (also the AOF's RDB preamble)
* ``rdb_load.py``  -- reading them back, with Redis's encoding conversions and checks
* ``snapshot.py``  -- SAVE/BGSAVE, save points, LASTSAVE, INFO persistence, shutdown and
  startup loading, DEBUG RELOAD, the MISCONF gate
"""
