"""Starting from a model (init_from): a folder this product trained, or a Hugging Face GPT-2 / GPT-1 folder on
disk. The Hugging Face folders are built here with transformers (a test-only package); nothing is downloaded."""
import hashlib
import json
import os
import shutil

import pytest
import torch

transformers = pytest.importorskip('transformers', reason='transformers is a test-only package (requirements-test.txt)')
tokenizers = pytest.importorskip('tokenizers', reason='tokenizers is a test-only package (requirements-test.txt)')

import model as gpt  # noqa: E402
import sample  # noqa: E402
import settings  # noqa: E402
import train  # noqa: E402
from checkpoint import load_start_weights, read_start_model  # noqa: E402
from common import UserError  # noqa: E402
from conftest import ROOT, make_tiny_dataset  # noqa: E402
from huggingface import read_hf_config, read_hf_tokenizer  # noqa: E402
from tokenizer import (CORPUS_SPECIALS, EOT, USER, GPT1Tokenizer, load_tokenizer, read_gpt1_tokenizer,  # noqa: E402
                       save_tokenizer, tokenizer_json)

GPT1_CORPUS = ["The quick brown fox jumps over the lazy dog. Don't stop!",
               "Crème brûlée, naïve café — façade; ΟΔΟΣ οδός σς",
               "Recipe 12: mix 3 eggs with 2 cups of flour (sifted). Bake for 30 minutes at 180°C."] * 50
# where a re-implementation of transformers' pre-processing could part from it: case, accents, punctuation,
# contractions, whitespace kinds, control and zero-width characters, CJK, emoji, final sigma, ligatures
TRICKY = ["The Quick  brown\tfox\njumps", "don't I'll we've", "Crème brûlée — naïve café", "ΟΔΟΣ οδός",
          "日本語のテキスト", "emoji 👩‍💻🎉!", "a\u200bb\x00c\ufffdd", "  ", "", "3.14 $100 (a+b)^2 ~x~ `q`",
          "İstanbul ﬁne Ångström", "e-mail: a.b@c.com...", "tabs\t\tand\r\nCRLF", "\u00a0nbsp\u2028ls\u3000ideo",
          "ＡＢＣ full width", "x\x1cy\x85z", "Bake for 30 minutes."]


@pytest.fixture(scope='module')
def gpt1_files(tmp_path_factory):
    """A small GPT-1 vocab.json and merges.txt: a BPE with '</w>' word ends over lower-cased BERT words, trained
    by the tokenizers library as GPT-1's was by OpenAI's code."""
    folder = tmp_path_factory.mktemp('gpt1_tokenizer')
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token='<unk>', end_of_word_suffix='</w>'))
    tok.normalizer = tokenizers.normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = tokenizers.pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(GPT1_CORPUS, tokenizers.trainers.BpeTrainer(
        vocab_size=300, special_tokens=['<unk>'], end_of_word_suffix='</w>', show_progress=False))
    tok.model.save(str(folder))
    return str(folder)


# --- GPT-1's tokenizer, read with the standard library


def test_gpt1_tokenizer_gives_transformers_ids_on_tricky_text(gpt1_files):
    theirs = transformers.OpenAIGPTTokenizer.from_pretrained(gpt1_files)
    ours = read_gpt1_tokenizer(os.path.join(gpt1_files, 'vocab.json'), os.path.join(gpt1_files, 'merges.txt'))
    for text in TRICKY + GPT1_CORPUS[:3]:
        assert ours.encode_ordinary(text) == theirs(text)['input_ids'], text


def test_gpt1_tokenizer_adds_endoftext_after_its_vocabulary_and_decodes_words(gpt1_files):
    enc = read_gpt1_tokenizer(os.path.join(gpt1_files, 'vocab.json'), os.path.join(gpt1_files, 'merges.txt'))
    vocab = json.load(open(os.path.join(gpt1_files, 'vocab.json')))
    assert enc.eot_token == len(vocab) and enc.n_vocab == len(vocab) + 1
    assert enc.encode(f"bake{EOT}the", allowed_special='all') == enc.encode_ordinary('bake') + [enc.eot_token] + \
        enc.encode_ordinary('the')
    theirs = transformers.OpenAIGPTTokenizer.from_pretrained(gpt1_files)
    ids = enc.encode_ordinary("The quick brown fox, 30 minutes.")
    assert enc.decode(ids) == theirs.decode(ids) == "the quick brown fox , 30 minutes ."


def test_gpt1_tokenizer_json_loads_back_byte_for_byte(gpt1_files, tmp_path):
    enc = read_gpt1_tokenizer(os.path.join(gpt1_files, 'vocab.json'), os.path.join(gpt1_files, 'merges.txt'), [USER])
    save_tokenizer(enc, str(tmp_path / 'tokenizer.json'))
    again = load_tokenizer(str(tmp_path / 'tokenizer.json'))
    assert isinstance(again, GPT1Tokenizer) and tokenizer_json(again) == (tmp_path / 'tokenizer.json').read_text()
    assert again.encode_ordinary(TRICKY[2]) == enc.encode_ordinary(TRICKY[2]) and again._special_tokens[USER] == enc.n_vocab - 1


# --- Hugging Face folders on disk: our model gives transformers' logits


def tiny_hf_folder(kind, folder, gpt1_files=None, safetensors=True):
    """A tiny GPT-2 (GPT-2's 50,257-token vocabulary, which tiktoken's 'gpt2' reads) or GPT-1 (the test vocabulary)
    saved by transformers, with random weights (biases and LayerNorms too, so every tensor is checked)."""
    torch.manual_seed(0)
    if kind == 'gpt2':
        config = transformers.GPT2Config(vocab_size=50257, n_positions=64, n_embd=32, n_layer=2, n_head=2)
        hf = transformers.GPT2LMHeadModel(config)
    else:
        vocab = json.load(open(os.path.join(gpt1_files, 'vocab.json')))
        config = transformers.OpenAIGPTConfig(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2)
        hf = transformers.OpenAIGPTLMHeadModel(config)
    with torch.no_grad():
        for p in hf.parameters():
            p.normal_(0, 0.2)
    hf.save_pretrained(folder, safe_serialization=safetensors)
    if kind == 'openai-gpt':
        for name in ('vocab.json', 'merges.txt'):
            shutil.copy(os.path.join(gpt1_files, name), folder)
    return hf.eval()


def our_model_from(spec):
    start = read_start_model(spec, '')
    m = gpt.GPT(gpt.GPTConfig(**start['model_args'], dropout=0.0))
    load_start_weights(m, spec)
    return m.eval()


@pytest.mark.parametrize('kind', ['gpt2', 'openai-gpt'])
@pytest.mark.parametrize('safetensors', [True, False], ids=['model.safetensors', 'pytorch_model.bin'])
def test_our_model_from_a_hf_folder_gives_transformers_logits(kind, safetensors, gpt1_files, tmp_path):
    hf = tiny_hf_folder(kind, str(tmp_path / kind), gpt1_files, safetensors)
    ours = our_model_from(f'hf:{tmp_path / kind}')
    assert ours.config.norm_first == (kind == 'gpt2')
    x = torch.randint(0, hf.config.vocab_size, (2, 64), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert (ours(x)[0] - hf(x).logits).abs().max().item() < 1e-4


def test_a_hf_model_reads_its_own_tokenizer(gpt1_files, tmp_path):
    tiny_hf_folder('gpt2', str(tmp_path / 'gpt2'))
    tiny_hf_folder('openai-gpt', str(tmp_path / 'gpt1'), gpt1_files)
    assert read_hf_tokenizer(str(tmp_path / 'gpt2'), True).name == 'gpt2'
    gpt1 = read_hf_tokenizer(str(tmp_path / 'gpt1'), False)
    assert gpt1.name == 'gpt1' and gpt1.eot_token == read_hf_config(str(tmp_path / 'gpt1'))['vocab_size']
    assert read_start_model(f'hf:{tmp_path / "gpt1"}', '')['tokenizer'] == 'gpt1'


def test_a_bare_model_id_is_found_in_the_hf_cache_and_never_downloaded(monkeypatch, tmp_path):
    snapshot = tmp_path / 'hub' / 'models--gpt2' / 'snapshots' / 'abc123'
    tiny_hf_folder('gpt2', str(snapshot))
    (tmp_path / 'hub' / 'models--gpt2' / 'refs').mkdir()
    (tmp_path / 'hub' / 'models--gpt2' / 'refs' / 'main').write_text('abc123')
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path / 'hub'))
    monkeypatch.chdir(tmp_path)  # no folder named gpt2 here
    assert read_start_model('hf:gpt2', '')['model_args']['n_layer'] == 2
    with pytest.raises(UserError) as e:
        read_start_model('hf:openai-gpt', '')
    message = str(e.value)
    assert '\n' not in message and 'never downloads' in message and 'huggingface-cli download openai-gpt' in message


def test_another_architecture_is_refused_in_one_line(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps({'model_type': 'llama', 'architectures': ['LlamaForCausalLM']}))
    with pytest.raises(UserError, match=r"'llama' model .* takes GPT-2 .* and GPT-1"):
        read_start_model(f'hf:{tmp_path}', '')


# --- the export loads back: a round trip


def test_an_exported_folder_loads_back_with_equal_logits_and_the_same_tokenizer(trained_run, tmp_path):
    sample.main([f'--out_dir={trained_run}', f'--export_hf={tmp_path / "hf"}'])
    model, enc = sample.load_model(trained_run, 'cpu')
    back = our_model_from(f'hf:{tmp_path / "hf"}')
    x = torch.randint(0, model.config.vocab_size, (2, model.config.block_size), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (back(x)[0] - model(x)[0]).abs().max().item() < 1e-5
    tokenizer = read_hf_tokenizer(str(tmp_path / 'hf'), model.config.norm_first)
    assert tokenizer_json(tokenizer) == open(os.path.join(trained_run, 'tokenizer.json')).read()


# --- a run started from a model


def file_digests(folder):
    return {n: hashlib.sha256(open(os.path.join(folder, n), 'rb').read()).hexdigest() for n in sorted(os.listdir(folder))}


@pytest.fixture(scope='module')
def continued_run(trained_run, tmp_path_factory):
    """trained_run continued on new data (template recipes) with LoRA: (start folder, its files before, new folder)."""
    before = file_digests(trained_run)
    out = str(tmp_path_factory.mktemp('continued') / 'run')
    train.main([f'--init_from={trained_run}', f'--out_dir={out}', '--prompt=A GPT that writes cooking recipes',
                '--initial_tokens=20000', '--final_tokens=10000', '--max_iters=10', '--eval_interval=5',
                '--quality_samples=0', '--lora_rank=2'])
    return trained_run, before, out


def test_continuing_a_folder_reuses_its_tokenizer_byte_for_byte(continued_run):
    start, _, out = continued_run
    assert open(os.path.join(out, 'tokenizer.json'), 'rb').read() == open(os.path.join(start, 'tokenizer.json'), 'rb').read()
    assert json.load(open(os.path.join(out, 'data_info.json')))['vocab_size'] == load_tokenizer(
        os.path.join(start, 'tokenizer.json')).n_vocab


def test_a_continued_run_writes_a_new_folder_recording_where_it_started(continued_run):
    start, before, out = continued_run
    assert file_digests(start) == before  # the start folder is left as it was
    info = json.load(open(os.path.join(out, 'generation_info.json')))
    assert info['init_from'] == start and info['lora_rank'] == 2
    config = json.load(open(os.path.join(out, 'config.json')))
    assert config['model_args'] == json.load(open(os.path.join(start, 'config.json')))['model_args']
    # recipes do not fit the tiny model's 32-token context: the data step says so, and what to do instead
    notes = json.load(open(os.path.join(out, 'data_info.json')))['context_notes']
    assert len(notes) == 1 and 'train from scratch' in notes[0] and 'raise block_size' not in notes[0]


def test_a_lora_run_saves_a_plain_gpt_that_moved_from_its_start(continued_run):
    start, _, out = continued_run
    assert not any('lora' in k for k in gpt.load_safetensors(os.path.join(out, 'model.safetensors')))
    for weights in ('best', 'latest'):
        sample.load_model(out, 'cpu', weights)  # strict: no adapter tensors left over
    old, new = sample.load_model(start, 'cpu')[0], sample.load_model(out, 'cpu', 'latest')[0]
    assert torch.equal(old.wte.weight, new.wte.weight)  # frozen
    assert not torch.equal(old.h[0].attn.c_attn.weight, new.h[0].attn.c_attn.weight)  # the adapters merged in


def test_a_lora_run_resumes_with_its_adapters(continued_run, tmp_path):
    _, _, out = continued_run
    copy = str(tmp_path / 'copy')
    shutil.copytree(out, copy)
    train.main(['--init_from=resume', f'--out_dir={copy}', '--prompt=A GPT that writes cooking recipes',
                '--initial_tokens=20000', '--final_tokens=10000', '--max_iters=14', '--eval_interval=5',
                '--quality_samples=0', '--lora_rank=2'])
    assert torch.load(os.path.join(copy, 'ckpt.pt'), weights_only=True)['iter_num'] == 14
    with pytest.raises(UserError, match=r"trained with lora_rank=2, but the settings say lora_rank=4"):
        train.main(['--init_from=resume', f'--out_dir={copy}', '--prompt=A GPT that writes cooking recipes',
                    '--initial_tokens=20000', '--final_tokens=10000', '--max_iters=20', '--lora_rank=4'])


def test_out_dir_equal_to_the_start_folder_is_refused(trained_run):
    with pytest.raises(UserError, match=r"is the folder this run starts from; .*another --out_dir"):
        train.main([f'--init_from={trained_run}', f'--out_dir={trained_run}', '--prompt=recipes', '--overwrite=True'])


def test_a_dataset_in_another_vocabulary_is_refused_saying_why(trained_run, tmp_path):
    other = make_tiny_dataset(tmp_path / 'other', n_docs=120)  # its own BPE: other ids
    with pytest.raises(UserError) as e:
        train.main([f'--init_from={trained_run}', f'--dataset_dir={other}', f'--out_dir={tmp_path / "out"}',
                    '--max_iters=2'])
    assert '\n' not in str(e.value) and 'another tokenizer' in str(e.value) and '--init_from=' in str(e.value)


def test_a_missing_start_folder_is_one_line_naming_the_forms():
    with pytest.raises(UserError) as e:
        settings.load_config(['--init_from=models/no_such_run', '--prompt=recipes'])
    assert '\n' not in str(e.value) and "'models/no_such_run' is no folder here" in str(e.value) and "'hf:PATH'" in str(e.value)


def test_a_longer_context_or_another_shape_is_refused_a_shorter_context_taken(trained_run):
    with pytest.raises(UserError, match=r"block_size=32, but the settings say block_size=64; it learned positions up to 32"):
        settings.load_config([f'--init_from={trained_run}', '--prompt=recipes', '--block_size=64'])
    with pytest.raises(UserError, match=r"n_embd=32, but the settings say n_embd=64; .*drop the n_embd setting"):
        settings.load_config([f'--init_from={trained_run}', '--prompt=recipes', '--n_embd=64'])
    assert settings.load_config([f'--init_from={trained_run}', '--prompt=recipes', '--block_size=16'])['block_size'] == 16


def test_fine_tuning_defaults_fill_what_the_settings_leave_alone(trained_run):
    cfg = settings.load_config([f'--init_from={trained_run}', '--prompt=recipes', '--learning_rate=5e-4'])
    column = {k: v[list(gpt.PRESETS).index('12M')] for k, v in settings.FINETUNE_DEFAULTS.items()}  # a 12M-size run
    assert cfg['learning_rate'] == 5e-4 and cfg['warmup_iters'] == column['warmup_iters'] == 20
    assert cfg['epochs'] == column['epochs'] and cfg['patience'] > 0 and cfg['final_tokens'] == column['final_tokens']
    assert cfg['start_from'] == trained_run and cfg['n_embd'] == 32  # the folder's shape, not the 12M preset's
    assert settings.load_config([f'--init_from={trained_run}', '--prompt=x', '--max_iters=50'])['epochs'] == 0  # kept
    note = settings.finetune_note(cfg)
    assert 'warmup_iters=20' in note and 'final_tokens=800,000' in note and 'learning_rate' not in note
    scratch = settings.load_config(['--prompt=recipes'])
    assert scratch['learning_rate'] == settings.SIZE_DEFAULTS['learning_rate'][list(gpt.PRESETS).index(scratch['size'])] and scratch['start_from'] == ''


def test_lora_without_a_model_to_start_from_is_refused():
    with pytest.raises(UserError, match=r"lora_rank .* set init_from"):
        settings.load_config(['--prompt=recipes', '--lora_rank=8'])


def test_fine_tuning_gpt1_adds_endoftext_and_its_folder_exports_for_transformers(gpt1_files, tmp_path):
    tiny_hf_folder('openai-gpt', str(tmp_path / 'gpt1'), gpt1_files)
    out = str(tmp_path / 'run')
    train.main([f'--init_from=hf:{tmp_path / "gpt1"}', f'--out_dir={out}', '--prompt=A GPT that writes cooking recipes',
                '--initial_tokens=20000', '--final_tokens=10000', '--max_iters=4', '--eval_interval=2',
                '--quality_samples=0', '--block_size=32', '--dropout=0.0'])
    model, enc = sample.load_model(out, 'cpu')
    vocab = json.load(open(os.path.join(gpt1_files, 'vocab.json')))
    assert enc.name == 'gpt1' and model.config.vocab_size == len(vocab) + 1 and model.config.block_size == 32
    assert json.load(open(os.path.join(out, 'config.json')))['config']['size'] == '4M'  # the nearest size column (a tiny model: the smallest)
    sample.main([f'--out_dir={out}', f'--export_hf={tmp_path / "hf"}'])
    theirs = transformers.AutoTokenizer.from_pretrained(str(tmp_path / 'hf'))
    assert theirs(TRICKY[0])['input_ids'] == enc.encode_ordinary(TRICKY[0])
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(tmp_path / 'hf')).eval()
    x = torch.tensor([enc.encode_ordinary("Bake the eggs for 30 minutes.")])
    with torch.no_grad():
        assert (hf(x).logits - model(x)[0]).abs().max().item() < 1e-4
    again = our_model_from(f'hf:{tmp_path / "hf"}')  # and back again: GPT-1's files, <|endoftext|> in the same place
    assert again.config.vocab_size == model.config.vocab_size
    train.main(['--init_from=resume', f'--out_dir={out}', '--prompt=A GPT that writes cooking recipes',  # same settings
                '--initial_tokens=20000', '--final_tokens=10000', '--max_iters=6', '--eval_interval=2',
                '--quality_samples=0', '--block_size=32', '--dropout=0.0'])
    assert torch.load(os.path.join(out, 'ckpt.pt'), weights_only=True)['iter_num'] == 6


def test_fine_tuning_gpt2_on_chats_grows_its_token_table_by_the_chat_tokens(tmp_path):
    hf = tiny_hf_folder('gpt2', str(tmp_path / 'gpt2'))
    out = str(tmp_path / 'run')
    train.main([f'--init_from=hf:{tmp_path / "gpt2"}', f'--out_dir={out}', f'--sources=chat:{ROOT}/configs/chat_small.jsonl',
                '--max_iters=2', '--eval_interval=2', '--eval_iters=1', '--quality_samples=0', '--block_size=64',
                '--batch_size=2', '--dropout=0.0'])
    model, enc = sample.load_model(out, 'cpu')
    assert enc.name == 'gpt2+specials' and model.config.vocab_size == 50257 + len(CORPUS_SPECIALS)
    start = hf.transformer.wte.weight.detach()
    assert torch.allclose(model.wte.weight[50257:], start.mean(0).expand(len(CORPUS_SPECIALS), -1), atol=1e-2)
    assert json.load(open(os.path.join(out, 'tokenizer.json')))['type'] == 'gpt2'
