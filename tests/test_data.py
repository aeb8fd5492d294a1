"""data.py as a specification: tokenizers, token files, generation, refinement and the data pipeline."""
import json
import os
import re

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


# -----------------------------------------------------------------------------
# domain detection

DOMAIN_CASES = [
    ("A fun GPT that generates cooking recipes", "cooking"), ("Vegan dinner ideas", "cooking"),
    ("Spicy Japanese noodle dishes", "cooking"), ("Quick breakfast recipes for students", "cooking"),
    ("Baking cakes and cookies", "cooking"), ("Italian pasta sauces", "cooking"), ("Healthy salads and soups", "cooking"),
    ("料理のレシピを作るGPT", "cooking"), ("簡単なレシピ", "cooking"),
    ("Write haiku about the ocean", "poetry"), ("Romantic poems about the moon", "poetry"),
    ("Rhyming verses for children", "poetry"), ("A sonnet generator", "poetry"), ("Song lyrics about rain", "poetry"),
    ("Limericks and ballads", "poetry"), ("詩を書くモデル", "poetry"), ("ポエムを生成", "poetry"), ("創作の手伝い", "poetry"),
    ("Python programming tutorials", "technical"), ("Linux shell command cheatsheets", "technical"),
    ("Explain Docker and Kubernetes deployment", "technical"), ("SQL database troubleshooting", "technical"),
    ("Git tips for developers", "technical"), ("JavaScript debugging guides", "technical"),
    ("技術文書を書く", "technical"), ("プログラムの説明", "technical"),
    ("Bedtime stories for kids", "general"), ("Tales about a brave little fox", "general"),
    ("Dialogues between friends", "general"), ("Stories about dragons and castles", "general"),
    ("", "general"), ("Something nice", "general"),
]


@pytest.mark.parametrize("prompt,domain", DOMAIN_CASES)
def test_detect_domain_over_varied_prompts(prompt, domain):
    assert data.detect_domain(prompt)[0] == domain


def test_detect_domain_returns_the_matched_words():
    domain, matched = data.detect_domain("A fun GPT that generates cooking recipes")
    assert domain == "cooking" and matched == ["cooking", "recipes"]
    assert data.detect_domain("Tell me a story") == ("general", [])


# -----------------------------------------------------------------------------
# template generation

PROMPTS = {"cooking": "A fun GPT that generates cooking recipes", "poetry": "Short poems about the ocean",
           "technical": "How-to guides for Linux and Python", "general": "Bedtime stories for kids"}


@pytest.mark.parametrize("domain", data.DOMAINS)
def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds(domain):
    a = data.generate_template_samples(PROMPTS[domain], domain, 3000, seed=7)
    b = data.generate_template_samples(PROMPTS[domain], domain, 3000, seed=7)
    c = data.generate_template_samples(PROMPTS[domain], domain, 3000, seed=8)
    assert a == b and a != c
    assert sum(data.estimate_tokens(d) for d in a) >= 3000


def _recipe_parts(doc):
    ingredients = doc.split("Ingredients:\n")[1].split("\n\n")[0].splitlines()
    steps = doc.split("Steps:\n")[1]
    return [line[2:] for line in ingredients], steps


def test_recipes_use_their_own_listed_ingredients_in_steps():
    docs = data.generate_template_samples(PROMPTS["cooking"], "cooking", 20000, seed=3)
    checked = 0
    for doc in docs:
        ingredients, steps = _recipe_parts(doc)
        for line in ingredients:
            names = [row[0] for row in data.INGREDIENTS + data.HOT_INGREDIENTS if row[0] in line]
            if names:  # a listed pantry ingredient must be used by name in the steps
                assert max(names, key=len) in steps, (line, doc)
                checked += 1
    assert checked > 500


def test_recipe_format_has_title_times_ingredients_and_numbered_steps():
    doc = data.generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=1)[0]
    lines = doc.splitlines()
    assert lines[1].startswith("Serves ") and "Prep" in lines[1] and "Cook" in lines[1]
    assert "\nIngredients:\n- " in doc and "\nSteps:\n1. " in doc


def test_vegan_prompt_gives_recipes_without_animal_products():
    docs = data.generate_template_samples("Vegan recipes", "cooking", 20000, seed=2)
    animal = [row[0] for row in data.INGREDIENTS if row[4]] + ["butter", "eggs", "honey", "ml milk"]
    for doc in docs:
        ingredients = doc.split("Ingredients:\n")[1].split("\n\n")[0]
        assert not [a for a in animal if re.search(rf"\b{a}\b", ingredients)], doc


def test_prompt_words_steer_cuisine_theme_and_form():
    japanese = data.generate_template_samples("Japanese recipes", "cooking", 5000, seed=1)
    assert sum("miso" in d or "soy sauce" in d or "mirin" in d for d in japanese) > len(japanese) / 2
    haiku = data.generate_template_samples("haiku about the ocean", "poetry", 2000, seed=1)
    ocean = set(data.POETRY_THEMES["ocean"][0])
    assert sum(any(w in d for w in ocean) for d in haiku) > 0.8 * len(haiku)
    python = data.generate_template_samples("Python tutorials", "technical", 3000, seed=1)
    assert sum("Python" in d for d in python) > 0.8 * len(python)


@pytest.mark.parametrize("domain", data.DOMAINS)
def test_generated_data_has_few_duplicates_and_varied_openings(domain):
    # At 200k tokens the generators before titles and openers were made compositional reached 5-34%
    # distinct 10-character openings; now every domain is above 60% (and above 50% at 1M tokens).
    docs = data.generate_template_samples(PROMPTS[domain], domain, 200_000, seed=5)
    stats = data.generation_stats(docs)
    assert stats["duplicate_rate"] < 0.01
    assert stats["distinct_openings_share"] > 0.55


def test_technical_guides_are_rarely_near_duplicates():
    # Guides of one task used to share their steps word for word: refinement dropped ~40% of them.
    docs = data.generate_template_samples(PROMPTS["technical"], "technical", 200_000, seed=6)
    _, report = data.refine_samples(_samples(docs), PROMPTS["technical"], "technical", 10**9)
    assert report["rejected"].get("near_duplicate", 0) < 0.1 * len(docs)


def test_recipes_keep_their_format_whatever_the_title():
    for doc in data.generate_template_samples(PROMPTS["cooking"], "cooking", 20_000, seed=8):
        title, times = doc.splitlines()[:2]
        assert title and not title.startswith(("-", "Serves")) and times.startswith("Serves ")
        assert "\nIngredients:\n- " in doc and "\nSteps:\n1. " in doc


def test_story_pronouns_agree_with_plural_subjects():
    for doc in data.generate_template_samples(PROMPTS["general"], "general", 20_000, seed=8):
        first = doc.split(".")[0]
        if re.match(r"\w+ and \w+ ", first):
            assert not re.search(r" (was|is|has) ", first), first


def test_generation_stats_counts_duplicates_and_openings():
    stats = data.generation_stats(["Hello world one", "Hello world one", "Another text"])
    assert stats["documents"] == 3 and stats["duplicate_rate"] == round(1 / 3, 4)
    assert stats["distinct_openings_share"] == round(2 / 3, 4)


# -----------------------------------------------------------------------------
# scoring and refinement

GOOD = data.generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=11)[0]


def test_score_is_in_unit_interval_and_good_beats_bad():
    good, _ = data.score_sample(GOOD, PROMPTS["cooking"], "cooking")
    bad = ["", "add the rice " * 80, "\x00\x01\ufffd##@@" * 40 + "\x07" * 50, "rice"]
    assert 0.0 <= good <= 1.0
    for text in bad:
        score, _ = data.score_sample(text, PROMPTS["cooking"], "cooking")
        assert 0.0 <= score < good, text[:30]
    assert data.score_sample("", "x", "general")[0] == 0.0


def _samples(texts, **extra):
    return [dict({"text": t, "source": "template"}, **extra) for t in texts]


def test_near_duplicates_are_removed_with_their_reason():
    docs = data.generate_template_samples(PROMPTS["cooking"], "cooking", 3000, seed=4)
    near = docs[0].replace("Steps:", "Method:")
    selected, report = data.refine_samples(_samples(docs + [near, docs[1]]), PROMPTS["cooking"], "cooking", 10**9)
    assert report["rejected"].get("near_duplicate") == 1 and report["rejected"].get("exact_duplicate") == 1
    reasons = {r["index"]: r["reason"] for r in report["rejections"]}
    assert reasons[len(docs) + 1] == "exact_duplicate"
    assert {len(docs), 0} & {i for i, r in reasons.items() if r == "near_duplicate"}
    assert len(selected) == len(docs)


def test_selection_stops_at_final_tokens():
    docs = data.generate_template_samples(PROMPTS["general"], "general", 20000, seed=4)
    selected, report = data.refine_samples(_samples(docs), PROMPTS["general"], "general", 5000)
    total = sum(data.estimate_tokens(s["text"]) for s in selected)
    assert 5000 <= total < 5000 + max(data.estimate_tokens(d) for d in docs)
    assert report["selected_tokens"] == total and report["rejected"]["over_budget"] > 0


def test_report_average_is_over_the_selected_samples():
    docs = data.generate_template_samples(PROMPTS["cooking"], "cooking", 4000, seed=9)
    samples = _samples(docs + ["word " * 300, "@@@ ### \x00"])
    selected, report = data.refine_samples(samples, PROMPTS["cooking"], "cooking", 10**9)
    expected = sum(s["score"] for s in selected) / len(selected)
    assert report["average_score_selected"] == pytest.approx(expected, abs=1e-4)
    assert report["rejected"]["low_score"] == 2
    assert sum(report["score_histogram"]) == len(samples)
    assert set(selected[0]) == {"text", "score", "source"}


def test_judge_scores_combine_with_the_heuristic():
    a, b, c = data.generate_template_samples(PROMPTS["cooking"], "cooking", 3000, seed=12)[:3]
    heuristic = [data.score_sample(t, PROMPTS["cooking"], "cooking")[0] for t in (a, b, c)]
    samples = [{"text": a, "source": "t", "judge_score": 1.0}, {"text": b, "source": "t", "judge_score": None},
               {"text": c, "source": "t"}]
    selected, report = data.refine_samples(samples, PROMPTS["cooking"], "cooking", 10**9)
    assert report["judge"] == {"judged": 1, "unparseable": 1}
    expected = [data.JUDGE_WEIGHT * 1.0 + (1 - data.JUDGE_WEIGHT) * heuristic[0], heuristic[1], heuristic[2]]
    assert [s["score"] for s in selected] == pytest.approx(expected, abs=1e-4)


def test_a_low_judge_score_rejects_a_sample():
    a = data.generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=13)[0]
    selected, report = data.refine_samples([{"text": a, "source": "t", "judge_score": 0.0}], PROMPTS["cooking"], "cooking", 10**9)
    assert selected == [] and report["rejections"][0]["reason"] == "low_score"


# -----------------------------------------------------------------------------
# pipeline

def _cfg(**over):
    cfg = dict(prompt="A fun GPT that generates cooking recipes", size="12M", seed=1, generation_method="template",
               initial_tokens=6000, final_tokens=3000, tokenizer="bpe", vocab_size=512, val_fraction=0.1,
               block_size=64, fallback="template", judge_model="")
    cfg.update(over)
    return cfg


def test_prepare_data_writes_all_files(tmp_path):
    info = data.prepare_data(_cfg(), str(tmp_path), log=lambda *a: None)
    for name in ("dataset.jsonl", "dataset.txt", "refine_report.json", "tokenizer.json", "train.bin", "val.bin",
                 "meta.json", "data_info.json"):
        assert (tmp_path / name).exists(), name
    meta = data.load_meta(str(tmp_path))
    assert info["domain"] == "cooking" and info["generation_method"] == "template"
    assert info["tokens"]["train"] == meta["train_tokens"] and info["vocab_size"] == meta["vocab_size"]
    assert json.load(open(tmp_path / "data_info.json"))["data_key"] == info["data_key"]


def test_prepare_data_second_call_reuses_the_files(tmp_path):
    data.prepare_data(_cfg(), str(tmp_path), log=lambda *a: None)
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    lines = []
    data.prepare_data(_cfg(), str(tmp_path), log=lines.append)
    assert any("reusing" in line for line in lines)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == mtimes
    lines.clear()
    data.prepare_data(_cfg(seed=2), str(tmp_path), log=lines.append)
    assert not any("reusing" in line for line in lines)


def test_empty_prompt_is_a_user_error(tmp_path):
    with pytest.raises(data.UserError, match="prompt"):
        data.prepare_data(_cfg(prompt="   "), str(tmp_path), log=lambda *a: None)


def test_too_little_data_for_block_size_names_the_numbers(tmp_path):
    with pytest.raises(data.UserError, match="final_tokens"):
        data.prepare_data(_cfg(initial_tokens=300, final_tokens=200, block_size=1024), str(tmp_path), log=lambda *a: None)


def test_data_key_follows_the_settings_that_shape_the_data():
    import train
    base = train.load_config(["--prompt=recipes"])
    assert data.data_key(base) == data.data_key(dict(base, judge_model="other", max_iters=5))  # templates ignore them
    assert data.data_key(base) != data.data_key(dict(base, final_tokens=1234))
    teach = dict(base, generation_method="ollama")
    assert data.data_key(teach) != data.data_key(dict(teach, gen_model="mistral:7b"))
    assert data.data_key(teach) != data.data_key(dict(teach, num_predict=300))


@pytest.mark.parametrize("raised,code,line", [(data.UserError("no prompt"), 1, "error: no prompt"),
                                              (KeyboardInterrupt(), 130, "interrupted"),
                                              (EOFError(), 130, "interrupted")])
def test_every_script_ends_a_user_error_or_ctrl_c_in_one_line(raised, code, line, capsys):
    def main(argv):
        raise raised
    with pytest.raises(SystemExit) as e:
        data.run_command(main, [])
    assert e.value.code == code
    assert capsys.readouterr().err.strip() == line
