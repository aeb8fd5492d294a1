"""Teacher data: what to ask a teacher LLM and what to keep of its replies. A local model writes the
training samples, another scores them, and reasoning sources have it solve problems.

Built for runs that last an hour: requests run concurrently (teacher_client.py talks to the server),
every accepted sample is appended to raw_samples.jsonl as it arrives (a re-run resumes and never
re-requests finished work), and failures are counted and reported in plain words.
"""
import itertools
import json
import math
import hashlib
import os
import random
import re
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, as_completed, wait

import teacher_client
from problems import problem_prompt
from progress import format_duration
from teacher_client import (TeacherError, api_style, call_teacher, chat_body, chat_url, check_teacher, describe_server,
                            read_chat_reply, start_workers, teacher_base_url, teacher_headers, teacher_timeouts)
from tokenizer import estimate_tokens

# -----------------------------------------------------------------------------
# knobs (tests monkeypatch them to keep cases fast)

MAX_FAILED_IN_A_ROW = 3    # requests given up (after all their retries) in a row before the run stops
MAX_SHORT_IN_A_ROW = 20    # too-short replies in a row before the run stops: the model is not cooperating
MIN_SAMPLE_TOKENS = 16     # replies shorter than this are rejected (capped at num_predict // 2)
LOG_EVERY_S = 10.0         # seconds between progress lines

# -----------------------------------------------------------------------------
# diverse instructions: the TinyStories technique (Eldan & Li, 2023): each request draws its own
# sub-topic, form, style, length and a few words that must appear, so thousands of requests do not
# come back as the same sample

DOMAIN_MENUS = {
    "cooking": {
        "forms": ["recipe with an ingredient list and numbered steps", "recipe told as one flowing paragraph",
                  "quick recipe card", "recipe with a short tip at the end", "recipe with a one-line story first"],
        "topics": ["a weeknight pasta", "a vegetarian curry", "a one-pan breakfast", "a chocolate dessert",
                   "a summer salad", "a hearty winter soup", "homemade bread", "a street-food snack",
                   "a festive roast", "a dish using leftover rice", "a five-ingredient dinner", "tacos",
                   "a Japanese noodle bowl", "a French pastry", "a spicy stir-fry", "a slow-cooker stew",
                   "a kid-friendly lunch", "a gluten-free cake", "grilled fish", "a pickled vegetable side",
                   "a picnic sandwich", "a smoothie", "a campfire meal", "a Sunday brunch"],
        "styles": ["friendly home-cook", "precise cookbook", "grandmother's notes", "busy-parent shortcut",
                   "chef teaching an apprentice", "budget student", "cheerful and playful"],
        "words": ["garlic", "lemon", "butter", "cumin", "honey", "basil", "ginger", "yogurt", "paprika",
                  "mushroom", "cinnamon", "spinach", "chickpea", "vinegar", "oats", "coconut", "thyme", "leek"],
    },
    "poetry": {
        "forms": ["haiku sequence", "rhyming poem", "free-verse poem", "limerick", "poem in quatrains", "short ballad"],
        "topics": ["the sea at dawn", "a city at night", "first snow", "an old friendship", "a train journey",
                   "a garden in summer", "a lost letter", "the moon", "a rainy afternoon", "a lighthouse",
                   "childhood", "autumn leaves", "a busy market", "a sleeping cat", "the last day of school"],
        "styles": ["playful", "melancholic", "hopeful", "wry", "tender", "grand and old-fashioned", "minimal"],
        "words": ["silver", "echo", "ember", "harbor", "feather", "whisper", "horizon", "velvet", "meadow"],
    },
    "technical": {
        "forms": ["explanation", "how-to guide with numbered steps", "troubleshooting note", "short tutorial",
                  "comparison of two approaches", "glossary entry with an example"],
        "topics": ["sorting algorithms", "HTTP caching", "Git branches", "database indexes", "unit testing",
                   "memory leaks", "regular expressions", "public-key encryption", "REST APIs", "recursion",
                   "DNS", "hash tables", "containers", "floating-point rounding", "backups"],
        "styles": ["beginner-friendly", "precise reference", "senior engineer mentoring", "concise", "patient teacher"],
        "words": ["latency", "buffer", "cache", "thread", "config", "log", "queue", "token", "server"],
    },
    "general": {
        "forms": ["short story", "paragraph", "dialogue", "letter", "diary entry", "fable", "news-style report"],
        "topics": ["a surprising discovery", "a small kindness", "a long journey", "a new neighbor", "a lost key",
                   "a rainy holiday", "learning a skill", "a festival", "an unexpected visitor", "a broken machine",
                   "a school project", "a walk in the woods"],
        "styles": ["warm", "funny", "suspenseful", "simple and clear", "thoughtful", "lively"],
        "words": ["lantern", "bicycle", "puzzle", "compass", "ribbon", "ladder", "kite", "notebook", "bridge"],
    },
}
LENGTHS = ["short (about 60 words)", "medium-length (about 90 words)", "fuller (about 120 words)"]
COMMON_WORDS = ["morning", "quiet", "bright", "jump", "window", "friend", "river", "patient", "clever", "old",
                "soft", "quick", "garden", "storm", "gentle", "market", "promise", "tiny", "golden", "hurry",
                "neighbor", "warm", "whistle", "careful", "laugh", "basket", "early", "shiny", "wander", "calm"]
SYSTEM_PROMPT = ("You write training text for a small language model. Follow the request exactly and reply with "
                 "the requested text only.")


def request_seed(seed, index):
    """The sampling seed of request `index`: deterministic, so a resumed run asks the same questions."""
    return (seed * 1_000_003 + index) % 2 ** 31


def build_instruction(prompt, domain, seed, index):
    rng = random.Random(f"{seed}:{index}")
    menu = DOMAIN_MENUS.get(domain, DOMAIN_MENUS["general"])
    words = [rng.choice(menu["words"])] + rng.sample(COMMON_WORDS, 2)
    return (f"The model being trained is: {prompt.strip().rstrip('.')}.\n"
            f"Write one {rng.choice(LENGTHS)} {rng.choice(menu['forms'])} about {rng.choice(menu['topics'])}, "
            f"in a {rng.choice(menu['styles'])} style. Use the words \"{words[0]}\", \"{words[1]}\" and "
            f"\"{words[2]}\". Reply with the text only: no title, no introduction, no markdown.")


# -----------------------------------------------------------------------------
# cleaning replies: chat models wrap the text in politeness and markdown

PREAMBLE = re.compile(r"^\s*(?:(?:sure|certainly|of course|absolutely|okay|ok|great)\b[!,.]?\s*)?"
                      r"(?:here(?:'s| is| are)|below is)\b[^\n:]{0,160}:[ \t]*\n?", re.IGNORECASE)
BARE_AGREEMENT = re.compile(r"^\s*(?:sure|certainly|of course|absolutely)\b[!,.]\s*", re.IGNORECASE)
FENCE_LINE = re.compile(r"^\s*```[\w+-]*\s*$", re.MULTILINE)
SIGN_OFF = re.compile(r"\n\s*(?:let me know|i hope|feel free|enjoy your|would you like)[^\n]*\s*$", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<![0-9])[.!?][\"')\]]*(?=\s|$)")


def clean_reply(text, hit_token_limit=False):
    """The text a teacher meant as the sample: no preamble, no code fences or bold/heading marks, no
    sign-off, and no half sentence where the token limit cut it off."""
    text = FENCE_LINE.sub("", text)
    text = BARE_AGREEMENT.sub("", PREAMBLE.sub("", text.strip(), count=1), count=1)
    text = PREAMBLE.sub("", text, count=1)
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE).replace("**", "")
    text = SIGN_OFF.sub("", text.strip())
    if hit_token_limit:
        # cut back to the last full sentence or line, whichever ends later
        ends = [m.end() for m in SENTENCE_END.finditer(text)] + [text.rfind("\n")]
        text = text[:max(ends)] if max(ends) > 0 else ""
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -----------------------------------------------------------------------------
# generation

def read_appended_lines(path, log):
    """The complete lines of an append-only file. A line cut short by a crash is dropped, and cut off the
    file so new lines start clean."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
        log(f"teacher: dropped a half-written last line of {path}")
        data = data[:data.rfind(b"\n") + 1]
    return data.decode("utf-8", errors="replace").splitlines()


def load_raw_samples(path, prompt, model, log):
    """Finished samples of an earlier run, index -> record; a file made for another prompt or model is
    moved aside."""
    done = {}
    for line in read_appended_lines(path, log):
        try:
            record = json.loads(line)
            record["text"], record["tokens"], record["source"], record["request"]["prompt"]  # all must be there
            done[int(record["index"])] = record
        except (ValueError, KeyError, TypeError):
            log(f"teacher: skipped an unreadable line in {path}")
    if any(r["request"]["prompt"] != prompt or r["request"]["model"] != model for r in done.values()):
        aside = path + f".{int(time.time())}.old"
        os.replace(path, aside)
        log(f"teacher: {path} was made for another prompt or model; moved it to {aside} and starting afresh")
        return {}
    return done


def request_sample(cfg, model, prompt, domain, index, headers, min_tokens):
    """Worker: ask for sample `index`. Returns a result dict; the main thread does all the bookkeeping."""
    instruction = build_instruction(prompt, domain, cfg["seed"], index)
    seed = request_seed(cfg["seed"], index)
    body = chat_body(cfg, model, SYSTEM_PROMPT, instruction, cfg["gen_temperature"], cfg["gen_top_p"],
                     cfg["num_predict"], seed)
    connect_s, generate_s, _ = teacher_timeouts(cfg)
    reply, retries, problem = call_teacher("POST", chat_url(cfg), body, headers, (connect_s, generate_s),
                                           read_chat_reply)
    result = {"index": index, "retries": retries, "problem": problem, "record": None}
    if problem:
        return result
    text = clean_reply(*reply)
    tokens = estimate_tokens(text)
    if tokens >= min_tokens:
        request = {"method": api_style(cfg), "model": model, "prompt": prompt, "domain": domain,
                   "system": SYSTEM_PROMPT, "instruction": instruction,
                   "options": {k: v for k, v in body.items() if k not in ("model", "messages")}}
        result["record"] = {"index": index, "text": text, "tokens": tokens,
                            "source": f"{api_style(cfg)}:{model}", "request": request}
    return result


def generate_samples(cfg, prompt, domain, initial_tokens, out_dir, log):
    """Have the teacher model write samples until they hold `initial_tokens` tokens.
    Returns (samples, stats): samples = [{"text", "source"}] in request order; stats for generation_info.json."""
    style, model = api_style(cfg), cfg["gen_model"]
    server = describe_server(teacher_base_url(cfg))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "raw_samples.jsonl")
    done = load_raw_samples(path, prompt, model, log)
    stats = {"method": style, "server": server, "gen_model": model, "requests": 0, "failures": 0, "retries": 0,
             "short_replies": 0, "resumed_samples": len(done), "samples": 0, "tokens": 0,
             "elapsed_s": 0.0, "tokens_per_s": 0.0}
    tokens = resumed_tokens = sum(r["tokens"] for r in done.values())
    if done:
        log(f"teacher: resuming from {path}: {len(done)} samples, {tokens:,} tokens already written")
    started = time.time()
    if tokens < initial_tokens:
        headers = teacher_headers(cfg)
        check_teacher(cfg, model, headers)
        tokens = run_generation(cfg, model, prompt, domain, initial_tokens, path, done, tokens, headers, stats, log)
    stats["elapsed_s"] = round(time.time() - started, 2)
    stats["tokens_per_s"] = round((tokens - resumed_tokens) / max(stats["elapsed_s"], 1e-9), 1)
    stats["samples"], stats["tokens"] = len(done), tokens
    samples = [{"text": done[i]["text"], "source": done[i]["source"]} for i in sorted(done)]
    log(f"teacher: {len(samples)} samples, {tokens:,} tokens ({stats['resumed_samples']} resumed); "
        f"{stats['requests']} requests, {stats['retries']} retries, {stats['failures']} failed, "
        f"{stats['short_replies']} too short; {stats['tokens_per_s']:.0f} tokens/s")
    return samples, stats


def run_generation(cfg, model, prompt, domain, target_tokens, path, done, tokens, headers, stats, log):
    """The concurrent request loop; adds finished records to `done` and the file; returns the token total."""
    concurrency = max(1, int(cfg["concurrency"]))
    min_tokens = max(1, min(MIN_SAMPLE_TOKENS, cfg["num_predict"] // 2))
    # the loop must end whatever the server says: every accepted reply brings >= min_tokens, so this many
    # attempts suffice even if half the replies are rejected; too-short replies count toward it
    max_attempts = 2 * math.ceil((target_tokens - tokens) / min_tokens) + concurrency
    avg_tokens = cfg["num_predict"] * 0.6   # guess until real samples arrive
    free_indices = (i for i in itertools.count() if i not in done)
    started = last_log = time.time()
    start_tokens, new_samples, attempts, failed_in_a_row, short_in_a_row, stop_reason = tokens, 0, 0, 0, 0, ""
    log(f"teacher: asking {model} at {stats['server']} for ~{target_tokens - tokens:,} more tokens "
        f"({concurrency} requests at a time)")
    submit, stop_workers = start_workers(concurrency, "teacher")
    pending = {}
    try:
        with open(path, "a", encoding="utf-8") as f:
            while True:
                # keep `concurrency` requests in flight until the ones in flight should cover the target
                while (not stop_reason and len(pending) < concurrency and attempts < max_attempts
                       and tokens + len(pending) * avg_tokens < target_tokens):
                    index = next(free_indices)
                    pending[submit(request_sample, cfg, model, prompt, domain, index, headers, min_tokens)] = index
                    attempts += 1
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    del pending[future]
                    result = future.result()  # a TeacherError (a 4xx retrying cannot fix) ends the run here
                    stats["requests"] += 1
                    stats["retries"] += result["retries"]
                    if result["problem"]:
                        stats["failures"] += 1
                        failed_in_a_row += 1
                        log(f"teacher: request {result['index']} failed after {result['retries']} retries: "
                            f"{result['problem']}")
                        if failed_in_a_row >= MAX_FAILED_IN_A_ROW:
                            raise TeacherError(
                                f"the teacher at {stats['server']} failed {failed_in_a_row} requests in a row, each "
                                f"after {teacher_client.MAX_RETRIES} retries; last: {result['problem']}. The {len(done)} samples so "
                                f"far are saved in {path}; run the same command with --out_dir={os.path.dirname(path)} to resume")
                        continue
                    failed_in_a_row = 0
                    record = result["record"]
                    if record is None:
                        stats["short_replies"] += 1
                        short_in_a_row += 1
                        if short_in_a_row >= MAX_SHORT_IN_A_ROW:
                            stop_reason = f"{short_in_a_row} replies in a row were shorter than {min_tokens} tokens"
                        continue
                    short_in_a_row = 0
                    # append and flush at once: a crash or Ctrl-C loses nothing that has arrived
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
                    f.flush()
                    done[record["index"]] = record
                    tokens += record["tokens"]
                    new_samples += 1
                    avg_tokens = (tokens - start_tokens) / new_samples
                now = time.time()
                if now - last_log >= LOG_EVERY_S:
                    last_log = now
                    rate = (tokens - start_tokens) / (now - started)
                    eta = format_duration((target_tokens - tokens) / rate) if rate > 0 else "?"
                    log(f"teacher: {len(done)} samples, {tokens:,}/{target_tokens:,} tokens, "
                        f"{rate:.0f} tokens/s, ETA {eta}")
    finally:
        stop_workers()  # requests still in flight are not waited for; a resumed run asks for them again
    if attempts >= max_attempts and tokens < target_tokens and not stop_reason:
        stop_reason = f"reached the limit of {max_attempts} requests"
    if stop_reason and not done:
        raise TeacherError(f"the teacher {model} at {stats['server']} gave no usable samples: {stop_reason}. "
                           f"Try another gen_model, or a larger num_predict")
    if stop_reason:
        log(f"WARNING teacher: stopped early with {tokens:,} of {target_tokens:,} tokens: {stop_reason}")
    return tokens


# -----------------------------------------------------------------------------
# judging

JUDGE_SCHEMA = {"type": "object", "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10},
                                                  "reason": {"type": "string"}},
                "required": ["score", "reason"], "additionalProperties": False}
JUDGE_SYSTEM = "You grade training text for a small language model. Answer with JSON only."


def judge_instruction(sample_text, prompt, domain):
    return (f"The model being trained is: {prompt.strip().rstrip('.')}. (Domain: {domain}.)\n"
            f"Rate the text below from 1 (useless) to 10 (excellent) on: relevance to that purpose, coherence, "
            f"fluency, and format (for example, a recipe has ingredients and steps).\n"
            f"Answer as JSON: {{\"score\": <1-10>, \"reason\": \"<one short sentence>\"}}\n\nText:\n{sample_text}")


def parse_judge_score(text):
    """Score normalised to [0, 1], or None when the reply holds no usable 1-10 score."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        score = json.loads(match.group(0) if match else text)["score"]
        score = float(score)
    except (ValueError, KeyError, TypeError):
        return None
    return (score - 1) / 9 if 1 <= score <= 10 else None


def judge_one(cfg, sample, prompt, domain, headers):
    body = chat_body(cfg, cfg["judge_model"], JUDGE_SYSTEM, judge_instruction(sample["text"], prompt, domain),
                     0.0, 1.0, 120, cfg["seed"], json_schema=JUDGE_SCHEMA)
    connect_s, _, judge_s = teacher_timeouts(cfg)
    return call_teacher("POST", chat_url(cfg), body, headers, (connect_s, judge_s), read_chat_reply)


def sample_id(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_judge_scores(path, model, prompt, log):
    """{sample id: score} from judge_scores.jsonl, for this judge model and prompt only."""
    scores = {}
    for line in read_appended_lines(path, log):
        try:
            record = json.loads(line)
            if record["judge_model"] == model and record["prompt"] == prompt:
                scores[record["sample"]] = record["score"]
        except (ValueError, KeyError, TypeError):
            log(f"teacher: skipped an unreadable line in {path}")
    return scores


def judge_samples(cfg, samples, prompt, domain, out_dir, log):
    """Have judge_model rate each sample; sets sample["judge_score"] in [0, 1], or None when the reply
    could not be parsed or the request failed. Each score is appended to out_dir/judge_scores.jsonl as it
    arrives, so a rerun asks only for the samples still unscored. Returns stats for generation_info.json."""
    model = cfg["judge_model"]
    server = describe_server(teacher_base_url(cfg))
    path = os.path.join(out_dir, "judge_scores.jsonl")
    saved = load_judge_scores(path, model, prompt, log)
    resumed = [s for s in samples if sample_id(s["text"]) in saved]
    wanted = [s for s in samples if sample_id(s["text"]) not in saved]
    for sample in resumed:
        sample["judge_score"] = saved[sample_id(sample["text"])]
    stats = {"judge_model": model, "server": server, "judged": len(resumed), "resumed": len(resumed),
             "unparseable": sum(s["judge_score"] is None for s in resumed), "failures": 0, "retries": 0,
             "mean_score": None, "elapsed_s": 0.0}
    started = last_log = time.time()
    failed_in_a_row = 0
    if wanted:
        headers = teacher_headers(cfg)
        check_teacher(cfg, model, headers)
        log(f"teacher: {model} judging {len(wanted)} samples ({stats['resumed']} scored before)")
        submit, stop_workers = start_workers(max(1, int(cfg["concurrency"])), "judge")
        futures = {submit(judge_one, cfg, sample, prompt, domain, headers): sample for sample in wanted}
        try:
            with open(path, "a", encoding="utf-8") as f:
                for future in as_completed(futures):  # as they arrive, so each is saved at once
                    sample = futures[future]
                    reply, retries, problem = future.result()
                    stats["retries"] += retries
                    sample["judge_score"] = None
                    if problem:  # not saved: a rerun asks again
                        stats["failures"] += 1
                        failed_in_a_row += 1
                        if failed_in_a_row >= MAX_FAILED_IN_A_ROW:
                            raise TeacherError(f"the judge {model} at {server} failed {failed_in_a_row} requests in "
                                               f"a row; last: {problem}. Set judge_model='' to score heuristically")
                        continue
                    failed_in_a_row = 0
                    sample["judge_score"] = parse_judge_score(reply[0])
                    f.write(json.dumps({"sample": sample_id(sample["text"]), "judge_model": model, "prompt": prompt,
                                        "score": sample["judge_score"]}) + "\n")
                    f.flush()
                    stats["judged"] += 1
                    stats["unparseable"] += sample["judge_score"] is None
                    if time.time() - last_log >= LOG_EVERY_S:
                        last_log = time.time()
                        log(f"teacher: judged {stats['judged']}/{len(samples)}")
        finally:
            stop_workers()
    scores = [s["judge_score"] for s in samples if s.get("judge_score") is not None]
    stats["mean_score"] = round(sum(scores) / len(scores), 3) if scores else None
    stats["elapsed_s"] = round(time.time() - started, 2)
    log(f"teacher: judged {stats['judged']} samples in {stats['elapsed_s']:.0f} s ({stats['resumed']} resumed), "
        f"{stats['unparseable']} unparseable, {stats['failures']} failed; mean score {stats['mean_score']}")
    return stats


# -----------------------------------------------------------------------------
# solving problems: k step-by-step solutions per problem, each checked later (data.py, verify.py)

SOLVE_SYSTEM = ("You solve problems step by step. Write each step on its own line as 'Step N: ...'. End a math "
                "solution with 'Therefore, the answer is X.' End a programming solution with one ```python code "
                "block holding the complete program.")
SOLVE_MAX_TOKENS = {"math": 512, "code": 1024}  # a worked solution is longer than the 150 tokens of a sample


def solve_instruction(problem):
    text = problem_prompt(problem["problem"]).rstrip()  # the format the model trains and is measured on
    if problem["kind"] == "code":
        text += (f" Then write a Python function named {problem['fn_name']} that returns the answer."
                 if problem.get("fn_name") else " Then write a Python program that reads standard input and prints the answer.")
    return text


def request_solution(cfg, model, problem, sample, headers):
    """Worker: one candidate solution. The seed follows (problem, sample), so a rerun asks the same."""
    seed = request_seed(cfg["seed"], zlib.crc32(f"{problem['id']}:{sample}".encode()))
    max_tokens = max(cfg["num_predict"], SOLVE_MAX_TOKENS[problem["kind"]])
    body = chat_body(cfg, model, SOLVE_SYSTEM, solve_instruction(problem), cfg["gen_temperature"], cfg["gen_top_p"],
                     max_tokens, seed)
    connect_s, generate_s, _ = teacher_timeouts(cfg)
    generate_s *= max(1.0, max_tokens / max(1, cfg["num_predict"]))  # the timeout fits the longer budget
    reply, retries, failure = call_teacher("POST", chat_url(cfg), body, headers, (connect_s, generate_s),
                                           read_chat_reply)
    record = None if failure else {"problem_id": problem["id"], "problem": problem["problem"], "sample": sample,
                                   "text": reply[0].strip(),
                                   "hit_token_limit": reply[1], "source": f"{api_style(cfg)}:{model}"}
    return record, retries, failure


def solve_problems(cfg, problems, out_dir, log):
    """solutions_per_problem candidate solutions per problem from gen_model. Each reply is appended to
    solutions_raw.jsonl as it arrives, so a rerun asks only for the ones still missing.
    Returns (candidates [{"problem": index, "sample", "text", "source"}], stats)."""
    model, k = cfg["gen_model"], cfg["solutions_per_problem"]
    server = describe_server(teacher_base_url(cfg))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "solutions_raw.jsonl")
    done = {}
    for line in read_appended_lines(path, log):
        try:
            record = json.loads(line)
            done[(record["problem_id"], int(record["sample"]))] = record
        except (ValueError, KeyError, TypeError):
            log(f"teacher: skipped an unreadable line in {path}")
    # a file made by another model, or whose ids now name other problems (another max_level), starts afresh
    text_of = {p["id"]: p["problem"] for p in problems}
    if any(r.get("source") != f"{api_style(cfg)}:{model}" or r.get("problem", "") != text_of.get(r["problem_id"], r.get("problem", ""))
           for r in done.values()):
        aside = path + f".{int(time.time())}.old"
        os.replace(path, aside)
        log(f"teacher: {path} was made for another model or other problems; moved it to {aside} and starting afresh")
        done = {}
    wanted = [(p, j) for p in problems for j in range(k) if (p["id"], j) not in done]
    stats = {"method": api_style(cfg), "server": server, "gen_model": model, "requests": 0, "failures": 0,
             "retries": 0, "resumed": len(done), "truncated": 0, "elapsed_s": 0.0}
    started = last_log = time.time()
    if wanted:
        headers = teacher_headers(cfg)
        check_teacher(cfg, model, headers)
        log(f"teacher: asking {model} at {server} for {len(wanted)} solutions ({k} per problem, "
            f"{len(done)} already written)")
        submit, stop_workers = start_workers(max(1, int(cfg["concurrency"])), "teacher")
        futures = [submit(request_solution, cfg, model, p, j, headers) for p, j in wanted]
        failed_in_a_row = 0
        try:
            with open(path, "a", encoding="utf-8") as f:
                for future in as_completed(futures):  # as they arrive, so each is saved at once
                    record, retries, failure = future.result()
                    stats["requests"] += 1
                    stats["retries"] += retries
                    if failure:
                        stats["failures"] += 1
                        failed_in_a_row += 1
                        if failed_in_a_row >= MAX_FAILED_IN_A_ROW:
                            raise TeacherError(f"the teacher at {server} failed {failed_in_a_row} requests in a row; "
                                               f"last: {failure}. The solutions so far are saved in {path}; run the "
                                               f"same command with --out_dir={out_dir} to resume")
                        continue
                    failed_in_a_row = 0
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
                    f.flush()  # a crash or Ctrl-C loses nothing that has arrived
                    done[(record["problem_id"], record["sample"])] = record
                    if time.time() - last_log >= LOG_EVERY_S:
                        last_log = time.time()
                        log(f"teacher: {stats['requests']}/{len(wanted)} solutions")
        finally:
            stop_workers()
    stats["elapsed_s"] = round(time.time() - started, 2)
    candidates = [{"problem": i, "sample": j, "text": r["text"], "source": r["source"],
                   "hit_token_limit": bool(r.get("hit_token_limit"))}
                  for i, p in enumerate(problems) for j in range(k) if (r := done.get((p["id"], j)))]
    stats["truncated"] = sum(c["hit_token_limit"] for c in candidates)
    log(f"teacher: {len(candidates)} candidate solutions ({stats['resumed']} resumed), {stats['requests']} requests, "
        f"{stats['failures']} failed, {stats['truncated']} cut at the token limit")
    return candidates, stats
