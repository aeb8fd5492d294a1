"""
Sample from a trained model folder, streaming tokens to the terminal as they are generated.

    python sample.py --out_dir=models/cooking_12M_20261122_101500
    python sample.py --out_dir=... --start="Spicy tofu" --num_samples=3 --temperature=0.7
    python sample.py --out_dir=... --start=FILE:prompt.txt
    python sample.py --out_dir=... --interactive
"""
import argparse
import codecs
import json
import os
import sys

import torch

import model as gpt
from common import UserError, run_command
from tokenizer import load_tokenizer


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
    except Exception as e:  # truncated file, bad JSON, wrong shapes
        raise UserError(f"could not load the model in '{out_dir}': a file is damaged ({type(e).__name__}); "
                        f"retrain, or try --weights={'latest' if weights == 'best' else 'best'}") from None
    if [k for k in missing if k != 'lm_head.weight'] or unexpected:  # the head is tied to wte, stored once
        raise UserError(f"{source} does not match config.json (missing {missing[:3]}, unexpected {unexpected[:3]})")
    enc = load_tokenizer(os.path.join(out_dir, 'tokenizer.json'))
    return model.to(device).eval(), enc


def stream_sample(model, enc, start_ids, args, generator, write=sys.stdout.write):
    """Generate one sample, writing text as tokens arrive; returns the generated text."""
    x = torch.tensor([start_ids], dtype=torch.long, device=args.device)
    utf8 = codecs.getincrementaldecoder('utf-8')(errors='replace')  # a character may span tokens
    pieces = []
    for token in model.generate_stream(x, args.max_new_tokens, args.temperature, args.top_k, args.top_p,
                                       use_cache=not args.no_cache, generator=generator,
                                       stop_tokens=(enc.eot_token,)):
        t = token.item()
        if t == enc.eot_token:
            break
        piece = utf8.decode(enc.decode_single_token_bytes(t))
        pieces.append(piece)
        write(piece)
        sys.stdout.flush()
    return ''.join(pieces)


def encode_start(enc, text):
    return enc.encode(text, allowed_special='all') if text else [enc.eot_token]  # '' starts a new document


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
    args = p.parse_args(argv)
    if args.max_new_tokens < 1 or args.num_samples < 1 or args.temperature < 0 or args.top_k < 0 or not 0 < args.top_p <= 1:
        raise UserError("--max_new_tokens and --num_samples must be at least 1, --temperature and --top_k at least 0, "
                        "--top_p in (0, 1]")
    try:
        args.device = gpt.pick_device(args.device)
    except ValueError as e:
        raise UserError(str(e)) from None
    model, enc = load_model(args.out_dir, args.device, args.weights)
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
    start = args.start
    if start.startswith('FILE:'):
        path = start[5:]
        if not os.path.isfile(path):
            raise UserError(f"--start file '{path}' not found")
        with open(path, encoding='utf-8') as f:
            start = f.read()
    for i in range(args.num_samples):
        sys.stdout.write(start)
        stream_sample(model, enc, encode_start(enc, start), args, generator)
        print('\n' + '-' * 40)


if __name__ == '__main__':
    run_command(main, sys.argv[1:])
