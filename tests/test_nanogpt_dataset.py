"""--dataset_dir also takes a folder as nanoGPT's prepare scripts leave it: train.bin and val.bin of uint16
GPT-2 ids, no meta.json. nanoGPT's meta.pkl is refused, never unpickled."""
import json
import os
import pickle

import numpy as np
import pytest

import sample
import token_files
import train
from common import UserError
from conftest import TINY_MODEL_FLAGS
from tokenizer import get_gpt2_encoding

TEXT = "The cat sat on the mat. It was a sunny day, and the cat was happy.\n" * 40


def gpt2():
    try:
        return get_gpt2_encoding()
    except UserError as e:
        pytest.skip(f"GPT-2's vocabulary is not cached here: {e}")


def nanogpt_folder(folder, ids_train, ids_val):
    """What nanoGPT's data/*/prepare.py writes: np.uint16 arrays with tofile, nothing else."""
    os.makedirs(folder, exist_ok=True)
    np.array(ids_train, dtype=np.uint16).tofile(os.path.join(folder, 'train.bin'))
    np.array(ids_val, dtype=np.uint16).tofile(os.path.join(folder, 'val.bin'))
    return str(folder)


def test_a_nanogpt_folder_trains_with_gpt2s_tokenizer_and_says_so(tmp_path, capsys):
    enc = gpt2()
    ids = enc.encode_ordinary(TEXT)
    data = nanogpt_folder(tmp_path / 'shakespeare', ids[:-100], ids[-100:])
    out = str(tmp_path / 'out')
    train.main([f'--dataset_dir={data}', f'--out_dir={out}', '--max_iters=4', '--eval_interval=2'] + TINY_MODEL_FLAGS)
    said = capsys.readouterr().out
    assert f"read as nanoGPT's format, uint16 GPT-2 token ids ({len(ids) - 100:,} train, 100 val)" in said
    assert json.load(open(os.path.join(out, 'tokenizer.json'))) == {'type': 'gpt2'}
    model, loaded = sample.load_model(out, 'cpu')
    assert model.config.vocab_size == 50257 and loaded.encode_ordinary(TEXT) == ids
    assert not os.path.exists(os.path.join(data, 'meta.json'))  # the user's folder is left as it was


def test_nanogpt_meta_pkl_is_refused_without_being_unpickled(tmp_path):
    data = nanogpt_folder(tmp_path / 'shakespeare_char', [1, 2, 3] * 100, [1, 2, 3] * 20)
    marker = tmp_path / 'unpickled'

    class RunsCode:  # what a hostile pickle does: call a function while loading
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    with open(os.path.join(data, 'meta.pkl'), 'wb') as f:
        pickle.dump(RunsCode(), f)
    with pytest.raises(UserError, match="meta.pkl.*not opened because unpickling can run code"):
        token_files.load_meta(data)
    assert not marker.exists()


def test_damaged_nanogpt_files_are_one_line_errors(tmp_path):
    odd = nanogpt_folder(tmp_path / 'odd', [1, 2, 3], [1, 2])
    with open(os.path.join(odd, 'train.bin'), 'ab') as f:
        f.write(b'\x00')
    with pytest.raises(UserError, match=r"train.bin is 7 bytes, not a whole number of uint16 tokens"):
        token_files.load_meta(odd)
    past = nanogpt_folder(tmp_path / 'past', [1, 60000], [1, 2])
    with pytest.raises(UserError, match="ids past GPT-2's 50,257"):
        token_files.load_meta(past)
    only_train = nanogpt_folder(tmp_path / 'only', [1, 2], [1])
    os.remove(os.path.join(only_train, 'val.bin'))
    with pytest.raises(UserError, match="has train.bin but no val.bin"):
        token_files.load_meta(only_train)
