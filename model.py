"""
GPT-1 (Radford et al. 2018, "Improving Language Understanding by Generative Pre-Training"), by hand.

Read top to bottom: config and presets, attention (fast path and the reference math), the block, the
model with its key/value-cache generation, LoRA adapters for fine-tuning, and a small safetensors writer
and reader. The optimizers are in optimizers.py, the device and its peak in hardware.py.
"""
import json
import math
import os
import struct
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    block_size: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.1  # GPT-1 used 0.1 on embeddings, attention and residuals
    bias: bool = True
    norm_first: bool = False  # False: GPT-1's post-LayerNorm. True: GPT-2's pre-LayerNorm + final LayerNorm


# Shapes by the names the product uses. Each rounds honestly to its name with its default tokenizer
# (a byte-level BPE of vocab_size tokens trained on the run's data); see test_presets_match_their_names.
# '117M' is GPT-1 itself: 12 layers, 768 wide, 12 heads, context 512 and its 40,478-token BPE. '4M', the
# default, trains ~2.5x the 12M's tokens per second on a CPU, which won in 15 minutes (README, Presets).
PRESETS = {
    '4M': dict(n_layer=4, n_head=4, n_embd=256, block_size=256, vocab_size=4096),
    '12M': dict(n_layer=6, n_head=6, n_embd=384, block_size=256, vocab_size=4096),
    '33M': dict(n_layer=9, n_head=8, n_embd=512, block_size=512, vocab_size=8192),
    '117M': dict(n_layer=12, n_head=12, n_embd=768, block_size=512, vocab_size=40478),
}

# -----------------------------------------------------------------------------
# Attention


def attention_reference(q, k, v):
    """Masked softmax attention written out, the specification the fast path is tested against.
    q is (B, nh, T, hs); k, v are (B, nh, S, hs) with S >= T, the last T keys aligned with the queries."""
    T, S = q.size(-2), k.size(-2)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(diagonal=S - T)
    att = att.masked_fill(~mask, float('-inf'))
    return F.softmax(att, dim=-1) @ v


class KVCache:
    """Preallocated keys and values for every layer, so generation feeds one new token per step."""

    def __init__(self, config, batch_size, device, dtype):
        hs = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, config.block_size, hs)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.pos = 0  # how many positions are filled


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x, cache=None, layer=0):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        mask, causal = None, True
        if cache is not None:
            start = cache.pos
            cache.k[layer, :, :, start:start + T] = k
            cache.v[layer, :, :, start:start + T] = v
            k, v = cache.k[layer, :, :, :start + T], cache.v[layer, :, :, :start + T]
            if start > 0:  # queries sit at the end of the keys: a plain causal mask would be misaligned
                causal = False
                if T > 1:
                    mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(diagonal=start)
        # flash / memory-efficient kernels where the device has them
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        # GPT-1 used the GELU with the tanh approximation (as in its released code)
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate='tanh')))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.norm_first = config.norm_first
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None, layer=0):
        if self.norm_first:  # GPT-2: normalise the branch input, keep the residual stream raw
            x = x + self.attn(self.ln_1(x), cache, layer)
            return x + self.mlp(self.ln_2(x))
        # GPT-1 (paper section 3.1, after the original Transformer): residual add, then LayerNorm
        x = self.ln_1(x + self.attn(x, cache, layer))
        return self.ln_2(x + self.mlp(x))


# -----------------------------------------------------------------------------
# The model


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)  # learned positions, as in GPT-1
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        # post-LN blocks already end normalised; pre-LN needs a last LayerNorm before the head
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias) if config.norm_first else None
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied input and output embeddings
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)  # GPT-1: N(0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            torch.nn.init.zeros_(module.bias)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())  # parameters() yields the tied matrix once

    def forward(self, idx, targets=None, cache=None):
        B, T = idx.size()
        start = cache.pos if cache is not None else 0
        assert start + T <= self.config.block_size, f"sequence of {start + T} > block_size {self.config.block_size}"
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for i, block in enumerate(self.h):
            x = block(x, cache, i)
        if cache is not None:
            cache.pos += T
        if self.ln_f is not None:
            x = self.ln_f(x)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:  # -1 marks positions that carry no loss (e.g. prompt tokens)
            flat = targets.reshape(-1)
            # the mean over the targets there are; a window of prompt tokens only has none and gives 0, not NaN
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), flat, ignore_index=-1,
                                   reduction='sum') / (flat != -1).sum().clamp(min=1)
        return logits, loss

    # -------------------------------------------------------------------------
    # Generation

    @torch.no_grad()
    def generate_stream(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                        use_cache=True, generator=None, stop_tokens=()):
        """Yield the next token of each row, a (B,) tensor per step. temperature 0 means greedy.
        With the cache the prompt is processed once, then one token per step. Learned absolute positions
        shift when the context slides past block_size, so from then on each step re-encodes the last
        block_size tokens: the output always equals the uncached one."""
        was_training = self.training
        self.eval()
        bs = self.config.block_size
        stop = torch.tensor(list(stop_tokens), device=idx.device, dtype=torch.long)
        done = torch.zeros(idx.size(0), dtype=torch.bool, device=idx.device)
        cache, feed = None, idx[:, -bs:]
        try:
            for _ in range(max_new_tokens):
                if use_cache and (cache is None or cache.pos + feed.size(1) > bs):
                    cache = KVCache(self.config, idx.size(0), idx.device, self.wte.weight.dtype)
                    feed = idx[:, -bs:]
                logits, _ = self(feed if use_cache else idx[:, -bs:], cache=cache if use_cache else None)
                next_token = sample_next_token(logits[:, -1, :], temperature, top_k, top_p, generator)
                idx = torch.cat((idx, next_token[:, None]), dim=1)
                feed = next_token[:, None]
                yield next_token
                if len(stop_tokens):
                    done |= torch.isin(next_token, stop)
                    if bool(done.all()):
                        return
        finally:
            self.train(was_training)

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, use_cache=True,
                 generator=None, stop_tokens=()):
        """Return idx (B, T) extended by up to max_new_tokens sampled tokens."""
        new = list(self.generate_stream(idx, max_new_tokens, temperature, top_k, top_p, use_cache,
                                        generator, stop_tokens))
        return torch.cat([idx] + [t[:, None] for t in new], dim=1)

    def flops_per_token(self):
        """Training FLOPs per token: 6 per weight (forward + backward) plus attention (PaLM, appendix B)."""
        c = self.config
        n = self.num_params() - self.wpe.weight.numel()
        return 6 * n + 12 * c.n_layer * c.n_embd * c.block_size


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Pick one token per row from (B, V) logits: greedy at temperature 0, else top-k / nucleus sampling."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float('-inf'))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cum = F.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cum - F.softmax(sorted_logits, dim=-1) > top_p  # keep the smallest set reaching top_p
        logits = logits.scatter(1, order, sorted_logits.masked_fill(drop, float('-inf')))
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


# -----------------------------------------------------------------------------
# LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): every weight frozen, and each
# attention and MLP projection W learns only a low-rank update, W x + (B A x) * alpha / rank. B starts at
# zero, so training starts from the model exactly as it was; merged, B A is folded into W and the model is a
# plain GPT again, which is what train.py saves.

LORA_LAYERS = ('attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj')


def lora_layers(model):
    """{name: nn.Linear} of the layers that take adapters, in every block."""
    return {name: m for name, m in model.named_modules() if name.endswith(LORA_LAYERS)}


def _lora_forward(layer, args, output):
    return output + F.linear(F.linear(args[0], layer.lora_A), layer.lora_B) * layer.lora_scale


def add_lora(model, rank, alpha=0.0, adapters=None):
    """Freeze model and give each of its LORA_LAYERS a rank-`rank` adapter: A (rank x in) random as in the
    paper's code (loralib: Kaiming-uniform), B (out x rank) zeros; scale alpha / rank, alpha 0 meaning 2 * rank.
    adapters: a checkpoint's A and B (lora_state_dict), whose product its weights were saved merged with, so it
    is taken back out. Returns the number of trainable parameters: rank * (in + out) per layer."""
    model.requires_grad_(False)
    saved = adapters or {}
    for name, layer in lora_layers(model).items():
        w = layer.weight
        layer.lora_A = nn.Parameter(torch.empty(rank, layer.in_features, device=w.device, dtype=w.dtype))
        layer.lora_B = nn.Parameter(torch.zeros(layer.out_features, rank, device=w.device, dtype=w.dtype))
        nn.init.kaiming_uniform_(layer.lora_A, a=math.sqrt(5))
        layer.lora_scale = (alpha or 2 * rank) / rank
        layer.lora_hook = layer.register_forward_hook(_lora_forward)
        if name + '.lora_A' in saved:
            with torch.no_grad():
                layer.lora_A.copy_(saved[name + '.lora_A'])
                layer.lora_B.copy_(saved[name + '.lora_B'])
                w -= layer.lora_B @ layer.lora_A * layer.lora_scale
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def lora_state_dict(model):
    """The adapters alone, by name: what a checkpoint keeps to resume them."""
    return {k: v for k, v in model.state_dict().items() if '.lora_' in k}


@torch.no_grad()
def merged_state_dict(model):
    """model.state_dict() with each adapter folded into its weight and left out: a plain GPT's tensors,
    what train.py saves while the adapters go on training."""
    state = {k: v for k, v in model.state_dict().items() if '.lora_' not in k}
    for name, layer in lora_layers(model).items():
        if hasattr(layer, 'lora_A'):
            state[name + '.weight'] = layer.weight + layer.lora_B @ layer.lora_A * layer.lora_scale
    return state


@torch.no_grad()
def merge_lora(model):
    """Fold every adapter into its weight and remove it: model is a plain, trainable GPT again."""
    for layer in lora_layers(model).values():
        if hasattr(layer, 'lora_A'):
            layer.weight += layer.lora_B @ layer.lora_A * layer.lora_scale
            layer.lora_hook.remove()
            del layer.lora_A, layer.lora_B, layer.lora_scale, layer.lora_hook
    return model.requires_grad_(True)


# -----------------------------------------------------------------------------
# safetensors: 8-byte header length, a JSON header of name -> dtype/shape/offsets, then raw bytes
# (https://github.com/huggingface/safetensors#format). Written here to keep the dependencies at four.

_ST_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64',
              torch.uint8: 'U8', torch.bool: 'BOOL'}  # the last two: masks some Hugging Face files hold


def save_safetensors(state_dict, f, metadata=None):
    """Write the tensors to the open binary file f (train.py passes a temp file that is then renamed)."""
    header, chunks, offset, seen = {}, [], 0, set()
    for name, t in state_dict.items():
        if t.data_ptr() in seen:  # tied weights are stored once, as safetensors requires
            continue
        seen.add(t.data_ptr())
        raw = t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
        header[name] = {'dtype': _ST_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)  # keep the data 8-byte aligned
    f.write(struct.pack('<Q', len(head)))
    f.write(head)
    for raw in chunks:
        f.write(raw)


def load_safetensors(path):
    """Read a safetensors file into a dict of tensors (no pickle involved). A header that does not describe
    its data exactly (offsets past the end, overlapping, or not the tensor's size) raises ValueError naming
    the tensor: loading it anyway would give garbage weights that only fail at sampling."""
    with open(path, 'rb') as f:
        raw = f.read(8)
        n = struct.unpack('<Q', raw)[0] if len(raw) == 8 else -1
        if not 0 < n <= os.fstat(f.fileno()).st_size - 8:
            raise ValueError(f"{path}: its header length ({n}) does not fit in the file; it is cut short or not safetensors")
        header = json.loads(f.read(n))
        data = f.read()
    header.pop('__metadata__', None)
    by_code = {v: k for k, v in _ST_DTYPES.items()}
    out, spans = {}, []
    for name, info in header.items():
        try:
            dtype, shape, (lo, hi) = by_code[info['dtype']], [int(d) for d in info['shape']], info['data_offsets']
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: tensor {name!r} has a malformed entry ({str(info)[:80]})") from None
        numel = math.prod(shape)
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= len(data)
                and min(shape, default=0) >= 0 and hi - lo == numel * dtype.itemsize):
            raise ValueError(f"{path}: tensor {name!r} ({info['dtype']} {shape}) has data_offsets [{lo}, {hi}] that do "
                             f"not cover it within the {len(data):,} bytes of data; the file is damaged")
        spans.append((lo, hi, name))
        buf = bytearray(data[lo:hi])
        out[name] = torch.frombuffer(buf, dtype=torch.uint8).view(dtype).reshape(shape).clone() \
            if hi > lo else torch.empty(shape, dtype=dtype)
    spans.sort()
    for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"{path}: tensors {first!r} and {second!r} overlap in the data; the file is damaged")
    return out
