"""Lose nothing, hang never: SIGTERM and Ctrl-C in training, one run per folder, no silent replacement of
a trained model, the temp files a killed write leaves behind, resume only into the same run, sizes that
cannot fit refused up front, full disks and missing permissions as one line, and no secrets in files."""
import io
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch

import common
import token_files
from common import UserError, folder_lock, remove_stale_temp_files, signals_deferred, write_atomic
from conftest import ROOT, TINY_MODEL_FLAGS, make_tiny_dataset, run_train
from tokenizer import train_bpe


@pytest.mark.parametrize('sig,code,word', [('SIGTERM', 143, 'terminated'), ('SIGINT', 130, 'interrupted'),
                                            ('SIGINT SIGINT', 130, 'interrupted')])
def test_a_signal_mid_training_saves_the_current_iteration_and_exits_with_its_code(tiny_dataset, tmp_path, sig, code, word):
    out = tmp_path / 'run'
    proc = subprocess.Popen([sys.executable, 'train.py', f'--dataset_dir={tiny_dataset}', f'--out_dir={out}',
                             '--max_iters=1000000', '--eval_interval=1000000', '--log_interval=1'] + TINY_MODEL_FLAGS,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell running pytest in the background ignores SIGINT for its children
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:  # wait until it is training, past the first evaluation's checkpoint
            if ' 5/1000000 ' in line:
                break
        for name in sig.split():  # a second Ctrl-C lands while the checkpoint is being saved
            proc.send_signal(getattr(signal, name))
            time.sleep(0.02)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert 'Traceback' not in stderr
    ckpt = torch.load(out / 'ckpt.pt', weights_only=True)
    assert ckpt['iter_num'] >= 5  # the iteration it reached, not the last evaluation (0)
    assert f"{word} at iteration {ckpt['iter_num']}; saved" in stdout
    # and it goes on from there
    run_train(tiny_dataset, out, f"--max_iters={ckpt['iter_num'] + 2}", '--eval_interval=1000000', '--init_from=resume')
    assert torch.load(out / 'ckpt.pt', weights_only=True)['iter_num'] == ckpt['iter_num'] + 2


def test_a_second_signal_during_the_save_waits_for_it_and_says_so(capsys):
    before = signal.signal(signal.SIGTERM, common._raise_terminated)  # as run_command sets it: a failure here
    before_int = signal.getsignal(signal.SIGINT)  # Python's Ctrl-C handler, or SIG_IGN under a background shell
    try:                                                              # raises, it does not kill pytest
        reached = []
        with signals_deferred("saving the checkpoint first"):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the checkpoint is being written
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append('the save finished')
        assert reached == ['the save finished']
        assert capsys.readouterr().err.count("saving the checkpoint first") == 2
        # after the save, both signals stop the run again
        assert signal.getsignal(signal.SIGINT) is before_int
        with pytest.raises(common.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_folder_held_by_a_live_run_is_refused_naming_its_pid(tiny_dataset, tmp_path):
    out = tmp_path / 'run'
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        out.mkdir()
        (out / '.lock').write_text(str(other.pid))
        with pytest.raises(UserError, match=f"in use by another run \\(pid {other.pid}\\)"):
            run_train(tiny_dataset, out, '--max_iters=2')
        assert not (out / 'ckpt.pt').exists() and (out / '.lock').read_text() == str(other.pid)
    finally:
        other.kill()
        other.wait()


def test_a_lock_left_by_a_dead_run_is_taken_over_saying_so(tiny_dataset, tmp_path, capsys):
    out = tmp_path / 'run'
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    out.mkdir()
    (out / '.lock').write_text(str(dead.pid))
    run_train(tiny_dataset, out, '--max_iters=2', '--eval_interval=2')
    assert f"the run that held it (pid {dead.pid}) is no longer running" in capsys.readouterr().out
    assert (out / 'model.safetensors').exists() and not (out / '.lock').exists()  # released at the end


def test_the_lock_is_released_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(str(tmp_path), log=print):
            assert (tmp_path / '.lock').read_text() == str(os.getpid())
            raise RuntimeError('the run failed')
    assert not (tmp_path / '.lock').exists()


def test_a_rerun_never_silently_replaces_a_trained_model(tiny_dataset, tmp_path):
    out = tmp_path / 'run'
    run_train(tiny_dataset, out, '--max_iters=2', '--eval_interval=2')
    before = (out / 'model.safetensors').read_bytes()
    with pytest.raises(UserError, match="already holds a trained model.*--init_from=resume.*--out_dir.*--overwrite=True"):
        run_train(tiny_dataset, out, '--max_iters=4', '--eval_interval=2')
    assert (out / 'model.safetensors').read_bytes() == before
    run_train(tiny_dataset, out, '--max_iters=4', '--eval_interval=2', '--overwrite=True')
    assert json.load(open(out / 'config.json'))['config']['max_iters'] == 4
    evals = [json.loads(line)['iter'] for line in open(out / 'metrics.jsonl') if 'val_loss' in line]
    assert evals == [0, 2, 4]  # the replaced run's metrics start anew, not after the old run's [0, 2]


def test_temp_files_of_a_killed_write_are_removed_at_the_next_start(tiny_dataset, tmp_path, capsys):
    out = tmp_path / 'run'
    out.mkdir()
    left = out / '.ckpt.pt.a1b2c3d4.tmp'  # the name write_atomic's temp file has
    left.write_bytes(b'\0' * 2_000_000)
    mine = out / '.notes.tmp'  # not write_atomic's: left alone
    mine.write_text('keep')
    run_train(tiny_dataset, out, '--max_iters=2', '--eval_interval=2')
    assert not left.exists() and mine.exists()
    assert "removed 2.0 MB of temp files that an interrupted run left" in capsys.readouterr().out


def test_the_temp_file_pattern_matches_what_write_atomic_writes(tmp_path, monkeypatch):
    def killed(f):
        raise SystemExit  # stands in for kill -9: below, the cleanup that write_atomic would do is skipped
    monkeypatch.setattr(os, 'remove', lambda path: None)
    with pytest.raises(SystemExit):
        write_atomic(str(tmp_path / 'ckpt.pt'), killed)
    monkeypatch.undo()
    assert len(os.listdir(tmp_path)) == 1
    assert remove_stale_temp_files(str(tmp_path)) == 0 and os.listdir(tmp_path) == []


@pytest.mark.parametrize('where', ['a file', 'under a file'])
def test_an_out_dir_that_cannot_be_a_folder_is_one_line(tiny_dataset, tmp_path, where):
    (tmp_path / 'taken').write_text('a file, not a folder')
    out = tmp_path / 'taken' if where == 'a file' else tmp_path / 'taken' / 'run'
    with pytest.raises(UserError, match=f"cannot create the output folder {out} .*pass another --out_dir"):
        run_train(tiny_dataset, out, '--max_iters=2')
    assert (tmp_path / 'taken').read_text() == 'a file, not a folder'


# ---- resume continues the same run, or says why it cannot

PROMPT_FLAGS = ['--prompt=A fun GPT that generates cooking recipes', '--initial_tokens=4000', '--final_tokens=3000',
                '--vocab_size=300']


def test_resume_with_another_prompt_is_refused_before_the_data_is_touched(tmp_path):
    out = tmp_path / 'run'
    run_train('', out, *PROMPT_FLAGS, '--max_iters=2', '--eval_interval=2')
    tokens = (out / 'train.bin').read_bytes()
    flags = [f for f in PROMPT_FLAGS if not f.startswith('--prompt')]
    with pytest.raises(UserError, match=r"ckpt.pt was trained on other data: the settings say prompt='Short poems "
                                        r"about the ocean', but it was trained with prompt='A fun GPT.*same config"):
        run_train('', out, '--prompt=Short poems about the ocean', *flags, '--max_iters=4', '--init_from=resume')
    assert (out / 'train.bin').read_bytes() == tokens  # the data the checkpoint trained on is still there
    run_train('', out, *PROMPT_FLAGS, '--max_iters=4', '--eval_interval=2', '--init_from=resume')
    assert torch.load(out / 'ckpt.pt', weights_only=True)['iter_num'] == 4


@pytest.mark.parametrize('flag,message', [('--n_embd=64', r"a model with n_embd=32, but the settings say n_embd=64"),
                                          ('--block_size=16', r"a model with block_size=32, but the settings say block_size=16")])
def test_resume_with_another_model_shape_is_refused(trained_run, tiny_dataset, tmp_path, flag, message):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    with pytest.raises(UserError, match=message + r".*another --out_dir"):
        run_train(tiny_dataset, out, '--init_from=resume', '--max_iters=30', flag)


def test_resume_with_another_optimizer_is_refused(trained_run, tiny_dataset, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    with pytest.raises(UserError, match=r"trained with optimizer='adamw', but the settings say optimizer='muon'"):
        run_train(tiny_dataset, out, '--init_from=resume', '--max_iters=30', '--optimizer=muon')


def test_resume_on_other_token_files_is_refused(trained_run, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    other = make_tiny_dataset(tmp_path / 'other', n_docs=250)  # the same tokenizer size, other documents
    with pytest.raises(UserError, match=r"token files or tokenizer in .*other are not the ones .*ckpt.pt was trained on"):
        run_train(other, out, '--init_from=resume', '--max_iters=30')


def test_resume_with_another_vocabulary_is_refused(trained_run, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    docs = [f"Poem {i}: the sea is {'blue' if i % 2 else 'grey'} at {i % 12} o'clock." for i in range(300)]
    other = tmp_path / 'other'
    token_files.write_dataset(docs, train_bpe(docs, 280), str(other))
    with pytest.raises(UserError, match=r"ckpt.pt has a vocabulary of 300 tokens, but .*other has 280"):
        run_train(str(other), out, '--init_from=resume', '--max_iters=30')


# ---- impossible sizes are refused before anything is spent

def test_a_batch_that_cannot_fit_in_memory_is_refused_before_the_data_step(tmp_path, monkeypatch):
    import train
    monkeypatch.setattr(train, 'available_memory_bytes', lambda: 8e9)
    out = tmp_path / 'run'
    with pytest.raises(UserError, match=r"training needs about [\d,.]+ GB of memory .*batch_size 100000 x block_size "
                                        r"32.*8.0 GB free; lower batch_size"):
        run_train('', out, *PROMPT_FLAGS, '--batch_size=100000')
    assert not (out / 'train.bin').exists()  # refused before the data step spent anything


def test_a_data_budget_that_cannot_fit_in_memory_is_refused_at_once(tmp_path, monkeypatch):
    import data
    monkeypatch.setattr(data, 'available_memory_bytes', lambda: 24e9)
    with pytest.raises(UserError, match=r"initial_tokens=1,000,000,000 needs about 40.0 GB of memory in the data step, "
                                        r"but 24.0 GB is available; lower initial_tokens to at most 600,000,000"):
        run_train('', tmp_path / 'run', '--prompt=A GPT that writes haiku', '--initial_tokens=1000000000')


def test_the_memory_estimate_follows_batch_context_and_dropout():
    import hardware
    import model as gpt
    base = gpt.GPTConfig(**gpt.PRESETS['12M'], dropout=0.0)
    one, eight = hardware.training_memory_bytes(base, 1), hardware.training_memory_bytes(base, 8)
    assert 500e6 < one < 700e6 and 0.9e9 < eight < 1.15e9  # bench.py measured 611 MB and 1,030 MB peaks (float32 CPU)
    assert hardware.training_memory_bytes(gpt.GPTConfig(**gpt.PRESETS['12M'], dropout=0.1), 8) > eight


# ---- every OS error is one line, and what was written survives

def test_a_full_disk_during_a_checkpoint_is_one_line_and_the_previous_checkpoint_survives(trained_run, tiny_dataset,
                                                                                           tmp_path, monkeypatch):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    before = (out / 'ckpt.pt').read_bytes()
    real_save = torch.save

    def disk_fills_up(obj, f):
        real_save(obj, io.BytesIO())
        f.write(b'PK half a zip')
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 2304 vs 2198")
    monkeypatch.setattr(torch, 'save', disk_fills_up)
    with pytest.raises(UserError, match=r"could not write .*ckpt.pt \(\[enforce fail .*unexpected pos.* MB free on its "
                                        r"disk\); the previous checkpoint is intact: .*--init_from=resume"):
        run_train(tiny_dataset, out, '--init_from=resume', '--max_iters=30', '--eval_interval=10')
    assert (out / 'ckpt.pt').read_bytes() == before
    assert not [n for n in os.listdir(out) if n.endswith('.tmp')]


@pytest.mark.skipif(not hasattr(signal, 'SIGXFSZ'), reason="RLIMIT_FSIZE and SIGXFSZ are POSIX")
def test_a_file_size_limit_mid_run_is_one_line_and_the_files_written_survive(trained_run, tiny_dataset, tmp_path):
    import resource
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    before = (out / 'ckpt.pt').read_bytes()
    limit = len(before) // 2  # the next checkpoint cannot be written whole: a disk that is full for it

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write past the limit fails with EFBIG, as ENOSPC would
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    proc = subprocess.run([sys.executable, 'train.py', f'--dataset_dir={tiny_dataset}', f'--out_dir={out}',
                           '--init_from=resume', '--max_iters=30', '--eval_interval=10'] + TINY_MODEL_FLAGS,
                          cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=limited)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'ckpt.pt' in lines[0], proc.stderr
    assert (out / 'ckpt.pt').read_bytes() == before
    assert torch.load(out / 'ckpt.pt', weights_only=True)['iter_num'] == 20
    assert not [n for n in os.listdir(out) if n.endswith('.tmp')]


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_folder_without_write_permission_is_one_line(tiny_dataset, tmp_path):
    out = tmp_path / 'locked'
    out.mkdir(mode=0o555)
    proc = subprocess.run([sys.executable, 'train.py', f'--dataset_dir={tiny_dataset}', f'--out_dir={out}',
                           '--max_iters=2'] + TINY_MODEL_FLAGS, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: cannot use {out / '.lock'}: Permission denied; no "
                                                f"permission: check the folder's permissions, or pass another --out_dir"]


def test_no_permission_for_the_lock_file_is_one_line_even_for_root(tiny_dataset, tmp_path, monkeypatch, capsys):
    import train
    real_open = os.open

    def refused(path, *a, **k):
        if str(path).endswith('.lock'):
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *a, **k)
    monkeypatch.setattr(os, 'open', refused)
    with pytest.raises(SystemExit) as e:
        common.run_command(train.main, [f'--dataset_dir={tiny_dataset}', f'--out_dir={tmp_path / "run"}'])
    assert e.value.code == 1
    assert capsys.readouterr().err.strip() == (f"error: cannot use {tmp_path / 'run' / '.lock'}: Permission denied; "
                                               f"no permission: check the folder's permissions, or pass another --out_dir")


# ---- secrets and file modes

def test_credentials_in_a_url_setting_never_reach_the_output_folder(tiny_dataset, tmp_path, capsys):
    out = tmp_path / 'run'
    run_train(tiny_dataset, out, '--max_iters=2', '--eval_interval=2',
              '--teacher_url=http://alice:sk-very-secret@127.0.0.1:9/v1')
    written = [p for p in out.iterdir() if p.is_file()]
    assert [p.name for p in written if b'sk-very-secret' in p.read_bytes()] == []
    assert 'sk-very-secret' not in capsys.readouterr().out
    assert json.load(open(out / 'config.json'))['config']['teacher_url'] == 'http://127.0.0.1:9/v1'
    assert torch.load(out / 'ckpt.pt', weights_only=True)['config']['teacher_url'] == 'http://127.0.0.1:9/v1'


def test_every_output_file_gets_the_same_permissions(trained_run):
    modes = {name: stat.S_IMODE(os.stat(os.path.join(trained_run, name)).st_mode) for name in os.listdir(trained_run)
             if os.path.isfile(os.path.join(trained_run, name))}
    assert len(set(modes.values())) == 1, modes


# ---- kill -9 at random moments, and signals in the data step

@pytest.mark.slow
def test_kill_9_at_random_moments_never_loses_the_checkpoint(tiny_dataset, tmp_path):
    out = tmp_path / 'run'
    rng = random.Random(15)
    last_iter, startup_s = 0, None
    for round_no in range(20):
        resume = ['--init_from=resume'] if (out / 'ckpt.pt').exists() else ['--overwrite=True']
        started = time.time()
        proc = subprocess.Popen([sys.executable, 'train.py', f'--dataset_dir={tiny_dataset}', f'--out_dir={out}',
                                 '--max_iters=1000000', '--eval_interval=3', '--log_interval=1'] + TINY_MODEL_FLAGS + resume,
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            if startup_s is None:  # start-up (imports, the first checkpoint) takes 1.5-5 s, by machine: measure it
                while not (out / 'ckpt.pt').exists() and time.time() - started < 60 and proc.poll() is None:
                    time.sleep(0.05)
                startup_s = time.time() - started
            # some kills land before training starts, most during it
            time.sleep(max(0.0, started + rng.uniform(0.6, 2.0) * startup_s - time.time()))
            proc.kill()
            proc.wait(timeout=30)
        finally:
            proc.kill()
        if (out / 'ckpt.pt').exists():
            ckpt = torch.load(out / 'ckpt.pt', weights_only=True)  # whole, every time
            assert ckpt['iter_num'] >= last_iter, round_no  # never behind what an earlier round saved
            last_iter = ckpt['iter_num']
    assert last_iter > 0
    run_train(tiny_dataset, out, '--init_from=resume', f'--max_iters={last_iter + 3}', '--eval_interval=3')
    assert torch.load(out / 'ckpt.pt', weights_only=True)['iter_num'] == last_iter + 3
    assert not [n for n in os.listdir(out) if n.endswith('.tmp') or n == '.lock']
    rows = [json.loads(line) for line in open(out / 'metrics.jsonl') if line.strip().endswith('}')]
    assert rows[-1]['iter'] == last_iter + 3


def start_data_step(out):
    """train.py in a long template data step (3M tokens: about 15 s); returns once the step is under way."""
    proc = subprocess.Popen([sys.executable, 'train.py', '--prompt=A fun GPT that generates cooking recipes',
                             '--initial_tokens=3000000', f'--out_dir={out}'], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if line.startswith('data: domain'):
            break
    time.sleep(0.5)
    return proc


@pytest.mark.slow
@pytest.mark.parametrize('signals,code', [(['SIGTERM'], 143), (['SIGINT', 'SIGINT'], 130)])
def test_signals_in_the_data_step_exit_at_once_with_their_code(tmp_path, signals, code):
    proc = start_data_step(tmp_path / 'run')
    try:
        t0 = time.monotonic()
        for i, name in enumerate(signals):
            if i:
                time.sleep(0.2)
            proc.send_signal(getattr(signal, name))
        stdout, stderr = proc.communicate(timeout=30)
        seconds = time.monotonic() - t0
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert seconds < 5, seconds  # about 0.2 s on a 2-core machine; the bound leaves room for a busy one
    assert 'Traceback' not in stdout + stderr
    assert f"stopped in the data step; what was made so far is in {tmp_path / 'run'}/" in stdout
    assert not (tmp_path / 'run' / '.lock').exists()
