#!/usr/bin/env python3
"""Old name of singer_check.py, kept for tests/acserver/tests/pipelines.rs.

usage: loaded_ids.py jsonl DIR | loaded_ids.py duckdb FILE [SCHEMA]   (see singer_check.py)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from singer_check import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
