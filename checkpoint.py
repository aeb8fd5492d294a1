"""
ckpt.pt: written whole, and resumed only into the run that wrote it.

A checkpoint holds the model and optimizer, the loop position and RNG states (train.py fills it), the
settings with any URL credentials removed, and what the run trained on: the data settings and a
fingerprint of the token files and tokenizer. Resuming checks all of them first, so a changed prompt or
model shape is one line, not a run that silently continues on other token ids.
"""
import os
import shutil

import torch

import token_files
from common import UserError, without_credentials, write_atomic

# the settings a resumed run cannot change: they are the shape of the weights it loads
SHAPE_KEYS = ('n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'norm_first')


def public(value):
    """value (a setting, or a dict of them) with the credentials of any URL in it removed, for files."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items()}
    return without_credentials(value) if isinstance(value, str) else value


def save_checkpoint(path, state):
    """Temp file, then rename (write_atomic): a crash or a full disk mid-save leaves the previous checkpoint whole."""
    try:
        write_atomic(path, lambda f: torch.save(state, f))
    except RuntimeError as e:  # torch's zip writer reports a failed write (a full disk) as 'unexpected pos ...'
        free_mb = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free / 1e6
        raise UserError(f"could not write {path} ({str(e).splitlines()[0][:80]}; {free_mb:,.0f} MB free on its "
                        f"disk); the previous checkpoint is intact: free some space and run the same command with "
                        f"--init_from=resume") from None


SAME_RUN = "resume with the settings it was trained with (the same config and flags), or train into another --out_dir"


def load_resume_checkpoint(cfg, device, data_settings):
    """out_dir/ckpt.pt, refused in one line when it is damaged, or when the settings given would continue it
    as another model (SHAPE_KEYS) or on other data (data_settings: data.data_settings of the settings given)."""
    path = os.path.join(cfg['out_dir'], 'ckpt.pt')
    if not os.path.exists(path):
        raise UserError(f"init_from='resume' but {path} does not exist; use init_from='scratch'")
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
        saved_args = ckpt['model_args']
    except Exception as e:
        raise UserError(f"{path} is damaged ({type(e).__name__}); delete it and use init_from='scratch' "
                        f"(model.safetensors, if there, still holds the best weights for sample.py)") from None
    for k in SHAPE_KEYS:
        if k in saved_args and saved_args[k] != cfg[k]:
            raise UserError(f"{path} is a model with {k}={saved_args[k]!r}, but the settings say {k}={cfg[k]!r}; "
                            f"{SAME_RUN}")
    trained_with = ckpt.get('config', {}).get('optimizer', 'adamw')
    if trained_with != cfg['optimizer']:  # their states hold different things (Muon keeps one moment, AdamW two)
        raise UserError(f"{path} was trained with optimizer={trained_with!r}, but the settings say "
                        f"optimizer={cfg['optimizer']!r}; {SAME_RUN}")
    saved, now = ckpt.get('data_settings'), public(data_settings)
    if saved is not None and not cfg['dataset_dir']:  # a prepared dataset_dir is checked by its fingerprint
        changed = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
        if changed:
            k = changed[0]
            what = (f"the files named by {k.removesuffix('_changed')} changed since" if k.endswith('_changed')
                    else f"the settings say {k}={now.get(k)!r}, but it was trained with {k}={saved.get(k)!r}")
            raise UserError(f"{path} was trained on other data: {what}; {SAME_RUN}")
    return ckpt


def check_resume_data(ckpt, cfg, dataset_dir, meta):
    """The token files and tokenizer a resumed run reads are the ones its checkpoint was trained on."""
    path = os.path.join(cfg['out_dir'], 'ckpt.pt')
    if meta['vocab_size'] != ckpt['model_args']['vocab_size']:
        raise UserError(f"{path} has a vocabulary of {ckpt['model_args']['vocab_size']:,} tokens, but {dataset_dir} "
                        f"has {meta['vocab_size']:,}; {SAME_RUN}")
    saved = ckpt.get('data_fingerprint')
    if saved is not None and saved != token_files.fingerprint(dataset_dir):
        raise UserError(f"the token files or tokenizer in {dataset_dir} are not the ones {path} was trained on; "
                        f"{SAME_RUN}")
