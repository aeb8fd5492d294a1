"""What a run shows while it goes: the progress line and metrics.jsonl, long data steps' progress, and the loss
chart (loss.svg) read back as XML, whose axes must say what a reader takes them to say."""
import json
import math
import xml.etree.ElementTree as ET

import pytest

from progress import Progress, log_ticks, progress_logger, short_number, write_loss_svg

SVG = '{http://www.w3.org/2000/svg}'


def write_metrics(path, iters=600, tokens_per_iter=4096, cut_last_line=False):
    """metrics.jsonl as train.py writes it: a step row every 10 iterations, an eval row every 50."""
    with open(path, 'w') as f:
        for it in range(0, iters + 1, 10):
            lr = 6e-4 * min(1, it / 50)
            f.write(json.dumps({'iter': it, 'tokens': it * tokens_per_iter, 'loss': 0.5 + 7 * math.exp(-it / 40),
                                'lr': lr}) + '\n')
            if it % 50 == 0:
                f.write(json.dumps({'iter': it, 'tokens': it * tokens_per_iter, 'train_loss': 1.0,
                                    'val_loss': 0.6 + 7 * math.exp(-it / 40) + (it - 400) ** 2 / 1e6}) + '\n')
        if cut_last_line:
            f.write('{"iter": 610, "tok')  # a crash mid-line


def chart(tmp_path, **kw):
    metrics, svg = tmp_path / 'metrics.jsonl', tmp_path / 'loss.svg'
    write_metrics(metrics, **kw)
    write_loss_svg(str(metrics), str(svg))
    return ET.parse(svg).getroot()


def ticks(root, cls):
    return [(float(t.get('x')), float(t.get('y')), t.text) for t in root.iter(SVG + 'text') if t.get('class') == cls]


def test_loss_axis_is_logarithmic_with_labelled_round_ticks(tmp_path):
    root = chart(tmp_path)
    ys = {float(label): y for _, y, label in ticks(root, 'y-tick')}
    assert {0.5, 1, 2, 5} <= set(ys)
    # equal ratios lie equal distances apart: 1 -> 2 as far as 2.5 -> 5 would be, 0.5 -> 1 the same
    assert ys[0.5] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.2)
    assert ys[2] - ys[5] == pytest.approx((ys[1] - ys[2]) * math.log(2.5) / math.log(2), abs=0.2)
    assert len([g for g in root.iter(SVG + 'line') if g.get('class') == 'grid']) >= len(ys) + 3


def test_x_axis_counts_tokens_with_iterations_beneath(tmp_path):
    root = chart(tmp_path)
    xs = ticks(root, 'x-tick')
    assert [label for _, _, label in xs][:3] == ['0', '500k', '1M']
    assert [x for x, _, _ in xs] == sorted(x for x, _, _ in xs)
    iters = {x: label for x, _, label in ticks(root, 'iter-tick')}
    assert iters[xs[1][0]] == '122'  # 500,000 tokens at 4,096 per iteration


def test_learning_rate_and_best_val_loss_are_drawn(tmp_path):
    root = chart(tmp_path, cut_last_line=True)
    lines = {p.get('class'): p for p in root.iter(SVG + 'polyline')}
    assert set(lines) == {'train', 'val', 'lr'}
    assert len(lines['train'].get('points').split()) == 61  # the line cut short by a crash is skipped
    best = next(root.iter(SVG + 'circle'))
    val_points = [tuple(map(float, p.split(','))) for p in lines['val'].get('points').split()]
    lowest = min(val_points, key=lambda p: -p[1])  # lowest loss = largest y on the page
    assert (float(best.get('cx')), float(best.get('cy'))) == pytest.approx(lowest, abs=0.1)
    label = ''.join(t.text or '' for t in root.iter(SVG + 'text') if 'best val' in (t.text or ''))
    assert label == f"best val {0.6 + 7 * math.exp(-400 / 40):.3f}"


def test_short_ranges_still_get_ticks_and_labels_stay_short():
    assert len(log_ticks(1.14, 1.9)) >= 4
    assert all(1.14 <= t <= 1.9 for t in log_ticks(1.14, 1.9))
    assert log_ticks(0.01, 100) == [0.01, 0.1, 1, 10, 100]  # many decades: powers of ten
    assert log_ticks(5.78, 7.6) == [6.0, 6.5, 7.0, 7.5]  # a short range: even steps, not a decade's odd marks
    assert [short_number(n) for n in (0, 950, 12500, 3_000_000, 1.5e9)] == ['0', '950', '12.5k', '3M', '1.5B']


@pytest.mark.parametrize('mfu,shown', [(0.42, 'mfu 42.0%'), (1.7, None), (0.0, None)])
def test_an_mfu_that_cannot_be_true_is_left_out(tmp_path, capsys, mfu, shown):
    progress = Progress(str(tmp_path / 'metrics.jsonl'), max_iters=10)
    progress.step(1, 100, 0.1, 3.0, 1e-3, 1000.0, mfu)
    progress.close()
    line = capsys.readouterr().out
    assert (shown in line) if shown else 'mfu' not in line
    assert json.loads(open(tmp_path / 'metrics.jsonl').readline())['mfu'] == (mfu if shown else None)


def test_a_resumed_run_starts_its_rows_on_a_new_line_after_a_half_written_one(tmp_path):
    path = tmp_path / 'metrics.jsonl'
    path.write_text('{"iter": 1, "loss": 3.0}\n{"iter": 2, "lo')  # kill -9 mid-write
    progress = Progress(str(path), max_iters=10, start_iter=2)
    progress.step(3, 300, 0.3, 2.5, 1e-3, 1000.0, 0.5)
    progress.close()
    rows = [line for line in path.read_text().splitlines()]
    assert json.loads(rows[-1])['iter'] == 3 and len(rows) == 3


def test_a_long_step_reports_its_progress_and_a_short_one_stays_quiet(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr('progress.time.time', lambda: clock[0])
    lines = []
    tell = progress_logger(lines.append, 'data: generating tokens', 1_000_000, every_s=10)
    clock[0] += 5
    tell(100_000)
    assert lines == []  # five seconds in: nothing to say yet
    clock[0] += 15
    tell(400_000)
    assert lines == ['data: generating tokens: 400,000/1,000,000 (40%), ETA 30s']


def test_the_eta_counts_the_steps_pace_not_the_first_evaluation(tmp_path, monkeypatch, capsys):
    clock = [0.0]
    monkeypatch.setattr('progress.time.time', lambda: clock[0])
    progress = Progress(str(tmp_path / 'metrics.jsonl'), max_iters=100, eval_interval=50)
    clock[0] += 60  # a slow first evaluation: 60 s of warm-up
    progress.eval(0, 0, {'train': 5.0, 'val': 5.0}, seconds=60)
    clock[0] += 10  # then 10 steps at 1 s each
    progress.step(10, 1000, 0.1, 4.0, 1e-3, 100.0, 0.0)
    progress.close()
    line = capsys.readouterr().out.strip().splitlines()[-1]
    # 90 steps at 1 s, and 2 evaluations more (at 50 and 100) at the last one's 60 s: 3m30s, not 10m30s
    assert line.endswith('eta 3m30s'), line
    assert progress.eta(10, 70) == 90 + 2 * 60
