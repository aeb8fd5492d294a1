"""Text2GPT1 data: from one sentence to token files a GPT can train on.

The pipeline, one plain function a step: detect the domain of the prompt, generate samples (from
templates.py offline, or a teacher model through teacher.py), refine them (score, de-duplicate, select
to a token budget), train or load a tokenizer (tokenizer.py), and write train.bin / val.bin / meta.json.
The token-file format is written and read only in this module.

    python data.py configs/cooking_small.py [--key=value ...]   # runs only the data steps
"""
import collections
import glob
import hashlib
import json
import math
import os
import random
import re
import sys
import time
import zlib

import numpy as np
import torch

import corpora
import progress
import settings
import teacher
import verify
from common import UserError, run_command, write_atomic
from problems import generate_math_problems, load_problems, problem_prompt
from templates import generate_template_samples
from tokenizer import CORPUS_SPECIALS, EOT, encode_segments, estimate_tokens, make_tokenizer, save_tokenizer
from words import prompt_words, word_forms

# -----------------------------------------------------------------------------
# domain detection

# Hand-curated keywords per domain. Matching is on lower-case words with simple suffixes stripped
# ("recipes" -> "recipe", "baking" -> "bake"), so one entry covers its plural and verb forms.
DOMAIN_KEYWORDS = {
    "cooking": """cook cooking cookery recipe food dish meal kitchen bake chef cuisine dinner lunch breakfast
        brunch supper dessert soup salad pasta bread cake cookie biscuit snack ingredient spice vegan vegetarian
        grill roast fry stew curry sauce noodle rice sushi pizza taco burrito flavor flavour tasty delicious menu
        restaurant eat cocktail smoothie pastry dough vegetable meat chicken beef pork fish seafood tofu spicy
        savory savoury culinary appetizer barbecue bbq ramen dumpling pie muffin pancake sandwich burger salsa
        marinade braise simmer boil steam stir-fry stirfry casserole foodie gourmet homemade lasagna risotto
        chocolate sweet baker bakery grocery lunchbox""",
    "poetry": """poem poetry poet verse haiku sonnet limerick rhyme stanza lyric ballad ode tanka couplet
        quatrain metaphor muse literary creative song songwriter rhythm meter elegy epic poetic villanelle
        acrostic prose romantic lyrical imagery spoken-word slam rhyming bard""",
    "technical": """code coding program programming programmer software python javascript typescript java rust
        golang linux unix bash shell command terminal api database sql server network docker kubernetes git
        compiler algorithm debug bug function script developer computer technical technology tech engineering
        engineer devops cloud deploy deployment install configuration config tutorial documentation cli http
        html css framework library backend frontend sysadmin regex json yaml nginx postgres mysql sqlite
        troubleshoot troubleshooting how-to howto kernel github repository repo""",
    # not a template domain: its documents are problems with checked solutions (problems.py)
    "math": """math maths mathematics mathematical arithmetic algebra algebraic equation calculus geometry
        fraction percentage percent numeracy gsm8k addition subtraction multiplication division""",
}
# Keywords in scripts without spaces (Japanese) match as substrings of the prompt.
DOMAIN_KEYWORDS_SUBSTRING = {
    "cooking": ["料理", "レシピ"],
    "poetry": ["詩", "ポエム", "創作"],
    "technical": ["技術", "プログラム"],
    "math": ["数学", "算数", "計算"],
}
DOMAIN_WORDS = {d: set(w.split()) for d, w in DOMAIN_KEYWORDS.items()}


def detect_domain(prompt):
    """(domain, matched_words): the domain whose keywords the prompt uses most; 'general' when none."""
    hits = {d: [] for d in DOMAIN_WORDS}
    for word in prompt_words(prompt):
        for domain, words in DOMAIN_WORDS.items():
            if any(f in words for f in word_forms(word)):
                hits[domain].append(word)
    for domain, keys in DOMAIN_KEYWORDS_SUBSTRING.items():
        hits[domain] += [k for k in keys if k in prompt]
    best = max(hits, key=lambda d: len(hits[d]))  # ties go to the earlier domain in DOMAIN_KEYWORDS
    if not hits[best]:
        return "general", []
    return best, hits[best]


# -----------------------------------------------------------------------------
# refinement: score every sample, drop duplicates and weak ones, keep the best up to final_tokens

# Estimated-token ranges a document of each domain usually falls in; outside them the length score falls.
LENGTH_RANGES = {"cooking": (80, 450), "poetry": (15, 200), "technical": (50, 450), "general": (30, 450),
                 "math": (20, 600), "code": (30, 1500)}
SCORE_WEIGHTS = {"length": 0.2, "shape": 0.15, "relevance": 0.2, "repetition": 0.25, "characters": 0.2}
JUDGE_WEIGHT = 0.6  # a teacher's judgement sees meaning, the heuristics only form, so the judge counts more
MIN_SCORE = 0.5  # below this a sample is more likely noise than signal for a small model
NEAR_DUP_JACCARD = 0.8  # estimated Jaccard similarity of word 3-gram shingles that counts as a near duplicate
MINHASH_PERMUTATIONS, LSH_BANDS = 64, 16  # 16 bands of 4 rows: pairs above ~0.5 similarity become candidates
_NORMAL_CHAR = re.compile(r"[\w\s.,;:!?'\"()\-–—·/°%&+=*#<>\[\]{}|$@~`^\\]")


def score_sample(text, prompt, domain):
    """(score in [0, 1], details): a weighted mean of SCORE_WEIGHTS' criteria, each in [0, 1].

    length: 1 inside the domain's LENGTH_RANGES, falling in proportion outside it.
    shape: sentence-ending punctuation present and sentences of 3-40 words on average.
    relevance: half the share of the prompt's content words found in the text, half domain keywords (5 = full).
    repetition: 1 minus twice the share of repeated word 3-grams (a loop of the same phrase scores 0).
    characters: share of ordinary letters, digits and punctuation, any junk penalised fivefold.
    An empty text scores 0.
    """
    if not text.strip():
        return 0.0, {"empty": True}
    n = estimate_tokens(text)
    lo, hi = LENGTH_RANGES.get(domain, LENGTH_RANGES["general"])
    length = 1.0 if lo <= n <= hi else (n / lo if n < lo else max(0.0, 1 - (n - hi) / hi))
    sentences = [s for s in re.split(r"[.!?\n]+", text) if s.strip()]
    avg_words = sum(len(s.split()) for s in sentences) / max(1, len(sentences))
    shape = (0.5 if re.search(r"[.!?:]", text) else 0.0) + (0.5 if 1.5 <= avg_words <= 40 else 0.0)
    words = re.findall(r"[a-z]+", text.lower())
    word_set = set(words)
    forms_in_text = word_set | {f for w in word_set for f in word_forms(w)}
    content = [w for w in set(prompt_words(prompt)) if len(w) > 3 and w not in _STOPWORDS]
    prompt_share = sum(1 for w in content if set(word_forms(w)) & forms_in_text) / len(content) if content else 1.0
    domain_hits = len(DOMAIN_WORDS.get(domain, _GENERAL_WORDS) & forms_in_text)
    relevance = 0.5 * prompt_share + 0.5 * min(1.0, domain_hits / 5)
    grams = list(zip(words, words[1:], words[2:]))
    repeated = 1 - len(set(grams)) / len(grams) if grams else 0.0
    repetition = max(0.0, 1 - 2 * repeated)
    normal = len(_NORMAL_CHAR.findall(text)) / len(text)
    characters = max(0.0, 1 - 5 * (1 - normal))
    details = {"tokens": n, "length": round(length, 3), "shape": shape, "relevance": round(relevance, 3),
               "repetition": round(repetition, 3), "characters": round(characters, 3)}
    score = sum(SCORE_WEIGHTS[k] * details[k] for k in SCORE_WEIGHTS)
    return round(min(1.0, max(0.0, score)), 4), details


_STOPWORDS = set("that this with which what from have will into about your their there generates generate makes "
                 "writes write create creates fun gpt model small tiny short simple".split())
_GENERAL_WORDS = set("once day friend happy said smiled little played went home together felt".split())


def _minhash(text, a, b):
    """MinHash signature of the text's word 3-gram shingles (crc32 hashed, multiply-shift permutations)."""
    words = text.lower().split()
    shingles = {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}
    x = np.array([zlib.crc32(s.encode()) for s in shingles], dtype=np.uint64)
    return ((x[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).min(axis=0)


def duplicate_finder(seed, near_duplicates=True):
    """A function text -> None for a text unlike every text it was given before (which it then remembers),
    or why not: 'empty', 'exact_duplicate' (the same words, ignoring case and spacing) or 'near_duplicate'.

    Near duplicates are found with MinHash over word 3-grams and LSH banding, so only texts that share a
    band are compared: linear time instead of comparing all pairs."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, MINHASH_PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, MINHASH_PERMUTATIONS, dtype=np.uint64)
    rows = MINHASH_PERMUTATIONS // LSH_BANDS
    seen_exact, buckets = set(), collections.defaultdict(list)
    signatures = np.empty((1024, MINHASH_PERMUTATIONS), dtype=np.uint64)  # row j: the j-th text remembered
    remembered = 0

    def duplicate_of_earlier(text):
        nonlocal signatures, remembered
        if not text.strip():
            return "empty"
        norm = " ".join(text.lower().split())
        if norm in seen_exact:
            return "exact_duplicate"
        seen_exact.add(norm)
        if not near_duplicates:
            return None
        sig = _minhash(text, a, b)
        keys = [(band, sig[band * rows:(band + 1) * rows].tobytes()) for band in range(LSH_BANDS)]
        candidates = list({j for k in keys for j in buckets.get(k, ())})
        # all candidates at once: comparing them one by one in Python took most of the time on similar data
        if candidates and (signatures[candidates] == sig).mean(axis=1).max() >= NEAR_DUP_JACCARD:
            return "near_duplicate"
        if remembered == len(signatures):
            signatures = np.concatenate([signatures, np.empty_like(signatures)])
        signatures[remembered] = sig
        for k in keys:
            buckets[k].append(remembered)
        remembered += 1
        return None

    return duplicate_of_earlier


def refine_samples(samples, prompt, domain, final_tokens, seed=1337, near_duplicates=True):
    """(selected, report): score, drop empty / exact and near duplicates / low scores, keep the best.
    near_duplicates=False keeps texts that differ only a little: two problems that differ in one number
    are two problems.

    samples are dicts {"text", "source"} with an optional "judge_score" (None: the judge's reply could not
    be parsed). Of duplicates (duplicate_finder) the better-scored sample stays. Selection takes the best-scored samples until final_tokens (estimated)
    is reached. selected: dicts {"text", "score", "source"} in their original order.
    """
    scored, judged, unparseable = [], 0, 0
    for i, s in enumerate(samples):
        heuristic, _ = score_sample(s["text"], prompt, domain)
        score = heuristic
        if "judge_score" in s:
            if s["judge_score"] is None:
                unparseable += 1
            else:
                judged += 1
                score = JUDGE_WEIGHT * float(s["judge_score"]) + (1 - JUDGE_WEIGHT) * heuristic
        scored.append((round(score, 4), i))
    by_score = sorted(scored, key=lambda si: (-si[0], si[1]))

    duplicate_of_earlier = duplicate_finder(seed, near_duplicates)
    rejected, kept = {}, []
    for score, i in by_score:
        reason = duplicate_of_earlier(samples[i]["text"])
        if reason:
            rejected[i] = reason
            continue
        if score < MIN_SCORE:
            rejected[i] = "low_score"
            continue
        kept.append((score, i))

    selected_ids, total = [], 0
    for score, i in kept:
        if total >= final_tokens:
            rejected[i] = "over_budget"
            continue
        selected_ids.append(i)
        total += estimate_tokens(samples[i]["text"])
    score_of = {i: s for s, i in scored}
    # any other fields of a sample (a problem's prompt, answer and level) travel with it
    selected = [{"text": samples[i]["text"], "score": score_of[i], "source": samples[i].get("source", ""),
                 **{k: v for k, v in samples[i].items() if k not in ("text", "source", "judge_score")}}
                for i in sorted(selected_ids)]
    histogram = [0] * 10
    for s, _ in scored:
        histogram[min(9, int(s * 10))] += 1
    report = {"samples": len(samples), "selected": len(selected), "selected_tokens": total,
              "final_tokens": final_tokens,
              "rejected": dict(collections.Counter(rejected.values())),
              "score_histogram": histogram,  # bin k counts scores in [k/10, (k+1)/10)
              "average_score_selected": round(sum(x["score"] for x in selected) / len(selected), 4) if selected else 0.0,
              "judge": {"judged": judged, "unparseable": unparseable},
              "rejections": [{"index": i, "reason": r, "score": score_of[i]} for i, r in sorted(rejected.items())]}
    return selected, report


# -----------------------------------------------------------------------------
# token files: train.bin / val.bin hold the token ids back to back, meta.json says how to read them;
# train_mask.bin / val_mask.bin, when there, hold one byte per token: 1 if the model learns to write it

def write_dataset(docs, enc, out_dir, val_fraction=0.1, seed=1337, prompts=None, is_val=None):
    """Tokenize docs (each followed by <|endoftext|>), split by document, write the token files.

    A doc is a string, or a list of pieces [[text, learned], ...] (a chat: the assistant's turns learned,
    the rest only read; see tokenizer.encode_segments). prompts[i], when given, is the start of docs[i]
    that the model is shown but not trained to write (a problem, before its solution). Tokens not learned
    get 0 in the loss mask files. is_val, when given, is the split itself (True = validation document);
    otherwise val_fraction of the documents, shuffled with seed, go to validation."""
    if is_val is None:
        order = list(range(len(docs)))
        random.Random(seed).shuffle(order)
        n_val = round(len(docs) * val_fraction)
        if len(docs) >= 2:
            n_val = min(max(n_val, 1), len(docs) - 1)  # both splits need at least one document
        else:
            n_val = 0
        val_ids, train_ids = order[:n_val], order[n_val:]
    else:
        val_ids = [i for i, v in enumerate(is_val) if v]
        train_ids = [i for i, v in enumerate(is_val) if not v]

    eot = enc.eot_token
    # uint16 halves the files (and the memory-mapped reads) whenever every id fits below 65,536.
    dtype = np.uint16 if enc.n_vocab <= 65536 else np.uint32
    if prompts and any(prompts):
        # prompt and solution encoded apart, as at inference, where the model continues the prompt's tokens
        docs = [[[p or "", False], [d[len(p or ""):], True]] for d, p in zip(docs, prompts)]
    if any(not isinstance(d, str) for d in docs):
        encoded, learned = zip(*(encode_segments(enc, d if not isinstance(d, str) else [[d, True]]) for d in docs))
    else:
        encoded, learned = enc.encode_ordinary_batch(list(docs)), None
    masked = learned is not None and any(0 in m for m in learned)
    sizes = {}
    for split, ids in (("train", train_ids), ("val", val_ids)):
        tokens, mask = [], []
        for i in ids:
            tokens.extend(encoded[i])
            tokens.append(eot)
            if masked:
                mask.extend(learned[i])
                mask.append(1)  # ending the document (the solution, the conversation) is learned too
        arr = np.array(tokens, dtype=dtype)
        write_atomic(os.path.join(out_dir, f"{split}.bin"), arr.tobytes())
        if masked:
            write_atomic(os.path.join(out_dir, f"{split}_mask.bin"), np.array(mask, dtype=np.uint8).tobytes())
        sizes[split] = len(arr)
    save_tokenizer(enc, os.path.join(out_dir, "tokenizer.json"))
    meta = {"vocab_size": enc.n_vocab, "dtype": np.dtype(dtype).name,
            "train_tokens": sizes["train"], "val_tokens": sizes["val"],
            "train_docs": len(train_ids), "val_docs": len(val_ids),
            "eot_token": eot, "tokenizer": "tokenizer.json"}
    if masked:
        meta["loss_mask"] = True
    write_atomic(os.path.join(out_dir, "meta.json"), json.dumps(meta, indent=2))
    return meta


def load_meta(dataset_dir):
    """meta.json of a dataset folder written by write_dataset."""
    path = os.path.join(dataset_dir, "meta.json")
    fix = ("run the data step (python data.py CONFIG) or point dataset_dir at a folder with "
           "train.bin, val.bin and meta.json")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        for key in ("vocab_size", "dtype", "train_tokens", "val_tokens", "eot_token"):
            meta[key]
        return meta
    except FileNotFoundError:
        raise UserError(f"dataset file {path} is missing; {fix}") from None
    except Exception as e:
        raise UserError(f"dataset file {path} is corrupt ({type(e).__name__}: {e}); {fix}") from None


def open_tokens(dataset_dir, split, meta=None):
    """The token ids of split ('train' or 'val') as a read-only memory map; memory does not grow with data.
    Pass meta (from load_meta) when calling once per batch, so meta.json is not re-read each time."""
    meta = meta or load_meta(dataset_dir)
    path = os.path.join(dataset_dir, f"{split}.bin")
    if not os.path.exists(path):
        raise UserError(f"dataset file {path} is missing; run the data step (python data.py CONFIG) or "
                        f"point dataset_dir at a folder with train.bin, val.bin and meta.json")
    if os.path.getsize(path) == 0:
        return np.zeros(0, dtype=meta["dtype"])  # np.memmap refuses empty files
    return np.memmap(path, dtype=meta["dtype"], mode="r")


def open_loss_mask(dataset_dir, split, meta):
    """The split's loss mask (1 = a token the model learns to write) as a memory map, or None when every
    token is learned."""
    if not meta.get("loss_mask"):
        return None
    path = os.path.join(dataset_dir, f"{split}_mask.bin")
    if not os.path.exists(path):
        raise UserError(f"dataset file {path} is missing but meta.json says the data has a loss mask; "
                        f"run the data step again")
    return np.memmap(path, dtype=np.uint8, mode="r")


class TextDataset:
    """Every block_size window of tokens as (x, y), y being x shifted left by one token."""

    def __init__(self, tokens, block_size):
        self.tokens = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
        self.block_size = block_size

    def __len__(self):
        return max(0, len(self.tokens) - self.block_size)

    def __getitem__(self, i):
        chunk = self.tokens[i:i + self.block_size + 1]
        return chunk[:-1], chunk[1:]


# -----------------------------------------------------------------------------
# dataset statistics

def generation_stats(docs):
    """Dataset statistics: size, length, variety (distinct openings, exact duplicates), top keywords."""
    stop = set("the a an and of to in with for on at is it by or as be that this from until then".split())
    n = len(docs)
    tokens = [estimate_tokens(d) for d in docs]
    words = collections.Counter(w for d in docs for w in re.findall(r"[a-z]{3,}", d.lower()) if w not in stop)
    return {"documents": n, "tokens_estimate": sum(tokens), "avg_tokens": round(sum(tokens) / n, 1) if n else 0.0,
            "distinct_openings_share": round(len({d[:10] for d in docs}) / n, 4) if n else 0.0,
            "duplicate_rate": round(1 - len(set(docs)) / n, 4) if n else 0.0,
            "top_keywords": [w for w, _ in words.most_common(10)]}


# -----------------------------------------------------------------------------
# the data pipeline: prompt -> samples -> refined documents -> tokenizer -> token files

# tokens to generate and to keep after refinement when a config says nothing: the original product's budgets
SIZE_TOKEN_TARGETS = {"12M": (30_000, 15_000), "33M": (50_000, 25_000), "117M": (100_000, 50_000)}
# cfg keys that change the data; a teacher's own keys (teacher_*, ollama_*, openai_*) count too.
DATA_KEYS = ("prompt", "size", "seed", "generation_method", "initial_tokens", "final_tokens", "tokenizer",
             "vocab_size", "val_fraction")
# what a teacher writes also depends on these; template data ignores them, so changing them reuses it
TEACHER_DATA_KEYS = ("teacher_url", "gen_model", "judge_model", "gen_temperature", "gen_top_p", "num_predict",
                     "fallback", "solutions_per_problem")
# problems to solve depend on these too
PROBLEM_DATA_KEYS = ("problems_file", "max_level")
REASONING_DOMAINS = ("math", "code")  # documents are problems with checked solutions, not free text


def data_key(cfg):
    """A hash of the data-relevant settings; the same key means the saved dataset can be reused."""
    names = DATA_KEYS + (TEACHER_DATA_KEYS if cfg.get("generation_method") != "template" else ())
    keys = {k: cfg.get(k) for k in names}
    if cfg.get("sources"):
        keys.update({k: cfg.get(k) for k in CORPUS_DATA_KEYS}, sources_changed=sources_fingerprint(cfg["sources"]))
    if cfg.get("problems_file") or detect_domain(cfg.get("prompt") or "")[0] in REASONING_DOMAINS:
        keys.update({k: cfg.get(k) for k in PROBLEM_DATA_KEYS})
        if cfg.get("problems_file") and os.path.isfile(cfg["problems_file"]):
            stat = os.stat(cfg["problems_file"])  # an edited problems file makes new data
            keys["problems_file_changed"] = [stat.st_size, stat.st_mtime_ns]
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:16]


def generated_problems(cfg, n_tokens):
    """Enough generated math problems for about n_tokens of solved documents."""
    levels = tuple(range(1, cfg.get("max_level", 5) + 1))
    probe = generate_math_problems(200, cfg["seed"], levels)  # the same seed starts the same sequence
    per_problem = sum(estimate_tokens(problem_prompt(p["problem"]) + p["solutions"][0]) for p in probe) / len(probe)
    return generate_math_problems(math.ceil(n_tokens / per_problem), cfg["seed"], levels)


def check_solution(problem, text, hit_token_limit=False):
    """The verdict on one candidate solution: its final answer against the known one (math), or its last
    Python block run against the problem's tests in a sandboxed subprocess (code). A reply the token limit
    cut off before its final answer or its closed code block is 'truncated': a larger budget would help,
    a better model might not be needed."""
    if problem["kind"] == "math":
        verdict = verify.check_math(text, problem["answer"])
        cut_off = not verify.states_final_answer(text)
    else:
        code = verify.extract_code(text)  # None for a block whose closing fence never came
        verdict = verify.check_code(code, problem["tests"], problem.get("fn_name"))
        verdict["correct"], cut_off = verdict["verdict"] == "pass", code is None
    if hit_token_limit and cut_off and not verdict["correct"]:
        verdict["reason"] = "truncated"
    return verdict


def solved_problem_samples(cfg, problems, out_dir, log):
    """Rejection sampling: candidate solutions (a teacher's k per problem, or offline the problems' own
    worked solutions), each checked; only the correct ones become documents. Every candidate and its
    verdict goes to candidates.jsonl. Returns (samples, report, teacher stats, method used)."""
    method, method_used, teacher_stats = cfg.get("generation_method", "template"), "reference solutions", None
    candidates = None
    if method in ("ollama", "openai"):
        try:
            candidates, teacher_stats = teacher.solve_problems(cfg, problems, out_dir, log)
            method_used = method
        except teacher.TeacherUnreachable as e:
            if cfg.get("fallback") != "template":
                raise
            log(f"WARNING: {e}; falling back to the problems' own solutions")
            method_used = f"reference solutions (fallback: {method} unreachable)"
    if candidates is None:
        candidates = [{"problem": i, "sample": j, "text": s, "source": p["source"]}
                      for i, p in enumerate(problems) for j, s in enumerate(p["solutions"])]
    samples, records = [], []
    per_level = collections.defaultdict(lambda: {"candidates": 0, "correct": 0})
    for c in candidates:
        p = problems[c["problem"]]
        verdict = check_solution(p, c["text"], c.get("hit_token_limit", False))
        level = per_level[str(p["level"])]
        level["candidates"] += 1
        level["correct"] += verdict["correct"]
        records.append({"problem_id": p["id"], "source": c["source"], "level": p["level"], "sample": c["sample"],
                        **verdict})
        if verdict["correct"]:
            prompt = problem_prompt(p["problem"])
            samples.append({"text": prompt + c["text"].strip(), "source": c["source"], "prompt": prompt,
                            "problem_id": p["id"], "level": p["level"], "kind": p["kind"],
                            **({"answer": p["answer"]} if p["kind"] == "math" else {})})
    write_atomic(os.path.join(out_dir, "candidates.jsonl"), "".join(json.dumps(r) + "\n" for r in records))
    for level in per_level.values():
        level["pass_rate"] = round(level["correct"] / level["candidates"], 4) if level["candidates"] else 0.0
    report = {"problems": len(problems), "candidates": len(records), "correct": len(samples),
              "pass_rate": round(len(samples) / len(records), 4) if records else 0.0,
              "per_level": dict(sorted(per_level.items())),
              "reasons": dict(collections.Counter(r["reason"] for r in records))}
    log(f"data: {len(samples)} of {len(records)} candidate solutions to {len(problems)} problems check out "
        f"({report['pass_rate']:.1%}); per level: " + ", ".join(f"{k} {v['pass_rate']:.0%}" for k, v in report["per_level"].items()))
    return samples, report, teacher_stats, method_used


# -----------------------------------------------------------------------------
# users' own text (corpora.py): read every source, redact, de-duplicate across sources, split, weight

CORPUS_DATA_KEYS = ("sources", "code_extensions", "code_per_file", "max_chars", "fim_rate", "git_max_files",
                    "git_max_lines", "redact", "max_tokens")
CORPUS_VAL_FRACTION = 0.15  # users' documents vary more than generated ones: a larger held-out share
LENGTH_PERCENTILES = (50, 90, 95, 99)


def sources_fingerprint(spec):
    """Sizes and modification times of every file under the sources' paths: edited sources make new data."""
    h = hashlib.sha256()
    for _, path, _ in corpora.parse_sources(spec):
        for match in sorted(glob.glob(path, recursive=True)) or [path]:
            walk = os.walk(match) if os.path.isdir(match) else [("", [], [match])]
            for root, dirs, files in walk:
                dirs.sort()
                for name in sorted(files):
                    try:
                        st = os.stat(os.path.join(root, name))
                        h.update(f"{root}/{name}:{st.st_size}:{st.st_mtime_ns};".encode())
                    except OSError:
                        pass
    return h.hexdigest()[:16]


def in_eval_split(text, fraction):
    """A document's split from a hash of its text, so it never moves when other documents come and go."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 2**32 < fraction


def corpus_documents(cfg, log):
    """(documents, report) from cfg['sources']: distinct documents (dicts of corpora.py) with 'val' (their
    split) and 'copies' added: a train document is trained on once per unit of its source's weight
    (2 = twice; 0.5 = half of them, chosen by seed), an eval document once. final_tokens, when set, caps
    the distinct documents before the weights."""
    entries = corpora.parse_sources(cfg["sources"])
    docs, per_source, redactions = [], {}, collections.Counter()
    for kind, path, weight in entries:
        got, read_report = corpora.read_source(kind, path, cfg, cfg["seed"])
        if cfg["redact"] is True or cfg["redact"] == "auto" and kind in ("chat", "git"):
            got, counts = corpora.redact_documents(got)
            redactions.update(counts)
        name = f"{kind}:{path}"
        per_source[name] = {"weight": weight, "read": read_report, "documents": len(got)}
        log(f"data: {name}: {len(got)} documents")
        docs += [dict(d, weight=weight) for d in got]

    duplicate_of_earlier = duplicate_finder(cfg["seed"])
    rejected, kept = collections.Counter(), []
    for d in docs:
        reason = duplicate_of_earlier(d["text"])
        if reason:
            rejected[reason] += 1
        else:
            kept.append(d)
    fraction = cfg["val_fraction"] or CORPUS_VAL_FRACTION
    for d in kept:
        d["val"] = in_eval_split(d["text"], fraction)
    if len(kept) >= 2 and len({d["val"] for d in kept}) == 1:  # both splits need a document
        kept[0]["val"] = not kept[0]["val"]

    rng = random.Random(cfg["seed"])
    if cfg.get("final_tokens"):
        order = list(range(len(kept)))
        rng.shuffle(order)
        budget = {False: cfg["final_tokens"] * (1 - fraction), True: cfg["final_tokens"] * fraction}
        chosen = set()
        for i in order:
            if budget[kept[i]["val"]] > 0:
                budget[kept[i]["val"]] -= estimate_tokens(kept[i]["text"])
                chosen.add(i)
        rejected["over_budget"] += len(kept) - len(chosen)
        kept = [d for i, d in enumerate(kept) if i in chosen]
    for d in kept:
        d["copies"] = 1 if d["val"] else int(d["weight"]) + (rng.random() < d["weight"] % 1)
    report = {"sources": per_source, "documents": len(docs), "selected": len(kept),
              "selected_tokens": sum(estimate_tokens(d["text"]) * d["copies"] for d in kept),
              "rejected": dict(rejected), "redactions": dict(redactions), "val_fraction": fraction}
    return kept, report


def length_scan(docs, lengths, max_tokens):
    """Per source: how many documents, and their length in tokens (min, percentiles, max); documents over
    max_tokens are counted as dropped."""
    by_source = collections.defaultdict(list)
    for d, n in zip(docs, lengths):
        by_source[d["source"]].append(n)
    scan = {}
    for source, ns in by_source.items():
        ns = np.array(ns)
        scan[source] = {"count": len(ns), "min": int(ns.min()),
                        **{f"p{q}": int(np.percentile(ns, q)) for q in LENGTH_PERCENTILES},
                        "max": int(ns.max()), "over_max_tokens": int((ns > max_tokens).sum())}
    return scan


def prepare_corpus(cfg, out_dir, key, log):
    """The data steps for users' own text: sources -> documents -> tokenizer (with the fill-in-the-middle
    and chat tokens) -> length scan -> token files, plus train.jsonl / eval.jsonl for other tools."""
    info_path = os.path.join(out_dir, "data_info.json")
    if not cfg["overwrite"] and os.path.exists(info_path) and os.path.exists(os.path.join(out_dir, "train.jsonl")):
        raise UserError(f"{out_dir} already holds train.jsonl / eval.jsonl from other data settings; pass "
                        f"--overwrite=True to replace them, or another out_dir / dataset_dir")
    timings, t0 = {}, time.time()
    selected, report = corpus_documents(cfg, log)
    timings["read_s"] = round(time.time() - t0, 3)
    if not selected:
        raise UserError(f"the sources {cfg['sources']!r} gave no usable documents (rejected: {report['rejected']}); "
                        f"check the paths and code_extensions")
    t = time.time()
    enc = make_tokenizer(cfg["tokenizer"], [d["text"] for d in selected if not d["val"]], cfg.get("vocab_size") or 0,
                         specials=CORPUS_SPECIALS)
    timings["tokenizer_s"] = round(time.time() - t, 3)
    lengths = [len(encode_segments(enc, d.get("segments") or [[d["text"], True]])[0]) for d in selected]
    scan = length_scan(selected, lengths, cfg["max_tokens"])
    write_atomic(os.path.join(out_dir, "length_scan.json"), json.dumps(scan, indent=1))
    progress.write_histogram_svg({s: [n for d, n in zip(selected, lengths) if d["source"] == s] for s in scan},
                                 os.path.join(out_dir, "length_scan.svg"), cfg["max_tokens"])
    report["rejected"]["over_max_tokens"] = sum(v["over_max_tokens"] for v in scan.values())
    for source, v in scan.items():
        if v["p50"] > cfg["block_size"]:
            log(f"data: half the documents of {source} are longer than block_size {cfg['block_size']} tokens, so "
                f"the model sees them in pieces; lower max_chars or raise block_size")
    selected = [d for d, n in zip(selected, lengths) if n <= cfg["max_tokens"]]
    if not any(d["val"] for d in selected) or all(d["val"] for d in selected):
        raise UserError(f"after dropping documents over max_tokens={cfg['max_tokens']} a split is empty; raise "
                        f"max_tokens or add documents")
    for split, want_val in (("train", False), ("eval", True)):
        # the shape other fine-tuning tools read: {"messages": [...]} or {"text": ...}
        write_atomic(os.path.join(out_dir, f"{split}.jsonl"), "".join(
            json.dumps({**({"messages": d["messages"]} if d.get("messages") else {"text": d["text"]}),
                        "source": d["source"]}, ensure_ascii=False) + "\n"
            for d in selected if d["val"] == want_val))
    trained = [d for d in selected for _ in range(d["copies"])]
    write_atomic(os.path.join(out_dir, "dataset.txt"), "".join(f"{d['text']}\n{EOT}\n\n" for d in trained))
    write_atomic(os.path.join(out_dir, "refine_report.json"), json.dumps(report, indent=1))
    t = time.time()
    meta = write_dataset([d.get("segments") or d["text"] for d in trained], enc, out_dir,
                         is_val=[d["val"] for d in trained])
    timings["write_s"] = round(time.time() - t, 3)
    _check_train_size(meta, cfg)
    timings["total_s"] = round(time.time() - t0, 3)
    kinds = collections.Counter(d["kind"] for d in trained)
    info = {"prompt": cfg.get("prompt", ""), "domain": "corpus", "sources": cfg["sources"],
            "generation_method": "sources", "teacher": None, "judge": None, "reasoning": None,
            "tokens": {"raw": sum(estimate_tokens(d["text"]) for d in selected), "refined": report["selected_tokens"],
                       "train": meta["train_tokens"], "val": meta["val_tokens"]},
            "documents": {"generated": report["documents"], "refined": len(selected),
                          "train": meta["train_docs"], "val": meta["val_docs"], "by_kind": dict(kinds),
                          "fim": sum(1 for d in trained if d.get("fim"))},
            "tokenizer": cfg["tokenizer"], "vocab_size": meta["vocab_size"], "timings_s": timings,
            "stats": generation_stats([re.sub(r"<\|\w+\|>", " ", d["text"]) for d in trained]), "refine": report, "length_scan": scan,
            "data_key": key}
    write_atomic(info_path, json.dumps(info, indent=1))
    log(f"data: {meta['train_tokens']} train / {meta['val_tokens']} val tokens ({meta['train_docs']} / "
        f"{meta['val_docs']} documents), vocab {meta['vocab_size']}, {timings['total_s']} s")
    return info


def _check_train_size(meta, cfg):
    if meta["train_tokens"] < cfg["block_size"] + 1:
        raise UserError(f"the train split has only {meta['train_tokens']} tokens but block_size {cfg['block_size']} "
                        f"needs at least {cfg['block_size'] + 1}; raise final_tokens (now {cfg.get('final_tokens')}) "
                        f"or lower block_size")


def prepare_data(cfg, out_dir, log=print):
    """Run the data steps for cfg into out_dir and return (and save as data_info.json) what they did.

    Files: dataset.jsonl (text, score, source per line), dataset.txt (each document followed by a line
    '<|endoftext|>' and a blank line), refine_report.json, tokenizer.json, train.bin, val.bin, meta.json,
    data_info.json. A second run with the same data settings reuses them.
    """
    prompt = (cfg.get("prompt") or "").strip()
    if not prompt and not cfg.get("sources"):
        raise UserError("the prompt is empty; pass one sentence describing the model, e.g. --prompt=\"A fun GPT that generates cooking recipes\"")
    if cfg["size"] not in SIZE_TOKEN_TARGETS:
        raise UserError(f"unknown size {cfg['size']!r}; choose one of {', '.join(SIZE_TOKEN_TARGETS)}")
    key = data_key(cfg)
    info_path = os.path.join(out_dir, "data_info.json")
    if all(os.path.exists(os.path.join(out_dir, f)) for f in ("data_info.json", "meta.json", "train.bin", "val.bin")):
        try:
            with open(info_path, encoding="utf-8") as f:
                saved = json.load(f)
        except (OSError, ValueError):
            saved = {}
        if saved.get("data_key") == key:
            _check_train_size(load_meta(out_dir), cfg)
            log(f"data: reusing the dataset in {out_dir} (same data settings, key {key})")
            return saved
    if cfg.get("sources"):
        return prepare_corpus(cfg, out_dir, key, log)

    initial_tokens = cfg.get("initial_tokens") or SIZE_TOKEN_TARGETS[cfg["size"]][0]
    final_tokens = cfg.get("final_tokens") or SIZE_TOKEN_TARGETS[cfg["size"]][1]
    timings, t0 = {}, time.time()
    domain, matched = detect_domain(prompt)
    problems = None
    if cfg.get("problems_file"):
        problems = load_problems(cfg["problems_file"])
        domain = "code" if all(p["kind"] == "code" for p in problems) else "math"
        matched = [f"problems_file: {len(problems)} problems"]
    log(f"data: domain {domain} (matched: {', '.join(matched) or 'nothing'})")

    method = cfg.get("generation_method", "template")
    method_used, teacher_stats, judge_stats, reasoning = method, None, None, None
    if method not in ("template", "ollama", "openai"):
        raise UserError(f"unknown generation_method {method!r}; choose one of template, ollama, openai")
    if domain in REASONING_DOMAINS:
        problems = problems or generated_problems(cfg, initial_tokens)
        samples, reasoning, teacher_stats, method_used = solved_problem_samples(cfg, problems, out_dir, log)
    elif method == "template":
        texts = generate_template_samples(prompt, domain, initial_tokens, cfg["seed"])
        samples = [{"text": t, "source": "template"} for t in texts]
    elif method in ("ollama", "openai"):
        try:
            samples, teacher_stats = teacher.generate_samples(cfg, prompt, domain, initial_tokens, out_dir, log)
        except teacher.TeacherUnreachable as e:
            if cfg.get("fallback") != "template":
                raise
            log(f"WARNING: {e}; falling back to template generation")
            method_used = f"template (fallback: {method} unreachable)"
            samples = [{"text": t, "source": "template"}
                       for t in generate_template_samples(prompt, domain, initial_tokens, cfg["seed"])]
    timings["generate_s"] = round(time.time() - t0, 3)
    raw_tokens = sum(estimate_tokens(s["text"]) for s in samples)
    log(f"data: generated {len(samples)} samples (~{raw_tokens} tokens) with {method_used}")

    if cfg.get("judge_model") and method_used in ("ollama", "openai") and domain not in REASONING_DOMAINS:
        t = time.time()
        judge_stats = teacher.judge_samples(cfg, samples, prompt, domain, log)
        timings["judge_s"] = round(time.time() - t, 3)

    t = time.time()
    selected, report = refine_samples(samples, prompt, domain, final_tokens, seed=cfg["seed"],
                                      near_duplicates=domain not in REASONING_DOMAINS)
    timings["refine_s"] = round(time.time() - t, 3)
    if not selected:
        raise UserError(f"the data step produced no usable documents ({len(samples)} samples, rejected: "
                        f"{report['rejected'] or 'none generated'}); raise initial_tokens, change the prompt "
                        f"or the generation_method")
    write_atomic(os.path.join(out_dir, "dataset.jsonl"), "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in selected))
    write_atomic(os.path.join(out_dir, "dataset.txt"), "".join(f"{s['text']}\n{EOT}\n\n" for s in selected))
    write_atomic(os.path.join(out_dir, "refine_report.json"), json.dumps(report, indent=1))
    log(f"data: kept {len(selected)} documents (~{report['selected_tokens']} tokens), rejected {report['rejected']}")

    docs = [s["text"] for s in selected]
    t = time.time()
    enc = make_tokenizer(cfg["tokenizer"], docs, cfg.get("vocab_size") or 0, split_digits=domain in REASONING_DOMAINS)
    timings["tokenizer_s"] = round(time.time() - t, 3)
    t = time.time()
    prompts = [s.get("prompt", "") for s in selected] if domain in REASONING_DOMAINS else None
    meta = write_dataset(docs, enc, out_dir, cfg["val_fraction"] or 0.1, cfg["seed"], prompts)
    timings["write_s"] = round(time.time() - t, 3)
    _check_train_size(meta, cfg)
    timings["total_s"] = round(time.time() - t0, 3)
    info = {"prompt": prompt, "domain": domain, "matched_words": matched, "generation_method": method_used,
            "teacher": teacher_stats, "judge": judge_stats, "reasoning": reasoning,
            "tokens": {"raw": raw_tokens, "refined": report["selected_tokens"],
                       "train": meta["train_tokens"], "val": meta["val_tokens"]},
            "documents": {"generated": len(samples), "refined": len(selected),
                          "train": meta["train_docs"], "val": meta["val_docs"]},
            "tokenizer": cfg["tokenizer"], "vocab_size": meta["vocab_size"], "timings_s": timings,
            "stats": generation_stats(docs), "refine": {k: v for k, v in report.items() if k != "rejections"},
            "data_key": key}
    write_atomic(info_path, json.dumps(info, indent=1))
    log(f"data: {meta['train_tokens']} train / {meta['val_tokens']} val tokens, vocab {meta['vocab_size']}, "
        f"{timings['total_s']} s")
    return info


def print_data_stats(info, log=print):
    s = info["stats"]
    log(f"documents       {info['documents']['refined']} ({info['documents']['train']} train, {info['documents']['val']} val)")
    log(f"tokens          {info['tokens']['train']} train, {info['tokens']['val']} val (vocab {info['vocab_size']})")
    log(f"average length  {s['avg_tokens']} tokens (estimate)")
    log(f"distinct openings {s['distinct_openings_share']:.1%}, duplicate rate {s['duplicate_rate']:.2%}")
    log(f"top keywords    {', '.join(s['top_keywords'])}")
    if info.get("length_scan"):
        log(f"length in tokens per source (length_scan.svg): count  min  p50  p90  p95  p99  max  over max_tokens")
        for source, v in info["length_scan"].items():
            log(f"  {source}: {v['count']}  {v['min']}  {v['p50']}  {v['p90']}  {v['p95']}  {v['p99']}  {v['max']}  "
                f"{v['over_max_tokens']}")


def main(argv):
    """python data.py CONFIG [--key=value ...]: the data steps alone, into out_dir/data (or dataset_dir)."""
    cfg = settings.load_config(argv)
    out_dir = cfg.get("dataset_dir") or os.path.join(cfg.get("out_dir") or "out", "data")
    print_data_stats(prepare_data(cfg, out_dir))


if __name__ == "__main__":
    run_command(main, sys.argv[1:])
