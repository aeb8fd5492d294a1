"""sample.py: end to end on a tiny trained model, and its one-line errors."""
import os
import pickle
import shutil
import subprocess
import sys

import pytest
import torch

import sample
from conftest import ROOT
from common import UserError


def run_sample(*args):
    return subprocess.run([sys.executable, 'sample.py', *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_sample_py_writes_samples_from_a_trained_folder(trained_run):
    r = run_sample(f'--out_dir={trained_run}', '--num_samples=2', '--max_new_tokens=20', '--start=Recipe')
    assert r.returncode == 0, r.stderr
    assert r.stdout.count('Recipe') >= 2 and r.stdout.count('-' * 40) == 2


def test_start_text_can_come_from_a_file(trained_run, tmp_path):
    (tmp_path / 'p.txt').write_text('Recipe 12')
    r = run_sample(f'--out_dir={trained_run}', f'--start=FILE:{tmp_path / "p.txt"}', '--num_samples=1')
    assert r.returncode == 0 and r.stdout.startswith('Recipe 12')


def test_same_seed_gives_the_same_samples_and_cache_does_not_change_greedy_output(trained_run):
    a = run_sample(f'--out_dir={trained_run}', '--temperature=0', '--num_samples=1', '--start=Recipe')
    b = run_sample(f'--out_dir={trained_run}', '--temperature=0', '--num_samples=1', '--start=Recipe', '--no_cache')
    assert a.stdout == b.stdout


def test_interactive_mode_answers_each_prompt(trained_run):
    r = subprocess.run([sys.executable, 'sample.py', f'--out_dir={trained_run}', '--interactive', '--max_new_tokens=5'],
                       cwd=ROOT, input='Recipe\nBake\n', capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and 'Recipe' in r.stdout and 'Bake' in r.stdout


def test_missing_folder_is_one_line():
    r = run_sample('--out_dir=/nonexistent/run')
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and "no folder '/nonexistent/run'" in r.stderr


@pytest.mark.parametrize('flag', ['--temperature=-1', '--max_new_tokens=0', '--top_p=0'])
def test_impossible_sampling_settings_are_one_line(trained_run, flag):
    r = run_sample(f'--out_dir={trained_run}', flag)
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and r.stderr.startswith('error: --max_new_tokens')


@pytest.mark.parametrize('flag', ['--temperature=nan', '--top_p=nan', '--temperature=inf'])
def test_nan_and_infinite_sampling_settings_are_one_line(trained_run, flag):
    r = run_sample(f'--out_dir={trained_run}', flag)
    assert r.returncode == 1 and r.stderr == 'error: --temperature and --top_p must be finite numbers\n'


def test_corrupt_weights_are_one_line(trained_run, tmp_path):
    bad = str(tmp_path / 'bad')
    shutil.copytree(trained_run, bad)
    with open(os.path.join(bad, 'model.safetensors'), 'r+b') as f:
        f.truncate(100)
    r = run_sample(f'--out_dir={bad}')
    assert r.returncode == 1 and r.stderr.count('\n') == 1 and 'damaged' in r.stderr


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (open, ('/tmp/text2gpt1_pwned', 'w'))


def test_checkpoint_is_never_unpickled_as_arbitrary_objects(trained_run, tmp_path):
    bad = str(tmp_path / 'evil')
    shutil.copytree(trained_run, bad)
    os.remove(os.path.join(bad, 'model.safetensors'))
    with open(os.path.join(bad, 'ckpt.pt'), 'wb') as f:
        pickle.dump({'model': RunsCodeWhenUnpickled()}, f)
    if os.path.exists('/tmp/text2gpt1_pwned'):
        os.remove('/tmp/text2gpt1_pwned')
    with pytest.raises(UserError):
        sample.load_model(bad, 'cpu')
    assert not os.path.exists('/tmp/text2gpt1_pwned')


def test_loaded_model_matches_the_trained_weights(trained_run):
    model, enc = sample.load_model(trained_run, 'cpu', weights='latest')
    ckpt = torch.load(os.path.join(trained_run, 'ckpt.pt'), weights_only=True)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in ckpt['model'].items())


def test_flags_take_hyphens_and_separate_values(trained_run):
    r = run_sample('--out-dir', trained_run, '--num-samples', '1', '--max-new-tokens=5', '--start', 'Recipe')
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('Recipe') and r.stdout.count('-' * 40) == 1
