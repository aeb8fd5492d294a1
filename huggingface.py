"""
A trained model as a Hugging Face folder that `transformers` loads with its own classes and no
code of ours: AutoModelForCausalLM.from_pretrained(dest) and AutoTokenizer.from_pretrained(dest).
`python sample.py --out_dir=RUN --export_hf=DEST` calls write_hf_folder with the run's best weights.

A post-LN model (GPT-1's block) becomes OpenAIGPTLMHeadModel, a pre-LN one (GPT-2's) GPT2LMHeadModel; both
have exactly our tensors, under their names, with the linear weights transposed for their Conv1D ([in, out]).
The tokenizer becomes a tokenizer.json of the `tokenizers` library: the same byte-level BPE (vocabulary
and merges recovered from tiktoken's ranks), the same pre-tokenising regex, our special tokens.

Formats: config.json and generation_config.json https://huggingface.co/docs/transformers/main_classes/configuration
(fields: transformers' models/openai/configuration_openai.py and models/gpt2/configuration_gpt2.py);
tensors https://github.com/huggingface/safetensors#format; tokenizer.json
https://huggingface.co/docs/tokenizers/api/tokenizer (its serialisation: tokenizers' Tokenizer.to_str()).
"""
import json
import os
import shutil
import tempfile

import model as gpt
from common import UserError, write_atomic
from tokenizer import EOT


def write_hf_folder(model, enc, dest):
    """Write model (a model.GPT) and enc (its tiktoken Encoding) as the Hugging Face folder dest, which must
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
             'tokenizer.json': hf_tokenizer(enc)}
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


def hf_state_dict(model):
    """Our tensors under transformers' names; Conv1D keeps a linear weight as [in, out], nn.Linear as [out, in].
    lm_head.weight is left out: it is tied to the token embedding, which transformers re-ties on loading."""
    gpt2 = model.config.norm_first
    out = {}
    for name, t in model.state_dict().items():
        if name == 'lm_head.weight':
            continue
        if name.endswith('.weight') and t.dim() == 2 and name.startswith('h.'):
            t = t.t()
        if not gpt2:  # OpenAIGPTModel names the embeddings differently; the blocks match
            name = {'wte.weight': 'tokens_embed.weight', 'wpe.weight': 'positions_embed.weight'}.get(name, name)
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
