"""
Sample from a trained model folder, streaming tokens to the terminal as they are generated.

    python sample.py --out_dir=models/cooking_4M_20261122_101500
    python sample.py --out_dir=... --start="Spicy tofu" --num_samples=3 --temperature=0.7
    python sample.py --out_dir=... --start=FILE:prompt.txt
    python sample.py --out_dir=... --interactive
    python sample.py --out_dir=... --chat                  # a model trained on chat sources
    python sample.py --out_dir=... --fim_prefix=FILE:head.py --fim_suffix=FILE:tail.py  # code: fill the middle
    python sample.py --out_dir=... --eval           # the quality report: sampled documents (as the run's), checked
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

import torch

import hardware
import model as gpt
from chats import render_chat
from common import UserError, run_command
from evaluate import eval_folder, folder_settings, quality_of_folder
from huggingface import write_hf_folder
from serve import serve
from tokenizer import END_TURN, FIM_PREFIX, encode_fim, encode_segments, encode_start, load_tokenizer


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


def stream_sample(model, enc, start_ids, args, generator, write=None, stop_tokens=()):
    """Generate one sample, writing text as tokens arrive, until <|endoftext|> or one of stop_tokens;
    returns the generated text. write: where the text goes (sys.stdout as it is when called)."""
    write = write or sys.stdout.write
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


def fill_in_the_middle(model, enc, prefix, suffix, args, generator, write=None):
    """The code between prefix and suffix, as the model was trained on it: prefix, suffix, then the middle
    (corpora.py's order)."""
    special_token(enc, FIM_PREFIX, 'fill-in-the-middle')  # one line, not a KeyError, for a model without them
    # the three markers must stay in the context while the middle is written: code far from the gap goes first
    room = model.config.block_size - min(args.max_new_tokens, model.config.block_size // 4)
    return stream_sample(model, enc, encode_fim(enc, prefix, suffix, room), args, generator, write)


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
    p.add_argument('--temperature', type=float, default=None, help="0 = greedy; default: the folder's "
                   "sample_temperature (the one its quality report used), 0.8 for older folders")
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
    p.add_argument('--eval_samples', type=int, default=None, help="documents the quality report samples; "
                   "default: as many as the folder's run sampled (quality_samples), 20 if it sampled none")
    p.add_argument('--eval_problems', type=int, default=100, help="held-out problems per level for --eval=math or code")
    p.add_argument('--serve', action='store_true', help="answer Ollama and OpenAI API requests over HTTP (serve.py); "
                   "--temperature, --top_k, --top_p, --max_new_tokens: defaults for requests that leave them out")
    p.add_argument('--host', default='127.0.0.1', help="--serve: the address to listen on (0.0.0.0: every network)")
    p.add_argument('--port', type=int, default=11435, help="--serve: the port (Ollama's own is 11434)")
    p.add_argument('--export_hf', metavar='DIR', help="write the model as a Hugging Face folder that transformers "
                   "loads with its own classes (OpenAIGPTLMHeadModel or GPT2LMHeadModel), then stop")
    p.add_argument('--model_name', default='', help="--serve: the name clients ask for; '' = the folder's name")
    args = p.parse_args([underscored(a) for a in argv])
    if not (math.isfinite(args.temperature or 0) and math.isfinite(args.top_p)):  # argparse's float takes 'nan'
        raise UserError("--temperature and --top_p must be finite numbers")
    if args.max_new_tokens < 1 or args.num_samples < 1 or (args.temperature or 0) < 0 or args.top_k < 0 or not 0 < args.top_p <= 1:
        raise UserError("--max_new_tokens and --num_samples must be at least 1, --temperature and --top_k at least 0, "
                        "--top_p in (0, 1]")
    try:
        args.device = hardware.pick_device(args.device)
    except ValueError as e:
        raise UserError(str(e)) from None
    model, enc = load_model(args.out_dir, 'cpu' if args.export_hf else args.device, args.weights)
    if args.temperature is None:
        args.temperature = folder_settings(args.out_dir)['sample_temperature']
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
        if args.eval_samples is not None and args.eval_samples < 1:
            raise UserError("--eval_samples must be at least 1")
        n = args.eval_samples or folder_settings(args.out_dir)['quality_samples'] or 20
        quality_of_folder(args.out_dir, model, enc, args.device, n)
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
