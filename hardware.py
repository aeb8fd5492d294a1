"""
The machine a run uses: which device, whether its CPU has bf16 matrix units, its real peak FLOP/s for model
FLOPs utilisation (MFU), and about how much memory a training process will take.
"""
import functools
import time

import torch

# Dense bf16 tensor-core peaks from the vendors' data sheets, FLOP/s (no sparsity).
GPU_BF16_PEAK_FLOPS = {
    'H200': 989e12, 'H100 NVL': 835e12, 'H100 PCIe': 756e12, 'H100': 989e12,  # plain 'H100 80GB HBM3' is SXM
    'GH200': 989e12, 'B200': 2250e12, 'A100': 312e12, 'A800': 312e12, 'L40S': 362e12, 'L40': 181e12,
    'L4': 121e12, 'A10G': 70e12, 'A10': 125e12, 'RTX 4090': 165e12, 'RTX 3090': 71e12,
    'RTX A6000': 155e12, 'V100': 125e12, 'T4': 65e12,
}
_measured_cpu_peak = {}


def pick_device(name):
    """'auto' picks cuda, then mps, then cpu; a named device must exist here."""
    if name == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
    if name == 'cuda' and not torch.cuda.is_available() or name == 'mps' and not torch.backends.mps.is_available():
        raise ValueError(f"device '{name}' asked for but this machine has none that torch can use; use --device=cpu")
    return name


@functools.lru_cache(maxsize=None)  # read once: Muon asks for every matrix at every step
def cpu_has_bf16_units():
    """True on CPUs with native bf16 matrix instructions (Intel AMX, AVX512-BF16), where bf16 pays."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return 'amx_bf16' in flags or 'avx512_bf16' in flags


def device_peak_flops(device_type, dtype, configured=0.0):
    """Peak FLOP/s of the device this process runs on. GPUs by name; a CPU measured once with a large
    matmul in the training dtype (or taken from `configured`). 0 when unknown."""
    if configured:
        return configured
    if device_type == 'cuda':
        name = torch.cuda.get_device_name()
        for key in sorted(GPU_BF16_PEAK_FLOPS, key=len, reverse=True):  # 'H100 PCIe' before 'H100'
            if key in name:
                peak = GPU_BF16_PEAK_FLOPS[key]
                return peak if dtype in (torch.bfloat16, torch.float16) else peak / 2  # tf32 rate
        return 0.0
    if device_type == 'cpu':
        if dtype not in _measured_cpu_peak:  # best of several short runs: a busy moment only lowers a run
            a = torch.randn(1024, 1024, dtype=dtype)
            b = torch.randn(1024, 1024, dtype=dtype)
            a @ b
            best = 0.0
            for _ in range(5):
                t0, n = time.perf_counter(), 0
                while time.perf_counter() - t0 < 0.1:
                    a @ b
                    n += 1
                best = max(best, 2 * 1024 ** 3 * n / (time.perf_counter() - t0))
            _measured_cpu_peak[dtype] = best
        return _measured_cpu_peak[dtype]
    return 0.0


def training_memory_bytes(config, batch_size):
    """About how much memory a training process takes at its peak: the Python and torch runtime, weights,
    gradients and AdamW's two moments (16 bytes a parameter), and the activations kept for the backward pass
    of one micro-batch. Activations per layer are ~20 values per token and channel, plus ~5 per attention
    score where dropout makes attention keep its T x T weights; the logits' three vocab-wide copies come on
    top. Fitted to the peak resident memory of bench.py's float32 CPU runs (12M: batch 1, 8 and 32, dropout
    0 and 0.1; 33M: batch 8), where it is within 10% (and above, for 33M with dropout)."""
    L, H, C, T, V = config.n_layer, config.n_head, config.n_embd, config.block_size, config.vocab_size
    n_params = 12 * L * C * C + (V + T) * C
    per_sequence = 4 * (20 * L * T * C + (5 * L * H * T * T if config.dropout > 0 else 0) + 3 * T * V)
    return 350 * 2**20 + 16 * n_params + batch_size * per_sequence
