"""Damaged inputs are one line naming the file and the fix, never a traceback or a silently wrong run:
token files that disagree with meta.json, a meta.json with wrong fields, an empty val.bin, a safetensors
file whose offsets do not cover its tensors, a --start file that is not UTF-8."""
import json
import os
import shutil
import struct
import subprocess
import sys

import pytest

import model as gpt
from common import UserError
from conftest import ROOT, TINY_MODEL_FLAGS, run_train


@pytest.fixture
def dataset(tiny_dataset, tmp_path):
    """A copy of the tiny dataset to damage."""
    return shutil.copytree(tiny_dataset, tmp_path / 'data')


def edit_meta(folder, **changes):
    meta = json.load(open(folder / 'meta.json'))
    meta.update(changes)
    (folder / 'meta.json').write_text(json.dumps(meta))
    return meta


def test_a_train_bin_cut_short_is_one_line_naming_it(dataset, tmp_path):
    size = os.path.getsize(dataset / 'train.bin')
    with open(dataset / 'train.bin', 'r+b') as f:
        f.truncate(size - 3)  # a full disk stopped the write mid-token
    proc = subprocess.run([sys.executable, 'train.py', f'--dataset_dir={dataset}', f'--out_dir={tmp_path / "run"}',
                           '--max_iters=2'] + TINY_MODEL_FLAGS, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {dataset / 'train.bin'} is {size - 3:,} bytes but {dataset / 'meta.json'} says {(size) // 2:,} uint16 "
        f"tokens ({size:,} bytes): it was cut short or replaced; run the data step (python data.py CONFIG) or point "
        f"dataset_dir at a folder with train.bin, val.bin and meta.json"]
    assert os.path.getsize(dataset / 'train.bin') == size - 3  # nothing else was done to it


@pytest.mark.parametrize('changes,message', [
    ({'vocab_size': '300'}, r"has vocab_size='300', not a whole number above 0"),
    ({'vocab_size': 300.5}, r"has vocab_size=300.5, not a whole number above 0"),
    ({'vocab_size': 0}, r"has vocab_size=0, not a whole number above 0"),
    ({'vocab_size': True}, r"has vocab_size=True, not a whole number above 0"),
    ({'train_tokens': -5}, r"has train_tokens=-5, not a whole number"),
    ({'dtype': 'float32'}, r"has dtype='float32'; token files are uint16 or uint32"),
    ({'vocab_size': 100, 'eot_token': 99}, r"train.bin holds token id \d+, but .*meta.json says vocab_size 100; the "
                                           r"files come from different tokenizers"),
    ({'eot_token': 300}, r"has eot_token 300 outside its vocab_size 300"),
])
def test_a_meta_json_with_wrong_fields_is_one_line(dataset, tmp_path, changes, message):
    edit_meta(dataset, **changes)
    with pytest.raises(UserError, match=message):
        run_train(str(dataset), tmp_path / 'run', '--max_iters=2')


@pytest.mark.parametrize('meta_says', ['nothing', 'the old count'])
def test_an_empty_val_bin_is_reported_with_its_real_count(dataset, tmp_path, meta_says):
    (dataset / 'val.bin').write_bytes(b'')
    if meta_says == 'nothing':
        edit_meta(dataset, val_tokens=0)
        match = r"the val split has 0 tokens, fewer than one window"
    else:
        match = r"val.bin is 0 bytes but .*meta.json says [\d,]+ uint16 tokens"
    with pytest.raises(UserError, match=match):
        run_train(str(dataset), tmp_path / 'run', '--max_iters=2')


def read_safetensors_header(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path, header, data):
    head = json.dumps(header).encode()
    open(path, 'wb').write(struct.pack('<Q', len(head)) + head + data)


def damage_offsets(header, data, how):
    names = [k for k in header if k != '__metadata__']
    first, last = header[names[0]], header[names[-1]]
    if how == 'past the end':
        last['data_offsets'] = [len(data) + 8, len(data) + 8 + last['data_offsets'][1] - last['data_offsets'][0]]
    elif how == 'too short for the shape':
        first['data_offsets'][1] -= 4
    elif how == 'overlapping':
        second = header[names[1]]
        size = second['data_offsets'][1] - second['data_offsets'][0]
        second['data_offsets'] = [first['data_offsets'][0], first['data_offsets'][0] + size]
    elif how == 'negative':
        first['data_offsets'] = [-4, first['data_offsets'][1] - 4]
    elif how == 'unknown dtype':
        first['dtype'] = 'Q7'
    return header


@pytest.mark.parametrize('how', ['past the end', 'too short for the shape', 'overlapping', 'negative', 'unknown dtype'])
def test_safetensors_offsets_that_do_not_cover_the_tensors_are_refused(trained_run, tmp_path, how):
    path = tmp_path / 'model.safetensors'
    header, data = read_safetensors_header(os.path.join(trained_run, 'model.safetensors'))
    if how == 'overlapping':  # two tensors of one size, so only the overlap is wrong
        names = [k for k in header if k != '__metadata__']
        size = lambda k: header[k]['data_offsets'][1] - header[k]['data_offsets'][0]  # noqa: E731
        a, b = next((a, b) for a in names for b in names if a < b and size(a) == size(b))
        header = {'__metadata__': header.get('__metadata__', {}), a: header[a], b: header[b]}
    write_safetensors(path, damage_offsets(header, data, how), data)
    with pytest.raises(ValueError, match=r"model.safetensors: tensor.*(damaged|malformed)"):
        gpt.load_safetensors(str(path))


def test_a_cut_short_safetensors_header_is_refused(tmp_path):
    path = tmp_path / 'model.safetensors'
    path.write_bytes(struct.pack('<Q', 10_000) + b'{"a":')
    with pytest.raises(ValueError, match="header length .* does not fit in the file"):
        gpt.load_safetensors(str(path))


def test_sample_py_names_the_damaged_tensor_in_one_line(trained_run, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(trained_run, out)
    header, data = read_safetensors_header(out / 'model.safetensors')
    write_safetensors(out / 'model.safetensors', damage_offsets(header, data, 'past the end'), data)
    proc = subprocess.run([sys.executable, 'sample.py', f'--out_dir={out}', '--max_new_tokens=5'], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: could not load the model in '{out}': a file is damaged (") and \
        "has data_offsets" in line and "--weights=latest" in line


def test_a_start_file_that_is_not_utf8_is_one_line(trained_run, tmp_path):
    bad = tmp_path / 'start.txt'
    bad.write_bytes('Crème brûlée'.encode('latin-1'))
    proc = subprocess.run([sys.executable, 'sample.py', f'--out_dir={trained_run}', f'--start=FILE:{bad}',
                           '--max_new_tokens=5'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: --start file '{bad}' is not UTF-8 text"]

