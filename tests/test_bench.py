"""bench.py measures through train.py's own step; check its parts run and report sane numbers on a tiny shape."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

TINY = ['--n_layer=1', '--n_head=2', '--n_embd=32', '--block_size=16', '--vocab_size=300', '--batch_size=2',
        '--steps=2', '--warmup=1', '--sample_tokens=8', '--device=cpu']


def run_bench(*flags):
    r = subprocess.run([sys.executable, 'bench.py', *TINY, *flags, '--json'], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_bench_json_reports_training_and_sampling_figures():
    result = run_bench('--parts=train,sample', '--dtype=float32', '--threads=1')
    assert result['machine']['threads'] == 1
    train = result['train'][0]
    assert train['tokens_per_s'] > 0 and 0 < train['mfu'] and train['peak_memory_mb'] > 0
    assert result['shape']['n_embd'] == 32  # shape flags override the preset
    assert result['sample']['cached_tokens_per_s'] > 0 and result['sample']['uncached_tokens_per_s'] > 0


def test_bench_loss_check_compares_a_dtype_with_float32_from_the_same_start():
    check = run_bench('--parts=train', '--dtype=bfloat16', '--loss_check=12')['loss_check']
    assert check['steps'] == 12
    apart = abs(check['loss'] - check['float32_loss']) / check['float32_loss']
    assert check['relative_difference'] == pytest.approx(apart, abs=1e-4)
    assert check['relative_difference'] < 0.1  # bf16 autocast follows float32 closely on a tiny model


@pytest.mark.skipif(__import__('torch').cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_a_missing_device_is_one_line():
    r = subprocess.run([sys.executable, 'bench.py', '--device=cuda', '--parts=train'], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and "device 'cuda' asked for" in r.stderr


def test_bench_trains_lora_adapters_only_when_asked():
    full, lora = (run_bench('--parts=train', '--dtype=float32', *flags)['train'][0] for flags in ([], ['--lora_rank=2']))
    assert full['lora_rank'] == 0 and full['trainable_params_M'] == pytest.approx(full['params_M'], abs=0.005)
    per_block = 2 * ((32 + 96) + (32 + 32) + (32 + 128) + (128 + 32))  # rank x (in + out) per adapted layer
    assert lora['lora_rank'] == 2 and lora['trainable_params_M'] == round(per_block / 1e6, 3)
    assert lora['tokens_per_s'] > 0
