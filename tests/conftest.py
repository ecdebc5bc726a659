"""Shared test setup: make the helper modules next to the tests (reference.py) importable.

pytest runs with --import-mode=importlib, which does not put tests/ on sys.path.
"""

import sys
from pathlib import Path

TESTS_DIR = str(Path(__file__).resolve().parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)
