"""
Where a run's weights come from: its own ckpt.pt (init_from='resume'), or a model it starts from.

ckpt.pt is written whole, and resumed only into the run that wrote it. It holds the model (LoRA adapters
merged in, and kept apart to resume them) and optimizer, the loop position and RNG states (train.py fills
it), the settings with any URL credentials removed, and what the run trained on: the data settings and a
fingerprint of the token files and tokenizer. Resuming checks all of them first, so a changed prompt or
model shape is one line, not a run that silently continues on other token ids.

A start model (init_from=FOLDER, a folder this product trained, or 'hf:PATH', a Hugging Face GPT-2 or GPT-1
folder; huggingface.py reads those) gives a new run its shape, its tokenizer and its weights; the run
writes a folder of its own.
"""
import json
import os
import shutil

import torch

import model as gpt
import token_files
from common import UserError, without_credentials, write_atomic
from huggingface import hf_start_folder, hf_weights_file, load_hf_weights, read_hf_tokenizer
from tokenizer import EOT, load_tokenizer, tokenizer_json, with_specials

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
    # the optimizer's state and the adapters the checkpoint holds (ckpt['lora']) are of these settings
    for k, default in (('optimizer', 'adamw'), ('lora_rank', 0), ('lora_alpha', 0)):
        was = ckpt.get('config', {}).get(k, default)
        if was != cfg[k]:
            raise UserError(f"{path} was trained with {k}={was!r}, but the settings say {k}={cfg[k]!r}; {SAME_RUN}")
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


# -----------------------------------------------------------------------------
# Starting from a model

START_FORMS = "'scratch', 'resume', a folder this product trained, or 'hf:PATH' / 'hf:MODEL_ID' (a Hugging Face folder)"
START_SHAPE_KEYS = SHAPE_KEYS + ('vocab_size',)


def read_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def read_start_model(init_from, out_dir):
    """What a run starts from, before its weights are read: {'spec': init_from, 'model_args': its shape,
    'size': the size it was trained as (None: the settings choose by its parameters), 'tokenizer': its kind};
    None from scratch. A resumed run starts from what its own config.json says it started from."""
    if init_from == 'scratch':
        return None
    if init_from == 'resume':  # the settings it ran with: the start's shape, its context as cut, its own vocabulary
        try:
            c = read_json(os.path.join(out_dir, 'config.json'))['config'] if out_dir else {}
            return {'spec': c['start_from'], 'model_args': {k: c[k] for k in START_SHAPE_KEYS}, 'size': c['size'],
                    'tokenizer': c['tokenizer']} if c.get('start_from') else None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a run from scratch, or a folder load_resume_checkpoint refuses in its own words
    if init_from.startswith('hf:'):
        folder, args = hf_start_folder(init_from[3:])
        hf_weights_file(folder)  # refused now, before the data step, when there are no weights to start from
        enc = read_hf_tokenizer(folder, args['norm_first'])
        added = 1 if enc.name == 'gpt1' and enc.eot_token == args['vocab_size'] else 0  # the <|endoftext|> GPT-1 lacked
        check_vocab_agrees(init_from, args['vocab_size'], enc.n_vocab - added)
        return {'spec': init_from, 'model_args': args, 'size': None, 'tokenizer': tokenizer_kind(enc)}
    if not os.path.isdir(init_from):
        raise UserError(f"init_from={init_from!r} is no folder here (train a model into it first: --out_dir="
                        f"{init_from}); init_from takes {START_FORMS}")
    try:
        saved = read_json(os.path.join(init_from, 'config.json'))
        args, c = {k: saved['model_args'][k] for k in START_SHAPE_KEYS}, saved['config']
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"init_from={init_from!r} has no config.json this product wrote, so it is not a folder it "
                        f"trained (a Hugging Face model folder is init_from='hf:{init_from}')") from None
    if not any(os.path.isfile(os.path.join(init_from, n)) for n in ('model.safetensors', 'ckpt.pt')):
        raise UserError(f"init_from={init_from!r} has no model.safetensors or ckpt.pt: train a model there first")
    check_vocab_agrees(init_from, args['vocab_size'], load_tokenizer(os.path.join(init_from, 'tokenizer.json')).n_vocab)
    return {'spec': init_from, 'model_args': args, 'size': c.get('size'), 'tokenizer': c.get('tokenizer', 'bpe')}


def tokenizer_kind(enc):
    """'gpt2', 'gpt1' or 'bpe' (a BPE trained here), as the tokenizer setting names tokenizers."""
    return 'gpt2' if enc.name.startswith('gpt2') else 'gpt1' if enc.name == 'gpt1' else 'bpe'


def check_vocab_agrees(spec, model_vocab, tokenizer_vocab):
    if model_vocab != tokenizer_vocab:
        raise UserError(f"init_from={spec!r}: the model has {model_vocab:,} token rows but its tokenizer "
                        f"{tokenizer_vocab:,} tokens; a run needs the two to agree")


def start_tokenizer(spec, specials=()):
    """The tokenizer a run started from spec writes its data with: the start model's own, no new BPE. A
    Hugging Face model's grows by the special tokens the data need (load_start_weights grows the token table
    with it); a trained folder's cannot, because continuing a folder keeps its vocabulary."""
    if spec.startswith('hf:'):
        folder, args = hf_start_folder(spec[3:])
        return with_specials(read_hf_tokenizer(folder, args['norm_first']), specials)
    enc = load_tokenizer(os.path.join(spec, 'tokenizer.json'))
    missing = [name for name in specials if name not in enc._special_tokens]
    if missing:
        raise UserError(f"init_from={spec!r} has no {missing[0]} token, which this data needs (chat roles, "
                        f"fill-in-the-middle marks), and continuing a folder keeps its vocabulary; start from a "
                        f"model trained on such sources, from 'hf:...', or from scratch")
    return enc


def check_start_tokenizer(spec, enc, dataset_dir):
    """A prepared dataset_dir must be in the start model's tokens: its very tokenizer, or a Hugging Face
    model's grown by special tokens (start_tokenizer); other ids would mean other text to the model."""
    extra = [name for name in sorted(enc._special_tokens, key=enc._special_tokens.get) if name != EOT]
    want = start_tokenizer(spec, extra if spec.startswith('hf:') else ())
    if tokenizer_json(want) != tokenizer_json(enc):
        raise UserError(f"{dataset_dir} was written with another tokenizer ({enc.n_vocab:,} tokens) than "
                        f"init_from={spec!r} reads ({want.n_vocab:,}); write the data with the start model's: "
                        f"python data.py YOUR_CONFIG --init_from={spec} --dataset_dir=NEW_FOLDER")


def trained_folder_weights(folder):
    """A trained folder's best weights (model.safetensors), else its latest (ckpt.pt, tensors only)."""
    st = os.path.join(folder, 'model.safetensors')
    try:
        if os.path.isfile(st):
            return gpt.load_safetensors(st)
        return torch.load(os.path.join(folder, 'ckpt.pt'), map_location='cpu', weights_only=True)['model']
    except Exception as e:
        raise UserError(f"could not read the weights in {folder} ({type(e).__name__}); train it again") from None


def load_start_weights(model, spec):
    """Put the start model's weights into model, built with its shape: the position table cut to block_size
    (a shorter context, as nanoGPT's crop_block_size), the token table grown by one row per token the run's
    tokenizer adds (an <|endoftext|> GPT-1 never had, chat marks), each the mean of the rows there are, so a
    new token starts as an average one rather than as noise."""
    if spec.startswith('hf:'):
        folder, args = hf_start_folder(spec[3:])
        state = load_hf_weights(folder, args['norm_first'])
    else:
        state = trained_folder_weights(spec)
    c = model.config
    try:
        wte = state['wte.weight']
        state['wte.weight'] = torch.cat([wte, wte.mean(0, keepdim=True).expand(c.vocab_size - wte.size(0), -1)])
        state['wpe.weight'] = state['wpe.weight'][:c.block_size]
        missing, unexpected = model.load_state_dict(state, strict=False)
    except (KeyError, RuntimeError) as e:  # a table missing, or a tensor of another shape than config.json says
        raise UserError(f"the weights of init_from={spec!r} do not fit its config.json ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:120]}); download or train it again") from None
    if [k for k in missing if k != 'lm_head.weight'] or unexpected:  # the head is the token table, stored once
        raise UserError(f"the weights of init_from={spec!r} do not fit its config.json (missing {missing[:3]}, "
                        f"unexpected {unexpected[:3]}); download or train it again")
