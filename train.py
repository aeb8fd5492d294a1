"""
Train a GPT-1 from one sentence, or on a prepared dataset folder.

    python train.py configs/cooking_small.py            # a preset
    python train.py --prompt="A GPT that writes haiku"  # no config file
    python train.py --dataset_dir=my_data --max_iters=500
    torchrun --standalone --nproc_per_node=2 train.py configs/cooking_small.py

Settings: the defaults in settings.py, then a config file (plain assignments), then --key=value flags.
"""
import contextlib
import json
import math
import os
import sys
import time
from types import SimpleNamespace

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

import data
import evaluate
import hardware
import model as gpt
import optimizers
import settings
import token_files
import words
from checkpoint import (check_resume_data, check_start_tokenizer, load_resume_checkpoint, load_start_weights, public,
                        save_checkpoint)
from common import (UserError, available_memory_bytes, exit_code, exit_interrupted, folder_lock, quoted,
                    remove_stale_temp_files, run_command, signals_deferred, write_atomic)
from progress import Progress, format_duration, write_loss_svg
from settings import ask_interactively, load_config
from tokenizer import save_tokenizer

# -----------------------------------------------------------------------------
# the settings that shape the model; config.json and ckpt.pt keep them as model_args
MODEL_KEYS = ('n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size', 'dropout', 'bias', 'norm_first')


def get_lr(it, cfg):
    """Linear warm-up to learning_rate, then cosine decay to min_lr at lr_decay_iters."""
    decay_iters = cfg['lr_decay_iters'] or cfg['max_iters']
    if it < cfg['warmup_iters']:
        return cfg['learning_rate'] * (it + 1) / (cfg['warmup_iters'] + 1)
    if it >= decay_iters:
        return cfg['min_lr']
    ratio = (it - cfg['warmup_iters']) / max(1, decay_iters - cfg['warmup_iters'])
    return cfg['min_lr'] + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg['learning_rate'] - cfg['min_lr'])


def pick_device_and_dtype(cfg):
    try:
        dev = hardware.pick_device(cfg['device'])
    except ValueError as e:
        raise UserError(str(e)) from None
    if dev == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True  # float32 matmuls on tensor cores, the rate MFU assumes
    dt = cfg['dtype']
    if dt == 'auto':
        if dev == 'cuda':
            dt = 'bfloat16' if torch.cuda.is_bf16_supported() else 'float16'
        elif dev == 'cpu' and hardware.cpu_has_bf16_units():
            dt = 'bfloat16'  # AMX / AVX512-BF16: about 1.8x float32 at the same shape
        else:
            dt = 'float32'
    return dev, dt


def try_compile(raw_model, batch_size, T, device, ctx, log):
    """torch.compile, kept only if a first forward and backward (at the training shape) work here."""
    try:
        compiled = torch.compile(raw_model)
        x = torch.zeros((batch_size, T), dtype=torch.long, device=device)
        with ctx:
            compiled(x, x)[1].backward()
        raw_model.zero_grad(set_to_none=True)
        return compiled
    except Exception as e:  # no compiler tool-chain, unsupported device, ...
        log(f"warning: torch.compile unavailable ({type(e).__name__}: {str(e).splitlines()[0][:120]}); running eagerly")
        raw_model.zero_grad(set_to_none=True)
        return raw_model


def training_step(model, optimizer, scaler, get_batch, cfg, ctx, lr):
    """One optimizer step over gradient_accumulation_steps micro-batches; returns the mean loss.
    bench.py times this same function."""
    for group in optimizer.param_groups:
        group['lr'] = lr
    accum, total = cfg['gradient_accumulation_steps'], 0.0
    for micro_step in range(accum):
        X, Y = get_batch('train')
        if isinstance(model, DDP):  # all-reduce gradients only on the last micro-step
            model.require_backward_grad_sync = micro_step == accum - 1
        with ctx:
            _, loss = model(X, Y)
        total += loss.detach()
        scaler.scale(loss / accum).backward()
    if cfg['grad_clip'] > 0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg['grad_clip'])
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return total.item() / accum


def expected_seconds(model, get_batch, cfg, ctx, iters_left):
    """How long the training will take, before it starts: the fastest of three timed steps (after one
    untimed, which pays the allocations) times the steps left, plus the evaluations (forward only: a
    third of a step each)."""
    timed = []
    for _ in range(4):
        x, y = get_batch('train', torch.Generator().manual_seed(0))  # its own batches: training's are untouched
        t0 = time.time()
        with ctx:
            _, loss = model(x, y)
        loss.backward()
        timed.append(time.time() - t0)
    model.zero_grad(set_to_none=True)
    step_s = min(timed[1:]) * cfg['gradient_accumulation_steps']
    evals = iters_left // cfg['eval_interval'] + 1
    return step_s * iters_left + evals * 2 * cfg['eval_iters'] * step_s / cfg['gradient_accumulation_steps'] / 3


@torch.no_grad()
def estimate_loss(model, get_batch, eval_iters, ctx, seed):
    """Mean loss on both splits over the same eval_iters batches each time, so evals compare fairly."""
    out = {}
    model.eval()
    for split in ('train', 'val'):
        gen = torch.Generator().manual_seed(seed)
        with ctx:
            losses = [model(*get_batch(split, gen))[1].item() for _ in range(eval_iters)]
        out[split] = sum(losses) / len(losses)
    model.train()
    return out


def set_up(cfg):
    """Where this process runs: torchrun's rank (rank 0 prepares data, logs and saves), device and dtype,
    the seed, and the output folder every rank writes to."""
    ddp = int(os.environ.get('RANK', -1)) != -1
    dev, dt = pick_device_and_dtype(cfg)
    rank, local_rank, world = 0, 0, 1
    if ddp:
        dist.init_process_group(backend='nccl' if dev == 'cuda' else 'gloo')
        rank, local_rank, world = dist.get_rank(), int(os.environ['LOCAL_RANK']), dist.get_world_size()
        if dev == 'cuda':
            torch.cuda.set_device(local_rank)
    master = rank == 0
    log = print if master else (lambda *a, **k: None)
    if dev == 'cpu' and dt == 'bfloat16' and not hardware.cpu_has_bf16_units():
        log("warning: this CPU has no bf16 matrix units (AMX / AVX512-BF16); bf16 will be far slower than float32")
    torch.manual_seed(cfg['seed'] + rank)
    if not cfg['dataset_dir'] and not cfg['prompt'].strip() and not cfg['sources']:
        raise UserError("no prompt: pass --prompt=\"A GPT that writes ...\", a config from configs/, --sources=KIND:PATH "
                        "or --dataset_dir")
    if not cfg['out_dir']:
        what = ('corpus' if cfg['sources'] else 'reasoning' if cfg['mix'] else
                words.detect_domain(cfg['prompt'])[0] if cfg['prompt'] else 'dataset')
        name = f"{what}_{settings.size_label(cfg)}_{time.strftime('%Y%m%d_%H%M%S')}"
        cfg['out_dir'] = os.path.join('models', name)
        if ddp:  # every rank must write to the folder rank 0 named
            shared = [cfg['out_dir']]
            dist.broadcast_object_list(shared, src=0)
            cfg['out_dir'] = shared[0]
    try:
        os.makedirs(cfg['out_dir'], exist_ok=True)
    except OSError as e:  # a file where the folder should be, no permission, a full disk
        raise UserError(f"cannot create the output folder {cfg['out_dir']} ({e.strerror or e}); pass another "
                        f"--out_dir") from None
    return SimpleNamespace(ddp=ddp, rank=rank, local_rank=local_rank, world=world, master=master, log=log,
                           dev=dev, dtype=dt, device=f'cuda:{local_rank}' if dev == 'cuda' else dev)


def prepare_dataset(cfg, job):
    """The data steps into out_dir (rank 0 runs them), or the prepared dataset_dir.
    Returns (dataset_dir, meta, tokenizer, what the data steps reported)."""
    out = cfg['out_dir']
    if cfg['dataset_dir']:
        dataset_dir, data_info = cfg['dataset_dir'], data.saved_data_info(cfg['dataset_dir'])
    else:
        dataset_dir = out
        try:
            data_info = data.prepare_data(cfg, out, log=job.log) if job.master else {}
        except KeyboardInterrupt:  # teacher samples are already on disk: say how to pick them up
            job.log(f"\nstopped in the data step; what was made so far is in {out}/. To go on from there, run "
                    f"the same command with --out_dir={quoted(out)}")
            raise
    if job.ddp:
        dist.barrier()
    meta = token_files.load_meta(dataset_dir)
    enc = token_files.load_dataset_tokenizer(dataset_dir, meta)
    if meta.get('format') == 'nanoGPT':
        job.log(f"{dataset_dir} has no meta.json: read as nanoGPT's format, uint16 GPT-2 token ids "
                f"({meta['train_tokens']:,} train, {meta['val_tokens']:,} val), tokenizer GPT-2")
    if job.master and os.path.abspath(dataset_dir) != os.path.abspath(out):  # the output folder stands alone
        save_tokenizer(enc, os.path.join(out, 'tokenizer.json'))
    for split in ('train', 'val'):
        if len(token_files.open_tokens(dataset_dir, split, meta)) <= cfg['block_size']:
            raise UserError(f"the {split} split has {meta[split + '_tokens']} tokens, fewer than one window of "
                            f"block_size+1 = {cfg['block_size'] + 1}; raise final_tokens (or lower block_size)")
    return dataset_dir, meta, enc, data_info


def check_memory_fits(cfg, job, vocab_size):
    """Refuse, before anything is spent, a model and batch that cannot fit in this device's memory (today a
    huge batch_size runs until the kernel's out-of-memory killer ends it)."""
    shape = gpt.GPTConfig(**dict({k: cfg[k] for k in MODEL_KEYS}, vocab_size=vocab_size))
    need = hardware.training_memory_bytes(shape, cfg['batch_size']) * (job.world if job.dev == 'cpu' else 1)
    have = (torch.cuda.mem_get_info(job.device)[0] if job.dev == 'cuda'
            else available_memory_bytes() if job.dev == 'cpu' else None)
    if have is not None and need > have:
        raise UserError(f"training needs about {need / 1e9:,.1f} GB of memory (the {shape.n_layer}-layer model with "
                        f"batch_size {cfg['batch_size']} x block_size {cfg['block_size']}), but {job.dev} has "
                        f"{have / 1e9:,.1f} GB free; lower batch_size (raise gradient_accumulation_steps to keep the "
                        f"batch), block_size or the model size")


def build_model(cfg, job, vocab_size, ckpt):
    """The GPT and its optimizer (AdamW or Muon): new, restored from the checkpoint, or with the start model's
    weights; with LoRA adapters (only they train) when lora_rank is set. Returns (model, optimizer, model_args)."""
    model_args = dict({k: cfg[k] for k in MODEL_KEYS}, vocab_size=vocab_size)
    if ckpt is not None:
        model_args = ckpt['model_args']
    raw_model = gpt.GPT(gpt.GPTConfig(**model_args)).to(job.device)
    if ckpt is not None:
        raw_model.load_state_dict(ckpt['model'])
    elif cfg['start_from']:
        load_start_weights(raw_model, cfg['start_from'])
    n = raw_model.num_params()
    job.log(f"model: {f'{n / 1e6:.1f}M' if n >= 1e6 else f'{n:,}'} parameters ({model_args['n_layer']} layers, "
            f"{model_args['n_embd']} wide, {model_args['n_head']} heads, context {cfg['block_size']}, "
            f"vocab {model_args['vocab_size']})" + (f", from {cfg['start_from']}" if cfg['start_from'] else ''))
    if cfg['lora_rank']:
        trained = gpt.add_lora(raw_model, cfg['lora_rank'], cfg['lora_alpha'], ckpt and ckpt.get('lora'))
        job.log(f"LoRA rank {cfg['lora_rank']}: {trained:,} adapter parameters train, the model's {n:,} are frozen")
    optimizer = optimizers.configure_optimizer(raw_model, cfg['weight_decay'], cfg['learning_rate'],
                                               (cfg['beta1'], cfg['beta2']), cfg['eps'], job.dev,
                                               cfg['muon_learning_rate'] * (cfg['optimizer'] == 'muon'))
    if ckpt is not None:
        optimizer.load_state_dict(ckpt['optimizer'])
    return raw_model, optimizer, model_args


def main(argv):
    if {'-h', '--help'} & set(argv):
        print(settings.help_text(__doc__))
        return
    if not argv and sys.stdin.isatty():
        argv = ask_interactively(tuple(gpt.PRESETS))
    run({}, argv)


def run(settings, argv=()):
    """The whole pipeline, for a script or a notebook: settings is a dict of what a config file would set
    ({'prompt': 'A GPT that writes haiku', 'size': 'small'}), checked as flags are; argv, config files and
    flags read first. Returns {'out_dir', 'best_val_loss', 'tokens', 'quality', 'info'} (info: all of
    generation_info.json); bad input raises common.UserError, the one line the command line prints."""
    cfg = load_config(list(argv), settings)
    job = set_up(cfg)
    # one run per folder: rank 0 holds it for all ranks; then what a killed write left behind can go
    with folder_lock(cfg['out_dir'], job.log) if job.master else contextlib.nullcontext():
        if job.master:
            check_folder_is_free(cfg)
            freed = remove_stale_temp_files(cfg['out_dir'])
            if freed:
                job.log(f"removed {freed / 1e6:.1f} MB of temp files that an interrupted run left in {cfg['out_dir']}")
        info = train_run(cfg, job)
    return {'out_dir': cfg['out_dir'], 'best_val_loss': info.get('training', {}).get('best_val_loss'),
            'tokens': info.get('tokens'), 'quality': info.get('quality'), 'info': info}


def check_folder_is_free(cfg):
    """A folder with a trained model is continued (init_from='resume') or replaced on request, never silently."""
    out = cfg['out_dir']
    trained = [n for n in ('model.safetensors', 'ckpt.pt') if os.path.exists(os.path.join(out, n))]
    if trained and cfg['init_from'] != 'resume' and not cfg['overwrite']:
        raise UserError(f"{out} already holds a trained model ({trained[0]}); continue it with --init_from=resume, "
                        f"train into another --out_dir, or pass --overwrite=True to replace it")
    if cfg['start_from'] and os.path.abspath(cfg['start_from'].removeprefix('hf:')) == os.path.abspath(out):
        raise UserError(f"out_dir {out} is the folder this run starts from; a run started from a model writes a new "
                        f"folder and leaves that one as it is: pass another --out_dir")


def train_run(cfg, job):
    """The data steps, the model and the training loop, in the folder this process holds."""
    log, master, out, T = job.log, job.master, cfg['out_dir'], cfg['block_size']
    t_start = time.time()
    data_settings = data.data_settings(cfg)
    ckpt = load_resume_checkpoint(cfg, job.device, data_settings) if cfg['init_from'] == 'resume' else None
    check_memory_fits(cfg, job, cfg['vocab_size'])
    if cfg['start_from']:
        log(settings.finetune_note(cfg))
    dataset_dir, meta, enc, data_info = prepare_dataset(cfg, job)
    check_memory_fits(cfg, job, meta['vocab_size'])
    if ckpt is not None:
        check_resume_data(ckpt, cfg, dataset_dir, meta)
    elif cfg['start_from']:
        check_start_tokenizer(cfg['start_from'], enc, dataset_dir)
    raw_model, optimizer, model_args = build_model(cfg, job, meta['vocab_size'], ckpt)
    fingerprint = token_files.fingerprint(dataset_dir)
    batch_gen = torch.Generator().manual_seed(cfg['seed'] + job.rank)
    iter_num, best_val, best_iter, stale_evals = 0, float('inf'), 0, 0
    ckpt_path = os.path.join(out, 'ckpt.pt')
    if ckpt is not None:
        iter_num, best_val, best_iter, stale_evals = ckpt['iter_num'], ckpt['best_val_loss'], ckpt['best_iter'], ckpt['stale_evals']
        batch_gen.set_state(ckpt['rng']['batch'])
        torch.set_rng_state(ckpt['rng']['torch'])
        log(f"resuming from {ckpt_path} at iteration {iter_num}")
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[job.dtype]
    ctx = contextlib.nullcontext() if job.dtype == 'float32' else torch.autocast(device_type=job.dev, dtype=ptdtype)
    scaler = torch.amp.GradScaler(job.dev, enabled=(job.dtype == 'float16'))
    model = raw_model
    if cfg['compile'] is True or (cfg['compile'] == 'auto' and job.dev == 'cuda'):
        model = try_compile(raw_model, cfg['batch_size'], T, job.device, ctx, log)
    if job.ddp:
        model = DDP(model, device_ids=[job.local_rank] if job.dev == 'cuda' else None)
    get_batch = token_files.make_batch_fn(dataset_dir, T, cfg['batch_size'], job.device, batch_gen, cfg['doc_aligned'])
    tokens_per_iter = cfg['batch_size'] * T * cfg['gradient_accumulation_steps'] * job.world
    if cfg['epochs'] > 0:
        cfg['max_iters'] = max(1, math.ceil(cfg['epochs'] * meta['train_tokens'] / tokens_per_iter))
    max_iters = cfg['max_iters']
    peak = hardware.device_peak_flops(job.dev, ptdtype, cfg['cpu_peak_flops']) * job.world
    flops_per_token = raw_model.flops_per_token()
    if master:
        write_atomic(os.path.join(out, 'config.json'), json.dumps({'model_args': model_args, 'config': public(cfg)},
                                                                  indent=2))
    log(f"training on {job.dev} ({job.dtype}), {job.world} process(es), {tokens_per_iter:,} tokens per iteration, "
        f"{max_iters} iterations = {max_iters * tokens_per_iter / meta['train_tokens']:.2f} epochs")

    def checkpoint():
        save_checkpoint(ckpt_path, {
            'model': gpt.merged_state_dict(raw_model), 'lora': gpt.lora_state_dict(raw_model),  # a plain GPT on disk
            'optimizer': optimizer.state_dict(), 'model_args': model_args,
            'iter_num': iter_num, 'best_val_loss': best_val, 'best_iter': best_iter, 'stale_evals': stale_evals,
            'config': public(cfg), 'data_settings': public(data_settings), 'data_fingerprint': fingerprint,
            'rng': {'batch': batch_gen.get_state(), 'torch': torch.get_rng_state()}})

    if master and iter_num < max_iters:
        log(f"expected: about {format_duration(expected_seconds(raw_model, get_batch, cfg, ctx, max_iters - iter_num))} "
            f"for {max_iters - iter_num} iterations and their evaluations (timed on a few steps here)")
    # ---- the training loop
    progress = Progress(os.path.join(out, 'metrics.jsonl'), max_iters, iter_num, master, cfg['eval_interval'])
    losses, stop_reason, last_loss = [], 'finished', float('nan')
    t_train = time.time()
    try:
        while True:
            if iter_num % cfg['eval_interval'] == 0 or iter_num == max_iters:
                t_eval = time.time()
                # every rank evaluates the same batches, so all agree on early stopping
                split_losses = estimate_loss(raw_model, get_batch, cfg['eval_iters'], ctx, cfg['seed'] + 1000)
                if split_losses['val'] < best_val:
                    best_val, best_iter, stale_evals = split_losses['val'], iter_num, 0
                    if master:  # model.safetensors always holds the best weights so far
                        write_atomic(os.path.join(out, 'model.safetensors'), lambda f: gpt.save_safetensors(
                            gpt.merged_state_dict(raw_model), f, {'iter': iter_num, 'val_loss': best_val}))
                else:
                    stale_evals += 1
                if master:
                    progress.eval(iter_num, iter_num * tokens_per_iter, split_losses, time.time() - t_eval)
                    write_loss_svg(os.path.join(out, 'metrics.jsonl'), os.path.join(out, 'loss.svg'))
                    checkpoint()
                if cfg['patience'] and stale_evals >= cfg['patience']:
                    stop_reason = f"early stop: no better val loss in {stale_evals} evaluations"
                    break
            if master and cfg['quality_interval'] and iter_num and iter_num % cfg['quality_interval'] == 0:
                evaluate.quality_while_training(raw_model, enc, job.device, cfg, data_info, iter_num, tokens_per_iter,
                                                t_start, progress, log)
            if iter_num >= max_iters:
                break
            lr = get_lr(iter_num, cfg)
            t0 = time.time()
            last_loss = training_step(model, optimizer, scaler, get_batch, cfg, ctx, lr)
            if not math.isfinite(last_loss):
                raise UserError(f"loss became {last_loss} at iteration {iter_num}; the last good checkpoint is "
                                f"{ckpt_path}. Lower learning_rate, or try dtype=float32")
            iter_num += 1
            dt_s = time.time() - t0
            losses.append(last_loss)
            if iter_num % cfg['log_interval'] == 0 or iter_num == max_iters:
                tps = tokens_per_iter / dt_s
                progress.step(iter_num, iter_num * tokens_per_iter, iter_num * tokens_per_iter / meta['train_tokens'],
                              sum(losses[-10:]) / len(losses[-10:]), lr, tps, flops_per_token * tps / peak if peak else 0.0)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (common.Terminated)
        if master:
            with signals_deferred("saving the checkpoint first; it takes a moment"):
                checkpoint()
        progress.close()
        log(f"\n{'terminated' if exit_code(e) == 143 else 'interrupted'} at iteration {iter_num}; saved {ckpt_path}. "
            f"Continue with --init_from=resume")
        exit_interrupted(e)
    progress.close()
    log(stop_reason)
    if job.ddp:
        dist.destroy_process_group()
    if master:
        training = {'iterations': iter_num, 'tokens_seen': iter_num * tokens_per_iter,
                    'seconds': round(time.time() - t_train, 1), 'final_train_loss': last_loss, 'best_val_loss': best_val,
                    'best_iter': best_iter, 'stop_reason': stop_reason, 'device': job.dev, 'dtype': job.dtype}
        gpt.merge_lora(raw_model)  # a plain GPT again, to take the best weights
        raw_model.load_state_dict(gpt.load_safetensors(os.path.join(out, 'model.safetensors')), strict=False)
        return evaluate.after_training(raw_model, enc, cfg, job.device, data_info, training, t_start, log)
    return {}


if __name__ == '__main__':
    run_command(main, sys.argv[1:])  # one-line errors; the training loop saves on Ctrl-C itself
