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


def test_time_to_quality_is_the_first_check_at_the_target_less_the_checks_own_time():
    import bench
    rows = [{'iter': 100, 'tokens': 1000, 'well_formed': 0.9, 'all_rules': 0.8, 'check_s': 10.0, 'since_start_s': 70.0},
            {'iter': 200, 'tokens': 2000, 'well_formed': 0.95, 'all_rules': 0.6, 'check_s': 10.0, 'since_start_s': 140.0},
            {'iter': 300, 'tokens': 3000, 'well_formed': 1.0, 'all_rules': 0.7, 'check_s': 10.0, 'since_start_s': 210.0},
            {'iter': 400, 'tokens': 4000, 'well_formed': 1.0, 'all_rules': 1.0, 'check_s': 10.0, 'since_start_s': 280.0}]
    assert bench.time_to_quality(rows, 0.95, 0.7) == {'iter': 300, 'tokens': 3000, 'seconds': 180.0}
    assert bench.time_to_quality(rows, 0.99, 0.99) == {'iter': 400, 'tokens': 4000, 'seconds': 240.0}
    assert bench.time_to_quality(rows[:3], 0.99, 0.99) is None


@pytest.mark.slow
def test_bench_quality_trains_a_preset_and_reports_its_checks(tmp_path):
    config = tmp_path / 'tiny_cooking.py'
    config.write_text("prompt = 'A GPT that writes cooking recipes'\ninitial_tokens = 30_000\nfinal_tokens = 20_000\n"
                      "n_layer = 1\nn_head = 2\nn_embd = 32\nblock_size = 64\nbatch_size = 4\nmax_iters = 20\n"
                      "eval_interval = 10\nquality_samples = 4\ncompile = False\n")
    quality = run_bench('--parts=quality', f'--quality_config={config}', '--quality_interval=10',
                        '--quality_flags=--max_iters=16 --eval_interval=8', '--target_well_formed=0',
                        '--target_all_rules=0')['quality']
    assert [c['iter'] for c in quality['checks']] == [10]  # the flags on top of the config: 16 steps, a check at 10
    assert quality['samples'] == 4 and quality['target'] == {'well_formed': 0.0, 'all_rules': 0.0}
    reached = quality['reached']  # a target of 0 is met at the first check
    assert reached['iter'] == 10 and reached['tokens'] == 10 * 4 * 64 and 0 < reached['seconds'] < quality['total_s']
    assert 0 <= quality['final']['all_rules'] <= quality['final']['well_formed'] <= 1
