"""
What train.py shows and records while it runs: the live progress line, out_dir/metrics.jsonl, and
out_dir/loss.svg (drawn by hand, so no plotting package is needed).
"""
import json
import sys
import time

from common import write_atomic


def format_duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """One live line on a terminal, plain lines otherwise; every record also goes to metrics.jsonl."""

    def __init__(self, metrics_path, max_iters, start_iter=0, enabled=True):
        self.enabled, self.max_iters, self.start_iter = enabled, max_iters, start_iter
        self.live = enabled and sys.stdout.isatty()
        self.t0 = time.time()
        self.file = open(metrics_path, 'a') if enabled else None
        self.line_open = False

    def record(self, row):
        self.file.write(json.dumps(row) + '\n')
        self.file.flush()  # a crash keeps every line written so far

    def step(self, it, tokens, epoch, loss, lr, tokens_per_s, mfu):
        if not self.enabled:
            return
        self.record({'iter': it, 'tokens': tokens, 'epoch': round(epoch, 4), 'loss': round(loss, 5), 'lr': lr,
                     'tokens_per_s': round(tokens_per_s, 1), 'mfu': round(mfu, 4), 'time_s': round(time.time() - self.t0, 2)})
        elapsed = time.time() - self.t0
        done = (it - self.start_iter) / max(1, self.max_iters - self.start_iter)
        eta = elapsed / done * (1 - done) if done > 0 else 0
        width = 20
        bar = '#' * int(width * it / max(1, self.max_iters))
        text = (f"{format_duration(elapsed):>6} [{bar:<{width}}] {it}/{self.max_iters} ep {epoch:.2f} loss {loss:.4f} "
                f"lr {lr:.2e} {tokens_per_s:,.0f} tok/s mfu {mfu * 100:.1f}% eta {format_duration(eta)}")
        if self.live:
            sys.stdout.write('\r' + text + ' ' * 4)
            sys.stdout.flush()
            self.line_open = True
        else:
            print(text, flush=True)

    def eval(self, it, tokens, losses):
        if not self.enabled:
            return
        self.record({'iter': it, 'tokens': tokens, 'train_loss': round(losses['train'], 5),
                     'val_loss': round(losses['val'], 5), 'time_s': round(time.time() - self.t0, 2)})
        self.newline()
        print(f"eval at {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}", flush=True)

    def newline(self):
        if self.line_open:
            print()
            self.line_open = False

    def close(self):
        if self.enabled:
            self.newline()
            self.file.close()


def _svg_frame(width, height, pad, x_label, y_label):
    """The start of a chart: the picture, a white ground, both axes and their labels."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
            f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">{_xml(x_label)}</text>',
            f'<text x="5" y="{pad - 10}">{_xml(y_label)}</text>']


def write_loss_svg(metrics_path, svg_path, width=640, height=360):
    """Train and val loss against tokens seen, as a small standalone SVG picture."""
    train, val = [], []
    with open(metrics_path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            if 'loss' in row:
                train.append((row['tokens'], row['loss']))
            if 'val_loss' in row:
                val.append((row['tokens'], row['val_loss']))
    points = train + val
    if not points:
        return
    pad = 50
    x_max = max(p[0] for p in points) or 1
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    y_hi = y_hi if y_hi > y_lo else y_lo + 1

    def xy(p):
        return (pad + (width - 2 * pad) * p[0] / x_max, height - pad - (height - 2 * pad) * (p[1] - y_lo) / (y_hi - y_lo))

    def polyline(series, colour):
        pts = ' '.join(f"{x:.1f},{y:.1f}" for x, y in map(xy, series))
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}"/>'

    parts = _svg_frame(width, height, pad, f"tokens seen ({x_max:,} max)", f"loss {y_hi:.2f}") + [
             f'<text x="5" y="{height - pad}">{y_lo:.2f}</text>', polyline(train, '#1f77b4'), polyline(val, '#d62728'),
             f'<text x="{width - pad - 90}" y="{pad}" fill="#1f77b4">train loss</text>',
             f'<text x="{width - pad - 90}" y="{pad + 16}" fill="#d62728">val loss</text>', '</svg>']
    write_atomic(svg_path, '\n'.join(parts))


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
