"""The RDB tests' dataset (``rdb_dataset``) is shared with the DUMP/RESTORE tests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "persistence", "rdb"))
