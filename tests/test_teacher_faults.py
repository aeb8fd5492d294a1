"""Ctrl-C and SIGTERM in the teacher steps (samples, judge scores, problem solutions) against a server whose
replies hang: train.py exits within seconds with its code, never a traceback, and keeps every reply that
had arrived, so a rerun asks only for the rest."""
import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, TINY_MODEL_FLAGS
from fake_teacher import start_fake_teacher, stop_fake_teacher

HANG_S = 120  # far longer than any bound below: a request in flight must not hold the exit


@pytest.fixture
def server():
    s = start_fake_teacher()
    yield s
    stop_fake_teacher(s)


def teacher_flags(server, out, *extra):
    return ['--prompt=A fun GPT that generates cooking recipes', '--generation_method=ollama',
            f'--teacher_url={server.url}', '--gen_model=llama3.1:8b', '--judge_model=', '--concurrency=4',
            '--teacher_device=cpu', '--initial_tokens=20000', '--final_tokens=2000', f'--out_dir={out}', *extra]


def start_train(flags):
    return subprocess.Popen([sys.executable, 'train.py', *flags], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            # a shell running pytest in the background ignores SIGINT for its children
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_until(condition, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the step was never reached"
        time.sleep(0.05)


def hang_from_now(server):
    with server.lock:
        server.state['latency_s'] = HANG_S


def signal_and_wait(proc, names):
    """Send the signals (0.2 s apart); returns (returncode, stdout, stderr, seconds from first signal to exit)."""
    try:
        t0 = time.monotonic()
        for i, name in enumerate(names):
            if i:
                time.sleep(0.2)
            proc.send_signal(getattr(signal, name))
        stdout, stderr = proc.communicate(timeout=HANG_S / 2)
        return proc.returncode, stdout, stderr, time.monotonic() - t0
    finally:
        proc.kill()
        proc.communicate()


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize('names,code', [(['SIGINT'], 130), (['SIGTERM'], 143), (['SIGINT', 'SIGINT'], 130)])
def test_a_signal_in_the_sample_step_exits_at_once_and_keeps_the_samples(server, tmp_path, names, code):
    out = tmp_path / 'run'
    with server.lock:
        server.state['latency_s'] = 0.3  # slow enough that the step is still running when the hang starts
    proc = start_train(teacher_flags(server, out))
    wait_until(lambda: len(lines(out / 'raw_samples.jsonl')) >= 3)
    hang_from_now(server)
    time.sleep(0.5)  # the requests now in flight hang
    kept = len(lines(out / 'raw_samples.jsonl'))
    returncode, stdout, stderr, seconds = signal_and_wait(proc, names)
    assert returncode == code, stderr
    assert seconds < 5, seconds  # the target is 2 s; the bound leaves room for a busy machine
    assert 'Traceback' not in stdout + stderr
    assert len(lines(out / 'raw_samples.jsonl')) >= kept >= 3


@pytest.mark.slow
def test_a_signal_in_the_judge_step_keeps_the_scores_so_a_rerun_asks_only_for_the_rest(server, tmp_path):
    out = tmp_path / 'run'
    flags = teacher_flags(server, out, '--judge_model=qwen2.5:7b', '--initial_tokens=3000', '--concurrency=2')
    with server.lock:  # slow enough that the judge is still scoring when the hang starts: at full speed a
        server.state['latency_s'] = 0.2  # CI run once scored every sample first and ended in the data steps
    proc = start_train(flags)
    wait_until(lambda: len(lines(out / 'judge_scores.jsonl')) >= 2)
    hang_from_now(server)
    time.sleep(0.3)
    returncode, stdout, stderr, seconds = signal_and_wait(proc, ['SIGINT'])
    assert returncode == 130 and seconds < 5 and 'Traceback' not in stderr, (seconds, stderr)
    scored = len(lines(out / 'judge_scores.jsonl'))
    samples = len(lines(out / 'raw_samples.jsonl'))
    assert 2 <= scored < samples
    with server.lock:
        server.state['latency_s'] = 0.0
        asked_before = server.judge_count
    rerun = subprocess.run([sys.executable, 'train.py', *flags, *TINY_MODEL_FLAGS, '--max_iters=2', '--eval_interval=2'], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert server.judge_count - asked_before == samples - scored  # the saved scores were not asked for again
    info = json.load(open(out / 'generation_info.json'))
    assert info['judge']['resumed'] == scored


@pytest.mark.slow
def test_a_signal_in_the_solve_step_exits_at_once_and_keeps_the_solutions(server, tmp_path):
    out = tmp_path / 'run'
    with server.lock:
        server.state['reply'] = lambda body: "Step 1: add them.\nTherefore, the answer is 4."
        server.state['latency_s'] = 0.3
    proc = start_train(teacher_flags(server, out, '--prompt=A GPT that solves math word problems step by step',
                                     '--solutions_per_problem=2', '--max_level=1', '--initial_tokens=4000'))
    wait_until(lambda: len(lines(out / 'solutions_raw.jsonl')) >= 3)
    hang_from_now(server)
    time.sleep(0.5)
    kept = len(lines(out / 'solutions_raw.jsonl'))
    returncode, stdout, stderr, seconds = signal_and_wait(proc, ['SIGINT'])
    assert returncode == 130 and seconds < 5 and 'Traceback' not in stdout + stderr, (seconds, stderr)
    assert len(lines(out / 'solutions_raw.jsonl')) >= kept >= 3
