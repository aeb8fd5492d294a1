"""The GPT-1 model: shapes, causality, attention math, cached generation, optimizer groups, presets."""
import json
import struct

import pytest
import torch

import hardware
import model as gpt
import optimizers
from model import GPT, GPTConfig


def tiny(norm_first=False, **kw):
    torch.manual_seed(0)
    args = dict(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32, dropout=0.0, norm_first=norm_first)
    args.update(kw)
    return GPT(GPTConfig(**args)).eval()


def test_forward_returns_logits_for_every_position_and_a_scalar_loss():
    m = tiny()
    idx = torch.randint(0, 64, (3, 10))
    logits, loss = m(idx, idx)
    assert logits.shape == (3, 10, 64)
    assert loss.dim() == 0 and abs(loss.item() - torch.log(torch.tensor(64.0)).item()) < 0.5


def test_loss_ignores_targets_marked_minus_one():
    m = tiny()
    idx = torch.randint(0, 64, (2, 8))
    targets = idx.clone()
    targets[:, :4] = -1
    logits, loss = m(idx, targets)
    expected = torch.nn.functional.cross_entropy(logits[:, 4:].reshape(-1, 64), idx[:, 4:].reshape(-1))
    assert torch.allclose(loss, expected, atol=1e-5)


def test_a_window_with_no_targets_has_zero_loss_and_no_gradient():
    m = tiny().train()
    idx = torch.randint(0, 64, (2, 8))
    _, loss = m(idx, torch.full_like(idx, -1))  # a window of problem text only: nothing to learn
    loss.backward()
    assert loss.item() == 0.0
    assert all(p.grad is None or not p.grad.any() for p in m.parameters())


@pytest.mark.parametrize('norm_first', [False, True])
def test_changing_a_later_token_never_changes_earlier_logits(norm_first):
    m = tiny(norm_first)
    a = torch.randint(0, 64, (1, 12))
    b = a.clone()
    b[0, 7:] = (b[0, 7:] + 1) % 64
    la, lb = m(a)[0], m(b)[0]
    assert torch.allclose(la[:, :7], lb[:, :7], atol=1e-5)
    assert not torch.allclose(la[:, 7:], lb[:, 7:])


@pytest.mark.parametrize('T,S', [(8, 8), (1, 9), (3, 11)])
def test_fast_attention_equals_the_reference_math(T, S):
    torch.manual_seed(1)
    q, k, v = torch.randn(2, 3, T, 8), torch.randn(2, 3, S, 8), torch.randn(2, 3, S, 8)
    mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
    fast = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(fast, gpt.attention_reference(q, k, v), atol=1e-5)


def test_model_attention_layer_matches_reference():
    m = tiny()
    attn = m.h[0].attn
    x = torch.randn(2, 10, 32)
    q, k, v = attn.c_attn(x).split(32, dim=2)
    q, k, v = (t.view(2, 10, 2, 16).transpose(1, 2) for t in (q, k, v))
    ref = attn.c_proj(gpt.attention_reference(q, k, v).transpose(1, 2).reshape(2, 10, 32))
    assert torch.allclose(attn(x), ref, atol=1e-5)


@pytest.mark.parametrize('norm_first', [False, True])
def test_cached_greedy_generation_matches_uncached(norm_first):
    m = tiny(norm_first)
    idx = torch.randint(0, 64, (2, 5))
    cached = m.generate(idx, 8, temperature=0, use_cache=True)
    plain = m.generate(idx, 8, temperature=0, use_cache=False)
    assert torch.equal(cached, plain)


def test_generation_slides_past_block_size_like_uncached():
    m = tiny()  # block_size 16: 40 new tokens slide the window many times
    idx = torch.randint(0, 64, (1, 10))
    cached = m.generate(idx, 40, temperature=0, use_cache=True)
    assert cached.shape == (1, 50)
    assert torch.equal(cached, m.generate(idx, 40, temperature=0, use_cache=False))


def test_stream_yields_the_tokens_generate_returns():
    m = tiny()
    idx = torch.randint(0, 64, (1, 4))
    streamed = [t.item() for t in m.generate_stream(idx, 6, temperature=0)]
    assert streamed == m.generate(idx, 6, temperature=0)[0, 4:].tolist()


def test_seeded_sampling_is_reproducible_and_seed_dependent():
    m = tiny()
    idx = torch.zeros((1, 1), dtype=torch.long)
    run = lambda s: m.generate(idx, 20, temperature=1.0, generator=torch.Generator().manual_seed(s)).tolist()
    assert run(1) == run(1)
    assert run(1) != run(2)


def test_stop_token_ends_the_sample():
    m = tiny()
    idx = torch.zeros((1, 1), dtype=torch.long)
    first = m.generate(idx, 1, temperature=0)[0, 1].item()
    out = m.generate(idx, 20, temperature=0, stop_tokens=(first,))
    assert out.shape == (1, 2)


def test_top_k_and_top_p_restrict_the_choices():
    logits = torch.tensor([[5.0, 4.0, 0.0, -1.0, -2.0]])
    gen = torch.Generator().manual_seed(0)
    picks_k = {gpt.sample_next_token(logits, 1.0, top_k=2, generator=gen).item() for _ in range(200)}
    assert picks_k == {0, 1}
    # softmax of the logits: about 0.72, 0.26, ...; top_p 0.5 keeps only the first
    picks_p = {gpt.sample_next_token(logits, 1.0, top_p=0.5, generator=gen).item() for _ in range(100)}
    assert picks_p == {0}


@pytest.mark.parametrize('muon_lr', [0.0, 0.02])  # AdamW alone, and Muon for the blocks' matrices
def test_tiny_model_overfits_one_batch(muon_lr):
    m = tiny().train()
    idx = torch.randint(0, 64, (4, 16))
    opt = optimizers.configure_optimizer(m, 0.0, 3e-3, (0.9, 0.999), 1e-8, 'cpu', muon_lr)
    for _ in range(150):
        _, loss = m(idx[:, :-1], idx[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1


def test_optimizer_decays_matrices_only_and_holds_every_parameter_once():
    m = tiny()
    opt = optimizers.configure_optimizer(m, 0.01, 1e-3, (0.9, 0.999), 1e-8, 'cpu')
    decay, no_decay = opt.param_groups
    assert decay['weight_decay'] == 0.01 and no_decay['weight_decay'] == 0.0
    assert all(p.dim() >= 2 for p in decay['params']) and all(p.dim() < 2 for p in no_decay['params'])
    assert len(decay['params']) + len(no_decay['params']) == len(list(m.parameters()))


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    m = tiny()
    opt = optimizers.configure_optimizer(m, 0.01, 1e-3, (0.9, 0.999), 1e-8, 'cpu', muon_lr=0.02)
    decay, no_decay, hidden = opt.param_groups
    blocks = {id(p) for n, p in m.named_parameters() if n.startswith('h.') and p.dim() == 2}
    assert {id(p) for p in hidden['params']} == blocks and hidden['muon'] and hidden['lr_ratio'] == pytest.approx(20)
    assert any(p is m.wte.weight for p in decay['params']) and not decay['muon']  # embeddings (and tied head)
    assert len(decay['params']) + len(no_decay['params']) + len(hidden['params']) == len(list(m.parameters()))


def test_orthogonalise_brings_every_singular_value_near_one():
    torch.manual_seed(0)
    for shape in [(96, 32), (32, 96), (32, 32)]:
        s = torch.linalg.svdvals(optimizers.orthogonalise(torch.randn(shape) * 1e-3).float())  # a gradient's scale
        assert s.min() > 0.5 and s.max() < 1.3, (shape, s)


def test_muon_step_moves_a_matrix_by_its_orthogonalised_momentum():
    w = torch.nn.Parameter(torch.zeros(8, 4))
    opt = optimizers.Muon([{'params': [w], 'muon': True}], lr=0.1, momentum=0.0)
    w.grad = torch.randn(8, 4)
    expected = -0.1 * (8 / 4) ** 0.5 * optimizers.orthogonalise(w.grad)
    opt.step()
    assert torch.allclose(w.detach(), expected, atol=1e-6)


def test_head_is_tied_and_post_ln_has_no_final_layernorm():
    m = tiny()
    assert m.lm_head.weight is m.wte.weight
    assert m.ln_f is None and tiny(norm_first=True).ln_f is not None


@pytest.mark.parametrize('name,millions', [('4M', 4), ('12M', 12), ('33M', 33), ('117M', 117)])
def test_presets_match_their_names(name, millions):
    with torch.device('meta'):  # count without allocating 117M parameters
        m = GPT(GPTConfig(**gpt.PRESETS[name]))
    assert round(m.num_params() / 1e6) == millions


def test_gpt1_preset_is_the_papers_shape():
    p = gpt.PRESETS['117M']
    assert (p['n_layer'], p['n_embd'], p['n_head'], p['block_size']) == (12, 768, 12, 512)


def test_safetensors_round_trip_in_the_standard_layout(tmp_path):
    m = tiny()
    path = str(tmp_path / 'model.safetensors')
    with open(path, 'wb') as f:
        gpt.save_safetensors(m.state_dict(), f, {'iter': 3})
    with open(path, 'rb') as f:  # read the layout the way other tools do
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
    assert header['wte.weight'] == {'dtype': 'F32', 'shape': [64, 32], 'data_offsets': header['wte.weight']['data_offsets']}
    assert 'lm_head.weight' not in header  # tied: stored once
    loaded = gpt.load_safetensors(path)
    for k, v in m.state_dict().items():
        if k != 'lm_head.weight':
            assert torch.equal(loaded[k], v)


def test_peak_flops_by_gpu_name(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda *a: 'NVIDIA H100 80GB HBM3')
    assert hardware.device_peak_flops('cuda', torch.bfloat16) == 989e12
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda *a: 'NVIDIA H100 PCIe')
    assert hardware.device_peak_flops('cuda', torch.bfloat16) == 756e12
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda *a: 'NVIDIA A100-SXM4-40GB')
    assert hardware.device_peak_flops('cuda', torch.bfloat16) == 312e12
    assert hardware.device_peak_flops('cpu', torch.float32, configured=1e12) == 1e12
    assert hardware.device_peak_flops('cpu', torch.float32) > 1e9  # measured


# --- LoRA: frozen weights, trained low-rank adapters, merged back into a plain GPT

def lora_tiny(rank=4, norm_first=False):
    m = tiny(norm_first=norm_first).train()
    trainable = gpt.add_lora(m, rank)
    return m, trainable


@pytest.mark.parametrize('rank', [1, 4])
def test_lora_trains_only_the_adapters_rank_times_in_plus_out_per_layer(rank):
    m, trainable = lora_tiny(rank)
    C, L = 32, 2
    per_block = rank * ((C + 3 * C) + (C + C) + (C + 4 * C) + (4 * C + C))  # c_attn, attn c_proj, c_fc, mlp c_proj
    assert trainable == L * per_block
    named = {n for n, p in m.named_parameters() if p.requires_grad}
    assert named == {f'h.{i}.{layer}.lora_{ab}' for i in range(L) for layer in gpt.LORA_LAYERS for ab in 'AB'}
    opt = optimizers.configure_optimizer(m, 0.01, 1e-3, (0.9, 0.999), 1e-8, 'cpu')
    assert sum(p.numel() for g in opt.param_groups for p in g['params']) == trainable


def test_adapters_start_as_no_change_to_the_model():
    x = torch.randint(0, 64, (2, 16))
    before = tiny()(x)[0]
    m, _ = lora_tiny()
    assert torch.equal(m.eval()(x)[0], before)  # B starts at zero


def test_a_lora_step_changes_only_the_adapters():
    m, _ = lora_tiny()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    opt = optimizers.configure_optimizer(m, 0.01, 1e-2, (0.9, 0.999), 1e-8, 'cpu')
    x = torch.randint(0, 64, (4, 16))
    for _ in range(2):
        m(x[:, :-1], x[:, 1:])[1].backward()
        opt.step()
        opt.zero_grad()
    changed = {k for k, v in m.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all('.lora_' in k for k in changed)
    assert {k for k in changed if k.endswith('lora_B')}  # B left zero, so the model has really changed


@pytest.mark.parametrize('norm_first', [False, True], ids=['post-LN', 'pre-LN'])
def test_merged_model_equals_the_unmerged_one(norm_first):
    m, _ = lora_tiny(norm_first=norm_first)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if '.lora_B' in name:
                p.normal_(0, 0.05)  # as after some training
    x = torch.randint(0, 64, (2, 16))
    m.eval()
    unmerged = m(x)[0]
    saved = gpt.merged_state_dict(m)
    plain = tiny(norm_first=norm_first)
    plain.load_state_dict(saved)  # strict: a plain GPT's tensors, no adapters
    gpt.merge_lora(m)
    assert not any('.lora_' in k for k in m.state_dict())
    assert all(p.requires_grad for p in m.parameters())
    assert (m(x)[0] - unmerged).abs().max().item() < 1e-5
    assert (plain(x)[0] - unmerged).abs().max().item() < 1e-5


def test_adapters_saved_beside_merged_weights_resume_as_they_were():
    m, _ = lora_tiny()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if '.lora_B' in name:
                p.normal_(0, 0.05)
    x = torch.randint(0, 64, (2, 16))
    out = m.eval()(x)[0]
    merged, adapters = gpt.merged_state_dict(m), gpt.lora_state_dict(m)
    again = tiny()
    again.load_state_dict(merged)
    gpt.add_lora(again, 4, adapters=adapters)
    assert all(torch.equal(again.state_dict()[k], v) for k, v in adapters.items())
    assert (again.eval()(x)[0] - out).abs().max().item() < 1e-5
