"""data.py as a specification: tokenizers, token files, generation, refinement and the data pipeline."""
import json
import os

import numpy as np
import pytest
import tiktoken
import torch

import data

GPT2_CACHE = os.environ.get("TIKTOKEN_CACHE_DIR", "")
HAVE_GPT2_CACHE = os.path.isdir(GPT2_CACHE) and len(os.listdir(GPT2_CACHE)) > 0

SMALL_CORPUS = [
    "Rice with garlic and ginger. Serve hot with a squeeze of lime.",
    "The little fox found a red kite by the river and flew it all afternoon.",
    "To install the package, run pip install and check the version number.",
    "Slice the onions thinly, then fry them slowly until they turn golden brown.",
] * 20


# -----------------------------------------------------------------------------
# tokenizers

def test_estimate_tokens_counts_words_and_punctuation():
    assert data.estimate_tokens("") == 0
    assert data.estimate_tokens("Serves 4, with rice.") == 6


def test_bpe_round_trips_arbitrary_unicode():
    enc = data.train_bpe(SMALL_CORPUS, 300)
    text = "Crème brûlée — 料理 レシピ 🍜 tab\there\n\n  spaces 12345 it's ÅΩж"
    assert enc.decode(enc.encode_ordinary(text)) == text


def test_bpe_has_exactly_the_requested_vocab_size():
    enc = data.train_bpe(SMALL_CORPUS, 300)
    assert enc.n_vocab == 300


def test_bpe_end_of_text_is_the_last_id():
    enc = data.train_bpe(SMALL_CORPUS, 300)
    assert enc.eot_token == enc.n_vocab - 1
    assert enc.encode(data.EOT, allowed_special="all") == [enc.n_vocab - 1]


def test_bpe_stops_early_when_the_corpus_runs_out_of_pairs():
    enc = data.train_bpe(["ab ab ab"], 1000)
    assert 257 < enc.n_vocab < 1000
    assert enc.eot_token == enc.n_vocab - 1


def test_bpe_merges_make_common_words_short():
    enc = data.train_bpe(SMALL_CORPUS, 400)
    assert len(enc.encode_ordinary(" garlic")) == 1


def test_saved_bpe_tokenizer_loads_with_identical_ids(tmp_path):
    enc = data.train_bpe(SMALL_CORPUS, 320)
    path = tmp_path / "tokenizer.json"
    data.save_tokenizer(enc, str(path))
    loaded = data.load_tokenizer(str(path))
    text = " ".join(SMALL_CORPUS[:4]) + " ünïcödé"
    assert loaded.encode_ordinary(text) == enc.encode_ordinary(text)
    assert loaded.n_vocab == enc.n_vocab and loaded.eot_token == enc.eot_token


def test_loading_a_missing_or_corrupt_tokenizer_names_the_file(tmp_path):
    missing = str(tmp_path / "nope.json")
    with pytest.raises(data.UserError, match="nope.json"):
        data.load_tokenizer(missing)
    corrupt = tmp_path / "tokenizer.json"
    corrupt.write_text("{not json")
    with pytest.raises(data.UserError, match="tokenizer.json"):
        data.load_tokenizer(str(corrupt))


def test_make_tokenizer_rejects_unknown_kind_listing_choices():
    with pytest.raises(data.UserError, match="bpe, gpt2"):
        data.make_tokenizer("sentencepiece", SMALL_CORPUS, 300)


@pytest.mark.skipif(not HAVE_GPT2_CACHE, reason="GPT-2 vocab cache not found (set TIKTOKEN_CACHE_DIR)")
def test_gpt2_encoding_loads_from_the_offline_cache(tmp_path):
    enc = data.get_gpt2_encoding()
    assert enc.n_vocab == 50257 and enc.eot_token == 50256
    path = str(tmp_path / "tokenizer.json")
    data.save_tokenizer(enc, path)
    assert json.load(open(path)) == {"type": "gpt2"}
    assert data.load_tokenizer(path).encode_ordinary("Hello world") == enc.encode_ordinary("Hello world")


def test_gpt2_without_cache_or_network_is_a_user_error(tmp_path, monkeypatch):
    import tiktoken.load
    import tiktoken.registry

    def no_network(*args, **kwargs):
        raise ConnectionError("network disabled in tests")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # forget an already loaded gpt2
    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    import requests
    monkeypatch.setattr(requests, "get", no_network)
    with pytest.raises(data.UserError, match="TIKTOKEN_CACHE_DIR"):
        data.get_gpt2_encoding()


# -----------------------------------------------------------------------------
# token files

def _docs(n):
    return [f"document number {i} says hello {i}." for i in range(n)]


def test_write_dataset_splits_by_document(tmp_path):
    enc = data.train_bpe(_docs(50), 300)
    docs = _docs(50)
    meta = data.write_dataset(docs, enc, str(tmp_path), val_fraction=0.2, seed=1)
    assert meta["train_docs"] == 40 and meta["val_docs"] == 10
    texts = {}
    for split in ("train", "val"):
        ids = data.open_tokens(str(tmp_path), split).tolist()
        assert ids[-1] == enc.eot_token
        texts[split] = enc.decode(ids).split(data.EOT)[:-1]
    assert sorted(texts["train"] + texts["val"]) == sorted(docs)
    assert not set(texts["train"]) & set(texts["val"])


def test_write_dataset_keeps_one_val_document_for_tiny_inputs(tmp_path):
    enc = data.train_bpe(_docs(3), 270)
    meta = data.write_dataset(_docs(2), enc, str(tmp_path), val_fraction=0.1)
    assert meta["train_docs"] == 1 and meta["val_docs"] == 1


def test_meta_counts_match_the_token_files(tmp_path):
    enc = data.train_bpe(_docs(30), 300)
    meta = data.write_dataset(_docs(30), enc, str(tmp_path))
    itemsize = np.dtype(meta["dtype"]).itemsize
    assert os.path.getsize(tmp_path / "train.bin") == meta["train_tokens"] * itemsize
    assert os.path.getsize(tmp_path / "val.bin") == meta["val_tokens"] * itemsize
    assert meta["train_docs"] + meta["val_docs"] == 30
    assert meta["vocab_size"] == enc.n_vocab and meta["eot_token"] == enc.eot_token
    assert data.load_meta(str(tmp_path)) == meta
    assert os.path.exists(tmp_path / meta["tokenizer"])


def test_token_dtype_is_uint16_for_small_vocabs_and_uint32_for_large(tmp_path):
    small = data.train_bpe(_docs(10), 300)
    assert data.write_dataset(_docs(10), small, str(tmp_path / "a"))["dtype"] == "uint16"
    # A vocabulary just past 65,536 ids: byte tokens plus filler tokens (never produced from the text).
    ranks = {bytes([b]): b for b in range(256)}
    for i in range(65536 - 256):
        ranks[b"\xff\xfe" + i.to_bytes(3, "big")] = 256 + i
    big = tiktoken.Encoding("big", pat_str=data.GPT2_PATTERN, mergeable_ranks=ranks,
                            special_tokens={data.EOT: 65536})
    meta = data.write_dataset(_docs(10), big, str(tmp_path / "b"))
    assert meta["dtype"] == "uint32"
    assert data.open_tokens(str(tmp_path / "b"), "train").max() == 65536


def test_open_tokens_round_trips_the_written_ids(tmp_path):
    enc = data.train_bpe(_docs(5), 280)
    docs = _docs(5)
    data.write_dataset(docs, enc, str(tmp_path))
    pieces = []
    for split in ("train", "val"):
        tokens = data.open_tokens(str(tmp_path), split)
        assert isinstance(tokens, np.memmap) and not tokens.flags.writeable
        ends = np.flatnonzero(tokens == enc.eot_token)
        starts = np.concatenate([[0], ends[:-1] + 1])
        pieces += [tokens[a:b + 1].tolist() for a, b in zip(starts, ends)]
    assert sorted(pieces) == sorted(enc.encode_ordinary(d) + [enc.eot_token] for d in docs)


def test_load_meta_on_missing_or_corrupt_file_is_a_user_error(tmp_path):
    with pytest.raises(data.UserError, match="meta.json"):
        data.load_meta(str(tmp_path))
    (tmp_path / "meta.json").write_text("[1, 2")
    with pytest.raises(data.UserError, match="meta.json"):
        data.load_meta(str(tmp_path))


def test_write_atomic_leaves_no_temp_files(tmp_path):
    data.write_atomic(str(tmp_path / "a.txt"), "hello")
    data.write_atomic(str(tmp_path / "b.bin"), b"\x00\x01")
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_text_dataset_windows_are_shifted_by_one():
    ds = data.TextDataset(np.arange(10, dtype=np.uint16), block_size=4)
    assert len(ds) == 6
    x, y = ds[5]
    assert x.dtype == torch.long and y.dtype == torch.long
    assert x.tolist() == [5, 6, 7, 8] and y.tolist() == [6, 7, 8, 9]
    assert len(data.TextDataset(np.arange(3), block_size=4)) == 0
