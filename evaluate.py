"""
How good a trained model is, and what train.py does with it after training: documents sampled and checked
against the rules of their data (the quality report, quality.py), held-out generated problems solved
(math: exact answers; code: pass@1 in the sandbox), and generation_info.json, the run's summary.
sample.py --eval calls the same functions on any trained folder.
"""
import collections
import difflib
import itertools
import json
import os
import random
import sys
import textwrap
import time

import numpy as np
import tiktoken
import torch

import quality
from chats import jsonl_records, render_chat
from common import quoted, write_atomic
from corpora import code_window, parses_as_python
from problems import MATH_LEVELS, generate_math_problems, problem_prompt
from problems_code import CODE_LEVELS, generate_code_problems
from tokenizer import END_TURN, encode_fim, encode_segments, encode_start
from verify import check_code, check_math, extract_code

EVAL_SEED_OFFSET = 7919  # held-out problems come from another seed than the training ones
# what a folder's config.json may lack: folders trained before the sample_temperature setting sampled at 0.8,
# and before quality_samples a run's report took 20
OLDER_FOLDERS = {'sample_temperature': 0.8, 'quality_samples': 20}


def folder_settings(out_dir):
    """The settings a training folder's run used (its config.json), with what older folders lack filled in."""
    with open(os.path.join(out_dir, 'config.json'), encoding='utf-8') as f:
        return {**OLDER_FOLDERS, **json.load(f).get('config', {})}


def post_training_samples(model, enc, device, seed, temperature):
    """The original product's check: three short generations from fixed prompts."""
    gen = torch.Generator(device=device).manual_seed(seed)
    eot = enc.eot_token
    results = []
    for start in ('', 'The', 'Today'):
        ids = encode_start(enc, start)
        x = torch.tensor([ids], dtype=torch.long, device=device)
        y = model.generate(x, 30, temperature=temperature, top_k=40, generator=gen, stop_tokens=(eot,))[0, len(ids):].tolist()
        results.append({'prompt': start, 'text': start + enc.decode([t for t in y if t != eot])})
    return results


@torch.no_grad()
def sample_documents(model, enc, device, n, seed, temperature, max_new_tokens=None, batch_size=20, starts=None,
                     stop_tokens=()):
    """n whole documents, each started from the end-of-document token as in training (or from starts: lists
    of token ids, such as a chat request), sampled at temperature (a run's sample_temperature) with top-k 40
    and a fixed seed until the end token or one of stop_tokens: [(text, ended)], ended False when the
    document ran past max_new_tokens (default: twice the context) without one. Starts of one length are
    sampled together, batch_size at a time."""
    starts = starts or [[enc.eot_token]] * n
    stop = (enc.eot_token, *stop_tokens)
    max_new_tokens = max_new_tokens or 2 * model.config.block_size
    gen = torch.Generator(device=device).manual_seed(seed)
    documents = []
    for _, same_length in itertools.groupby(starts, key=len):
        same_length = [ids[-model.config.block_size:] for ids in same_length]
        for b in range(0, len(same_length), batch_size):
            x = torch.tensor(same_length[b:b + batch_size], dtype=torch.long, device=device)
            for row in model.generate(x, max_new_tokens, temperature=temperature, top_k=40, generator=gen,
                                      stop_tokens=stop)[:, x.shape[1]:].tolist():
                end = next((i for i, t in enumerate(row) if t in stop), None)
                documents.append((enc.decode(row if end is None else row[:end]).strip(), end is not None))
    return documents


def eval_split(run, out_dir, split='eval'):
    """A split a run on users' own text wrote beside its token files (data.py): eval[.NAME].jsonl, or
    train[.NAME].jsonl with split='train'."""
    return os.path.join(run.get('dataset_dir') or out_dir, f"{split}.{run['name']}.jsonl" if run.get('name') else f'{split}.jsonl')


def chat_openings(run, out_dir, enc, n):
    """A chat model's report samples replies, not documents: it learned to write the assistant's turns only,
    never to open a document. The first request of up to n held-out conversations (the eval split's
    'messages' records, eval.jsonl beside the run's token files), as token ids ending with the assistant's
    role token, as the chat loop asks; [] for a run on anything else."""
    path = eval_split(run, out_dir)
    if END_TURN not in enc._special_tokens or not os.path.exists(path):
        return []
    openings = []
    for _, record in jsonl_records(path):
        messages = record.get('messages') or []
        first = next((k for k, m in enumerate(messages) if m.get('role') == 'user'), None)
        if first is not None:
            openings.append(encode_segments(enc, render_chat(messages[:first + 1], start_reply=True))[0])
        if len(openings) == n:
            break
    return openings


def code_windows(path):
    """The code windows of a split file (FIM records put back in order)."""
    return [code_window(record['text']) for _, record in jsonl_records(path)
            if str(record.get('source', '')).startswith('code:') and isinstance(record.get('text'), str)]


GAP_TOKENS = 64  # a cut line's middle gets this many tokens to end in


def code_gaps(run, out_dir, n):
    """A code model is asked what fill-in-the-middle is for: the line missing from code it never saw. Up to
    n held-out code windows (the eval split's code records), each with one non-blank line cut out, the line
    chosen by the run's seed: [(prefix, line, suffix)]; [] for a run on anything else."""
    path = eval_split(run, out_dir)
    if not os.path.exists(path):
        return []
    gaps = []
    for k, window in enumerate(code_windows(path), 1):
        lines = window.splitlines(keepends=True)
        choices = [i for i, line in enumerate(lines) if line.strip()]
        if choices:
            i = random.Random(run['seed'] * 100_003 + k).choice(choices)
            gaps.append(("".join(lines[:i]), lines[i], "".join(lines[i + 1:])))
        if len(gaps) == n:
            break
    return gaps


def next_line_lookup(train_windows, gaps):
    """The share of gaps a lookup table fills word for word: the line that most often follows the gap's
    previous line (stripped; the window's start for a first line) in the training windows. It knows no
    more than which line comes after which, so a model below it has not learned even the repository's
    idioms (`try:`, `return self`); copies of code within a repository lift it."""
    before = lambda prefix: prefix.splitlines()[-1].strip() if prefix else None
    wanted = {before(prefix) for prefix, _, _ in gaps}
    following = {}
    for window in train_windows:
        lines = window.splitlines(keepends=True)
        for previous, line in zip([None] + [x.strip() for x in lines], lines):
            if previous in wanted and line.strip():
                following.setdefault(previous, collections.Counter())[line] += 1
    filled = 0
    for prefix, line, _ in gaps:
        counts = following.get(before(prefix))
        filled += bool(counts) and counts.most_common(1)[0][0] == line
    return round(filled / max(1, len(gaps)), 4)


def gap_report(model, enc, device, gaps, train_windows=()):
    """How a code model fills held-out gaps, greedily, as the quality report: each middle ended, the line
    word for word (exact_line), and where the window was Python that parses (dedented), whether it still
    does with the model's middle (parses); edit_similarity is the mean character similarity of middle and
    line (difflib's ratio), the partial credit code-completion benchmarks report beside exact match. With
    the training split's windows, next_line_lookup says how often a table of its next lines fills the gap."""
    room = model.config.block_size - GAP_TOKENS  # asked as sample.py asks: code far from the gap goes first
    middles = greedy_continuations(model, enc, device, [encode_fim(enc, p, s, room) for p, _, s in gaps], GAP_TOKENS)
    results, similarity = [], []
    for (prefix, line, suffix), (middle, ended) in zip(gaps, middles):
        r = {'ended': ended, 'exact_line': middle == line}
        if parses_as_python(textwrap.dedent(prefix + line + suffix)):
            r['parses'] = parses_as_python(textwrap.dedent(prefix + middle + suffix))
        results.append(r)
        similarity.append(difflib.SequenceMatcher(None, middle, line).ratio())
    n, checked = max(1, len(results)), [r['parses'] for r in results if 'parses' in r]
    form = lambda r: r['ended'] and r.get('parses', True)
    return {'documents': len(results), 'checked_as': 'middles of held-out code lines',
            'rules': {'ended': round(sum(r['ended'] for r in results) / n, 4),
                      **({'parses': round(sum(checked) / len(checked), 4)} if checked else {}),
                      'exact_line': round(sum(r['exact_line'] for r in results) / n, 4)},
            'parses_checked': len(checked), 'edit_similarity': round(sum(similarity) / n, 4),
            'well_formed': round(sum(map(form, results)) / n, 4),
            'all_rules': round(sum(form(r) and r['exact_line'] for r in results) / n, 4),
            **({'next_line_lookup': next_line_lookup(train_windows, gaps)} if train_windows else {}),
            'failing_examples': [{'line': line, 'middle': middle}
                                 for (_, line, _), (middle, _), r in zip(gaps, middles, results)
                                 if not r['exact_line']][:3]}


def sampled_report(run, out_dir, model, enc, device, n, domain):
    """The quality report of n sampled documents; for a chat model, of its replies to n held-out requests,
    each ending where the model ends its turn; for a code model, of its middles for n held-out gaps."""
    openings = chat_openings(run, out_dir, enc, n)
    gaps = [] if openings else code_gaps(run, out_dir, n)
    if gaps:
        train_path = eval_split(run, out_dir, 'train')
        return gap_report(model, enc, device, gaps, code_windows(train_path) if os.path.exists(train_path) else ())
    chat = {'starts': openings, 'stop_tokens': (enc._special_tokens[END_TURN],)} if openings else {}
    report = quality.quality_report(sample_documents(model, enc, device, n, run['seed'], run['sample_temperature'],
                                                     **chat), domain)
    if openings:
        report['checked_as'] = 'replies to held-out chat requests'
    return report


def quality_of_folder(out_dir, model, enc, device, n, log=print, data_info=None):
    """The quality report of a training folder's model (quality.py), saved as quality.json: n documents
    sampled with the run's seed and sample_temperature, scored by the rules of the data it was trained on
    (data_info, or what the folder's generation_info.json says)."""
    run = folder_settings(out_dir)
    seed, temperature = run['seed'], run['sample_temperature']
    info = data_info or {}
    if data_info is None and os.path.exists(os.path.join(out_dir, 'generation_info.json')):
        with open(os.path.join(out_dir, 'generation_info.json'), encoding='utf-8') as f:
            info = json.load(f)
    report = sampled_report(run, out_dir, model, enc, device, n, quality.applies(info))
    report['seed'], report['temperature'] = seed, temperature
    log(quality.summary_line(report))
    if 'not_checked' in report:
        log(f"  ({report['not_checked']})")
    write_atomic(os.path.join(out_dir, 'quality.json'), json.dumps(report, indent=1, ensure_ascii=False))
    return report


def checks_documents(cfg, data_info):
    """Whether a run's model gets the quality report: a model trained on solutions only never learned to
    write a problem, so documents sampled from nothing say nothing about it (its held-out accuracy does)."""
    return bool(cfg['quality_samples']) and not data_info.get('reasoning')


def quality_while_training(model, enc, device, cfg, data_info, iter_num, tokens_per_iter, t_start, progress, log=print):
    """quality_interval's report: quality_samples documents from the weights as they are (the run's seed, as
    after training), one line in the log and a row in metrics.jsonl (progress.quality)."""
    if not checks_documents(cfg, data_info):
        return
    t_check = time.time()
    progress.newline()
    report = sampled_report(cfg, cfg['out_dir'], model, enc, device, cfg['quality_samples'], quality.applies(data_info))
    log(f"at {iter_num}: {quality.summary_line(report)}")
    progress.quality(iter_num, iter_num * tokens_per_iter, report, time.time() - t_check, time.time() - t_start)


def held_out_problems(seed, n_per_level, levels, seen_prompts, generate=generate_math_problems):
    """n_per_level generated problems per level (math, or code with generate_code_problems) whose text the
    model never trained on."""
    wanted, seen = {level: [] for level in levels}, set(seen_prompts)
    for round_no in range(20):  # small levels repeat problems often: draw again until each level is full
        batch = generate(n_per_level * len(levels) * 2, seed + EVAL_SEED_OFFSET + round_no, levels)
        for p in batch:
            prompt = problem_prompt(p["problem"])
            if prompt not in seen and len(wanted[p["level"]]) < n_per_level:
                seen.add(prompt)  # and no problem twice among the held-out ones
                wanted[p["level"]].append(p)
        if all(len(v) == n_per_level for v in wanted.values()):
            break
    return [p for level in levels for p in wanted[level]]


@torch.no_grad()
def greedy_continuations(model, enc, device, starts, max_new_tokens, batch_size=64):
    """The greedy continuation of each start (token ids) up to the end-of-document token, in the order
    given: [(text, ended)], ended False when max_new_tokens ran out first. Starts of the same length run as
    one batch (no padding needed)."""
    eot = enc.eot_token
    by_length = {}
    for k, ids in enumerate(starts):
        by_length.setdefault(len(ids), []).append(k)
    texts = [None] * len(starts)
    for group in by_length.values():
        for b in range(0, len(group), batch_size):
            chunk = group[b:b + batch_size]
            x = torch.tensor([starts[k] for k in chunk], dtype=torch.long, device=device)
            out = model.generate(x, max_new_tokens, temperature=0.0, stop_tokens=(eot,))[:, x.size(1):].tolist()
            for k, new in zip(chunk, out):
                texts[k] = (enc.decode(new[:new.index(eot)] if eot in new else new), eot in new)
    return texts


def greedy_solutions(model, enc, device, problems, max_new_tokens, batch_size=64):
    """[(problem, the model's greedy solution)], each prompt after a document end, as in training."""
    starts = [[enc.eot_token] + enc.encode_ordinary(problem_prompt(p["problem"])) for p in problems]
    return [(p, text) for p, (text, _) in zip(problems, greedy_continuations(model, enc, device, starts,
                                                                             max_new_tokens, batch_size))]


def evaluate_math(model, enc, device, problems, max_new_tokens=200, batch_size=64):
    """Greedy solutions to problems, scored by their final answer.
    Returns {"levels": {level: {problems, correct, accuracy}}, "examples"}."""
    results = [(p, text, check_math(text, p["answer"]))
               for p, text in greedy_solutions(model, enc, device, problems, max_new_tokens, batch_size)]
    levels = {}
    for p, _, verdict in results:
        row = levels.setdefault(str(p["level"]), {"problems": 0, "correct": 0})
        row["problems"] += 1
        row["correct"] += verdict["correct"]
    for row in levels.values():
        row["accuracy"] = round(row["correct"] / row["problems"], 4)
    examples = [{"problem": p["problem"], "answer": p["answer"], "solution": text, "correct": v["correct"]}
                for p, text, v in results[:: max(1, len(results) // 10)]]
    return {"levels": dict(sorted(levels.items())), "examples": examples}


def eval_folder(out_dir, kind, model, enc, device, n_per_level, log=print):
    """The held-out evaluation of a training folder on generated problems of a kind ('math': exact answers,
    saved as eval_math.json; 'code': pass@1 in the sandbox, eval_code.json), per level."""
    with open(os.path.join(out_dir, 'config.json')) as f:
        cfg = json.load(f)['config']
    all_levels, generate, evaluate = {'math': (MATH_LEVELS, generate_math_problems, evaluate_math),
                                      'code': (CODE_LEVELS, generate_code_problems, evaluate_code)}[kind]
    levels = tuple(level for level in all_levels if level <= cfg.get('max_level', all_levels[-1]))
    problems = held_out_problems(cfg['seed'], n_per_level, levels, trained_prompts(cfg.get('dataset_dir') or out_dir),
                                 generate)
    result = evaluate(model, enc, device, problems)
    result['seed'] = cfg['seed'] + EVAL_SEED_OFFSET
    for level, row in result['levels'].items():
        log(f"math level {level}: {row['correct']}/{row['problems']} correct ({row['accuracy']:.1%})" if kind == 'math' else
            f"code level {level}: {row['passed']}/{row['problems']} pass their tests ({row['pass_at_1']:.1%} pass@1)")
    write_atomic(os.path.join(out_dir, f'eval_{kind}.json'), json.dumps(result, indent=1))
    return result


def evaluate_code(model, enc, device, problems, max_new_tokens=192, batch_size=64):
    """Greedy solutions to code problems, each one's last Python block run in the sandbox against the
    problem's tests (verify.check_code: one program to a process, as any untrusted code). pass@1 per level:
    the share of problems whose one greedy solution passes every test.
    Returns {"levels": {level: {problems, passed, pass_at_1}}, "reasons", "examples"}."""
    results = [(p, text, check_code(extract_code(text), p["tests"], p.get("fn_name")))
               for p, text in greedy_solutions(model, enc, device, problems, max_new_tokens, batch_size)]
    levels = {}
    for p, _, verdict in results:
        row = levels.setdefault(str(p["level"]), {"problems": 0, "passed": 0})
        row["problems"] += 1
        row["passed"] += verdict["verdict"] == "pass"
    for row in levels.values():
        row["pass_at_1"] = round(row["passed"] / row["problems"], 4)
    reasons = {}
    for _, _, v in results:
        reasons[v["reason"]] = reasons.get(v["reason"], 0) + 1
    examples = [{"problem": p["problem"], "solution": text, "verdict": v["verdict"], "reason": v["reason"]}
                for p, text, v in results[:: max(1, len(results) // 10)]]
    return {"levels": dict(sorted(levels.items())), "reasons": reasons, "examples": examples}


def trained_prompts(data_dir):
    """The problem prompts of the training data in the folder the data steps wrote (dataset.jsonl), so
    held-out problems avoid them."""
    path = os.path.join(data_dir, 'dataset.jsonl')
    if not os.path.exists(path):
        return set()
    with open(path, encoding='utf-8') as f:
        return {json.loads(line).get('prompt', '') for line in f if line.strip()}


def after_training(model, enc, cfg, device, data_info, training, t_start, log=print):
    """What train.py does with the best weights: the original product's test generations, the quality
    report, a math model's held-out accuracy, and generation_info.json, so the output folder holds
    everything about the run. Returns what generation_info.json holds."""
    out = cfg['out_dir']
    samples = post_training_samples(model, enc, device, cfg['seed'], cfg['sample_temperature'])
    for s in samples:
        log(f"--- sample from {s['prompt']!r}:\n{s['text']}")
    info = dict(data_info, prompt=cfg['prompt'], size=cfg['size'], seed=cfg['seed'], parameters=model.num_params(),
                init_from=cfg.get('start_from') or 'scratch', lora_rank=cfg.get('lora_rank', 0),
                training=training, total_seconds=round(time.time() - t_start, 1), test_generations=samples,
                versions={'python': sys.version.split()[0], 'torch': torch.__version__,
                          'numpy': np.__version__, 'tiktoken': tiktoken.__version__})
    check_documents = checks_documents(cfg, data_info)
    if check_documents:
        log(f"checking: {cfg['quality_samples']} sampled documents against the rules of the training data")
        info['quality'] = quality_of_folder(out, model, enc, device, cfg['quality_samples'], log, data_info)
    # generated problems only: held-out ones of the same kind exist; a mix is measured on each of its kinds
    kinds = {'math': ('math',), 'code': ('code',), 'reasoning': ('math', 'code')}.get(info.get('domain'), ())
    for kind in kinds if not cfg['problems_file'] and cfg['eval_problems'] else ():
        log(f"measuring: greedy solutions to {cfg['eval_problems']} held-out {kind} problems per level")
        info[f'{kind}_eval'] = eval_folder(out, kind, model, enc, device, cfg['eval_problems'], log)['levels']
    write_atomic(os.path.join(out, 'generation_info.json'), json.dumps(info, indent=2))
    log(f"\ndone in {info['total_seconds']:.0f}s. Everything is in {out}/ (ckpt.pt, model.safetensors, config.json, "
        f"tokenizer.json, metrics.jsonl, loss.svg, {'quality.json, ' if check_documents else ''}"
        f"generation_info.json).\n"
        f"Next: {next_command(cfg, data_info)}")
    return info


def next_command(cfg, data_info):
    """How to ask the model for what it was trained on: a chat loop for chats, a middle for code trained on
    fill-in-the-middle examples, text from nothing for the rest."""
    documents = data_info.get('documents') if isinstance(data_info.get('documents'), dict) else {}
    ask = (' --chat' if (documents.get('by_kind') or {}).get('chat') else
           ' --fim_prefix=FILE:head.py --fim_suffix=FILE:tail.py' if documents.get('fim') else '')
    return f"python sample.py --out_dir={quoted(cfg['out_dir'])}{ask}"
