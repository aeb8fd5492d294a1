"""Shared test set-up: the repo root on sys.path, the offline GPT-2 vocabulary, and the 'slow' marker."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# tiktoken's GPT-2 files ship beside the project (../shared) because these machines have no internet.
TIKTOKEN_CACHE = os.path.join(os.path.dirname(ROOT), "shared", "tiktoken_cache")
if os.path.isdir(TIKTOKEN_CACHE) and not os.environ.get("TIKTOKEN_CACHE_DIR"):
    os.environ["TIKTOKEN_CACHE_DIR"] = TIKTOKEN_CACHE


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end runs (seconds to minutes); CI runs them too")
