"""train.py: settings and their errors, the schedule, checkpoints and exact resume, outputs, DDP."""
import ast
import contextlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import torch

import model as gpt
import settings
import train
from conftest import ROOT, TINY_MODEL_FLAGS, run_train
from common import UserError


def load_ckpt(out):
    return torch.load(os.path.join(out, 'ckpt.pt'), weights_only=True)


# ---- settings

def test_a_device_this_machine_lacks_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(UserError, match="device 'cuda' asked for but this machine has none"):
        train.pick_device_and_dtype(settings.load_config(['--device=cuda']))


def test_command_line_error_is_one_line_not_a_traceback():
    r = subprocess.run([sys.executable, 'train.py', '--learning_rat=1'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().count('\n') == 0 and r.stderr.startswith('error:') and 'Traceback' not in r.stderr


def test_no_prompt_and_no_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match='no prompt'):
        train.main([f'--out_dir={tmp_path}', '--prompt=   '])


def test_dataset_dir_without_token_files_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match='meta.json'):
        train.main([f'--dataset_dir={tmp_path}', f'--out_dir={tmp_path / "out"}'])


def test_ctrl_c_in_the_data_step_says_how_to_resume_into_the_same_folder(monkeypatch, tmp_path, capsys):
    def interrupted(cfg, out, log):
        raise KeyboardInterrupt
    monkeypatch.setattr(train.data, 'prepare_data', interrupted)
    out = str(tmp_path / 'run')
    with pytest.raises(KeyboardInterrupt):  # run_command turns it into 'interrupted' and exit 130, as everywhere
        train.main(['--prompt=A GPT that writes haiku', f'--out_dir={out}'])
    assert f"stopped in the data step; what was made so far is in {out}/" in capsys.readouterr().out
    assert not os.path.exists(os.path.join(out, '.lock'))  # the folder is free again


# ---- learning-rate schedule

def test_learning_rate_warms_up_then_follows_the_cosine_to_min_lr():
    cfg = dict(settings.DEFAULTS, learning_rate=1.0, min_lr=0.1, warmup_iters=10, max_iters=110, lr_decay_iters=0)
    assert train.get_lr(0, cfg) == pytest.approx(1 / 11)
    assert train.get_lr(9, cfg) == pytest.approx(10 / 11)
    assert train.get_lr(10, cfg) == pytest.approx(1.0)  # warm-up end: the peak
    assert train.get_lr(60, cfg) == pytest.approx(0.55)  # midway through the cosine: halfway between
    assert train.get_lr(110, cfg) == pytest.approx(0.1)
    assert train.get_lr(500, cfg) == pytest.approx(0.1)


# ---- a run and its outputs

def test_a_run_writes_every_output_file(trained_run):
    for name in ('ckpt.pt', 'model.safetensors', 'config.json', 'tokenizer.json', 'metrics.jsonl', 'loss.svg',
                 'generation_info.json'):
        assert os.path.getsize(os.path.join(trained_run, name)) > 0, name
    rows = [json.loads(line) for line in open(os.path.join(trained_run, 'metrics.jsonl'))]
    steps = [r for r in rows if 'loss' in r]
    evals = [r for r in rows if 'val_loss' in r]
    assert {'iter', 'tokens', 'loss', 'lr', 'tokens_per_s', 'mfu'} <= set(steps[0])
    assert [r['iter'] for r in evals] == [0, 10, 20]
    assert evals[-1]['val_loss'] < evals[0]['val_loss']  # it learned
    svg = ET.parse(os.path.join(trained_run, 'loss.svg')).getroot()
    assert {p.get('class') for p in svg.findall('{http://www.w3.org/2000/svg}polyline')} == {'train', 'val', 'lr'}
    info = json.load(open(os.path.join(trained_run, 'generation_info.json')))
    assert [g['prompt'] for g in info['test_generations']] == ['', 'The', 'Today']
    assert info['training']['best_val_loss'] == pytest.approx(min(r['val_loss'] for r in evals))


def test_checkpoint_holds_everything_needed_to_resume(trained_run):
    ckpt = load_ckpt(trained_run)
    assert {'model', 'optimizer', 'iter_num', 'best_val_loss', 'rng', 'config', 'model_args'} <= set(ckpt)
    assert ckpt['iter_num'] == 20 and ckpt['config']['max_iters'] == 20


@pytest.mark.parametrize('optimizer', ['adamw', 'muon'])
def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tiny_dataset, tmp_path, optimizer):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    common = ['--lr_decay_iters=16', '--eval_interval=4', f'--optimizer={optimizer}']
    run_train(tiny_dataset, a, '--max_iters=16', *common)
    run_train(tiny_dataset, b, '--max_iters=8', *common)
    run_train(tiny_dataset, b, '--max_iters=16', '--init_from=resume', *common)
    wa, wb = load_ckpt(a)['model'], load_ckpt(b)['model']
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_quality_while_training_logs_reports_and_leaves_the_training_as_it_was(tiny_dataset, tmp_path, capsys):
    plain, checked = str(tmp_path / 'plain'), str(tmp_path / 'checked')
    run_train(tiny_dataset, plain, '--max_iters=10', '--eval_interval=5')
    run_train(tiny_dataset, checked, '--max_iters=10', '--eval_interval=5', '--quality_interval=5', '--quality_samples=3')
    out = capsys.readouterr().out
    assert 'at 5: quality of 3 sampled documents: ' in out and 'at 10: quality of 3 sampled documents: ' in out
    wa, wb = load_ckpt(plain)['model'], load_ckpt(checked)['model']
    assert all(torch.equal(wa[k], wb[k]) for k in wa)  # sampling draws from its own generator, not training's
    with open(os.path.join(checked, 'metrics.jsonl')) as f:
        rows = [r for r in map(json.loads, f) if 'well_formed' in r]
    assert [(r['iter'], r['tokens']) for r in rows] == [(5, 5 * 4 * 32), (10, 10 * 4 * 32)]
    # check_s is recorded, not timed here: a report of 3 documents that end at once can round to 0.00 s
    assert all(0 <= r['all_rules'] <= r['well_formed'] <= 1 and r['check_s'] >= 0 for r in rows)
    assert rows[0]['since_start_s'] < rows[1]['since_start_s']


def test_interrupted_save_leaves_the_previous_checkpoint_loadable(trained_run, monkeypatch, tmp_path):
    path = os.path.join(trained_run, 'ckpt.pt')
    before = load_ckpt(trained_run)['iter_num']

    def crash_midway(obj, f):
        f.write(b'half a checkpoint')
        raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', crash_midway)
    with pytest.raises(OSError):
        train.save_checkpoint(path, {'iter_num': 999})
    assert load_ckpt(trained_run)['iter_num'] == before
    assert not [f for f in os.listdir(trained_run) if f.endswith('.tmp')]  # no half file left behind


def test_resuming_from_a_damaged_checkpoint_is_one_clear_error(trained_run, tiny_dataset, tmp_path):
    out = str(tmp_path / 'run')
    shutil.copytree(trained_run, out)
    with open(os.path.join(out, 'ckpt.pt'), 'r+b') as f:
        f.truncate(100)
    with pytest.raises(UserError, match=r"ckpt.pt is damaged .*init_from='scratch'"):
        train.main([f'--dataset_dir={tiny_dataset}', f'--out_dir={out}', '--init_from=resume'] + TINY_MODEL_FLAGS)


def test_ctrl_c_saves_a_checkpoint_to_resume_from(tiny_dataset, tmp_path, monkeypatch):
    real_step = train.training_step
    calls = []

    def step_then_interrupt(*a, **k):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real_step(*a, **k)
    monkeypatch.setattr(train, 'training_step', step_then_interrupt)
    with pytest.raises(SystemExit) as e:
        run_train(tiny_dataset, str(tmp_path), '--max_iters=50', '--eval_interval=100')
    assert e.value.code == 130
    assert load_ckpt(str(tmp_path))['iter_num'] == 5


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tiny_dataset, tmp_path, monkeypatch):
    real_step = train.training_step
    calls = []

    def nan_after_some_steps(*a, **k):
        calls.append(1)
        return float('nan') if len(calls) > 6 else real_step(*a, **k)
    monkeypatch.setattr(train, 'training_step', nan_after_some_steps)
    with pytest.raises(UserError, match='loss became nan at iteration 6'):
        run_train(tiny_dataset, str(tmp_path), '--max_iters=50', '--eval_interval=5')
    assert load_ckpt(str(tmp_path))['iter_num'] == 5


def test_early_stopping_after_patience_evaluations_without_improvement(tiny_dataset, tmp_path):
    run_train(tiny_dataset, str(tmp_path), '--max_iters=100', '--eval_interval=2', '--patience=2',
              '--learning_rate=0', '--min_lr=0')  # nothing learns, so the val loss never improves
    info = json.load(open(tmp_path / 'generation_info.json'))
    assert info['training']['iterations'] == 4 and 'early stop' in info['training']['stop_reason']


def test_epochs_sets_the_number_of_iterations(tiny_dataset, tmp_path):
    run_train(tiny_dataset, str(tmp_path), '--epochs=1.0', '--eval_interval=1000')
    meta = json.load(open(os.path.join(tiny_dataset, 'meta.json')))
    iters = load_ckpt(str(tmp_path))['iter_num']
    assert iters == -(-meta['train_tokens'] // (4 * 32))


def test_dataset_too_small_for_one_window_is_a_clear_error(tiny_dataset, tmp_path):
    with pytest.raises(UserError, match='fewer than one window'):
        run_train(tiny_dataset, str(tmp_path), '--block_size=5000')


@pytest.mark.slow
def test_two_process_ddp_run_on_cpu_with_gloo(tiny_dataset, tmp_path):
    out = str(tmp_path / 'ddp')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', 'train.py',
           f'--dataset_dir={tiny_dataset}', f'--out_dir={out}', '--max_iters=6', '--eval_interval=3'] + TINY_MODEL_FLAGS
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stderr[-2000:]
    assert '2 process(es)' in r.stdout and r.stdout.count('eval at 6') == 1  # only rank 0 logs
    assert load_ckpt(out)['iter_num'] == 6


def test_the_next_command_quotes_an_out_dir_with_spaces(tiny_dataset, tmp_path, capsys):
    out = str(tmp_path / 'my models' / 'run 1')
    run_train(tiny_dataset, out, '--max_iters=2', '--eval_interval=2')
    assert f'Next: python sample.py --out_dir="{out}"' in capsys.readouterr().out


def test_run_is_the_pipeline_as_a_function(tiny_dataset, tmp_path, capsys):
    tiny = {key: ast.literal_eval(value) for key, value in (arg[2:].split('=', 1) for arg in TINY_MODEL_FLAGS)}
    result = train.run(dict(tiny, dataset_dir=tiny_dataset, out_dir=str(tmp_path), max_iters=6, eval_interval=3,
                            quality_samples=4))
    assert result['out_dir'] == str(tmp_path) and isinstance(result['best_val_loss'], float)
    assert result['quality']['documents'] == 4 and result['info']['training']['iterations'] == 6
    out = capsys.readouterr().out
    assert 'expected: about' in out and 'quality of 4 sampled documents' in out


@pytest.mark.parametrize('settings_, message', [({'batch_size': 0}, "'batch_size' must be at least 1"),
                                                ({'max_iter': 5}, "did you mean 'max_iters'"),
                                                ('prompt=x', 'settings must be a dict')])
def test_run_raises_the_one_line_the_command_line_prints(settings_, message):
    with pytest.raises(UserError, match=message):
        train.run(settings_)


def test_a_prompt_alone_gets_its_sizes_measured_defaults_and_a_preset_keeps_its_own(tmp_path):
    sizes = list(gpt.PRESETS)
    for size, column in (('4M', sizes.index('4M')), ('12M', sizes.index('12M')), ('medium', sizes.index('33M')),
                         ('117M', sizes.index('117M'))):
        cfg = settings.load_config(['--prompt=recipes', f'--size={size}'])
        assert all(cfg[key] == values[column] for key, values in settings.SIZE_DEFAULTS.items()), size
    (tmp_path / 'p.py').write_text("prompt = 'recipes'\nmax_iters = 7\ndropout = 0.2\n")
    cfg = settings.load_config([str(tmp_path / 'p.py'), '--size=33M'])
    assert (cfg['max_iters'], cfg['dropout'], cfg['learning_rate']) == (7, 0.2, settings.SIZE_DEFAULTS['learning_rate'][sizes.index('33M')])
    teacher = settings.load_config(['--prompt=recipes', '--generation_method=ollama'])
    own_text = settings.load_config(['--sources=files:notes.md'])
    # a teacher writes the original budgets (data.SIZE_TOKEN_TARGETS); users' own text is used whole
    assert teacher['initial_tokens'] == teacher['final_tokens'] == own_text['final_tokens'] == 0


# ---- torch.compile on the CPU (configs/reasoning_small.py turns it on)

def tiny_gpt():
    import model as gpt
    torch.manual_seed(0)
    return gpt.GPT(gpt.GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=64, dropout=0.0))


def test_a_machine_that_cannot_compile_trains_eagerly_after_one_warning(monkeypatch):
    def no_compiler(model):
        def first_call(x, y):  # as inductor fails: at the first call, here after the trial's backward ran
            model(x, y)[1].backward()
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore detail")
        return first_call
    monkeypatch.setattr(torch, 'compile', no_compiler)
    raw, lines = tiny_gpt(), []
    model = train.try_compile(raw, 2, 16, 'cpu', contextlib.nullcontext(), lines.append)
    assert model is raw and all(p.grad is None for p in raw.parameters())  # the trial step left no gradients
    assert lines == ["warning: torch.compile unavailable (RuntimeError: InvalidCxxCompiler: No working C++ compiler "
                     "found); running eagerly"]


@pytest.mark.slow
def test_the_compiled_cpu_model_computes_what_the_eager_one_does():
    raw = tiny_gpt()
    x = torch.randint(0, 64, (2, 16), generator=torch.Generator().manual_seed(1))
    eager_logits, eager_loss = raw(x, x)
    lines = []
    model = train.try_compile(raw, 2, 16, 'cpu', contextlib.nullcontext(), lines.append)
    if lines:
        pytest.skip(f"torch.compile does not work on this machine: {lines[0]}")
    logits, loss = model(x, x)
    assert model is not raw and torch.allclose(logits, eager_logits, atol=1e-4) and abs(loss.item() - eager_loss.item()) < 1e-4
