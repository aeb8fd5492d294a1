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


# --- fixtures shared by the model, training and sampling tests: a tiny dataset and a tiny trained run

import signal  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    """Scripts' entry points install their own Ctrl-C and SIGTERM handlers (and ignore both while exiting);
    after each test pytest's are put back, so one test cannot change how the next is stopped."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)

# one prompt per template domain, for the data and template tests
PROMPTS = {"cooking": "A fun GPT that generates cooking recipes", "poetry": "Short poems about the ocean",
           "technical": "How-to guides for Linux and Python", "general": "Bedtime stories for kids"}

TINY_MODEL_FLAGS = ['--n_layer=2', '--n_head=2', '--n_embd=32', '--block_size=32', '--batch_size=4',
                    '--dropout=0.0', '--eval_iters=2', '--log_interval=5', '--warmup_iters=2', '--learning_rate=3e-3',
                    '--patience=0']  # no early stop unless a test asks: a tiny model's val loss stalls soon


def run_train(dataset, out, *flags):
    """train.py's entry point on a prepared dataset with the tiny model."""
    import train
    train.main([f'--dataset_dir={dataset}', f'--out_dir={out}'] + TINY_MODEL_FLAGS + list(flags))


def make_tiny_dataset(folder, n_docs=300):
    import token_files
    from tokenizer import train_bpe
    docs = [f"Recipe {i}: mix {i % 7} eggs with {i % 5} cups of flour. Bake for {10 + i % 30} minutes."
            for i in range(n_docs)]
    enc = train_bpe(docs, 300)
    token_files.write_dataset(docs, enc, str(folder))
    return str(folder)


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp('tiny_dataset'))


@pytest.fixture(scope='session')
def trained_run(tiny_dataset, tmp_path_factory):
    """A tiny model trained for a few iterations through train.py's own entry point."""
    import train
    out = str(tmp_path_factory.mktemp('trained_run'))
    train.main([f'--dataset_dir={tiny_dataset}', f'--out_dir={out}', '--max_iters=20', '--eval_interval=10']
               + TINY_MODEL_FLAGS)
    return out
