"""Helpers for the RDB tests: ``rdb_dataset`` is importable from the test modules."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
