"""
Sample from a trained model folder, streaming tokens to the terminal as they are generated.

    python sample.py --out_dir=models/cooking_4M_20261122_101500
    python sample.py --out_dir=... --start="Spicy tofu" --num_samples=3 --temperature=0.7
    python sample.py --out_dir=... --start=FILE:prompt.txt
    python sample.py --out_dir=... --interactive
    python sample.py --out_dir=... --chat                  # a model trained on chat sources
    python sample.py --out_dir=... --fim_prefix=FILE:head.py --fim_suffix=FILE:tail.py  # code: fill the middle
    python sample.py --out_dir=... --eval           # the quality report: 20 sampled documents, checked
    python sample.py --out_dir=... --eval=math      # accuracy on held-out math problems, per level
    python sample.py --out_dir=... --eval=code      # pass@1 on held-out generated code problems, per level
    python sample.py --out_dir=... --serve          # an Ollama- and OpenAI-compatible server (serve.py)
    python sample.py --out_dir=... --export_hf=hf/my_model   # a folder transformers loads (huggingface.py)
"""
import argparse
import codecs
import json
import math
import os
import sys
import time

import numpy as np
import tiktoken
import torch

import hardware
import model as gpt
from common import UserError, quoted, run_command, write_atomic
import quality
from problems import MATH_LEVELS, generate_math_problems, problem_prompt
from problems_code import CODE_LEVELS, generate_code_problems
from chats import render_chat
from huggingface import write_hf_folder
from serve import serve
from tokenizer import END_TURN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, encode_segments, encode_start, load_tokenizer
from verify import check_code, check_math, extract_code

EVAL_SEED_OFFSET = 7919  # held-out problems come from another seed than the training ones


def load_model(out_dir, device, weights='best'):
    """The model from a training folder: config.json plus model.safetensors (the best weights) or ckpt.pt
    (the latest). Neither path unpickles arbitrary objects."""
    if not os.path.isdir(out_dir):
        raise UserError(f"no folder '{out_dir}'; pass --out_dir=<the folder train.py printed at the end>")
    config_path = os.path.join(out_dir, 'config.json')
    st_path, ckpt_path = os.path.join(out_dir, 'model.safetensors'), os.path.join(out_dir, 'ckpt.pt')
    try:
        if weights == 'best' and os.path.exists(st_path):
            with open(config_path) as f:
                model_args = json.load(f)['model_args']
            state = gpt.load_safetensors(st_path)
            source = st_path
        elif os.path.exists(ckpt_path):
            ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=True)
            model_args, state, source = ckpt['model_args'], ckpt['model'], ckpt_path
        else:
            raise UserError(f"'{out_dir}' has neither model.safetensors nor ckpt.pt; train a model there first")
        model = gpt.GPT(gpt.GPTConfig(**model_args))
        missing, unexpected = model.load_state_dict(state, strict=False)
    except UserError:
        raise
    except FileNotFoundError as e:
        raise UserError(f"'{out_dir}' is missing {os.path.basename(e.filename)}; re-run training into it") from None
    except Exception as e:  # truncated file, bad JSON, wrong shapes, safetensors offsets (ValueError says which)
        why = str(e) if isinstance(e, ValueError) and str(e).startswith(st_path) else type(e).__name__
        raise UserError(f"could not load the model in '{out_dir}': a file is damaged ({why}); "
                        f"retrain, or try --weights={'latest' if weights == 'best' else 'best'}") from None
    if [k for k in missing if k != 'lm_head.weight'] or unexpected:  # the head is tied to wte, stored once
        raise UserError(f"{source} does not match config.json (missing {missing[:3]}, unexpected {unexpected[:3]})")
    enc = load_tokenizer(os.path.join(out_dir, 'tokenizer.json'))
    return model.to(device).eval(), enc


def stream_sample(model, enc, start_ids, args, generator, write=sys.stdout.write, stop_tokens=()):
    """Generate one sample, writing text as tokens arrive, until <|endoftext|> or one of stop_tokens;
    returns the generated text."""
    stop = (enc.eot_token, *stop_tokens)
    x = torch.tensor([start_ids], dtype=torch.long, device=args.device)
    utf8 = codecs.getincrementaldecoder('utf-8')(errors='replace')  # a character may span tokens
    pieces = []
    for token in model.generate_stream(x, args.max_new_tokens, args.temperature, args.top_k, args.top_p,
                                       use_cache=not args.no_cache, generator=generator,
                                       stop_tokens=stop):
        t = token.item()
        if t in stop:
            break
        piece = utf8.decode(enc.decode_single_token_bytes(t))
        pieces.append(piece)
        write(piece)
        sys.stdout.flush()
    return ''.join(pieces)


def read_text_arg(text, flag):
    """A flag's text, or the contents of the file it names as FILE:path."""
    if not text.startswith('FILE:'):
        return text
    path = text[5:]
    if not os.path.isfile(path):
        raise UserError(f"{flag} file '{path}' not found")
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except UnicodeDecodeError:
        raise UserError(f"{flag} file '{path}' is not UTF-8 text") from None


def special_token(enc, name, what):
    """The id of a special token the model was trained with, or a one-line error saying how to get one."""
    if name not in enc._special_tokens:
        raise UserError(f"this model has no {name} token, so it was not trained for {what}; train one with "
                        f"sources='{'chat' if what == 'chat' else 'code'}:PATH' (README, 'Train on your own text')")
    return enc._special_tokens[name]


def fill_in_the_middle(model, enc, prefix, suffix, args, generator, write=sys.stdout.write):
    """The code between prefix and suffix, as the model was trained on it: prefix, suffix, then the middle
    (corpora.py's order)."""
    ids = ([special_token(enc, FIM_PREFIX, 'fill-in-the-middle')] + enc.encode_ordinary(prefix)
           + [enc._special_tokens[FIM_SUFFIX]] + enc.encode_ordinary(suffix) + [enc._special_tokens[FIM_MIDDLE]])
    return stream_sample(model, enc, ids, args, generator, write)


def chat_loop(model, enc, args, generator, system=''):
    """Talk to a model trained on chat sources: each turn is formatted as in training (chats.render_chat),
    the reply streams until the model ends its turn. The oldest turns leave when the context is full."""
    end = special_token(enc, END_TURN, 'chat')
    messages = [{'role': 'system', 'content': system}] if system else []
    first = len(messages)  # the oldest turn that may be forgotten: never the system text
    print("chat with the model (Ctrl-D to quit)")
    while True:
        try:
            line = input('you> ')
        except (EOFError, KeyboardInterrupt):
            print()
            return
        messages.append({'role': 'user', 'content': line})
        while True:
            ids, _ = encode_segments(enc, render_chat(messages, start_reply=True))
            if len(ids) <= model.config.block_size - 16 or len(messages) <= first + 1:
                break  # it fits, or only the new question is left (then its end is kept)
            messages.pop(first)
        sys.stdout.write('model> ')
        reply = stream_sample(model, enc, ids[-model.config.block_size:], args, generator, stop_tokens=(end,))
        print()
        messages.append({'role': 'assistant', 'content': reply})


def post_training_samples(model, enc, device, seed):
    """The original product's check: three short generations from fixed prompts."""
    gen = torch.Generator(device=device).manual_seed(seed)
    eot = enc.eot_token
    results = []
    for start in ('', 'The', 'Today'):
        ids = encode_start(enc, start)
        x = torch.tensor([ids], dtype=torch.long, device=device)
        y = model.generate(x, 30, temperature=0.8, top_k=40, generator=gen, stop_tokens=(eot,))[0, len(ids):].tolist()
        results.append({'prompt': start, 'text': start + enc.decode([t for t in y if t != eot])})
    return results


@torch.no_grad()
def sample_documents(model, enc, device, n, seed, max_new_tokens=None, batch_size=20):
    """n whole documents, each started from the end-of-document token as in training, with sampling's
    defaults (temperature 0.8, top-k 40) and a fixed seed: [(text, ended)], ended False when the document
    ran past max_new_tokens (default: twice the context) without its end token."""
    eot = enc.eot_token
    max_new_tokens = max_new_tokens or 2 * model.config.block_size
    gen = torch.Generator(device=device).manual_seed(seed)
    documents = []
    for start in range(0, n, batch_size):
        x = torch.full((min(batch_size, n - start), 1), eot, dtype=torch.long, device=device)
        for row in model.generate(x, max_new_tokens, temperature=0.8, top_k=40, generator=gen,
                                  stop_tokens=(eot,))[:, 1:].tolist():
            ended = eot in row
            documents.append((enc.decode(row[:row.index(eot)] if ended else row).strip(), ended))
    return documents


def quality_of_folder(out_dir, model, enc, device, n, log=print, data_info=None):
    """The quality report of a training folder's model (quality.py), saved as quality.json: n documents
    sampled with the run's seed, scored by the rules of the data it was trained on (data_info, or what
    the folder's generation_info.json says)."""
    with open(os.path.join(out_dir, 'config.json'), encoding='utf-8') as f:
        seed = json.load(f)['config']['seed']
    info = data_info or {}
    if data_info is None and os.path.exists(os.path.join(out_dir, 'generation_info.json')):
        with open(os.path.join(out_dir, 'generation_info.json'), encoding='utf-8') as f:
            info = json.load(f)
    domain = quality.applies(info)
    report = quality.quality_report(sample_documents(model, enc, device, n, seed), domain)
    report['seed'] = seed
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
    report = quality.quality_report(sample_documents(model, enc, device, cfg['quality_samples'], cfg['seed']),
                                    quality.applies(data_info))
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
def greedy_solutions(model, enc, device, problems, max_new_tokens, batch_size=64):
    """[(problem, the model's greedy solution)]. Prompts of the same token length run as one batch (no
    padding needed)."""
    eot = enc.eot_token
    by_length = {}
    for p in problems:
        ids = [eot] + enc.encode_ordinary(problem_prompt(p["problem"]))  # as in training: after a document end
        by_length.setdefault(len(ids), []).append((p, ids))
    solved = []
    for group in by_length.values():
        for start in range(0, len(group), batch_size):
            chunk = group[start:start + batch_size]
            x = torch.tensor([ids for _, ids in chunk], dtype=torch.long, device=device)
            out = model.generate(x, max_new_tokens, temperature=0.0, stop_tokens=(eot,))[:, x.size(1):].tolist()
            solved += [(p, enc.decode(new[:new.index(eot)] if eot in new else new)) for (p, _), new in zip(chunk, out)]
    return solved


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
    problems = held_out_problems(cfg['seed'], n_per_level, levels, trained_prompts(out_dir), generate)
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


def trained_prompts(out_dir):
    """The problem prompts of a folder's training data (dataset.jsonl), so held-out problems avoid them."""
    path = os.path.join(out_dir, 'dataset.jsonl')
    if not os.path.exists(path):
        return set()
    with open(path, encoding='utf-8') as f:
        return {json.loads(line).get('prompt', '') for line in f if line.strip()}


def after_training(model, enc, cfg, device, data_info, training, t_start, log=print):
    """What train.py does with the best weights: the original product's test generations, the quality
    report, a math model's held-out accuracy, and generation_info.json, so the output folder holds
    everything about the run. Returns what generation_info.json holds."""
    out = cfg['out_dir']
    samples = post_training_samples(model, enc, device, cfg['seed'])
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
        f"Next: python sample.py --out_dir={quoted(out)}")
    return info


def underscored(arg):
    """'--out-dir=my-model' -> '--out_dir=my-model': flags with hyphens work, as train.py's settings do."""
    key, sep, value = arg.partition('=')
    return '--' + key[2:].replace('-', '_') + sep + value if arg.startswith('--') else arg


def main(argv):
    p = argparse.ArgumentParser(description="Sample from a model trained by train.py.")
    p.add_argument('--out_dir', required=True, help="the training folder")
    p.add_argument('--start', default='', help="text to continue, or FILE:path to read it from a file")
    p.add_argument('--num_samples', type=int, default=3)
    p.add_argument('--max_new_tokens', type=int, default=200)
    p.add_argument('--temperature', type=float, default=0.8, help="0 = greedy")
    p.add_argument('--top_k', type=int, default=40, help="0 = off")
    p.add_argument('--top_p', type=float, default=1.0, help="nucleus sampling; 1.0 = off")
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--device', default='auto', choices=('auto', 'cpu', 'cuda', 'mps'), help="auto: cuda, mps, then cpu")
    p.add_argument('--weights', default='best', choices=('best', 'latest'), help="model.safetensors or ckpt.pt")
    p.add_argument('--no_cache', action='store_true', help="recompute the whole context every token")
    p.add_argument('--interactive', action='store_true', help="a prompt loop")
    p.add_argument('--chat', action='store_true', help="a chat loop, for a model trained on chat sources")
    p.add_argument('--system', default='', help="--chat: a system message, or FILE:path")
    p.add_argument('--fim_prefix', default=None, help="code before the gap (text or FILE:path); prints the middle")
    p.add_argument('--fim_suffix', default='', help="code after the gap (text or FILE:path)")
    p.add_argument('--eval', nargs='?', const='quality', choices=('quality', 'math', 'code'),
                   help="measure the model instead of sampling: quality (alone: --eval) = the quality report of "
                   "--eval_samples sampled documents (quality.json); math = exact-answer accuracy per level on "
                   "held-out generated problems (eval_math.json); code = pass@1 per level on held-out generated "
                   "code problems, each greedy solution run in the sandbox against its tests (eval_code.json)")
    p.add_argument('--eval_samples', type=int, default=20, help="documents the quality report samples")
    p.add_argument('--eval_problems', type=int, default=100, help="held-out problems per level for --eval=math or code")
    p.add_argument('--serve', action='store_true', help="answer Ollama and OpenAI API requests over HTTP (serve.py); "
                   "--temperature, --top_k, --top_p, --max_new_tokens: defaults for requests that leave them out")
    p.add_argument('--host', default='127.0.0.1', help="--serve: the address to listen on (0.0.0.0: every network)")
    p.add_argument('--port', type=int, default=11435, help="--serve: the port (Ollama's own is 11434)")
    p.add_argument('--export_hf', metavar='DIR', help="write the model as a Hugging Face folder that transformers "
                   "loads with its own classes (OpenAIGPTLMHeadModel or GPT2LMHeadModel), then stop")
    p.add_argument('--model_name', default='', help="--serve: the name clients ask for; '' = the folder's name")
    args = p.parse_args([underscored(a) for a in argv])
    if not (math.isfinite(args.temperature) and math.isfinite(args.top_p)):  # argparse's float takes 'nan'
        raise UserError("--temperature and --top_p must be finite numbers")
    if args.max_new_tokens < 1 or args.num_samples < 1 or args.temperature < 0 or args.top_k < 0 or not 0 < args.top_p <= 1:
        raise UserError("--max_new_tokens and --num_samples must be at least 1, --temperature and --top_k at least 0, "
                        "--top_p in (0, 1]")
    try:
        args.device = hardware.pick_device(args.device)
    except ValueError as e:
        raise UserError(str(e)) from None
    model, enc = load_model(args.out_dir, 'cpu' if args.export_hf else args.device, args.weights)
    if args.export_hf:
        write_hf_folder(model, enc, args.export_hf)
        print(f"wrote {args.export_hf}: AutoModelForCausalLM.from_pretrained({args.export_hf!r}) and "
              f"AutoTokenizer.from_pretrained({args.export_hf!r}) load it")
        return
    if args.serve:
        name = args.model_name or os.path.basename(os.path.abspath(args.out_dir))
        serve(model, enc, name, args.host, args.port, {'temperature': args.temperature, 'top_k': args.top_k,
                                                       'top_p': args.top_p, 'max_tokens': args.max_new_tokens})
        return
    if args.eval in ('math', 'code'):
        if args.eval_problems < 1:
            raise UserError("--eval_problems must be at least 1")
        eval_folder(args.out_dir, args.eval, model, enc, args.device, args.eval_problems)
        return
    if args.eval == 'quality':
        if args.eval_samples < 1:
            raise UserError("--eval_samples must be at least 1")
        quality_of_folder(args.out_dir, model, enc, args.device, args.eval_samples)
        return
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    if args.interactive:
        print("type a start text (empty line: a fresh document; Ctrl-D to quit)")
        while True:
            try:
                start = input('> ')
            except (EOFError, KeyboardInterrupt):
                print()
                return
            sys.stdout.write(start)
            stream_sample(model, enc, encode_start(enc, start), args, generator)
            print()
    if args.chat:
        chat_loop(model, enc, args, generator, read_text_arg(args.system, '--system'))
        return
    if args.fim_prefix is not None:
        prefix, suffix = read_text_arg(args.fim_prefix, '--fim_prefix'), read_text_arg(args.fim_suffix, '--fim_suffix')
        for i in range(args.num_samples):
            fill_in_the_middle(model, enc, prefix, suffix, args, generator)
            print('\n' + '-' * 40)
        return
    start = read_text_arg(args.start, '--start')
    for i in range(args.num_samples):
        sys.stdout.write(start)
        stream_sample(model, enc, encode_start(enc, start), args, generator)
        print('\n' + '-' * 40)


if __name__ == '__main__':
    run_command(main, sys.argv[1:])
