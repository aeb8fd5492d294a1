"""
Token files, written and read only here: train.bin / val.bin hold the token ids of every document back to
back, each followed by <|endoftext|>; meta.json says how to read them (dtype, counts, vocabulary); when
only part of each document is learned, train_mask.bin / val_mask.bin hold one byte per token. Reading is
memory-mapped, so memory does not grow with the dataset.
"""
import hashlib
import json
import os
import random

import numpy as np
import torch

from common import UserError, write_atomic
from tokenizer import encode_segments, get_gpt2_encoding, load_tokenizer, save_tokenizer

# -----------------------------------------------------------------------------
# token files: train.bin / val.bin hold the token ids back to back, meta.json says how to read them;
# train_mask.bin / val_mask.bin, when there, hold one byte per token: 1 if the model learns to write it

def write_dataset(docs, enc, out_dir, val_fraction=0.1, seed=1337, prompts=None, is_val=None):
    """Tokenize docs (each followed by <|endoftext|>), split by document, write the token files.

    A doc is a string, or a list of pieces [[text, learned], ...] (a chat: the assistant's turns learned,
    the rest only read; see tokenizer.encode_segments). prompts[i], when given, is the start of docs[i]
    that the model is shown but not trained to write (a problem, before its solution). Tokens not learned
    get 0 in the loss mask files. is_val, when given, is the split itself (True = validation document);
    otherwise val_fraction of the documents, shuffled with seed, go to validation."""
    if is_val is None:
        order = list(range(len(docs)))
        random.Random(seed).shuffle(order)
        n_val = round(len(docs) * val_fraction)
        if len(docs) >= 2:
            n_val = min(max(n_val, 1), len(docs) - 1)  # both splits need at least one document
        else:
            n_val = 0
        val_ids, train_ids = order[:n_val], order[n_val:]
    else:
        val_ids = [i for i, v in enumerate(is_val) if v]
        train_ids = [i for i, v in enumerate(is_val) if not v]

    eot = enc.eot_token
    # uint16 halves the files (and the memory-mapped reads) whenever every id fits below 65,536.
    dtype = np.uint16 if enc.n_vocab <= 65536 else np.uint32
    if prompts and any(prompts):
        # prompt and solution encoded apart, as at inference, where the model continues the prompt's tokens
        docs = [[[p or "", False], [d[len(p or ""):], True]] for d, p in zip(docs, prompts)]
    if any(not isinstance(d, str) for d in docs):
        encoded, learned = zip(*(encode_segments(enc, d if not isinstance(d, str) else [[d, True]]) for d in docs))
    else:
        encoded, learned = enc.encode_ordinary_batch(list(docs)), None
    masked = learned is not None and any(0 in m for m in learned)
    sizes = {}
    for split, ids in (("train", train_ids), ("val", val_ids)):
        tokens, mask = [], []
        for i in ids:
            tokens.extend(encoded[i])
            tokens.append(eot)
            if masked:
                mask.extend(learned[i])
                mask.append(1)  # ending the document (the solution, the conversation) is learned too
        arr = np.array(tokens, dtype=dtype)
        write_atomic(os.path.join(out_dir, f"{split}.bin"), arr.tobytes())
        if masked:
            write_atomic(os.path.join(out_dir, f"{split}_mask.bin"), np.array(mask, dtype=np.uint8).tobytes())
        sizes[split] = len(arr)
    save_tokenizer(enc, os.path.join(out_dir, "tokenizer.json"))
    meta = {"vocab_size": enc.n_vocab, "dtype": np.dtype(dtype).name,
            "train_tokens": sizes["train"], "val_tokens": sizes["val"],
            "train_docs": len(train_ids), "val_docs": len(val_ids),
            "eot_token": eot, "tokenizer": "tokenizer.json"}
    if masked:
        meta["loss_mask"] = True
    write_atomic(os.path.join(out_dir, "meta.json"), json.dumps(meta, indent=2))
    return meta


def load_meta(dataset_dir):
    """meta.json of a dataset folder written by write_dataset; for a folder as nanoGPT's prepare scripts leave
    it (train.bin and val.bin of uint16 GPT-2 ids, no meta.json), the meta that reads it (see nanogpt_meta)."""
    path = os.path.join(dataset_dir, "meta.json")
    fix = ("run the data step (python data.py CONFIG) or point dataset_dir at a folder with "
           "train.bin, val.bin and meta.json")
    if not os.path.exists(path) and os.path.isfile(os.path.join(dataset_dir, "train.bin")):
        return nanogpt_meta(dataset_dir)
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        for key in ("vocab_size", "dtype", "train_tokens", "val_tokens", "eot_token"):
            meta[key]
    except FileNotFoundError:
        raise UserError(f"dataset file {path} is missing; {fix}") from None
    except Exception as e:
        raise UserError(f"dataset file {path} is corrupt ({type(e).__name__}: {e}); {fix}") from None
    check_meta(dataset_dir, meta, path, fix)
    return meta


def _whole_number(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_meta(dataset_dir, meta, path, fix):
    """meta.json's fields are what write_dataset writes, and the token files agree with them: a file cut
    short (a full disk) or a vocab_size too small for the ids in it would otherwise fail deep in training."""
    for key in ("vocab_size", "train_tokens", "val_tokens", "eot_token"):
        if not _whole_number(meta[key]) or meta[key] < (1 if key == "vocab_size" else 0):
            raise UserError(f"dataset file {path} has {key}={meta[key]!r}, not a whole number"
                            f"{' above 0' if key == 'vocab_size' else ''}; {fix}")
    if meta["dtype"] not in ("uint16", "uint32"):
        raise UserError(f"dataset file {path} has dtype={meta['dtype']!r}; token files are uint16 or uint32. {fix}")
    if meta["eot_token"] >= meta["vocab_size"]:
        raise UserError(f"dataset file {path} has eot_token {meta['eot_token']} outside its vocab_size "
                        f"{meta['vocab_size']}; {fix}")
    itemsize = np.dtype(meta["dtype"]).itemsize
    for split in ("train", "val"):
        bin_path = os.path.join(dataset_dir, f"{split}.bin")
        if not os.path.isfile(bin_path):
            continue  # open_tokens says it is missing when it is read
        size, expected = os.path.getsize(bin_path), meta[f"{split}_tokens"] * itemsize
        if size != expected:
            raise UserError(f"{bin_path} is {size:,} bytes but {path} says {meta[split + '_tokens']:,} {meta['dtype']} "
                            f"tokens ({expected:,} bytes): it was cut short or replaced; {fix}")
        if size:  # the first million ids tell a too-small vocab_size; scanning a 9 GB file at every start would not
            head = np.memmap(bin_path, dtype=meta["dtype"], mode="r", shape=(min(size // itemsize, 1_000_000),))
            if int(head.max()) >= meta["vocab_size"]:
                raise UserError(f"{bin_path} holds token id {int(head.max())}, but {path} says vocab_size "
                                f"{meta['vocab_size']}; the files come from different tokenizers: {fix}")


# nanoGPT's prepare.py for openwebtext and shakespeare writes GPT-2 ids as uint16 and nothing else; its
# character-level sets add a meta.pkl, which is a pickle (unpickling can run code), so it is not opened.
NANOGPT_VOCAB, NANOGPT_EOT = 50257, 50256


def nanogpt_meta(dataset_dir):
    """The meta of a nanoGPT data folder: GPT-2's tokenizer, token counts from the file sizes. Refused with a
    one-line reason when it cannot be GPT-2 ids (a meta.pkl, a file of odd size, ids past GPT-2's vocabulary)."""
    if os.path.exists(os.path.join(dataset_dir, "meta.pkl")):
        raise UserError(f"{dataset_dir} holds nanoGPT's meta.pkl (a character-level vocabulary); it is a pickle, "
                        f"which is not opened because unpickling can run code. Prepare the text with this "
                        f"product instead: --sources=files:YOUR_TEXT.txt")
    meta = {"vocab_size": NANOGPT_VOCAB, "dtype": "uint16", "eot_token": NANOGPT_EOT, "tokenizer": "gpt2",
            "format": "nanoGPT"}
    for split in ("train", "val"):
        path = os.path.join(dataset_dir, f"{split}.bin")
        if not os.path.isfile(path):
            raise UserError(f"{dataset_dir} has train.bin but no {split}.bin; nanoGPT folders have both")
        size = os.path.getsize(path)
        if size % 2:
            raise UserError(f"{path} is {size:,} bytes, not a whole number of uint16 tokens; it is damaged or "
                            f"not a nanoGPT token file")
        meta[f"{split}_tokens"] = size // 2
        # the first million ids tell another tokenizer's file from GPT-2's; scanning openwebtext's 9 GB on every
        # start (load_meta runs more than once) would not
        head = np.memmap(path, dtype=np.uint16, mode="r", shape=(min(size // 2, 1_000_000),)) if size else None
        if head is not None and int(head.max()) >= NANOGPT_VOCAB:
            raise UserError(f"{path} holds ids past GPT-2's {NANOGPT_VOCAB:,}; a folder without meta.json is read "
                            f"as GPT-2 token ids, so give it the meta.json of the tokenizer that wrote it")
    return meta


def load_dataset_tokenizer(dataset_dir, meta):
    """The tokenizer a dataset folder was written with: its tokenizer.json, or GPT-2's for a nanoGPT folder."""
    if meta.get("tokenizer") == "gpt2":
        return get_gpt2_encoding()
    return load_tokenizer(os.path.join(dataset_dir, "tokenizer.json"))


def open_tokens(dataset_dir, split, meta=None):
    """The token ids of split ('train' or 'val') as a read-only memory map; memory does not grow with data.
    Pass meta (from load_meta) when calling once per batch, so meta.json is not re-read each time."""
    meta = meta or load_meta(dataset_dir)
    path = os.path.join(dataset_dir, f"{split}.bin")
    if not os.path.exists(path):
        raise UserError(f"dataset file {path} is missing; run the data step (python data.py CONFIG) or "
                        f"point dataset_dir at a folder with train.bin, val.bin and meta.json")
    if os.path.getsize(path) == 0:
        return np.zeros(0, dtype=meta["dtype"])  # np.memmap refuses empty files
    return np.memmap(path, dtype=meta["dtype"], mode="r")


def document_starts(tokens, eot, last, chunk=1 << 24):
    """Where a window may start so that it opens a document: 0 and every end-of-text position, up to
    last (int64 array). Read in chunks, so a file bigger than memory costs no more than one chunk."""
    found = [np.zeros(1, dtype=np.int64)]
    for i in range(0, min(len(tokens), last), chunk):
        found.append(np.flatnonzero(np.asarray(tokens[i:min(i + chunk, last)]) == eot).astype(np.int64) + i)
    return np.unique(np.concatenate(found))


def open_loss_mask(dataset_dir, split, meta):
    """The split's loss mask (1 = a token the model learns to write) as a memory map, or None when every
    token is learned."""
    if not meta.get("loss_mask"):
        return None
    path = os.path.join(dataset_dir, f"{split}_mask.bin")
    if not os.path.exists(path):
        raise UserError(f"dataset file {path} is missing but meta.json says the data has a loss mask; "
                        f"run the data step again")
    return np.memmap(path, dtype=np.uint8, mode="r")


class TextDataset:
    """Every block_size window of tokens as (x, y), y being x shifted left by one token."""

    def __init__(self, tokens, block_size):
        self.tokens = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
        self.block_size = block_size

    def __len__(self):
        return max(0, len(self.tokens) - self.block_size)

    def __getitem__(self, i):
        chunk = self.tokens[i:i + self.block_size + 1]
        return chunk[:-1], chunk[1:]


def fingerprint(dataset_dir):
    """A short hash of a dataset folder's token files and tokenizer, from each file's size and its first and
    last 4 MB (hashing a 9 GB train.bin at every resume would take a minute): a resumed run compares it
    with the one its checkpoint stored."""
    h = hashlib.sha256()
    for name in ("train.bin", "val.bin", "tokenizer.json"):
        path = os.path.join(dataset_dir, name)
        size = os.path.getsize(path) if os.path.isfile(path) else -1
        h.update(f"{name}:{size};".encode())
        if size > 0:
            with open(path, "rb") as f:
                h.update(f.read(4 << 20))
                if size > 8 << 20:
                    f.seek(-(4 << 20), os.SEEK_END)
                    h.update(f.read())
    return h.hexdigest()[:16]


def make_batch_fn(dataset_dir, block_size, batch_size, device, generator, doc_aligned=False):
    """Random windows from the memory-mapped token files: memory stays flat however big the data.
    doc_aligned: each window starts where a document does (at the end-of-text token before it), as sampling
    does, so no window teaches a recipe's steps without the ingredient list they refer to.
    Where the data has a loss mask, targets the model is not to learn (a problem's text) become -1."""
    meta = load_meta(dataset_dir)
    starts = {}

    def get_batch(split, gen=None):
        tokens = open_tokens(dataset_dir, split, meta)  # a fresh memmap per batch, as nanoGPT: no page build-up
        if doc_aligned and split not in starts:
            starts[split] = document_starts(tokens, meta['eot_token'], len(tokens) - block_size)
        if doc_aligned and len(starts[split]):
            pick = torch.randint(len(starts[split]), (batch_size,), generator=gen or generator)
            ix = torch.from_numpy(starts[split][pick.numpy()])
        else:
            ix = torch.randint(len(tokens) - block_size, (batch_size,), generator=gen or generator)
        x = torch.stack([torch.from_numpy(tokens[i:i + block_size].astype('int64')) for i in ix.tolist()])
        y = torch.stack([torch.from_numpy(tokens[i + 1:i + 1 + block_size].astype('int64')) for i in ix.tolist()])
        mask = open_loss_mask(dataset_dir, split, meta)
        if mask is not None:
            learned = torch.stack([torch.from_numpy(mask[i + 1:i + 1 + block_size].astype(bool)) for i in ix.tolist()])
            y = y.masked_fill(~learned, -1)
        if device.startswith('cuda'):  # 'cuda:N' under DDP
            return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        return x.to(device), y.to(device)
    return get_batch
