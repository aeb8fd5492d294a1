"""
Refinement: score every sample (length, shape, relevance to the prompt and its domain, repetition, junk
characters, and a teacher's judgement when there is one), drop exact and near duplicates (MinHash), keep
the best up to a token budget; and the statistics a dataset is described by. data.py calls it between
generating samples and training a tokenizer; corpus documents use its duplicate filter alone.
"""
import collections
import re
import zlib

import numpy as np

from tokenizer import estimate_tokens
from words import DOMAIN_WORDS, prompt_words, word_forms

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
    # a story rarely says "story": its domain words are the ones stories use
    domain_hits = len((_GENERAL_WORDS if domain == "general" else DOMAIN_WORDS.get(domain, _GENERAL_WORDS)) & forms_in_text)
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


def duplicate_finder(seed, near_duplicates=True, repeats=False):
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
        if norm in seen_exact and not repeats:
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


def refine_samples(samples, prompt, domain, final_tokens, seed=1337, near_duplicates=True, progress=None,
                   repeats=False):
    """(selected, report): score, drop empty / exact and near duplicates / low scores, keep the best.
    near_duplicates=False keeps texts that differ only a little: two problems that differ in one number
    are two problems. repeats=True keeps exact repeats as well: a generated sum drawn twice is practice, and
    the easy levels, with few distinct problems, keep their share of the data.

    samples are dicts {"text", "source"} with an optional "judge_score" (None: the judge's reply could not
    be parsed). Of duplicates (duplicate_finder) the better-scored sample stays. Selection takes the
    best-scored samples until final_tokens (estimated) is reached. selected: dicts {"text", "score",
    "source"} in their original order. progress(n), when given, is called as the n-th sample is scored and
    again as it is checked for duplicates (2 × len(samples) calls in all).
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
        if progress:
            progress(i + 1)
    by_score = sorted(scored, key=lambda si: (-si[0], si[1]))

    duplicate_of_earlier = duplicate_finder(seed, near_duplicates, repeats)
    rejected, kept = {}, []
    for n, (score, i) in enumerate(by_score, len(samples) + 1):
        if progress:
            progress(n)
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
