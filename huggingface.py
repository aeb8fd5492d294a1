"""
A trained model as a Hugging Face folder that `transformers` loads with its own classes and no
code of ours: AutoModelForCausalLM.from_pretrained(dest) and AutoTokenizer.from_pretrained(dest).
`python sample.py --out_dir=RUN --export_hf=DEST` calls write_hf_folder with the run's best weights.

A post-LN model (GPT-1's block) becomes OpenAIGPTLMHeadModel, a pre-LN one (GPT-2's) GPT2LMHeadModel; both
have exactly our tensors, under their names, with the linear weights transposed for their Conv1D ([in, out]).
The tokenizer becomes a tokenizer.json of the `tokenizers` library: the same byte-level BPE (vocabulary
and merges recovered from tiktoken's ranks), the same pre-tokenising regex, our special tokens (GPT-1's own
tokenizer, of a model started from it, as transformers' OpenAIGPTTokenizer builds it).

The other way, a Hugging Face GPT-2 or GPT-1 folder is the model a run starts from (init_from='hf:PATH'):
the same tensor names and layouts read backwards, and its tokenizer read with the run-time packages.

Formats: config.json and generation_config.json https://huggingface.co/docs/transformers/main_classes/configuration
(fields: transformers' models/openai/configuration_openai.py and models/gpt2/configuration_gpt2.py);
tensors https://github.com/huggingface/safetensors#format; tokenizer.json
https://huggingface.co/docs/tokenizers/api/tokenizer (its serialisation: tokenizers' Tokenizer.to_str()).
"""
import json
import os
import shutil
import tempfile

import tiktoken
import torch

import model as gpt
from common import UserError, write_atomic
from tokenizer import (EOT, GPT2_PATTERN, UNK, WORD_END, GPT1Tokenizer, get_gpt2_encoding, get_gpt2_with_specials,
                       read_gpt1_tokenizer)


def write_hf_folder(model, enc, dest):
    """Write model (a model.GPT) and enc (its tokenizer) as the Hugging Face folder dest, which must
    be new or empty. Files are written to a temp folder beside dest that is then renamed: no half export."""
    c = model.config
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise UserError(f"'{dest}' exists and is not an empty folder; pass a new folder, or delete that one")
    if not c.bias:
        raise UserError("this model was trained with bias=False, but transformers' GPT classes always have "
                        "biases in their linear and LayerNorm layers; retrain with bias=True to export it")
    eot = enc.eot_token
    files = {'config.json': hf_config(c, eot),
             # generate() stops at <|endoftext|>; padding with it is what GPT-2 users do
             'generation_config.json': {'bos_token_id': eot, 'eos_token_id': eot, 'pad_token_id': eot},
             'tokenizer.json': hf_gpt1_tokenizer(enc) if isinstance(enc, GPT1Tokenizer) else hf_tokenizer(enc)}
    if isinstance(enc, GPT1Tokenizer):  # GPT-1's own files too, which init_from='hf:DEST' reads back
        files['vocab.json'] = enc.vocab
    specials = sorted((t for t in enc._special_tokens if t != EOT), key=enc._special_tokens.get)
    named = {'bos_token': EOT, 'eos_token': EOT, 'unk_token': EOT, 'additional_special_tokens': specials}
    # PreTrainedTokenizerFast uses tokenizer.json as it is; left to the model type, AutoTokenizer would
    # pick OpenAIGPTTokenizer for a post-LN model, which adds a lowercasing normaliser.
    files['tokenizer_config.json'] = dict(named, tokenizer_class='PreTrainedTokenizerFast',
                                          model_max_length=c.block_size, clean_up_tokenization_spaces=False,
                                          add_prefix_space=False)
    files['special_tokens_map.json'] = named

    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix='.' + os.path.basename(os.path.abspath(dest)) + '.')
    try:
        for name, obj in files.items():
            write_atomic(os.path.join(tmp, name), json.dumps(obj, indent=2, ensure_ascii=False) + '\n')
        if isinstance(enc, GPT1Tokenizer):
            write_atomic(os.path.join(tmp, 'merges.txt'), '#version: 0.2\n' + ''.join(m + '\n' for m in enc.merges))
        state = hf_state_dict(model)
        write_atomic(os.path.join(tmp, 'model.safetensors'),
                     lambda f: gpt.save_safetensors(state, f, {'format': 'pt'}))  # 'pt': transformers asks for it
        if os.path.isdir(dest):
            os.rmdir(dest)  # empty, checked above; a rename onto a folder is not portable
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def hf_config(c, eot):
    """config.json for OpenAIGPTLMHeadModel (post-LN, GPT-1) or GPT2LMHeadModel (pre-LN, GPT-2)."""
    common = dict(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
                  n_head=c.n_head, resid_pdrop=c.dropout, embd_pdrop=c.dropout, attn_pdrop=c.dropout,
                  layer_norm_epsilon=1e-5, initializer_range=0.02, bos_token_id=eot, eos_token_id=eot,
                  tie_word_embeddings=True)  # nn.LayerNorm's eps; lm_head is wte, as in model.py
    if c.norm_first:
        return dict(architectures=['GPT2LMHeadModel'], model_type='gpt2', n_ctx=c.block_size, n_inner=None,
                    activation_function='gelu_new', scale_attn_weights=True, **common)
    # openai-gpt's afn 'gelu' is transformers' gelu_new, the tanh approximation model.py uses
    return dict(architectures=['OpenAIGPTLMHeadModel'], model_type='openai-gpt', afn='gelu', **common)


# our names -> OpenAIGPTModel's, where they differ (the blocks match; GPT2Model's all match)
OPENAI_GPT_NAMES = {'wte.weight': 'tokens_embed.weight', 'wpe.weight': 'positions_embed.weight'}


def is_conv1d_weight(name, t):
    """Conv1D keeps a linear weight as [in, out], nn.Linear as [out, in]: the blocks' matrices are transposed."""
    return name.startswith('h.') and name.endswith('.weight') and t.dim() == 2


def hf_state_dict(model):
    """Our tensors under transformers' names and layouts. lm_head.weight is left out: it is tied to the token
    embedding, which transformers re-ties on loading."""
    gpt2 = model.config.norm_first
    out = {}
    for name, t in model.state_dict().items():
        if name == 'lm_head.weight':
            continue
        if is_conv1d_weight(name, t):
            t = t.t()
        if not gpt2:
            name = OPENAI_GPT_NAMES.get(name, name)
        out['transformer.' + name] = t.float().contiguous()
    return out


# -----------------------------------------------------------------------------
# The tokenizer: tiktoken's ranks as a tokenizers BPE


def byte_chars():
    """GPT-2's map from each byte to a printable character, so that byte-level tokens are plain strings
    (bytes_to_unicode in GPT-2's encoder.py): printable Latin-1 maps to itself, the rest to chr(256 + n)."""
    printable = {*range(ord('!'), ord('~') + 1), *range(ord('¡'), ord('¬') + 1), *range(ord('®'), ord('ÿ') + 1)}
    chars, n = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b], n = chr(256 + n), n + 1
    return chars


def hf_tokenizer(enc):
    """tokenizer.json for a byte-level tiktoken Encoding: the same ids, pieces and specials."""
    ranks, chars = enc._mergeable_ranks, byte_chars()

    def text(b):
        return ''.join(chars[x] for x in b)

    # tiktoken merges, at each step, the adjacent pair whose joined bytes have the lowest rank. The same
    # in HF's terms: a merge for every split of a token into two tokens, ordered by the joined token's rank.
    merges = []
    for token, _ in sorted(ranks.items(), key=lambda kv: kv[1]):
        splits = [(token[:i], token[i:]) for i in range(1, len(token)) if token[:i] in ranks and token[i:] in ranks]
        merges += [f'{text(a)} {text(b)}' for a, b in sorted(splits, key=lambda p: (ranks[p[0]], ranks[p[1]]))]
    added = [dict(id=i, content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for t, i in sorted(enc._special_tokens.items(), key=lambda kv: kv[1])]
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
        # the encoding's own regex first, then bytes to GPT-2's characters (no second regex, no prefix space)
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': enc._pat_str}, 'behavior': 'Isolated', 'invert': False},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}]},
        'post_processor': None,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        # ignore_merges: tiktoken takes a pre-token that is itself a token whole, before any merging.
        # Merges as 'a b' strings, which every tokenizers version reads (byte-level tokens hold no space).
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': True,
                  'vocab': {text(b): r for b, r in ranks.items()}, 'merges': merges},
    }


def hf_gpt1_tokenizer(enc):
    """tokenizer.json for GPT-1's tokenizer (tokenizer.GPT1Tokenizer), as transformers' OpenAIGPTTokenizer
    builds it, with our special tokens added."""
    added = [dict(id=i, content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for t, i in sorted(enc._special_tokens.items(), key=lambda kv: kv[1])]
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                       'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'}, 'post_processor': None,
        'decoder': {'type': 'BPEDecoder', 'suffix': WORD_END},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': UNK if UNK in enc.vocab else None,
                  'continuing_subword_prefix': '', 'end_of_word_suffix': WORD_END, 'fuse_unk': False,
                  'byte_fallback': False, 'ignore_merges': False, 'vocab': enc.vocab, 'merges': enc.merges},
    }


# -----------------------------------------------------------------------------
# The other way: a Hugging Face folder on disk as the model a run starts from (init_from='hf:PATH'). The
# tensor names and layouts are the export's, read backwards (OPENAI_GPT_NAMES, is_conv1d_weight).

NORM_FIRST = {'gpt2': True, 'openai-gpt': False}  # config.json's model_type -> model.py's block
# config.json values model.py does not compute: such a model is refused, not loaded into one that is not it
SUPPORTED = {'activation_function': ('gelu_new', 'gelu_pytorch_tanh'), 'afn': ('gelu', 'gelu_new'),
             'layer_norm_epsilon': (1e-5,), 'scale_attn_weights': (True,), 'scale_attn_by_inverse_layer_idx': (False,),
             'n_inner': (None,), 'tie_word_embeddings': (True,)}


def hf_cache_dir():
    """Where the Hugging Face libraries keep downloads: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub."""
    home = os.environ.get('HF_HOME') or os.path.join(os.path.expanduser('~'), '.cache', 'huggingface')
    return os.environ.get('HF_HUB_CACHE') or os.path.join(home, 'hub')


def find_hf_folder(name):
    """The folder hf:NAME means: NAME when it is a folder, else the model id NAME downloaded into the local
    Hugging Face cache (models--ID/snapshots/REV, the revision refs/main names first). Never downloads."""
    if os.path.isdir(name):
        return name
    cache = hf_cache_dir()
    for repo in [name] if '/' in name else [name, f'openai-community/{name}']:  # gpt2's home on the hub since 2024
        repo_dir = os.path.join(cache, 'models--' + repo.replace('/', '--'))
        snapshots = os.path.join(repo_dir, 'snapshots')
        revisions = sorted(os.listdir(snapshots), key=lambda r: -os.path.getmtime(os.path.join(snapshots, r))) \
            if os.path.isdir(snapshots) else []
        if os.path.isfile(os.path.join(repo_dir, 'refs', 'main')):
            with open(os.path.join(repo_dir, 'refs', 'main'), encoding='utf-8') as f:
                revisions.insert(0, f.read().strip())
        for revision in revisions:
            if os.path.isfile(os.path.join(snapshots, revision, 'config.json')):
                return os.path.join(snapshots, revision)
    files = 'config.json model.safetensors' + (' vocab.json merges.txt' if 'openai-gpt' in name else '')
    raise UserError(f"hf:{name}: no folder '{name}' here and no download of it in the Hugging Face cache ({cache}); "
                    f"a run never downloads: fetch it with your own tools, e.g. `huggingface-cli download {name} "
                    f"{files}` (or in Python: transformers.AutoModelForCausalLM.from_pretrained('{name}')), then run "
                    f"again")


def read_hf_config(folder):
    """model.py's shape of a GPT2LMHeadModel (pre-LN) or OpenAIGPTLMHeadModel (GPT-1, post-LN) folder, from its
    config.json; any other model, or one these blocks would compute differently, is refused in one line."""
    path = os.path.join(folder, 'config.json')
    try:
        with open(path, encoding='utf-8') as f:
            c = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"could not read {path} ({type(e).__name__}); a Hugging Face model folder has a config.json "
                        f"(download it again)") from None
    if c.get('model_type') not in NORM_FIRST:
        raise UserError(f"{folder} holds a {c.get('model_type')!r} model ({', '.join(c.get('architectures') or [])}); "
                        f"init_from='hf:...' takes GPT-2 (GPT2LMHeadModel) and GPT-1 (OpenAIGPTLMHeadModel) folders")
    for key, allowed in SUPPORTED.items():
        if c.get(key, allowed[0]) not in allowed and not (key == 'n_inner' and c[key] == 4 * c['n_embd']):
            raise UserError(f"{path} has {key}={c[key]!r}, which model.py does not compute ({allowed[0]!r} only); "
                            f"this model cannot start a run")
    return dict(n_layer=c['n_layer'], n_head=c['n_head'], n_embd=c['n_embd'], block_size=c['n_positions'],
                vocab_size=c['vocab_size'], bias=True, norm_first=NORM_FIRST[c['model_type']])


def hf_weights_file(folder):
    """The folder's model.safetensors, else its pytorch_model.bin; refused in one line when it has neither."""
    for name in ('model.safetensors', 'pytorch_model.bin'):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise UserError(f"{folder} has no model.safetensors or pytorch_model.bin (a model split into shards is not "
                    f"read); download its weights too")


def hf_start_folder(name):
    """(folder, model.py's shape) of hf:NAME: the folder found (find_hf_folder) and its config.json read."""
    folder = find_hf_folder(name)
    return folder, read_hf_config(folder)


def load_hf_weights(folder, norm_first):
    """Our tensors from a folder's model.safetensors (model.py's reader) or pytorch_model.bin (torch.load with
    weights_only=True: tensors only, no code runs), under our names and layouts."""
    path = hf_weights_file(folder)
    try:
        state = (gpt.load_safetensors(path) if path.endswith('.safetensors') else
                 torch.load(path, map_location='cpu', weights_only=True))
    except Exception as e:  # cut short, not a checkpoint, a pickle that holds more than tensors
        raise UserError(f"could not read the weights in {folder} ({type(e).__name__}: {str(e)[:120]}); download them "
                        f"again") from None
    ours = {hf: name for name, hf in OPENAI_GPT_NAMES.items()}
    out = {}
    for name, t in state.items():
        name = name.removeprefix('transformer.')
        if name == 'lm_head.weight' or name.endswith(('.attn.bias', '.attn.masked_bias')):
            continue  # the head is the token table (tied); the others are GPT-2's causal-mask buffers
        name = name if norm_first else ours.get(name, name)
        out[name] = (t.t() if is_conv1d_weight(name, t) else t).float().contiguous()
    return out


def read_exported_tokenizer(path):
    """A tokenizer.json that hf_tokenizer wrote, back as the tiktoken Encoding it came from (GPT-2's when its
    ranks are GPT-2's); None when the file is missing or of another kind."""
    try:
        with open(path, encoding='utf-8') as f:
            obj = json.load(f)
        steps, vocab = obj['pre_tokenizer']['pretokenizers'], obj['model']['vocab']
        pattern = steps[0]['pattern']['Regex']
        specials = {t['content']: t['id'] for t in sorted(obj['added_tokens'], key=lambda t: t['id'])}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    if [s.get('type') for s in steps] != ['Split', 'ByteLevel'] or EOT not in specials:
        return None
    to_byte = {c: b for b, c in byte_chars().items()}
    ranks = {bytes(to_byte[c] for c in token): rank for token, rank in vocab.items()}
    if len(ranks) == 50256 and pattern == GPT2_PATTERN and ranks == get_gpt2_encoding()._mergeable_ranks:
        return get_gpt2_with_specials([t for t in specials if t != EOT])
    return tiktoken.Encoding(f"text2gpt1-bpe-{len(ranks) + len(specials)}", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens=specials)


def read_hf_tokenizer(folder, norm_first):
    """The tokenizer a Hugging Face folder's model reads: one this product exported (its tokenizer.json), else
    GPT-1's vocab.json and merges.txt for a GPT-1, or tiktoken's 'gpt2' for a GPT-2."""
    exported = read_exported_tokenizer(os.path.join(folder, 'tokenizer.json'))
    if exported is not None:
        return exported
    if norm_first:
        return get_gpt2_encoding()
    vocab, merges = os.path.join(folder, 'vocab.json'), os.path.join(folder, 'merges.txt')
    if not (os.path.isfile(vocab) and os.path.isfile(merges)):
        raise UserError(f"{folder} has no vocab.json and merges.txt, GPT-1's tokenizer; download them too")
    return read_gpt1_tokenizer(vocab, merges)
