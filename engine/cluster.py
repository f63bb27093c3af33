"""Cluster commands on a standalone server (cluster.c).

specredis runs as a standalone (``cluster-enabled no``) server, so the commands a
cluster client sends to a node answer as a standalone Redis 7.0.15 does: ASKING,
READONLY and READWRITE refuse with the same error. A future cluster mode owns this
module: there these handlers set the per-client flags (ASKING for the next command,
READONLY for reads a replica may serve) when ``cluster-enabled`` is on.
"""

from __future__ import annotations

from specredis.engine.client import Client
from specredis.engine.errors import RedisError

CLUSTER_DISABLED = "ERR This instance has cluster support disabled"


def asking_command(client: Client, argv: list[bytes]) -> object:
    """ASKING"""
    raise RedisError(CLUSTER_DISABLED)


def readonly_command(client: Client, argv: list[bytes]) -> object:
    """READONLY"""
    raise RedisError(CLUSTER_DISABLED)


def readwrite_command(client: Client, argv: list[bytes]) -> object:
    """READWRITE"""
    raise RedisError(CLUSTER_DISABLED)
