"""huggingface.py: transformers' own classes load the exported folder and compute what ours do, and the
exported tokenizer gives tiktoken's ids."""
import json
import os

import pytest
import tiktoken
import torch

transformers = pytest.importorskip('transformers', reason='transformers is a test-only package (requirements-test.txt); '
                                                          'without it the export cannot be checked')
tokenizers = pytest.importorskip('tokenizers', reason='tokenizers is a test-only package (requirements-test.txt)')
safetensors = pytest.importorskip('safetensors', reason='safetensors is a test-only package (requirements-test.txt)')

import model as gpt  # noqa: E402
import sample  # noqa: E402
import tokenizer  # noqa: E402
import train  # noqa: E402
from common import UserError  # noqa: E402
from conftest import TINY_MODEL_FLAGS  # noqa: E402
from huggingface import hf_tokenizer, write_hf_folder  # noqa: E402

def export_hf(run, dest):
    """The front door: python sample.py --out_dir=RUN --export_hf=DEST."""
    sample.main([f'--out_dir={run}', f'--export_hf={dest}'])


HF_CLASSES = {False: 'OpenAIGPTLMHeadModel', True: 'GPT2LMHeadModel'}  # by norm_first

# Where a converted tokenizer could part from tiktoken: whitespace runs, line ends, digits, multi-byte
# characters, joined emoji, contractions, and special tokens inside text.
TRICKY = ["  leading spaces", "trailing spaces   ", "multiple    spaces  between  words", "new\nlines\n\n\nand\r\nCRLF\r\n",
          "\ttabs\tand\t\ttabs ", "digits 12345 3.14 and 2024-01-01", "café naïve façade", "日本語のテキスト",
          "emoji 👩‍💻🎉!", "don't I'll we've they're", "text <|endoftext|> more text", "<|endoftext|>", " ", "",
          "MiXeD CaSe   \n  end"]
WITH_SPECIALS = ["<|user|>hi<|end|><|assistant|>hello<|end|>", "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>"]
CORPUS = TRICKY * 3 + [f"Recipe {i}: mix {i * 37} eggs and bake at {150 + i} degrees. It's done in {i % 9} hours."
                       for i in range(200)]


# --- the model: trained through train.py, exported, loaded by transformers


@pytest.fixture(scope='module', params=[False, True], ids=['post-LN GPT-1', 'pre-LN GPT-2'])
def exported(request, tiny_dataset, tmp_path_factory):
    """(our model, enc, the exported folder, norm_first) for a tiny run with a 64-token context."""
    run = str(tmp_path_factory.mktemp('run'))
    train.main([f'--dataset_dir={tiny_dataset}', f'--out_dir={run}', '--max_iters=20', '--eval_interval=10']
               + TINY_MODEL_FLAGS + ['--block_size=64', f'--norm_first={request.param}'])
    dest = str(tmp_path_factory.mktemp('hf') / 'export')
    export_hf(run, dest)
    model, enc = sample.load_model(run, 'cpu')
    assert model.config.norm_first == request.param
    return model, enc, dest, request.param


@pytest.mark.parametrize('loader', ['AutoModelForCausalLM', 'its own class'])
def test_transformers_logits_equal_ours(exported, loader):
    model, enc, dest, norm_first = exported
    cls = transformers.AutoModelForCausalLM if loader == 'AutoModelForCausalLM' else getattr(transformers, HF_CLASSES[norm_first])
    hf = cls.from_pretrained(dest).eval()
    assert type(hf).__name__ == HF_CLASSES[norm_first]
    x = torch.randint(0, model.config.vocab_size, (2, model.config.block_size), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        theirs, ours = hf(x).logits, model(x)[0]
    assert theirs.shape == ours.shape
    assert (theirs - ours).abs().max().item() < 1e-4


def test_greedy_generation_equals_ours_and_stops_at_endoftext(exported):
    model, enc, dest, _ = exported
    hf = transformers.AutoModelForCausalLM.from_pretrained(dest).eval()
    assert hf.generation_config.eos_token_id == enc.eot_token
    for prompt in ["Recipe 12: mix", "Bake"]:
        x = torch.tensor([enc.encode(prompt)])
        ours = model.generate(x, 40, temperature=0)[0, x.size(1):].tolist()
        if enc.eot_token in ours:  # transformers stops there, eot included
            ours = ours[:ours.index(enc.eot_token) + 1]
        theirs = hf.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=40)
        assert theirs[0, x.size(1):].tolist() == ours


def test_weights_are_stored_once_in_transformers_names(exported):
    model, _, dest, norm_first = exported
    with safetensors.safe_open(os.path.join(dest, 'model.safetensors'), 'pt') as f:
        assert f.metadata() == {'format': 'pt'}
        names = set(f.keys())
        wte = f.get_tensor('transformer.wte.weight' if norm_first else 'transformer.tokens_embed.weight')
        c_fc = f.get_tensor('transformer.h.0.mlp.c_fc.weight')
    assert 'lm_head.weight' not in names  # tied to the token embedding; transformers re-ties it
    assert torch.equal(wte, model.wte.weight)
    assert torch.equal(c_fc, model.h[0].mlp.c_fc.weight.t())  # Conv1D: [in, out]
    assert len(names) == len(model.state_dict()) - 1


# --- the tokenizer: tiktoken's ids from the tokenizers library and transformers


def make_encoding(kind):
    if kind == 'trained BPE':
        return tokenizer.train_bpe(CORPUS, 600, specials=tokenizer.CORPUS_SPECIALS)
    if kind == 'trained BPE, split digits':
        return tokenizer.train_bpe(CORPUS, 600, split_digits=True)
    try:
        gpt2 = tokenizer.get_gpt2_encoding()
    except UserError as e:
        pytest.skip(f"GPT-2's vocabulary could not be loaded (no internet and no TIKTOKEN_CACHE_DIR): {e}")
    return gpt2 if kind == 'GPT-2' else tokenizer.get_gpt2_with_specials(tokenizer.CORPUS_SPECIALS)


@pytest.fixture(scope='module', params=['trained BPE', 'trained BPE, split digits', 'GPT-2', 'GPT-2 with specials'])
def exported_tokenizer(request, tmp_path_factory):
    """(enc, folder) for an untrained one-layer model: only the tokenizer files matter here."""
    enc = make_encoding(request.param)
    dest = str(tmp_path_factory.mktemp('tok') / 'export')
    write_hf_folder(gpt.GPT(gpt.GPTConfig(vocab_size=enc.n_vocab, block_size=8, n_layer=1, n_head=1, n_embd=4)), enc, dest)
    return enc, dest


def load_hf_tokenizer(loader, dest):
    """A tokenizer object with encode(text) -> ids and decode(ids) -> text."""
    if loader == 'tokenizers.Tokenizer':
        tok = tokenizers.Tokenizer.from_file(os.path.join(dest, 'tokenizer.json'))
        return lambda s: tok.encode(s).ids, lambda ids: tok.decode(ids, skip_special_tokens=False)
    cls = transformers.AutoTokenizer if loader == 'AutoTokenizer' else transformers.PreTrainedTokenizerFast
    tok = cls.from_pretrained(dest)
    assert isinstance(tok, transformers.PreTrainedTokenizerFast)
    return tok.encode, tok.decode


@pytest.mark.parametrize('loader', ['tokenizers.Tokenizer', 'AutoTokenizer', 'PreTrainedTokenizerFast'])
def test_exported_tokenizer_gives_tiktokens_ids_and_decodes_back(exported_tokenizer, loader):
    enc, dest = exported_tokenizer
    encode, decode = load_hf_tokenizer(loader, dest)
    texts = TRICKY + (WITH_SPECIALS if '<|user|>' in enc._special_tokens else []) + ["\n".join(CORPUS[-20:])]
    for s in texts:
        ids = enc.encode(s, allowed_special='all')
        assert encode(s) == ids, s
        assert decode(ids) == s


def test_a_pre_token_that_is_a_token_stays_whole_even_where_merges_cannot_reach_it():
    # 'bc' merges first, after which no merge leads to 'abcd': tiktoken still takes 'abcd' whole
    ranks = {bytes([b]): b for b in range(256)} | {b'bc': 256, b'ab': 257, b'cd': 258, b'abcd': 259}
    enc = tiktoken.Encoding('made-up', pat_str=tokenizer.GPT2_PATTERN, mergeable_ranks=ranks,
                            special_tokens={tokenizer.EOT: 260})
    tok = tokenizers.Tokenizer.from_str(json.dumps(hf_tokenizer(enc)))
    for s, ids in [('abcd', [259]), ('abcdab', [97, 256, 100, 257]), ('x\nabcd', [120, 10, 259])]:
        assert enc.encode(s) == ids, 'the made-up vocabulary does not test what it should'
        assert tok.encode(s).ids == ids


def test_specials_are_named_with_their_ids(exported_tokenizer):
    enc, dest = exported_tokenizer
    tok = transformers.AutoTokenizer.from_pretrained(dest)
    assert tok.eos_token == tok.bos_token == tok.unk_token == tokenizer.EOT
    assert tok.eos_token_id == enc.eot_token
    assert set(tok.all_special_tokens) == set(enc._special_tokens)
    for name, i in enc._special_tokens.items():
        assert tok.convert_tokens_to_ids(name) == i


# --- errors: one line each, and nothing left behind


def test_a_folder_that_is_not_empty_is_refused(trained_run, tmp_path):
    dest = tmp_path / 'export'
    dest.mkdir()
    (dest / 'keep.txt').write_text('mine')
    with pytest.raises(UserError, match='not an empty folder') as e:
        export_hf(trained_run, str(dest))
    assert '\n' not in str(e.value)
    assert os.listdir(dest) == ['keep.txt'] and os.listdir(tmp_path) == ['export']


def test_an_empty_existing_folder_is_filled(trained_run, tmp_path):
    dest = tmp_path / 'export'
    dest.mkdir()
    export_hf(trained_run, str(dest))
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'} <= set(os.listdir(dest))
    assert os.listdir(tmp_path) == ['export']  # no temp folder left beside it


def test_a_model_without_biases_is_refused_saying_why(tmp_path):
    enc = tokenizer.train_bpe(CORPUS[:20], 300)
    model = gpt.GPT(gpt.GPTConfig(vocab_size=enc.n_vocab, block_size=8, n_layer=1, n_head=1, n_embd=4, bias=False))
    with pytest.raises(UserError, match='bias=False.*transformers') as e:
        write_hf_folder(model, enc, str(tmp_path / 'export'))
    assert '\n' not in str(e.value)
    assert os.listdir(tmp_path) == []
