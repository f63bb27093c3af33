"""Typed errors carrying Redis's exact error texts.

Handlers raise :class:`RedisError` (or a subclass); the dispatcher turns it into
an error reply in one place. The message constants below are shared so that the
same condition always produces the same bytes, as Redis's ``shared.*`` objects do.
"""

from __future__ import annotations


class RedisError(Exception):
    """An error reply. ``text`` is the whole message, code included (``ERR ...``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def code(self) -> str:
        """The error code (first word), as counted by INFO errorstats."""
        return self.text.split(" ", 1)[0]


class WrongTypeError(RedisError):
    def __init__(self) -> None:
        super().__init__(WRONGTYPE)


class SyntaxErr(RedisError):
    def __init__(self) -> None:
        super().__init__(SYNTAX)


# -- shared messages (networking.c / server.c / object.c / t_*.c) ------------------------

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
OUT_OF_RANGE = "ERR index out of range"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
NOT_POSITIVE = "ERR value is out of range, must be positive"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
LOADING = "LOADING Redis is loading the dataset in memory"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    "Please check the Redis logs for details about the RDB error."
)
READONLY_REPLICA = "READONLY You can't write against a read only replica."
BUSY_SCRIPT = (
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
)


def wrong_arity(fullname: str) -> RedisError:
    """``ERR wrong number of arguments for 'get' command`` (fullname: ``client|kill``)."""
    return RedisError(f"ERR wrong number of arguments for '{fullname}' command")


def unknown_command(name: bytes, args: list[bytes]) -> RedisError:
    """Redis's text: the name, then quoted arguments until about 128 bytes are shown."""
    shown = b""
    for arg in args:
        if len(shown) >= 128:
            break
        # printf's %.*s: at most the room left, and only up to a NUL byte.
        shown += b"'" + arg.split(b"\0", 1)[0][: 128 - len(shown)] + b"' "
    return RedisError(f"ERR unknown command '{_trunc(name)}', with args beginning with: {_trunc(shown, 1 << 20)}")


def unknown_subcommand(sub: bytes, container: str) -> RedisError:
    return RedisError(f"ERR unknown subcommand '{_trunc(sub)}'. Try {container.upper()} HELP.")


def subcommand_syntax_error(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError: ``ERR unknown subcommand or wrong number of arguments for
    'get'. Try SLOWLOG HELP.`` (the subcommand as typed, the command upper-cased)."""
    return RedisError(f"ERR unknown subcommand or wrong number of arguments for '{_trunc(argv[1])}'. "
                      f"Try {argv[0].decode('utf-8', 'surrogateescape').upper()} HELP.")


def _trunc(value: bytes, limit: int = 128) -> str:
    # Redis prints at most 128 bytes with %.128s (which also stops at a NUL byte) and
    # replaces CR/LF so the reply stays one line.
    text = value.split(b"\0", 1)[0][:limit].decode("utf-8", errors="surrogateescape")
    return text.replace("\r", " ").replace("\n", " ")
