"""
What train.py shows and records while it runs: the live progress line, out_dir/metrics.jsonl, and
out_dir/loss.svg (drawn by hand, so no plotting package is needed).
"""
import json
import math
import sys
import time

from common import write_atomic


def format_duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def progress_logger(log, what, total, every_s=10.0):
    """A function tell(done) for a long step's loop: it logs 'what: done/total (%), ETA' at most every every_s
    seconds (a run of a few seconds prints nothing), so a long data step shows it is moving."""
    started = last = time.time()

    def tell(done):
        nonlocal last
        now = time.time()
        if now - last < every_s or not total:
            return
        last = now
        rate = done / (now - started)
        eta = format_duration((total - done) / rate) if rate > 0 else "?"
        log(f"{what}: {done:,}/{total:,} ({done / total:.0%}), ETA {eta}")
    return tell


class Progress:
    """One live line on a terminal, plain lines otherwise; every record also goes to metrics.jsonl."""

    def __init__(self, metrics_path, max_iters, start_iter=0, enabled=True, eval_interval=0):
        self.enabled, self.max_iters, self.start_iter = enabled, max_iters, start_iter
        self.eval_interval = eval_interval
        self.live = enabled and sys.stdout.isatty()
        self.t0 = time.time()
        self.eval_s, self.last_eval_s = 0.0, 0.0  # time in evaluations: the ETA counts the steps' own pace
        # a resumed run adds to its metrics; a run from scratch (--overwrite=True included) starts them anew
        self.file = open(metrics_path, 'a+' if start_iter else 'w') if enabled else None
        if self.file and self.file.tell() > 0:  # a kill mid-line left half a row: the next starts on its own line
            self.file.seek(self.file.tell() - 1)
            if self.file.read(1) != '\n':
                self.file.write('\n')
        self.line_open = False

    def record(self, row):
        self.file.write(json.dumps(row) + '\n')
        self.file.flush()  # a crash keeps every line written so far

    def step(self, it, tokens, epoch, loss, lr, tokens_per_s, mfu):
        if not self.enabled:
            return
        # a peak measured while the machine was busy (CPUs are timed, not looked up) can put MFU past 100%:
        # a figure that cannot be true is left out rather than shown
        mfu = mfu if 0 < mfu <= 1 else None
        self.record({'iter': it, 'tokens': tokens, 'epoch': round(epoch, 4), 'loss': round(loss, 5), 'lr': lr,
                     'tokens_per_s': round(tokens_per_s, 1), 'mfu': mfu and round(mfu, 4),
                     'time_s': round(time.time() - self.t0, 2)})
        elapsed = time.time() - self.t0
        eta = self.eta(it, elapsed)
        width = 20
        bar = '#' * int(width * it / max(1, self.max_iters))
        text = (f"{format_duration(elapsed):>6} [{bar:<{width}}] {it}/{self.max_iters} ep {epoch:.2f} loss {loss:.4f} "
                f"lr {lr:.2e} {tokens_per_s:,.0f} tok/s{f' mfu {mfu * 100:.1f}%' if mfu else ''} eta {format_duration(eta)}")
        if self.live:
            sys.stdout.write('\r' + text + ' ' * 4)
            sys.stdout.flush()
            self.line_open = True
        else:
            print(text, flush=True)

    def eta(self, it, elapsed):
        """Seconds left: the remaining steps at the pace of the steps so far (evaluations not counted, the
        first one's warm-up least of all), plus the remaining evaluations at the last one's length."""
        steps_done, left = it - self.start_iter, self.max_iters - it
        if steps_done <= 0:
            return 0.0
        evals_left = left // self.eval_interval + 1 if self.eval_interval else 0
        return (elapsed - self.eval_s) / steps_done * left + evals_left * self.last_eval_s

    def eval(self, it, tokens, losses, seconds=0.0):
        """seconds: how long the evaluation (and the checkpoint after it) took, kept out of the steps' pace."""
        self.eval_s += seconds
        self.last_eval_s = seconds
        if not self.enabled:
            return
        self.record({'iter': it, 'tokens': tokens, 'train_loss': round(losses['train'], 5),
                     'val_loss': round(losses['val'], 5), 'time_s': round(time.time() - self.t0, 2)})
        self.newline()
        print(f"eval at {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}", flush=True)

    def quality(self, it, tokens, report, seconds, since_start_s):
        """quality_interval's report in metrics.jsonl; seconds (the sampling) stay out of the steps' pace.
        since_start_s: from the run's start, data steps included (bench.py's time to quality)."""
        self.eval_s += seconds
        if self.enabled:
            self.record({'iter': it, 'tokens': tokens, 'well_formed': report['well_formed'],
                         'all_rules': report['all_rules'], 'rules': report['rules'], 'check_s': round(seconds, 2),
                         'since_start_s': round(since_start_s, 2), 'time_s': round(time.time() - self.t0, 2)})

    def newline(self):
        if self.line_open:
            print()
            self.line_open = False

    def close(self):
        if self.enabled:
            self.newline()
            self.file.close()


def _svg_start(width, height):
    """The picture and its white ground."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>']


def _svg_frame(width, height, pad, x_label, y_label):
    """The start of a chart: the picture, a white ground, both axes and their labels."""
    return _svg_start(width, height) + [
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
            f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">{_xml(x_label)}</text>',
            f'<text x="5" y="{pad - 10}">{_xml(y_label)}</text>']


def read_metrics(metrics_path):
    """The rows of metrics.jsonl; a last line cut short by a crash is skipped."""
    rows = []
    with open(metrics_path) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def nice_step(span, count):
    """A round step (1, 2 or 5 times a power of ten) that cuts span into about count pieces."""
    raw = span / max(1, count)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def log_ticks(lo, hi):
    """Round values between lo and hi for a log axis: powers of ten, or 1-2-5 per decade (or finer), over a
    wide range; evenly spaced round values over a short one, where a decade's marks would leave one or two."""
    for mantissas in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7)):
        ticks = [round(m * 10 ** e, 6) for e in range(math.floor(math.log10(lo)), math.floor(math.log10(hi)) + 1)
                 for m in mantissas if lo <= m * 10 ** e <= hi]
        if len(ticks) >= 4:
            return ticks[::-(-len(ticks) // 8)]  # at most 8 labels
    step = nice_step(hi - lo, 5)
    return [round(k * step, 6) for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def short_number(n):
    """12,500 -> '12.5k', 3,000,000 -> '3M': tick labels that fit under an axis."""
    for unit, size in (('B', 1e9), ('M', 1e6), ('k', 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.3g}"


def write_loss_svg(metrics_path, svg_path, width=720, height=420):
    """Train and val loss on a log axis against tokens seen (iterations under them), the learning rate as a
    faint line on its own axis, the best val loss marked: a standalone SVG picture drawn by hand."""
    rows = read_metrics(metrics_path)
    train = [(r['tokens'], r['loss']) for r in rows if 'loss' in r and r['loss'] > 0]
    val = [(r['tokens'], r['val_loss']) for r in rows if 'val_loss' in r and r['val_loss'] > 0]
    lrs = [(r['tokens'], r['lr']) for r in rows if 'lr' in r]
    iters = sorted({(r['tokens'], r['iter']) for r in rows if 'iter' in r and 'tokens' in r})
    if not train + val:
        return
    left, right, top, bottom = 60, 60, 30, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(t for t, _ in train + val) or 1
    lo, hi = min(v for _, v in train + val), max(v for _, v in train + val)
    lo, hi = lo / 1.05, hi * 1.05  # a little air above and below the curves
    lr_max = max((v for _, v in lrs), default=0) or 1

    def x(tokens):
        return left + plot_w * tokens / x_max

    def y(loss):
        return top + plot_h * (math.log(hi) - math.log(loss)) / (math.log(hi) - math.log(lo))

    def y_lr(lr):
        return top + plot_h * (1 - lr / lr_max)

    def polyline(name, series, colour, to_y, dash=''):
        pts = ' '.join(f"{x(t):.1f},{to_y(v):.1f}" for t, v in series)
        style = f' stroke-dasharray="{dash}"' if dash else ''
        return f'<polyline class="{name}" fill="none" stroke="{colour}" stroke-width="1.5"{style} points="{pts}"/>'

    base = top + plot_h
    parts = _svg_start(width, height)
    for v in log_ticks(lo, hi):  # horizontal grid lines at round losses, labelled on the left
        parts.append(f'<line class="grid" x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" stroke="#e5e5e5"/>'
                     f'<text class="y-tick" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    step = nice_step(x_max, 6)
    for k in range(0, int(x_max // step) + 1):  # vertical grid lines at round token counts, the iteration under each
        t = k * step
        it = _interpolate(iters, t)
        parts.append(f'<line class="grid" x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{base}" stroke="#e5e5e5"/>'
                     f'<text class="x-tick" x="{x(t):.1f}" y="{base + 16}" text-anchor="middle">{short_number(t)}</text>'
                     + (f'<text class="iter-tick" x="{x(t):.1f}" y="{base + 30}" text-anchor="middle" fill="#777">'
                        f'{it:,.0f}</text>' if it is not None else ''))
    parts += [f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="black"/>',
              f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="black"/>',
              f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">tokens seen '
              f'<tspan fill="#777">(iterations in grey)</tspan></text>',
              f'<text x="{left - 6}" y="{top - 12}" text-anchor="middle">loss (log)</text>']
    if lrs:
        parts += [polyline('lr', lrs, '#bbbbbb', y_lr, dash='5,3'),
                  f'<text x="{left + plot_w + 6}" y="{top + 4}" fill="#999">{lr_max:.1e}</text>',
                  f'<text x="{left + plot_w + 6}" y="{base + 4}" fill="#999">0</text>',
                  f'<text x="{width - 4}" y="{top - 12}" text-anchor="end" fill="#999">learning rate</text>']
    parts += [polyline('train', train, '#1f77b4', y), polyline('val', val, '#d62728', y),
              f'<text x="{left + plot_w - 8}" y="{top + 16}" text-anchor="end" fill="#1f77b4">train loss</text>',
              f'<text x="{left + plot_w - 8}" y="{top + 32}" text-anchor="end" fill="#d62728">val loss</text>']
    if val:
        t, v = min(val, key=lambda p: p[1])
        parts.append(f'<circle class="best" cx="{x(t):.1f}" cy="{y(v):.1f}" r="4" fill="none" stroke="#d62728" '
                     f'stroke-width="2"/><text x="{x(t):.1f}" y="{y(v) - 10:.1f}" text-anchor="middle" '
                     f'fill="#d62728">best val {v:.3f}</text>')
    write_atomic(svg_path, '\n'.join(parts + ['</svg>']))


def _interpolate(points, t):
    """The iteration at t tokens, read off the (tokens, iter) rows; None before the first or after the last."""
    for (t0, i0), (t1, i1) in zip(points, points[1:]):
        if t0 <= t <= t1:
            return i0 if t1 == t0 else i0 + (i1 - i0) * (t - t0) / (t1 - t0)
    return points[0][1] if points and points[0][0] == t else None


HISTOGRAM_COLOURS = ('#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2')


def write_histogram_svg(lengths_by_source, svg_path, limit=None, bins=30, width=640, height=360):
    """How many documents have each length (in tokens), one outlined series per source, with the limit
    beyond which documents are dropped as a dashed line: a small standalone SVG picture."""
    everything = [n for ns in lengths_by_source.values() for n in ns]
    if not everything:
        return
    show_limit = bool(limit) and limit <= 1.5 * max(everything)  # else it would squash the bars to the left
    top = max(max(everything), limit if show_limit else 0, 1)
    step = max(1, -(-top // bins))  # ceil: bins of whole tokens that cover the longest document
    counts = {s: [0] * bins for s in lengths_by_source}
    for s, ns in lengths_by_source.items():
        for n in ns:
            counts[s][min(bins - 1, n // step)] += 1
    y_max = max(max(c) for c in counts.values()) or 1
    pad, plot_w, plot_h = 50, width - 100, height - 100

    def x(tokens):
        return pad + plot_w * tokens / (step * bins)

    def y(count):
        return height - pad - plot_h * count / y_max

    parts = _svg_frame(width, height, pad, "document length in tokens", "documents")
    for k in range(0, bins + 1, 5):
        parts.append(f'<text x="{x(k * step):.1f}" y="{height - pad + 15}" text-anchor="middle">{k * step}</text>')
    for frac in (0.5, 1.0):
        parts.append(f'<text x="{pad - 5}" y="{y(y_max * frac) + 4:.1f}" text-anchor="end">{round(y_max * frac)}</text>')
    for i, (source, c) in enumerate(counts.items()):
        colour = HISTOGRAM_COLOURS[i % len(HISTOGRAM_COLOURS)]
        steps = ' '.join(f"{x(b * step):.1f},{y(n):.1f} {x((b + 1) * step):.1f},{y(n):.1f}" for b, n in enumerate(c))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{x(0):.1f},{y(0):.1f} {steps} {x(bins * step):.1f},{y(0):.1f}"/>')
        parts.append(f'<text x="{width - pad}" y="{pad + 16 * i}" text-anchor="end" fill="{colour}">'
                     f'{_xml(source)} ({len(lengths_by_source[source])})</text>')
    if show_limit:
        parts.append(f'<line x1="{x(limit):.1f}" y1="{pad}" x2="{x(limit):.1f}" y2="{height - pad}" stroke="#d62728" '
                     f'stroke-dasharray="4,3"/><text x="{x(limit) - 4:.1f}" y="{pad + 16 * len(counts) + 8}" text-anchor="end" '
                     f'fill="#d62728">max_tokens {limit}</text>')
    elif limit:
        parts.append(f'<text x="{width - pad}" y="{pad + 16 * len(counts) + 8}" text-anchor="end" fill="#d62728">'
                     f'max_tokens {limit}: beyond the longest document</text>')
    write_atomic(svg_path, '\n'.join(parts + ['</svg>']))


def _xml(text):
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
