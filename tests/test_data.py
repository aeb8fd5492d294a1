"""data.py as a specification: domain detection, refinement, token files and the data pipeline."""
import json
import os

import numpy as np
import pytest
import tiktoken
import torch

import data
import refine
import settings
import token_files
import words
from common import UserError
from conftest import PROMPTS
from templates import generate_template_samples
from tokenizer import EOT, GPT2_PATTERN, estimate_tokens, train_bpe


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
    assert words.detect_domain(prompt)[0] == domain


def test_detect_domain_returns_the_matched_words():
    domain, matched = words.detect_domain("A fun GPT that generates cooking recipes")
    assert domain == "cooking" and matched == ["cooking", "recipes"]
    assert words.detect_domain("Tell me a story") == ("general", ["story"])
    assert words.detect_domain("A chatbot for legal contract review") == ("general", [])  # nothing matched


# -----------------------------------------------------------------------------
# scoring and refinement

GOOD = generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=11)[0]


def test_score_is_in_unit_interval_and_good_beats_bad():
    good, _ = refine.score_sample(GOOD, PROMPTS["cooking"], "cooking")
    bad = ["", "add the rice " * 80, "\x00\x01\ufffd##@@" * 40 + "\x07" * 50, "rice"]
    assert 0.0 <= good <= 1.0
    for text in bad:
        score, _ = refine.score_sample(text, PROMPTS["cooking"], "cooking")
        assert 0.0 <= score < good, text[:30]
    assert refine.score_sample("", "x", "general")[0] == 0.0


def _samples(texts, **extra):
    return [dict({"text": t, "source": "template"}, **extra) for t in texts]


def test_near_duplicates_are_removed_with_their_reason():
    docs = generate_template_samples(PROMPTS["cooking"], "cooking", 3000, seed=4)
    near = docs[0].replace("Steps:", "Method:")
    selected, report = refine.refine_samples(_samples(docs + [near, docs[1]]), PROMPTS["cooking"], "cooking", 10**9)
    assert report["rejected"].get("near_duplicate") == 1 and report["rejected"].get("exact_duplicate") == 1
    reasons = {r["index"]: r["reason"] for r in report["rejections"]}
    assert reasons[len(docs) + 1] == "exact_duplicate"
    assert {len(docs), 0} & {i for i, r in reasons.items() if r == "near_duplicate"}
    assert len(selected) == len(docs)


def test_repeats_are_kept_only_when_asked_as_for_generated_problems():
    texts = ["Problem: What is 3 + 4?\nStep 1: 3 + 4 = 7.", "Problem: What is 5 - 2?\nStep 1: 5 - 2 = 3."]
    docs = _samples(texts + texts[:1])
    kept, report = refine.refine_samples(docs, "math", "math", 10**9, near_duplicates=False, repeats=True)
    assert [s["text"] for s in kept] == texts + texts[:1] and not report["rejected"]
    kept, report = refine.refine_samples(docs, "math", "math", 10**9, near_duplicates=False)
    assert len(kept) == 2 and report["rejected"] == {"exact_duplicate": 1}


def test_selection_stops_at_final_tokens():
    docs = generate_template_samples(PROMPTS["general"], "general", 20000, seed=4)
    selected, report = refine.refine_samples(_samples(docs), PROMPTS["general"], "general", 5000)
    total = sum(estimate_tokens(s["text"]) for s in selected)
    assert 5000 <= total < 5000 + max(estimate_tokens(d) for d in docs)
    assert report["selected_tokens"] == total and report["rejected"]["over_budget"] > 0


def test_report_average_is_over_the_selected_samples():
    docs = generate_template_samples(PROMPTS["cooking"], "cooking", 4000, seed=9)
    samples = _samples(docs + ["word " * 300, "@@@ ### \x00"])
    selected, report = refine.refine_samples(samples, PROMPTS["cooking"], "cooking", 10**9)
    expected = sum(s["score"] for s in selected) / len(selected)
    assert report["average_score_selected"] == pytest.approx(expected, abs=1e-4)
    assert report["rejected"]["low_score"] == 2
    assert sum(report["score_histogram"]) == len(samples)
    assert set(selected[0]) == {"text", "score", "source"}


def test_judge_scores_combine_with_the_heuristic():
    a, b, c = generate_template_samples(PROMPTS["cooking"], "cooking", 3000, seed=12)[:3]
    heuristic = [refine.score_sample(t, PROMPTS["cooking"], "cooking")[0] for t in (a, b, c)]
    samples = [{"text": a, "source": "t", "judge_score": 1.0}, {"text": b, "source": "t", "judge_score": None},
               {"text": c, "source": "t"}]
    selected, report = refine.refine_samples(samples, PROMPTS["cooking"], "cooking", 10**9)
    assert report["judge"] == {"judged": 1, "unparseable": 1}
    expected = [refine.JUDGE_WEIGHT * 1.0 + (1 - refine.JUDGE_WEIGHT) * heuristic[0], heuristic[1], heuristic[2]]
    assert [s["score"] for s in selected] == pytest.approx(expected, abs=1e-4)


def test_a_low_judge_score_rejects_a_sample():
    a = generate_template_samples(PROMPTS["cooking"], "cooking", 1, seed=13)[0]
    selected, report = refine.refine_samples([{"text": a, "source": "t", "judge_score": 0.0}], PROMPTS["cooking"], "cooking", 10**9)
    assert selected == [] and report["rejections"][0]["reason"] == "low_score"


# -----------------------------------------------------------------------------
# token files

def _docs(n):
    return [f"document number {i} says hello {i}." for i in range(n)]


def test_write_dataset_splits_by_document(tmp_path):
    enc = train_bpe(_docs(50), 300)
    docs = _docs(50)
    meta = token_files.write_dataset(docs, enc, str(tmp_path), val_fraction=0.2, seed=1)
    assert meta["train_docs"] == 40 and meta["val_docs"] == 10
    texts = {}
    for split in ("train", "val"):
        ids = token_files.open_tokens(str(tmp_path), split).tolist()
        assert ids[-1] == enc.eot_token
        texts[split] = enc.decode(ids).split(EOT)[:-1]
    assert sorted(texts["train"] + texts["val"]) == sorted(docs)
    assert not set(texts["train"]) & set(texts["val"])


def test_write_dataset_keeps_one_val_document_for_tiny_inputs(tmp_path):
    enc = train_bpe(_docs(3), 270)
    meta = token_files.write_dataset(_docs(2), enc, str(tmp_path), val_fraction=0.1)
    assert meta["train_docs"] == 1 and meta["val_docs"] == 1


def test_meta_counts_match_the_token_files(tmp_path):
    enc = train_bpe(_docs(30), 300)
    meta = token_files.write_dataset(_docs(30), enc, str(tmp_path))
    itemsize = np.dtype(meta["dtype"]).itemsize
    assert os.path.getsize(tmp_path / "train.bin") == meta["train_tokens"] * itemsize
    assert os.path.getsize(tmp_path / "val.bin") == meta["val_tokens"] * itemsize
    assert meta["train_docs"] + meta["val_docs"] == 30
    assert meta["vocab_size"] == enc.n_vocab and meta["eot_token"] == enc.eot_token
    assert token_files.load_meta(str(tmp_path)) == meta
    assert os.path.exists(tmp_path / meta["tokenizer"])


def test_token_dtype_is_uint16_for_small_vocabs_and_uint32_for_large(tmp_path):
    small = train_bpe(_docs(10), 300)
    assert token_files.write_dataset(_docs(10), small, str(tmp_path / "a"))["dtype"] == "uint16"
    # A vocabulary just past 65,536 ids: byte tokens plus filler tokens (never produced from the text).
    ranks = {bytes([b]): b for b in range(256)}
    for i in range(65536 - 256):
        ranks[b"\xff\xfe" + i.to_bytes(3, "big")] = 256 + i
    big = tiktoken.Encoding("big", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                            special_tokens={EOT: 65536})
    meta = token_files.write_dataset(_docs(10), big, str(tmp_path / "b"))
    assert meta["dtype"] == "uint32"
    assert token_files.open_tokens(str(tmp_path / "b"), "train").max() == 65536


def test_open_tokens_round_trips_the_written_ids(tmp_path):
    enc = train_bpe(_docs(5), 280)
    docs = _docs(5)
    token_files.write_dataset(docs, enc, str(tmp_path))
    pieces = []
    for split in ("train", "val"):
        tokens = token_files.open_tokens(str(tmp_path), split)
        assert isinstance(tokens, np.memmap) and not tokens.flags.writeable
        ends = np.flatnonzero(tokens == enc.eot_token)
        starts = np.concatenate([[0], ends[:-1] + 1])
        pieces += [tokens[a:b + 1].tolist() for a, b in zip(starts, ends)]
    assert sorted(pieces) == sorted(enc.encode_ordinary(d) + [enc.eot_token] for d in docs)


def test_load_meta_on_missing_or_corrupt_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="meta.json"):
        token_files.load_meta(str(tmp_path))
    (tmp_path / "meta.json").write_text("[1, 2")
    with pytest.raises(UserError, match="meta.json"):
        token_files.load_meta(str(tmp_path))


def test_text_dataset_windows_are_shifted_by_one():
    ds = token_files.TextDataset(np.arange(10, dtype=np.uint16), block_size=4)
    assert len(ds) == 6
    x, y = ds[5]
    assert x.dtype == torch.long and y.dtype == torch.long
    assert x.tolist() == [5, 6, 7, 8] and y.tolist() == [6, 7, 8, 9]
    assert len(token_files.TextDataset(np.arange(3), block_size=4)) == 0


# -----------------------------------------------------------------------------
# dataset statistics

def test_generation_stats_counts_duplicates_and_openings():
    stats = refine.generation_stats(["Hello world one", "Hello world one", "Another text"])
    assert stats["documents"] == 3 and stats["duplicate_rate"] == round(1 / 3, 4)
    assert stats["distinct_openings_share"] == round(2 / 3, 4)


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
    meta = token_files.load_meta(str(tmp_path))
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


def test_documents_longer_than_the_context_are_said_in_one_line(tmp_path):
    lines = []
    info = data.prepare_data(_cfg(block_size=64), str(tmp_path / "short"), log=lines.append)
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert len(warnings) == 1 and "longer than the context (block_size 64)" in warnings[0]
    assert info["context_notes"] == [warnings[0][len("WARNING: "):]] and "raise block_size" in warnings[0]
    lines.clear()
    info = data.prepare_data(_cfg(block_size=512), str(tmp_path / "long"), log=lines.append)
    assert not [line for line in lines if line.startswith("WARNING")] and info["context_notes"] == []


def test_empty_prompt_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="prompt"):
        data.prepare_data(_cfg(prompt="   "), str(tmp_path), log=lambda *a: None)


def test_too_little_data_for_block_size_names_the_numbers(tmp_path):
    with pytest.raises(UserError, match="final_tokens"):
        data.prepare_data(_cfg(initial_tokens=300, final_tokens=200, block_size=1024), str(tmp_path), log=lambda *a: None)


def test_data_key_follows_the_settings_that_shape_the_data():
    base = settings.load_config(["--prompt=recipes"])
    assert data.data_key(base) == data.data_key(dict(base, judge_model="other", max_iters=5))  # templates ignore them
    assert data.data_key(base) != data.data_key(dict(base, final_tokens=1234))
    teach = dict(base, generation_method="ollama")
    assert data.data_key(teach) != data.data_key(dict(teach, gen_model="mistral:7b"))
    assert data.data_key(teach) != data.data_key(dict(teach, num_predict=300))


def test_a_long_prompt_names_each_matched_keyword_once(tmp_path):
    lines = []
    prompt = "A fun GPT that generates cooking recipes. " * 2000  # 84 kB of the same words
    info = data.prepare_data(_cfg(prompt=prompt), str(tmp_path), log=lines.append)
    said = next(line for line in lines if "matched:" in line)
    assert said == "data: domain cooking (matched: cooking, recipes)"
    assert info["matched_words"] == ["cooking", "recipes"]


def test_a_prompt_no_domain_matches_says_what_the_templates_will_write(tmp_path):
    lines = []
    info = data.prepare_data(_cfg(prompt="A chatbot for legal contract review"), str(tmp_path), log=lines.append)
    warning = next(line for line in lines if line.startswith("WARNING"))
    assert "children's stories" in warning and "generation_method='ollama'" in warning and "sources=" in warning
    assert info["domain"] == "general" and info["domain_note"] == warning[len("WARNING: "):]
    matched = data.prepare_data(_cfg(prompt="Bedtime stories for kids"), str(tmp_path / "b"), log=lines.append)
    assert matched["domain_note"] == ""
