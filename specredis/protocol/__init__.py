"""RESP2/RESP3, sans-IO: request parsing, reply values and reply encoding.

``parser`` turns client bytes into argument vectors exactly as Redis 7.0 does;
``replies`` holds the typed reply values handlers return; ``encoder`` writes them
for RESP2 or RESP3. Nothing here touches sockets or an event loop.
"""

from specredis.protocol.encoder import RespConnection, encode, encode_into, encode_many, format_double
from specredis.protocol.parser import ProtocolError, QueryBufferLimitExceeded, RequestParser, split_args

__all__ = [
    "ProtocolError",
    "QueryBufferLimitExceeded",
    "RequestParser",
    "RespConnection",
    "encode",
    "encode_into",
    "encode_many",
    "format_double",
    "split_args",
]
