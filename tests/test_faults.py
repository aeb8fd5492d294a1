"""Lose nothing, hang never: SIGTERM and Ctrl-C in training, one run per folder, no silent replacement of
a trained model, and the temp files a killed write leaves behind."""
import json
import os
import signal
import subprocess
import sys

import pytest
import torch

import common
from common import UserError, folder_lock, remove_stale_temp_files, signals_deferred, write_atomic
from conftest import ROOT, TINY_MODEL_FLAGS, run_train


@pytest.mark.parametrize('sig,code,word', [('SIGTERM', 143, 'terminated'), ('SIGINT', 130, 'interrupted')])
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
        proc.send_signal(getattr(signal, sig))
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
    try:                                                              # raises, it does not kill pytest
        reached = []
        with signals_deferred("saving the checkpoint first"):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the checkpoint is being written
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append('the save finished')
        assert reached == ['the save finished']
        assert capsys.readouterr().err.count("saving the checkpoint first") == 2
        # after the save, both signals stop the run again
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
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
