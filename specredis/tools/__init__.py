"""Command-line tools shipped with specredis (``specredis-check-rdb``)."""
