"""Text2GPT1 data: from one sentence to token files a GPT can train on.

The pipeline, one plain function a step: detect the domain of the prompt, generate samples (from
templates.py offline, or a teacher model through teacher.py), refine them (score, de-duplicate, select
to a token budget; refine.py), train or load a tokenizer (tokenizer.py), and write the token files
(token_files.py). Users' own text (corpora.py) and problems to solve (problems.py, problems_code.py) take
the same road with steps of their own here: merge, split and length scan; rejection sampling and the mix.

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

import numpy as np

import corpora
import privacy
import progress
import settings
import teacher
import teacher_client
import verify
from common import UserError, available_memory_bytes, run_command, write_atomic
from checkpoint import start_tokenizer
from problems import MATH_LEVELS, generate_math_problems, load_problems, problem_prompt
from problems_code import CODE_LEVELS, generate_code_problems
from templates import generate_template_samples
from refine import duplicate_finder, generation_stats, refine_samples
from token_files import load_meta, write_dataset
from tokenizer import CORPUS_SPECIALS, EOT, encode_segments, estimate_tokens, make_tokenizer
from words import UNMATCHED_NOTE, detect_domain


# -----------------------------------------------------------------------------
# the data pipeline: prompt -> samples -> refined documents -> tokenizer -> token files

# tokens to generate and to keep after refinement when a config says nothing: the original product's budgets
SIZE_TOKEN_TARGETS = {"4M": (30_000, 15_000), "12M": (30_000, 15_000), "33M": (50_000, 25_000),
                      "117M": (100_000, 50_000)}  # 4M: no size of the original; its small (12M) budget
# cfg keys that change the data; a teacher's own keys (teacher_*, ollama_*, openai_*) count too.
DATA_KEYS = ("prompt", "size", "seed", "generation_method", "initial_tokens", "final_tokens", "tokenizer",
             "vocab_size", "val_fraction")
# what a teacher writes also depends on these; template data ignores them, so changing them reuses it
TEACHER_DATA_KEYS = ("teacher_url", "gen_model", "judge_model", "gen_temperature", "gen_top_p", "num_predict",
                     "fallback", "solutions_per_problem")
# problems to solve depend on these too
PROBLEM_DATA_KEYS = ("problems_file", "max_level", "mix", "solutions_kept_per_problem")
# documents are problems with checked solutions, not free text; 'reasoning' is math and code mixed (mix)
REASONING_DOMAINS = ("math", "code", "reasoning")


def data_settings(cfg):
    """The settings the data depends on (with fingerprints of the source and problem files), as a dict:
    the same settings make the same data. A resumed run checks them against its checkpoint's."""
    names = DATA_KEYS + (TEACHER_DATA_KEYS if cfg.get("generation_method") != "template" else ())
    keys = {k: cfg.get(k) for k in names}
    if cfg.get("start_from"):  # its tokenizer writes the tokens
        keys["start_from"] = cfg["start_from"]
    if cfg.get("sources"):
        keys.update({k: cfg.get(k) for k in CORPUS_DATA_KEYS}, sources_changed=sources_fingerprint(cfg["sources"]))
    if cfg.get("problems_file") or cfg.get("mix") or detect_domain(cfg.get("prompt") or "")[0] in REASONING_DOMAINS:
        keys.update({k: cfg.get(k) for k in PROBLEM_DATA_KEYS})
        if cfg.get("problems_file") and os.path.isfile(cfg["problems_file"]):
            stat = os.stat(cfg["problems_file"])  # an edited problems file makes new data
            keys["problems_file_changed"] = [stat.st_size, stat.st_mtime_ns]
    return json.loads(json.dumps(keys, default=str))  # as a checkpoint stores it: plain JSON values


def data_key(cfg):
    """A hash of data_settings; the same key means the saved dataset can be reused."""
    return hashlib.sha256(json.dumps(data_settings(cfg), sort_keys=True).encode()).hexdigest()[:16]


def problem_levels(kind, max_level):
    """The generator's levels of a kind of problem ('math' or 'code') up to max_level."""
    return tuple(level for level in (MATH_LEVELS if kind == "math" else CODE_LEVELS) if level <= max_level)


def generated_problems(cfg, n_tokens, kind="math"):
    """Enough generated problems of a kind ('math' or 'code') for about n_tokens of solved documents."""
    generate = generate_math_problems if kind == "math" else generate_code_problems
    levels = problem_levels(kind, cfg.get("max_level", 5))
    probe = generate(200, cfg["seed"], levels)  # the same seed starts the same sequence
    per_problem = sum(estimate_tokens(problem_prompt(p["problem"]) + p["solutions"][0]) for p in probe) / len(probe)
    return generate(math.ceil(n_tokens / per_problem), cfg["seed"], levels)


def mix_shares(cfg):
    """The mix setting as shares that sum to 1, kinds with weight 0 left out; {} when it is not set."""
    weights = {kind: float(w) for kind, w in (cfg.get("mix") or {}).items() if w > 0}
    return {kind: w / sum(weights.values()) for kind, w in sorted(weights.items())}


def count_steps(text):
    return len(re.findall(r"^Step \d+:", text, re.M))


def check_solution(problem, text, hit_token_limit=False, code_verdict=None):
    """The verdict on one candidate solution: its final answer against the known one (math), or its last
    Python block run against the problem's tests in a sandboxed subprocess (code; code_verdict when it has
    been run already). A reply the token limit cut off before its final answer or its closed code block is
    'truncated': a larger budget would help, a better model might not be needed."""
    if problem["kind"] == "math":
        verdict = verify.check_math(text, problem["answer"])
        cut_off = not verify.states_final_answer(text)
    else:
        code = verify.extract_code(text)  # None for a block whose closing fence never came
        verdict = code_verdict or verify.check_code(code, problem["tests"], problem.get("fn_name"))
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
        except teacher_client.TeacherUnreachable as e:
            if cfg.get("fallback") != "template":
                raise
            log(f"WARNING: {e}; falling back to the problems' own solutions")
            method_used = f"reference solutions (fallback: {method} unreachable)"
    unsolved = 0
    if candidates is None:
        # AIME-style records state an answer and no solution: offline there is nothing to check against it
        unsolved = sum(not p["solutions"] for p in problems)
        if unsolved == len(problems):
            raise UserError(f"none of the {len(problems)} problems has a worked solution (records with a problem "
                            f"and an answer only, like AIME's), so offline there is nothing to train on; set "
                            f"generation_method='ollama' or 'openai' so a teacher writes solutions to check")
        if unsolved:
            log(f"data: {unsolved} problems have an answer but no worked solution; offline they are left out "
                f"(a teacher, generation_method='ollama' or 'openai', would write solutions for them)")
        candidates = [{"problem": i, "sample": j, "text": s, "source": p["source"]}
                      for i, p in enumerate(problems) for j, s in enumerate(p["solutions"])]
    # reference solutions are expected to pass: many to a sandboxed process (verify.check_code_batch) instead
    # of a process per test, minutes saved on thousands of generated code problems. A teacher's code is
    # checked one program to a process, so no candidate can reach another's results.
    code_verdicts = iter(verify.check_code_batch(
        [(verify.extract_code(c["text"]), problems[c["problem"]]["tests"], problems[c["problem"]].get("fn_name"))
         for c in candidates if problems[c["problem"]]["kind"] == "code"]) if teacher_stats is None else [])
    records, correct_of = [], collections.defaultdict(list)
    for c in candidates:
        p = problems[c["problem"]]
        verdict = check_solution(p, c["text"], c.get("hit_token_limit", False),
                                 next(code_verdicts, None) if p["kind"] == "code" else None)
        records.append({"problem_id": p["id"], "source": c["source"], "kind": p["kind"], "level": p["level"],
                        "sample": c["sample"], **verdict, "kept": False})
        if verdict["correct"]:
            correct_of[c["problem"]].append((c, records[-1]))
    # Of a problem's correct solutions keep up to solutions_kept_per_problem: those that show their steps
    # first, then the shortest (a small model learns the method from the plainest worked solution).
    samples, kept_per_level = [], collections.defaultdict(list)
    for i, chosen in sorted(correct_of.items()):
        p, prompt = problems[i], problem_prompt(problems[i]["problem"])
        chosen.sort(key=lambda cr: (count_steps(cr[0]["text"]) == 0, len(cr[0]["text"]), cr[0]["sample"]))
        for rank, (c, record) in enumerate(chosen):
            record["kept"] = rank < cfg.get("solutions_kept_per_problem", 2)
            if record["kept"]:
                kept_per_level[f"{p['kind']} {p['level']}"].append(c["text"].strip())
                samples.append({"text": prompt + c["text"].strip(), "source": c["source"], "prompt": prompt,
                                "problem_id": p["id"], "level": p["level"], "kind": p["kind"],
                                **({"answer": p["answer"]} if p["kind"] == "math" else {})})
    write_atomic(os.path.join(out_dir, "candidates.jsonl"), "".join(json.dumps(r) + "\n" for r in records))
    per_level = collections.defaultdict(lambda: {"candidates": 0, "correct": 0})
    for r in records:
        row = per_level[f"{r['kind']} {r['level']}"]
        row["candidates"] += 1
        row["correct"] += r["correct"]
    for key, row in per_level.items():
        row["pass_rate"] = round(row["correct"] / row["candidates"], 4) if row["candidates"] else 0.0
        kept = kept_per_level[key]
        row["kept"] = len(kept)
        row["mean_solution_tokens"] = round(sum(map(estimate_tokens, kept)) / len(kept), 1) if kept else 0.0
        row["mean_steps"] = round(sum(map(count_steps, kept)) / len(kept), 2) if kept else 0.0
    correct = sum(r["correct"] for r in records)
    report = {"problems": len(problems), "candidates": len(records), "correct": correct, "kept": len(samples),
              "pass_rate": round(correct / len(records), 4) if records else 0.0,
              "per_level": dict(sorted(per_level.items())), "unsolved_offline": unsolved,
              "reasons": dict(collections.Counter(r["reason"] for r in records))}
    log(f"data: {correct} of {len(records)} candidate solutions to {len(problems)} problems check out "
        f"({report['pass_rate']:.1%}), {len(samples)} kept; per level: "
        + ", ".join(f"{k} {v['pass_rate']:.0%}" for k, v in report["per_level"].items()))
    return samples, report, teacher_stats, method_used


def refine_solved_samples(samples, prompt, domain, shares, final_tokens, seed, progress, repeats):
    """refine_samples for solved problems: each kind of problem (math, code) to its share of final_tokens, so
    a mix keeps its weights; problems that differ in one number are both kept, and exact repeats too when
    repeats. The report adds 'shares': each kind's weight and share of the selected tokens, and each
    level's share of them (of all the selected tokens)."""
    selected, report, done = [], None, 0
    for kind, share in shares.items():
        index = [i for i, s in enumerate(samples) if s["kind"] == kind]
        kept, part = refine_samples([samples[i] for i in index], prompt, kind if len(shares) > 1 else domain,
                                    final_tokens * share, seed=seed, near_duplicates=False, repeats=repeats,
                                    progress=lambda n, done=done: progress(done + n))
        done += 2 * len(index)  # refine_samples reports each sample twice
        selected += kept
        for r in part["rejections"]:
            r["index"] = index[r["index"]]
        if report is None:
            report = part
            continue
        for key in ("samples", "selected", "selected_tokens"):
            report[key] += part[key]
        report["rejected"] = dict(collections.Counter(report["rejected"]) + collections.Counter(part["rejected"]))
        report["score_histogram"] = [a + b for a, b in zip(report["score_histogram"], part["score_histogram"])]
        report["rejections"] += part["rejections"]
    report["final_tokens"] = final_tokens
    report["average_score_selected"] = round(sum(x["score"] for x in selected) / len(selected), 4) if selected else 0.0
    tokens = collections.Counter()
    for s in selected:
        tokens[(s["kind"], s["level"])] += estimate_tokens(s["text"])
    total = sum(tokens.values()) or 1
    report["shares"] = {kind: {"weight": round(share, 4),
                               "share": round(sum(n for (k, _), n in tokens.items() if k == kind) / total, 4),
                               "levels": {str(level): round(n / total, 4)
                                          for (k, level), n in sorted(tokens.items(), key=str) if k == kind}}
                        for kind, share in shares.items()}
    return selected, report


# -----------------------------------------------------------------------------
# users' own text (corpora.py): read every source, redact, de-duplicate across sources, split, weight

CORPUS_DATA_KEYS = ("sources", "code_extensions", "code_per_file", "max_chars", "fim_rate", "fim_spans", "git_max_files",
                    "git_max_lines", "redact", "max_tokens", "name")
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
    """(documents, report, every document read) from cfg['sources']: distinct documents (dicts of
    corpora.py) with 'val' (their split) and 'copies' added: a train document is trained on once per unit
    of its source's weight (2 = twice; 0.5 = half of them, chosen by seed), an eval document once.
    final_tokens, when set, caps the distinct documents before the weights. Every document read carries
    'entry' (its source's place in the sources line) and 'dropped' (why it is not kept, or None)."""
    entries = corpora.parse_sources(cfg["sources"])
    docs, per_source, redactions = [], {}, collections.Counter()
    for entry, (kind, path, weight) in enumerate(entries):
        got, read_report = corpora.read_source(kind, path, cfg, cfg["seed"])
        warning = read_report.get("licence") and corpora.licence_warning(f"{kind}:{path}", read_report["licence"])
        if warning:
            log(warning)
        # by each document's kind, not the source's: a files: JSONL can hold chats too
        private = [cfg["redact"] is True or cfg["redact"] == "auto" and d["kind"] in ("chat", "git") for d in got]
        if any(private):
            cleaned, counts = privacy.redact_documents([d for d, p in zip(got, private) if p])
            redactions.update(counts)
            cleaned = iter(cleaned)
            got = [next(cleaned) if p else d for d, p in zip(got, private)]
        name = f"{kind}:{path}"
        per_source[name] = {"weight": weight, "read": read_report, "documents": len(got)}
        log(f"data: {name}: {len(got)} documents")
        docs += [dict(d, weight=weight, entry=entry, dropped=None) for d in got]

    duplicate_of_earlier = duplicate_finder(cfg["seed"])
    rejected, kept = collections.Counter(), []
    for d in docs:
        d["dropped"] = duplicate_of_earlier(d["text"])
        if d["dropped"]:
            rejected[d["dropped"]] += 1
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
        for i, d in enumerate(kept):
            d["dropped"] = None if i in chosen else "over_budget"
        kept = [d for i, d in enumerate(kept) if i in chosen]
    for d in kept:
        d["copies"] = 1 if d["val"] else int(d["weight"]) + (rng.random() < d["weight"] % 1)
    report = {"sources": per_source, "documents": len(docs), "selected": len(kept),
              "selected_tokens": sum(estimate_tokens(d["text"]) * d["copies"] for d in kept),
              "rejected": dict(rejected), "redactions": dict(redactions), "val_fraction": fraction}
    return kept, report, docs


def jsonl_record(d, **extra):
    """A document as the line other fine-tuning tools read: {"messages": [...]} for a chat (the
    conversational format of TRL's SFTTrainer, axolotl, LLaMA-Factory), {"text": ...} otherwise."""
    record = {"messages": d["messages"]} if d.get("messages") else {"text": d["text"]}
    return json.dumps({**record, "source": d["source"], **extra}, ensure_ascii=False) + "\n"


def write_source_files(every, entries, folder, name):
    """Per source, in folder: N-KIND[.NAME].raw.jsonl, every document as extracted (after redaction, which
    must come first: secrets never reach the output folder), each with its split and, when it was not kept,
    why (exact_duplicate, near_duplicate, over_budget, over_max_tokens); N-KIND[.NAME].clean.jsonl, the
    ones kept, as trained and written to train.jsonl / eval.jsonl."""
    os.makedirs(folder, exist_ok=True)
    for entry, (kind, _, _) in enumerate(entries):
        docs = [d for d in every if d["entry"] == entry]
        stem = os.path.join(folder, f"{entry + 1}-{kind}" + (f".{name}" if name else ""))
        write_atomic(stem + ".raw.jsonl", "".join(
            jsonl_record(d, split=None if d["dropped"] in ("exact_duplicate", "near_duplicate") else
                         "eval" if d.get("val") else "train", dropped=d["dropped"]) for d in docs))
        write_atomic(stem + ".clean.jsonl", "".join(
            jsonl_record(d, split="eval" if d["val"] else "train") for d in docs if not d["dropped"]))


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
    if not re.fullmatch(r"[\w-]*", cfg["name"], re.ASCII):
        raise UserError(f"name {cfg['name']!r} names files (train.NAME.jsonl): use letters, digits, '-' and '_'")
    suffix = f".{cfg['name']}" if cfg["name"] else ""
    if not cfg["overwrite"] and os.path.exists(info_path) and os.path.exists(os.path.join(out_dir, f"train{suffix}.jsonl")):
        raise UserError(f"{out_dir} already holds train{suffix}.jsonl / eval{suffix}.jsonl from other data settings; "
                        f"pass --overwrite=True to replace them, --name=NAME to write another set beside them, "
                        f"or another out_dir / dataset_dir")
    timings, t0 = {}, time.time()
    selected, report, every = corpus_documents(cfg, log)
    timings["read_s"] = round(time.time() - t0, 3)
    if not selected:
        raise UserError(f"the sources {cfg['sources']!r} gave no usable documents (rejected: {report['rejected']}); "
                        f"check the paths and code_extensions")
    t = time.time()
    enc = data_tokenizer(cfg, [d["text"] for d in selected if not d["val"]], specials=CORPUS_SPECIALS)
    timings["tokenizer_s"] = round(time.time() - t, 3)
    lengths = [len(encode_segments(enc, d.get("segments") or [[d["text"], True]])[0]) for d in selected]
    scan = length_scan(selected, lengths, cfg["max_tokens"])
    write_atomic(os.path.join(out_dir, "length_scan.json"), json.dumps(scan, indent=1))
    progress.write_histogram_svg({s: [n for d, n in zip(selected, lengths) if d["source"] == s] for s in scan},
                                 os.path.join(out_dir, "length_scan.svg"), cfg["max_tokens"])
    report["rejected"]["over_max_tokens"] = sum(v["over_max_tokens"] for v in scan.values())
    notes = [longer_than_context_note(f"half the documents of {source} are over", v["p50"], cfg, "lower max_chars")
             for source, v in scan.items()]
    context_notes = [note for note in notes if note]
    for note in context_notes:
        log(f"WARNING: {note}")
    for d, n in zip(selected, lengths):
        d["dropped"] = "over_max_tokens" if n > cfg["max_tokens"] else None
    selected = [d for d in selected if not d["dropped"]]
    if not any(d["val"] for d in selected) or all(d["val"] for d in selected):
        raise UserError(f"after dropping documents over max_tokens={cfg['max_tokens']} a split is empty; raise "
                        f"max_tokens or add documents")
    for split, want_val in (("train", False), ("eval", True)):
        write_atomic(os.path.join(out_dir, f"{split}{suffix}.jsonl"),
                     "".join(jsonl_record(d) for d in selected if d["val"] == want_val))
    write_source_files(every, corpora.parse_sources(cfg["sources"]), os.path.join(out_dir, "sources"), cfg["name"])
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
    info = {"prompt": cfg.get("prompt", ""), "domain": "corpus", "sources": cfg["sources"], "name": cfg["name"],
            "licences": {s: r["read"]["licence"] for s, r in report["sources"].items() if "licence" in r["read"]},
            "generation_method": "sources", "teacher": None, "judge": None, "reasoning": None,
            "tokens": {"raw": sum(estimate_tokens(d["text"]) for d in selected), "refined": report["selected_tokens"],
                       "train": meta["train_tokens"], "val": meta["val_tokens"]},
            "documents": {"generated": report["documents"], "refined": len(selected),
                          "train": meta["train_docs"], "val": meta["val_docs"], "by_kind": dict(kinds),
                          "fim": sum(1 for d in trained if d.get("fim"))},
            "tokenizer": cfg["tokenizer"], "vocab_size": meta["vocab_size"], "timings_s": timings,
            "stats": generation_stats([re.sub(r"<\|\w+\|>", " ", d["text"]) for d in trained]), "refine": report, "length_scan": scan,
            "context_notes": context_notes,
            "data_key": key}
    write_atomic(info_path, json.dumps(info, indent=1))
    log(f"data: {meta['train_tokens']} train / {meta['val_tokens']} val tokens ({meta['train_docs']} / "
        f"{meta['val_docs']} documents), vocab {meta['vocab_size']}, {timings['total_s']} s")
    return info


def data_tokenizer(cfg, texts, split_digits=False, specials=()):
    """The tokenizer the token files are written with: a BPE trained on texts (or GPT-2's), with specials;
    a run that starts from a model takes that model's own instead (no new BPE; checkpoint.start_tokenizer)."""
    if cfg.get("start_from"):
        return start_tokenizer(cfg["start_from"], specials)
    return make_tokenizer(cfg["tokenizer"], texts, cfg.get("vocab_size") or 0, split_digits, specials)


# what the data step holds per generated token: the texts, their scores and duplicate fingerprints, then the
# token ids (measured: 36-38 bytes per token for 1M-3M tokens of cooking templates)
DATA_BYTES_PER_TOKEN = 40


def check_data_budget_fits(initial_tokens):
    """Refuse, before minutes are spent, a budget the data step cannot hold in this machine's memory."""
    need, have = initial_tokens * DATA_BYTES_PER_TOKEN, available_memory_bytes()
    if have is not None and need > have:
        raise UserError(f"initial_tokens={initial_tokens:,} needs about {need / 1e9:,.1f} GB of memory in the data "
                        f"step, but {have / 1e9:,.1f} GB is available; lower initial_tokens to at most "
                        f"{have // DATA_BYTES_PER_TOKEN:,} (and final_tokens with it)")


def _check_train_size(meta, cfg):
    if meta["train_tokens"] < cfg["block_size"] + 1:
        raise UserError(f"the train split has only {meta['train_tokens']} tokens but block_size {cfg['block_size']} "
                        f"needs at least {cfg['block_size'] + 1}; raise final_tokens (now {cfg.get('final_tokens')}) "
                        f"or lower block_size")


def longer_than_context_note(what, tokens, cfg, shorten):
    """'' when a typical document (`tokens` long) fits the model's context, else one line saying it does not:
    the model then never sees a whole one, so a recipe's steps are learned without its list in view. A start
    model's tokenizer, made for other text, can spell the same documents in twice the tokens (README, "Start
    from a model"), and its context cannot grow."""
    if tokens <= cfg["block_size"]:
        return ""
    fix = ("its tokenizer spells this text in many pieces: train from scratch, or start from a model whose "
           "tokenizer was made for this kind of text" if cfg.get("start_from") else f"raise block_size, or {shorten}")
    return (f"{what} {tokens:.0f} tokens, longer than the context (block_size {cfg['block_size']}), so the model "
            f"never sees a whole one; {fix}")


def saved_data_info(folder):
    """What the data steps that wrote folder reported (its data_info.json); {} where there is none to read
    (a nanoGPT folder, a damaged file)."""
    try:
        with open(os.path.join(folder, "data_info.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


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
        saved = saved_data_info(out_dir)
        if saved.get("data_key") == key:
            _check_train_size(load_meta(out_dir), cfg)
            log(f"data: reusing the dataset in {out_dir} (same data settings, key {key})")
            return saved
    if cfg.get("sources"):
        return prepare_corpus(cfg, out_dir, key, log)

    initial_tokens = cfg.get("initial_tokens") or SIZE_TOKEN_TARGETS[cfg["size"]][0]
    final_tokens = cfg.get("final_tokens") or SIZE_TOKEN_TARGETS[cfg["size"]][1]
    check_data_budget_fits(initial_tokens)
    timings, t0 = {}, time.time()
    domain, matched = detect_domain(prompt)
    matched = list(dict.fromkeys(matched))  # each keyword once: a long prompt repeats them many times
    problems, shares = None, mix_shares(cfg)
    if cfg.get("problems_file"):
        if shares:
            raise UserError("mix weights the generated math and code problems, and a problems_file is trained on "
                            "as it is: drop one of the two settings")
        problems = load_problems(cfg["problems_file"])
        domain = "code" if all(p["kind"] == "code" for p in problems) else "math"
        matched = [f"problems_file: {len(problems)} problems"]
    elif shares:
        domain = next(iter(shares)) if len(shares) == 1 else "reasoning"
        matched = ["mix: " + ", ".join(f"{kind} {share:.0%}" for kind, share in shares.items())]
    log(f"data: domain {domain} (matched: {', '.join(matched) or 'nothing'})")
    unmatched = not matched and cfg.get("generation_method", "template") == "template"
    if unmatched:
        log(f"WARNING: {UNMATCHED_NOTE}")

    method = cfg.get("generation_method", "template")
    method_used, teacher_stats, judge_stats, reasoning = method, None, None, None
    if method not in ("template", "ollama", "openai"):
        raise UserError(f"unknown generation_method {method!r}; choose one of template, ollama, openai")
    if domain in REASONING_DOMAINS:
        problems = problems or [p for kind, share in (shares or {"math": 1.0}).items()
                                for p in generated_problems(cfg, initial_tokens * share, kind)]
        samples, reasoning, teacher_stats, method_used = solved_problem_samples(cfg, problems, out_dir, log)
    elif method == "template":
        texts = generate_template_samples(prompt, domain, initial_tokens, cfg["seed"],
                                          progress.progress_logger(log, "data: generating tokens", initial_tokens))
        samples = [{"text": t, "source": "template"} for t in texts]
    elif method in ("ollama", "openai"):
        try:
            samples, teacher_stats = teacher.generate_samples(cfg, prompt, domain, initial_tokens, out_dir, log)
        except teacher_client.TeacherUnreachable as e:
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
        judge_stats = teacher.judge_samples(cfg, samples, prompt, domain, out_dir, log)
        timings["judge_s"] = round(time.time() - t, 3)

    t = time.time()
    refining = progress.progress_logger(log, "data: refining (scores, then duplicates)", 2 * len(samples))
    if domain in REASONING_DOMAINS:
        kinds = shares or {kind: 1.0 for kind in sorted({s["kind"] for s in samples})} or {"math": 1.0}
        if not shares and len(kinds) > 1:  # a problems_file of both kinds: each in the share it brought
            tokens = collections.Counter()
            for s in samples:
                tokens[s["kind"]] += estimate_tokens(s["text"])
            kinds = {kind: n / sum(tokens.values()) for kind, n in tokens.items()}
        selected, report = refine_solved_samples(samples, prompt, domain, kinds, final_tokens, cfg["seed"], refining,
                                                 repeats=not cfg.get("problems_file"))
        log("data: final shares of the selected tokens: " + "; ".join(
            f"{kind} {v['share']:.1%} (weight {v['weight']:.0%}; levels "
            + ", ".join(f"{level} {x:.1%}" for level, x in v["levels"].items()) + ")"
            for kind, v in report["shares"].items()))
    else:
        selected, report = refine_samples(samples, prompt, domain, final_tokens, seed=cfg["seed"], progress=refining)
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
    enc = data_tokenizer(cfg, docs, split_digits=domain in REASONING_DOMAINS)
    timings["tokenizer_s"] = round(time.time() - t, 3)
    t = time.time()
    prompts = [s.get("prompt", "") for s in selected] if domain in REASONING_DOMAINS else None
    # a problem and its repeats on one side of the split (by its hash, as users' documents are split), so
    # validation is on problems never trained on
    is_val = [in_eval_split(p, cfg["val_fraction"] or 0.1) for p in prompts] if prompts else None
    if is_val and len(set(is_val)) == 1:
        is_val = None  # too few problems for the hash to split them: write_dataset's shuffle puts one on each side
    meta = write_dataset(docs, enc, out_dir, cfg["val_fraction"] or 0.1, cfg["seed"], prompts, is_val)
    timings["write_s"] = round(time.time() - t, 3)
    _check_train_size(meta, cfg)
    note = longer_than_context_note("the documents average", meta["train_tokens"] / max(1, meta["train_docs"]), cfg,
                                    "make them shorter")
    if note:
        log(f"WARNING: {note}")
    timings["total_s"] = round(time.time() - t0, 3)
    info = {"prompt": prompt, "domain": domain, "matched_words": matched, "generation_method": method_used,
            "domain_note": UNMATCHED_NOTE if unmatched else "", "context_notes": [note] if note else [],
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
        log("length in tokens per source (length_scan.svg): count  min  p50  p90  p95  p99  max  over max_tokens")
        for source, v in info["length_scan"].items():
            log(f"  {source}: {v['count']}  {v['min']}  {v['p50']}  {v['p90']}  {v['p95']}  {v['p99']}  {v['max']}  "
                f"{v['over_max_tokens']}")
    for source, r in (info.get("refine") or {}).get("sources", {}).items():
        log(f"{source}: " + "; ".join(source_signals(r["read"])))


def source_signals(read):
    """What a source's read report says about its quality and licence, as short phrases."""
    said = []
    if "licence" in read:
        lic = read["licence"]
        said.append(f"licence {lic['licence'] or 'none found'}" + (" (permissive)" if lic["permissive"] else ""))
    if read.get("languages"):
        said.append("languages " + ", ".join(f"{k} {v:.0%}" for k, v in list(read["languages"].items())[:5]))
    if read.get("python_files", {}).get("checked"):
        p = read["python_files"]
        said.append(f"{p['dropped']} of {p['checked']} Python files dropped: they do not parse")
    if read.get("python_blocks", {}).get("checked"):
        p = read["python_blocks"]
        said.append(f"{p['valid']} of {p['checked']} learned Python blocks parse")
    if read.get("commit_kinds"):
        said.append("commits " + ", ".join(f"{k} {v}" for k, v in sorted(read["commit_kinds"].items(), key=lambda kv: -kv[1])))
    if read.get("shapes"):
        said.append("read as " + ", ".join(f"{k} ({v} file{'s' * (v > 1)})" for k, v in read["shapes"].items()))
    if "dropped" in read and "conversations" in read:
        said.append(f"{read['dropped']} of {read['conversations']} conversations dropped (no user or no assistant turn)")
    return said or ["read"]


def main(argv):
    """python data.py CONFIG [--key=value ...]: the data steps alone, into out_dir/data (or dataset_dir)."""
    if {"-h", "--help"} & set(argv):
        print(settings.help_text(__doc__))
        return
    cfg = settings.load_config(argv)
    out_dir = cfg.get("dataset_dir") or os.path.join(cfg.get("out_dir") or "out", "data")
    print_data_stats(prepare_data(cfg, out_dir))


if __name__ == "__main__":
    run_command(main, sys.argv[1:])
