"""
How the GPT's weights are updated: AdamW with weight decay on matrices only (GPT-1's optimizer), or Muon
for the blocks' weight matrices with AdamW for the rest. train.py and bench.py build theirs here.
"""
import torch

from hardware import cpu_has_bf16_units


def configure_optimizer(model, weight_decay, learning_rate, betas, eps, device_type, muon_lr=0.0):
    """AdamW with decay on matrices only: biases, LayerNorm gains and nothing 1-D is decayed.
    muon_lr > 0: the blocks' weight matrices go to Muon at that rate instead (Muon below);
    embeddings, biases and gains stay on AdamW, as in Muon's own recipe."""
    hidden, decay, no_decay = [], [], []
    for name, p in model.named_parameters():  # the tied head comes once, as wte
        if p.requires_grad:
            (hidden if muon_lr > 0 and p.dim() == 2 and name.startswith('h.') else
             decay if p.dim() >= 2 else no_decay).append(p)
    groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
    if hidden:
        # lr_ratio: the schedule sets every group's lr to the AdamW rate; Muon's is this multiple of it
        groups.append({'params': hidden, 'weight_decay': 0.0, 'muon': True, 'lr_ratio': muon_lr / learning_rate})
        return Muon(groups, lr=learning_rate, betas=betas, eps=eps)
    fused = device_type == 'cuda'  # one kernel for all parameters instead of a loop over them
    return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, eps=eps, fused=fused)


def orthogonalise(G, steps=5):
    """The nearest semi-orthogonal matrix to G, roughly (U V^T of its SVD): Muon's quintic Newton-Schulz
    iteration, whose coefficients push every singular value towards 1 in few steps (KellerJordan/Muon).
    In bfloat16, where matrix units make it cheap, as Muon does on GPUs."""
    X = G.to(torch.bfloat16 if G.is_cuda or cpu_has_bf16_units() else torch.float32)
    tall = G.size(0) > G.size(1)
    X = X.T if tall else X  # iterate on the smaller Gram matrix
    X = X / (X.norm() + 1e-7)  # singular values <= 1, where the iteration converges
    for _ in range(steps):
        A = X @ X.T
        X = 3.4445 * X + (-4.7750 * A + 2.0315 * A @ A) @ X
    return (X.T if tall else X).to(G.dtype)


class Muon(torch.optim.Optimizer):
    """Muon (Jordan et al. 2024) for the groups marked 'muon', AdamW for the rest. A Muon step takes the
    gradient's Nesterov momentum and replaces it by its orthogonalised matrix, so every direction of the
    update moves at the same rate; modded-nanogpt measured 1.5x fewer steps than AdamW at GPT-2 small.
    The AdamW update is written out here (as in Muon's own MuonWithAuxAdam) so that one optimizer holds every
    parameter: train.py's clipping, grad scaler, checkpoint and resume see a single state."""

    def __init__(self, groups, lr, betas=(0.9, 0.999), eps=1e-8, momentum=0.95):
        super().__init__(groups, dict(lr=lr, betas=betas, eps=eps, momentum=momentum, weight_decay=0.0,
                                      muon=False, lr_ratio=1.0))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, wd = group['lr'] * group['lr_ratio'], group['weight_decay']
            for p in (p for p in group['params'] if p.grad is not None):
                state, g = self.state[p], p.grad
                if group['muon']:
                    if 'momentum' not in state:
                        state['momentum'] = torch.zeros_like(p)
                    buf = state['momentum']
                    buf.lerp_(g, 1 - group['momentum'])
                    update = orthogonalise(g.lerp(buf, group['momentum']))
                    p.add_(update, alpha=-lr * max(1, p.size(0) / p.size(1)) ** 0.5)  # same RMS for tall matrices
                    continue
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                (b1, b2), state['step'] = group['betas'], state['step'] + 1
                state['m'].lerp_(g, 1 - b1)
                state['v'].lerp_(g * g, 1 - b2)
                m_hat = state['m'] / (1 - b1 ** state['step'])
                v_hat = state['v'] / (1 - b2 ** state['step'])
                p.mul_(1 - lr * wd).addcdiv_(m_hat, v_hat.sqrt_().add_(group['eps']), value=-lr)
