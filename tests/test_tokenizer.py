"""tokenizer.py as a specification: the trained BPE, GPT-2 through tiktoken, and tokenizer.json."""
import json
import os

import pytest

from common import UserError
from tokenizer import EOT, estimate_tokens, get_gpt2_encoding, load_tokenizer, make_tokenizer, save_tokenizer, train_bpe

GPT2_CACHE = os.environ.get("TIKTOKEN_CACHE_DIR", "")
HAVE_GPT2_CACHE = os.path.isdir(GPT2_CACHE) and len(os.listdir(GPT2_CACHE)) > 0

SMALL_CORPUS = [
    "Rice with garlic and ginger. Serve hot with a squeeze of lime.",
    "The little fox found a red kite by the river and flew it all afternoon.",
    "To install the package, run pip install and check the version number.",
    "Slice the onions thinly, then fry them slowly until they turn golden brown.",
] * 20


def test_estimate_tokens_counts_words_and_punctuation():
    assert estimate_tokens("") == 0
    assert estimate_tokens("Serves 4, with rice.") == 6


def test_bpe_round_trips_arbitrary_unicode():
    enc = train_bpe(SMALL_CORPUS, 300)
    text = "Crème brûlée — 料理 レシピ 🍜 tab\there\n\n  spaces 12345 it's ÅΩж"
    assert enc.decode(enc.encode_ordinary(text)) == text


def test_bpe_has_exactly_the_requested_vocab_size():
    enc = train_bpe(SMALL_CORPUS, 300)
    assert enc.n_vocab == 300


def test_bpe_end_of_text_is_the_last_id():
    enc = train_bpe(SMALL_CORPUS, 300)
    assert enc.eot_token == enc.n_vocab - 1
    assert enc.encode(EOT, allowed_special="all") == [enc.n_vocab - 1]


def test_bpe_stops_early_when_the_corpus_runs_out_of_pairs():
    enc = train_bpe(["ab ab ab"], 1000)
    assert 257 < enc.n_vocab < 1000
    assert enc.eot_token == enc.n_vocab - 1


def test_bpe_merges_make_common_words_short():
    enc = train_bpe(SMALL_CORPUS, 400)
    assert len(enc.encode_ordinary(" garlic")) == 1


def test_saved_bpe_tokenizer_loads_with_identical_ids(tmp_path):
    enc = train_bpe(SMALL_CORPUS, 320)
    path = tmp_path / "tokenizer.json"
    save_tokenizer(enc, str(path))
    loaded = load_tokenizer(str(path))
    text = " ".join(SMALL_CORPUS[:4]) + " ünïcödé"
    assert loaded.encode_ordinary(text) == enc.encode_ordinary(text)
    assert loaded.n_vocab == enc.n_vocab and loaded.eot_token == enc.eot_token


def test_loading_a_missing_or_corrupt_tokenizer_names_the_file(tmp_path):
    missing = str(tmp_path / "nope.json")
    with pytest.raises(UserError, match="nope.json"):
        load_tokenizer(missing)
    corrupt = tmp_path / "tokenizer.json"
    corrupt.write_text("{not json")
    with pytest.raises(UserError, match="tokenizer.json"):
        load_tokenizer(str(corrupt))


def test_make_tokenizer_rejects_unknown_kind_listing_choices():
    with pytest.raises(UserError, match="bpe, gpt2"):
        make_tokenizer("sentencepiece", SMALL_CORPUS, 300)


@pytest.mark.skipif(not HAVE_GPT2_CACHE, reason="GPT-2 vocab cache not found (set TIKTOKEN_CACHE_DIR)")
def test_gpt2_encoding_loads_from_the_offline_cache(tmp_path):
    enc = get_gpt2_encoding()
    assert enc.n_vocab == 50257 and enc.eot_token == 50256
    path = str(tmp_path / "tokenizer.json")
    save_tokenizer(enc, path)
    assert json.load(open(path)) == {"type": "gpt2"}
    assert load_tokenizer(path).encode_ordinary("Hello world") == enc.encode_ordinary("Hello world")


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
    with pytest.raises(UserError, match="TIKTOKEN_CACHE_DIR"):
        get_gpt2_encoding()


# --- the special tokens of users' own text: fill-in-the-middle marks and chat roles

from tokenizer import CORPUS_SPECIALS, FIM_PREFIX, USER, encode_segments  # noqa: E402


def test_bpe_with_specials_keeps_the_vocab_size_and_puts_them_last():
    enc = train_bpe(SMALL_CORPUS, 300, specials=CORPUS_SPECIALS)
    assert enc.n_vocab == 300
    ids = [enc._special_tokens[s] for s in (EOT,) + CORPUS_SPECIALS]
    assert ids == list(range(300 - len(ids), 300))


def test_saved_tokenizer_with_specials_loads_with_identical_ids(tmp_path):
    enc = train_bpe(SMALL_CORPUS, 300, specials=CORPUS_SPECIALS)
    save_tokenizer(enc, str(tmp_path / "tokenizer.json"))
    again = load_tokenizer(str(tmp_path / "tokenizer.json"))
    assert again._special_tokens == enc._special_tokens
    assert again.encode_ordinary("Rice with garlic") == enc.encode_ordinary("Rice with garlic")


@pytest.mark.skipif(not HAVE_GPT2_CACHE, reason="GPT-2 vocabulary files not in TIKTOKEN_CACHE_DIR (../shared/tiktoken_cache)")
def test_gpt2_with_specials_grows_the_vocabulary_and_saves(tmp_path):
    enc = make_tokenizer("gpt2", [], 0, specials=CORPUS_SPECIALS)
    assert enc.n_vocab == 50257 + len(CORPUS_SPECIALS)
    assert enc._special_tokens[FIM_PREFIX] == 50257
    assert enc.encode_ordinary("hello world") == get_gpt2_encoding().encode_ordinary("hello world")
    save_tokenizer(enc, str(tmp_path / "t.json"))
    assert load_tokenizer(str(tmp_path / "t.json"))._special_tokens == enc._special_tokens


def test_segments_encode_special_names_as_tokens_and_mark_what_is_learned():
    enc = train_bpe(SMALL_CORPUS, 300, specials=CORPUS_SPECIALS)
    ids, learned = encode_segments(enc, [[USER, False], ["Rice?", False], ["Garlic.", True]])
    assert ids[0] == enc._special_tokens[USER]
    assert enc.decode(ids[1:]) == "Rice?Garlic."
    assert learned == [0] * (1 + len(enc.encode_ordinary("Rice?"))) + [1] * len(enc.encode_ordinary("Garlic."))


def test_a_special_name_inside_users_text_stays_text():
    enc = train_bpe(SMALL_CORPUS, 300, specials=CORPUS_SPECIALS)
    ids, _ = encode_segments(enc, [[f"he typed {USER} here", True]])
    assert enc._special_tokens[USER] not in ids
    assert enc.decode(ids) == f"he typed {USER} here"
