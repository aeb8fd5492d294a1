"""The CUDA paths: bf16 autocast, flash attention, fused AdamW, torch.compile, nccl DDP.
CI machines have no GPU, so these skip there; on a machine with one: python -m pytest tests/test_cuda.py"""
import json
import os
import subprocess
import sys

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import model as gpt
import optimizers
import settings
import train
from conftest import ROOT, TINY_MODEL_FLAGS

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none")


def small_model(**overrides):
    torch.manual_seed(0)
    conf = dict(vocab_size=512, block_size=64, n_layer=2, n_head=4, n_embd=128, dropout=0.0)
    return gpt.GPT(gpt.GPTConfig(**dict(conf, **overrides))).cuda()


def test_auto_settings_pick_cuda_with_bf16_or_fp16():
    dev, dt = train.pick_device_and_dtype(settings.load_config([]))
    assert dev == 'cuda' and dt == ('bfloat16' if torch.cuda.is_bf16_supported() else 'float16')


def test_attention_runs_on_the_flash_kernel_in_bf16():
    m = small_model()
    x = torch.randint(0, 512, (4, 64), device='cuda')
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION), torch.autocast('cuda', dtype=torch.bfloat16):
        _, loss = m(x, x)  # raises if the flash kernel cannot take these shapes and dtypes
        loss.backward()
    assert torch.isfinite(loss)


def test_optimizer_is_fused_on_cuda():
    opt = optimizers.configure_optimizer(small_model(), 0.01, 1e-3, (0.9, 0.999), 1e-8, 'cuda')
    assert opt.defaults['fused'] is True


def test_bf16_training_step_learns_one_batch():
    m = small_model()
    opt = optimizers.configure_optimizer(m, 0.0, 3e-3, (0.9, 0.999), 1e-8, 'cuda')
    batch = torch.randint(0, 512, (4, 65), device='cuda')
    cfg = dict(settings.DEFAULTS, gradient_accumulation_steps=2)
    scaler = torch.amp.GradScaler('cuda', enabled=False)
    ctx = torch.autocast('cuda', dtype=torch.bfloat16)
    losses = [train.training_step(m, opt, scaler, lambda split: (batch[:, :-1], batch[:, 1:]), cfg, ctx, 3e-3)
              for _ in range(100)]
    assert losses[-1] < 0.2 * losses[0]


def test_cached_greedy_generation_matches_uncached_on_cuda():
    m = small_model(block_size=16)
    idx = torch.randint(0, 512, (2, 5), device='cuda')
    cached = m.generate(idx, 30, temperature=0, use_cache=True)  # slides past block_size too
    assert torch.equal(cached, m.generate(idx, 30, temperature=0, use_cache=False))


def test_train_py_on_cuda_compiles_and_writes_a_bf16_run(tiny_dataset, tmp_path, capsys):
    out = str(tmp_path / 'run')
    train.main([f'--dataset_dir={tiny_dataset}', f'--out_dir={out}', '--max_iters=20', '--eval_interval=10',
                '--device=cuda', '--compile=True'] + TINY_MODEL_FLAGS)
    printed = capsys.readouterr().out
    assert 'torch.compile unavailable' not in printed
    info = json.load(open(os.path.join(out, 'generation_info.json')))
    assert info['training']['device'] == 'cuda' and info['training']['iterations'] == 20
    assert info['training']['best_val_loss'] < 5.0


def test_one_process_ddp_run_on_cuda_with_nccl(tiny_dataset, tmp_path):
    out = str(tmp_path / 'ddp')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=1', 'train.py',
           f'--dataset_dir={tiny_dataset}', f'--out_dir={out}', '--max_iters=6', '--eval_interval=3',
           '--device=cuda', '--compile=False'] + TINY_MODEL_FLAGS
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'training on cuda' in r.stdout and '1 process(es)' in r.stdout
