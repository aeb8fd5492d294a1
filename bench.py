"""
Measure Text2GPT1 on this machine: training tokens/s and MFU through train.py's own training step,
sampling tokens/s with and without the KV cache, peak memory, template generation, BPE training and
teacher throughput against a local fake server.

    python bench.py                                  # the 12M shape (6 layers, 384 wide, T=256, B=8)
    python bench.py --preset=117M --device=cuda --compile
    python bench.py --dtype=float32 --json
    python bench.py --parts=train,sample --compare_dtypes
    python bench.py --parts=train --dtype=bfloat16 --loss_check=200   # bf16 loss within 2% of float32?
    python bench.py --parts=train --compare_dtypes --threads=2        # a 2-core figure on a bigger CPU
    python bench.py --preset=117M --parts=train --lora_rank=8         # LoRA against full training: run each
                                                                      # alone, peak memory is the process's
    python bench.py --parts=quality                  # time to quality: cooking_small until its report reaches
                                                     # 95% well-formed and 70% passing every rule (~15 min)
"""
import argparse
import contextlib
import json
import os
import platform
try:
    import resource  # Unix only: the peak memory column
except ImportError:  # Windows: the table says n/a there
    resource = None
import statistics
import sys
import time

import torch

import hardware
import model as gpt
import optimizers
import settings
import token_files
import train
from common import run_command
from progress import format_duration
from templates import generate_template_samples
from tokenizer import estimate_tokens, train_bpe


def peak_memory_mb(device):
    if device == 'cuda':
        return round(torch.cuda.max_memory_allocated() / 2**20)
    if resource is None:
        return None
    # the process's peak: KiB on Linux, bytes on macOS
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == 'darwin' else 1024))


def bench_train(args, dtype_name, compile_model):
    """Median training tokens/s and MFU over args.steps steps, after args.warmup steps."""
    torch.manual_seed(0)
    cfg = dict(settings.DEFAULTS, batch_size=args.batch_size, gradient_accumulation_steps=1, grad_clip=1.0)
    conf = gpt.GPTConfig(vocab_size=args.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                         n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout)
    raw = gpt.GPT(conf).to(args.device)
    trainable = gpt.add_lora(raw, args.lora_rank) if args.lora_rank else raw.num_params()
    optimizer = optimizers.configure_optimizer(raw, 0.01, 3e-4, (0.9, 0.999), 1e-8, args.device,
                                               settings.DEFAULTS['muon_learning_rate'] * (args.optimizer == 'muon'))
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype_name]
    ctx = contextlib.nullcontext() if dtype_name == 'float32' else torch.autocast(args.device, dtype=ptdtype)
    scaler = torch.amp.GradScaler(args.device, enabled=dtype_name == 'float16')
    model = train.try_compile(raw, args.batch_size, args.block_size, args.device, ctx, print) if compile_model else raw
    batches = torch.randint(0, args.vocab_size, (8, args.batch_size, args.block_size + 1), device=args.device)
    step_no = [0]

    def get_batch(split):
        b = batches[step_no[0] % len(batches)]
        return b[:, :-1], b[:, 1:]
    times = []
    for i in range(args.warmup + args.steps):
        sync(args.device)
        t0 = time.perf_counter()
        train.training_step(model, optimizer, scaler, get_batch, cfg, ctx, 3e-4)
        sync(args.device)
        step_no[0] += 1
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    tps = args.batch_size * args.block_size / statistics.median(times)
    peak = hardware.device_peak_flops(args.device, ptdtype)
    mfu = raw.flops_per_token() * tps / peak if peak else 0.0
    return {'dtype': dtype_name, 'compile': compile_model, 'optimizer': args.optimizer, 'tokens_per_s': round(tps, 1),
            'mfu': round(mfu, 4) if 0 < mfu <= 1 else None,  # past 100%: the peak was timed on a busy machine
            'params_M': round(raw.num_params() / 1e6, 2), 'lora_rank': args.lora_rank,
            'trainable_params_M': round(trainable / 1e6, 3), 'peak_memory_mb': peak_memory_mb(args.device)}


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def bench_loss_match(args, dtype_name):
    """Train args.loss_check steps on template recipes in dtype_name and in float32 from the same start
    and the same batches; report both final losses (mean of the last 10 steps) and how far apart they are."""
    import tempfile
    docs = generate_template_samples('cooking recipes', 'cooking', 300_000, seed=1)
    enc = train_bpe(docs, args.vocab_size)
    losses = {}
    with tempfile.TemporaryDirectory() as folder:
        token_files.write_dataset(docs, enc, folder)
        cfg = dict(settings.DEFAULTS, batch_size=args.batch_size, gradient_accumulation_steps=1, learning_rate=1e-3,
                   min_lr=1e-4, warmup_iters=20, max_iters=args.loss_check)
        for name in (dtype_name, 'float32'):
            torch.manual_seed(0)
            conf = gpt.GPTConfig(vocab_size=enc.n_vocab, block_size=args.block_size, n_layer=args.n_layer,
                                 n_head=args.n_head, n_embd=args.n_embd, dropout=0.0)
            m = gpt.GPT(conf).to(args.device)
            opt = optimizers.configure_optimizer(m, 0.01, 1e-3, (0.9, 0.999), 1e-8, args.device)
            ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[name]
            ctx = contextlib.nullcontext() if name == 'float32' else torch.autocast(args.device, dtype=ptdtype)
            scaler = torch.amp.GradScaler(args.device, enabled=name == 'float16')
            get_batch = token_files.make_batch_fn(folder, args.block_size, args.batch_size, args.device,
                                            torch.Generator().manual_seed(0))
            curve = [train.training_step(m, opt, scaler, get_batch, cfg, ctx, train.get_lr(i, cfg))
                     for i in range(args.loss_check)]
            losses[name] = sum(curve[-10:]) / len(curve[-10:])
    return {'steps': args.loss_check, 'loss': losses[dtype_name], 'float32_loss': losses['float32'],
            'relative_difference': round(abs(losses[dtype_name] - losses['float32']) / losses['float32'], 4)}


def bench_sample(args):
    """Tokens/s generating args.sample_tokens tokens from a one-token prompt, with and without the cache."""
    torch.manual_seed(0)
    conf = gpt.GPTConfig(vocab_size=args.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                         n_head=args.n_head, n_embd=args.n_embd, dropout=0.0)
    m = gpt.GPT(conf).to(args.device).eval()
    idx = torch.zeros((1, 1), dtype=torch.long, device=args.device)
    out = {}
    for use_cache in (True, False):
        m.generate(idx, 8, temperature=0, use_cache=use_cache)  # warm-up
        sync(args.device)
        t0 = time.perf_counter()
        m.generate(idx, args.sample_tokens, temperature=0, use_cache=use_cache)
        sync(args.device)
        out['cached_tokens_per_s' if use_cache else 'uncached_tokens_per_s'] = round(args.sample_tokens / (time.perf_counter() - t0), 1)
    out['cache_speedup'] = round(out['cached_tokens_per_s'] / out['uncached_tokens_per_s'], 2)
    return out


def bench_data(args):
    """Template generation speed (tokens/s, one core) and BPE training time on args.bpe_mb of text."""
    out = {}
    for domain in ('cooking', 'poetry', 'technical', 'general'):
        t0 = time.perf_counter()
        docs = generate_template_samples(f'a GPT for {domain}', domain, 200_000, seed=1)
        secs = time.perf_counter() - t0
        out[f'template_{domain}_tokens_per_s'] = round(sum(map(estimate_tokens, docs)) / secs)
    text, docs, seed = 0, [], 0
    while text < args.bpe_mb * 1e6:  # a mixed corpus of the requested size
        seed += 1
        for domain in ('cooking', 'poetry', 'technical', 'general'):
            batch = generate_template_samples('', domain, 100_000, seed=seed)
            docs += batch
            text += sum(len(d.encode()) for d in batch)
    t0 = time.perf_counter()
    enc = train_bpe(docs, args.bpe_vocab)
    out['bpe_train_s'] = round(time.perf_counter() - t0, 2)
    out['bpe_corpus_mb'] = round(text / 1e6, 2)
    out['bpe_vocab'] = enc.n_vocab
    return out


def bench_quality(args):
    """Time to quality: args.quality_config trained as a user would (train.run, its own data steps), with
    the quality report every args.quality_interval iterations; the wall-clock and tokens until the report
    first reaches the target. The clock counts the data steps and evaluations, not the bench's own checks."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, 'model')
        run = train.run({'quality_interval': args.quality_interval},
                        [args.quality_config, f'--out_dir={out}', f'--device={args.device}', *args.quality_flags.split()])
        with open(os.path.join(out, 'metrics.jsonl'), encoding='utf-8') as f:
            rows = [row for row in map(json.loads, f) if 'well_formed' in row]
    return {'config': args.quality_config, 'flags': args.quality_flags, 'samples': run['info']['quality']['documents'],
            'target': {'well_formed': args.target_well_formed, 'all_rules': args.target_all_rules},
            'checks': [{k: row[k] for k in ('iter', 'tokens', 'well_formed', 'all_rules')} for row in rows],
            'reached': time_to_quality(rows, args.target_well_formed, args.target_all_rules),
            'total_s': run['info']['total_seconds'], 'final': {k: run['quality'][k] for k in ('well_formed', 'all_rules')}}


def time_to_quality(rows, well_formed, all_rules):
    """The first check (metrics.jsonl's quality rows, in order) at the target: {'iter', 'tokens', 'seconds'},
    seconds from the run's start less the checks' own time so far; None if none reached it."""
    checks_s = 0.0
    for row in rows:
        checks_s += row['check_s']
        if row['well_formed'] >= well_formed and row['all_rules'] >= all_rules:
            return {'iter': row['iter'], 'tokens': row['tokens'], 'seconds': round(row['since_start_s'] - checks_s, 1)}
    return None


def bench_teacher(args):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tests'))
    from fake_teacher import bench_teacher_generation
    return bench_teacher_generation(latency_s=0.1, concurrencies=(1, 8), n_samples=48)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--preset', default='12M', choices=tuple(gpt.PRESETS))
    for key in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size'):
        p.add_argument(f'--{key}', type=int, default=0, help="0 = the preset's")
    p.add_argument('--batch_size', type=int, default=8)
    p.add_argument('--dropout', type=float, default=0.0, help="training dropout (0.1 is GPT-1's)")
    p.add_argument('--device', default='auto', choices=settings.CHOICES['device'])
    p.add_argument('--dtype', default='auto', choices=settings.CHOICES['dtype'])
    p.add_argument('--compile', action='store_true', help="torch.compile the training model")
    p.add_argument('--optimizer', default='adamw', choices=settings.CHOICES['optimizer'],
                   help="muon: its orthogonalisation is a per-step cost, so time it at your batch")
    p.add_argument('--threads', type=int, default=0, help="CPU threads, 0 = torch's default (2 mimics a 2-core machine)")
    p.add_argument('--compare_dtypes', action='store_true', help="also time float32 (the nanoGPT-on-CPU setting)")
    p.add_argument('--lora_rank', type=int, default=0, help="train only rank-N LoRA adapters (model.add_lora); 0 = all weights")
    p.add_argument('--loss_check', type=int, default=0,
                   help="also train this many steps (200 for the target) in --dtype and float32; compare losses")
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--sample_tokens', type=int, default=256)
    p.add_argument('--bpe_mb', type=float, default=5.0)
    p.add_argument('--bpe_vocab', type=int, default=4096)
    p.add_argument('--parts', default='train,sample,data,teacher')
    p.add_argument('--quality_config', default='configs/cooking_small.py', help="--parts=quality: the preset it trains")
    p.add_argument('--quality_flags', default='', help="--parts=quality: train.py flags on top, e.g. '--max_iters=1000'")
    p.add_argument('--quality_interval', type=int, default=250, help="--parts=quality: iterations between reports")
    p.add_argument('--target_well_formed', type=float, default=0.95, help="--parts=quality: share well-formed")
    p.add_argument('--target_all_rules', type=float, default=0.70, help="--parts=quality: share passing every rule")
    p.add_argument('--json', action='store_true', help="print one JSON object")
    args = p.parse_args(argv)
    preset = gpt.PRESETS[args.preset]
    for key in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size'):
        setattr(args, key, getattr(args, key) or preset[key])
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = dict(settings.DEFAULTS, device=args.device, dtype=args.dtype)
    args.device, dtype_name = train.pick_device_and_dtype(cfg)
    parts = args.parts.split(',')
    result = {'machine': {'device': torch.cuda.get_device_name() if args.device == 'cuda' else platform.processor() or platform.machine(),
                          'cpu_bf16_units': hardware.cpu_has_bf16_units(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                          'flash_attention': args.device == 'cuda' and torch.backends.cuda.is_flash_attention_available()}}
    if {'train', 'sample'} & set(parts) or args.loss_check:  # the parts that use the shape flags (quality trains a preset)
        result['shape'] = {k: getattr(args, k) for k in ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size', 'batch_size')}
    if 'train' in parts:
        result['train'] = [bench_train(args, dtype_name, args.compile)]
        if args.compare_dtypes and dtype_name != 'float32':
            result['train'].append(bench_train(args, 'float32', False))
    if args.loss_check:
        result['loss_check'] = bench_loss_match(args, dtype_name)
    if 'sample' in parts:
        result['sample'] = bench_sample(args)
    if 'data' in parts:
        result['data'] = bench_data(args)
    if 'teacher' in parts:
        result['teacher'] = bench_teacher(args)
    if 'quality' in parts:
        result['quality'] = bench_quality(args)
    if args.json:
        print(json.dumps(result))
        return
    print(f"machine: {result['machine']}" + (f"\nshape: {result['shape']}" if 'shape' in result else ''))
    for r in result.get('train', []):
        mfu = f"{r['mfu'] * 100:.1f}%" if r['mfu'] is not None else 'n/a'
        memory = f"{r['peak_memory_mb']:,} MB" if r['peak_memory_mb'] is not None else "n/a (no resource module here)"
        lora = f" (LoRA rank {r['lora_rank']}: {r['trainable_params_M']}M train)" if r['lora_rank'] else ''
        print(f"train  {r['dtype']:>8} compile={r['compile']!s:<5} {r['optimizer']:>5} {r['tokens_per_s']:>10,.0f} tok/s  "
              f"MFU {mfu:>6}  {r['params_M']}M params{lora}  peak memory {memory}")
    if 'loss_check' in result:
        c = result['loss_check']
        print(f"loss after {c['steps']} steps: {c['loss']:.4f} vs float32 {c['float32_loss']:.4f} "
              f"({c['relative_difference'] * 100:.2f}% apart)")
    if 'sample' in result:
        s = result['sample']
        print(f"sample {args.sample_tokens} tokens: cached {s['cached_tokens_per_s']:,.0f} tok/s, uncached "
              f"{s['uncached_tokens_per_s']:,.0f} tok/s, cache speed-up {s['cache_speedup']}x")
    for k, v in result.get('data', {}).items():
        print(f"data   {k}: {v:,}" if isinstance(v, (int, float)) else f"data   {k}: {v}")
    if 'teacher' in result:
        t = result['teacher']
        runs = ', '.join(f"concurrency {r['concurrency']}: {r['samples_per_s']} samples/s" for r in t['runs'])
        print(f"teacher ({t['latency_s'] * 1000:.0f} ms replies) {runs}; speed-up {t['speedup']}x")
    if 'quality' in result:
        q, reached = result['quality'], result['quality']['reached']
        target = f">= {q['target']['well_formed']:.0%} well-formed and >= {q['target']['all_rules']:.0%} passing every rule"
        for c in q['checks']:
            print(f"quality at {c['iter']:>6,} ({c['tokens'] / 1e6:.2f}M tokens): {c['well_formed']:.0%} well-formed, "
                  f"{c['all_rules']:.0%} every rule")
        print(f"time to quality ({' '.join(filter(None, (q['config'], q['flags'])))}, {target} of {q['samples']} samples): " + (
            f"{format_duration(reached['seconds'])} and {reached['tokens'] / 1e6:.2f}M tokens (iteration {reached['iter']:,}; "
            f"data steps included)" if reached else f"not reached in {q['total_s']:.0f}s") +
            f"; after training {q['final']['well_formed']:.0%} / {q['final']['all_rules']:.0%}")


if __name__ == '__main__':
    run_command(main, sys.argv[1:])
