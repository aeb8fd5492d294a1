"""
Tokenizers: a byte-level BPE trained on the run's own text (as GPT-1 learned its BPE on its corpus), or
GPT-2's through tiktoken, and the tokenizer.json that carries either from the data step to sample.py.
Both are tiktoken Encodings, so encoding is tiktoken's fast code whichever was chosen. A run started from
GPT-1's own weights (init_from='hf:openai-gpt') uses GPT-1's tokenizer, read here with the standard library
(GPT1Tokenizer, at the end), behind the same interface.
"""
import base64
import collections
import heapq
import json
import math
import os
import re
import unicodedata

import tiktoken

from common import UserError, write_atomic

EOT = "<|endoftext|>"
# Users' own text (corpora.py) adds these: fill-in-the-middle marks (the order of the FIM paper, Bavarian et
# al. 2022, and StarCoder) and chat roles. Each is one token, after the vocabulary and <|endoftext|>.
FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"
SYSTEM, USER, ASSISTANT, END_TURN = "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"
CORPUS_SPECIALS = (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SYSTEM, USER, ASSISTANT, END_TURN)

# Counts words and single punctuation marks. On English recipe/story text GPT-2 gives about 1.1-1.3
# tokens per such match (long or rare words split into several), so this is a slight underestimate;
# it is only used for budgets and progress before a tokenizer exists.
_ESTIMATE_RE = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(text):
    """Fast estimate of the GPT-2-style token count of text (words + punctuation marks)."""
    return sum(1 for _ in _ESTIMATE_RE.finditer(text))


# GPT-2's pre-tokenisation pattern (the one tiktoken's 'gpt2' uses): contractions, letters, numbers,
# other symbols, whitespace. Trained tokenizers keep it so encoding splits text like GPT-2 does.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# The same split in Python's re (no \p{..}): a letter is a word char that is not a digit or '_'.
# Used only to count words while training; tiktoken encodes with GPT2_PATTERN itself.
_PRETOKENIZE_RE = re.compile(r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
# For problems to solve: every digit its own token, and without the space before it (as LLaMA splits
# numbers), so "is 1234" is "is", " ", 1, 2, 3, 4: a digit is one token wherever it stands in a number, and
# arithmetic is learnable digit by digit. (With GPT-2's " ?" the leading digit was another token, " 1",
# than the same digit inside a number.)
DIGITS_PATTERN = GPT2_PATTERN.replace(r" ?\p{N}+", r"\p{N}")
_PRETOKENIZE_DIGITS_RE = re.compile(_PRETOKENIZE_RE.pattern.replace(r" ?\d+", r"\d"))


def get_gpt2_encoding():
    """tiktoken's GPT-2 encoding (50,257 tokens); needs internet once or TIKTOKEN_CACHE_DIR with its files."""
    try:
        return tiktoken.get_encoding("gpt2")
    except Exception as e:
        cache = os.environ.get("TIKTOKEN_CACHE_DIR", "(TIKTOKEN_CACHE_DIR not set)")
        raise UserError(f"could not load the GPT-2 vocabulary from the cache {cache} or the internet "
                        f"({type(e).__name__}); set TIKTOKEN_CACHE_DIR to a folder holding the GPT-2 vocab "
                        f"files, or run once with internet") from e


def train_bpe(texts, vocab_size, split_digits=False, specials=()):
    """Byte-level BPE trained on texts: 256 byte tokens, then merges, then <|endoftext|> and the other
    specials as the last ids (vocab_size counts them). split_digits keeps every digit a token of its own.

    Words (pre-tokens) are counted once; each merge then updates only the pair counts of the words that
    contain the merged pair (found through a pair -> words index), and a heap with stale entries skipped
    picks the most frequent pair. Stops early, with a smaller vocabulary, when no pair occurs twice.
    """
    if vocab_size < 257 + len(specials):
        raise UserError(f"vocab_size {vocab_size} is too small for a byte-level BPE; use at least {257 + len(specials)}")
    word_counts = collections.Counter()
    for text in texts:
        word_counts.update((_PRETOKENIZE_DIGITS_RE if split_digits else _PRETOKENIZE_RE).findall(text))
    words = [list(w.encode("utf-8")) for w in word_counts]
    counts = list(word_counts.values())

    pair_counts = collections.defaultdict(int)
    pair_words = collections.defaultdict(set)
    for i, (word, c) in enumerate(zip(words, counts)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += c
            pair_words[pair].add(i)
    heap = [(-c, pair) for pair, c in pair_counts.items()]
    heapq.heapify(heap)

    token_bytes = [bytes([b]) for b in range(256)]
    ranks = {b: i for i, b in enumerate(token_bytes)}
    while len(ranks) < vocab_size - 1 - len(specials) and heap:
        neg, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -neg:
            continue  # stale heap entry; the current count was pushed again when it changed
        if -neg < 2:
            break  # merging a pair seen once compresses nothing
        merged = token_bytes[pair[0]] + token_bytes[pair[1]]
        # Two merge paths can spell the same bytes ("a"+"bc", "ab"+"c"); reuse the id so ranks stay unique.
        new_id = ranks.get(merged)
        if new_id is None:
            new_id = len(token_bytes)
            token_bytes.append(merged)
            ranks[merged] = new_id
        changed = set()
        for i in pair_words.pop(pair):
            word, c = words[i], counts[i]
            if len(word) < 2:
                continue
            for p in zip(word, word[1:]):
                pair_counts[p] -= c
                changed.add(p)
            new_word, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and word[j] == pair[0] and word[j + 1] == pair[1]:
                    new_word.append(new_id)
                    j += 2
                else:
                    new_word.append(word[j])
                    j += 1
            for p in zip(new_word, new_word[1:]):
                pair_counts[p] += c
                pair_words[p].add(i)
                changed.add(p)
            words[i] = new_word
        pair_counts.pop(pair, None)
        changed.discard(pair)
        for p in changed:
            c = pair_counts[p]
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                del pair_counts[p]
    return tiktoken.Encoding(f"text2gpt1-bpe-{len(ranks) + 1 + len(specials)}",
                             pat_str=DIGITS_PATTERN if split_digits else GPT2_PATTERN, mergeable_ranks=ranks,
                             special_tokens=_with_specials({EOT: len(ranks)}, specials))


def _with_specials(special_tokens, extra):
    """special_tokens with each of extra added after the last id."""
    out = dict(special_tokens)
    for name in extra:
        out.setdefault(name, max(out.values()) + 1)
    return out


def get_gpt2_with_specials(specials):
    """GPT-2's encoding with specials added as ids 50,257 on: the model's vocabulary grows to fit them."""
    gpt2 = get_gpt2_encoding()
    if not specials:
        return gpt2
    return tiktoken.Encoding("gpt2+specials", pat_str=gpt2._pat_str, mergeable_ranks=gpt2._mergeable_ranks,
                             special_tokens=_with_specials(gpt2._special_tokens, specials))


def encode_segments(enc, segments):
    """(ids, learned) for a document given as [[text, learned], ...]: a piece that is a special token's name
    becomes that token, any other piece is encoded as plain text (so a user's text that happens to contain
    '<|user|>' stays text). Pieces are encoded apart, as at inference, where the model continues the
    tokens of what it was given."""
    specials = enc._special_tokens
    pieces = [(t, bool(learned)) for t, learned in segments if t]
    # one piece at a time: encode_ordinary_batch starts a thread pool per call, ~5 ms a document
    plain = [enc.encode_ordinary(t) for t, _ in pieces if t not in specials]
    ids, learned, k = [], [], 0
    for text, learn in pieces:
        if text in specials:
            piece = [specials[text]]
        else:
            piece, k = plain[k], k + 1
        ids.extend(piece)
        learned.extend([int(learn)] * len(piece))
    return ids, learned


def encode_start(enc, text):
    """The ids of a text to continue, as sample.py and the server take it: special-token names written in it
    are those tokens, and '' starts a new document (<|endoftext|>, where every training document begins)."""
    return enc.encode(text, allowed_special='all') if text else [enc.eot_token]


def encode_fim(enc, prefix, suffix, max_len=None):
    """The ids that ask a model trained on code sources for the middle between prefix and suffix, in the
    order it learned (corpora.fim_segments: prefix, suffix, then the middle), after a document end as every
    training document is. The middle it writes ends with <|endoftext|>. Past max_len ids, the code farthest
    from the gap goes (the prefix's start, the suffix's end; the suffix keeps at least half the room)."""
    specials = enc._special_tokens
    before, after = enc.encode_ordinary(prefix), enc.encode_ordinary(suffix)
    if max_len is not None and len(before) + len(after) + 4 > max_len:
        room = max(0, max_len - 4)
        keep_after = min(len(after), max(room // 2, room - len(before)))
        before, after = before[len(before) - min(len(before), room - keep_after):], after[:keep_after]
    return ([enc.eot_token, specials[FIM_PREFIX]] + before + [specials[FIM_SUFFIX]] + after
            + [specials[FIM_MIDDLE]])


def tokenizer_json(enc):
    """enc as the text of a tokenizer.json: {"type": "gpt2"}, a BPE's pattern, base64 token bytes by rank and
    specials, or GPT-1's vocabulary and merges. The same tokenizer always gives the same text."""
    if enc.name == "gpt2":
        obj = {"type": "gpt2"}
    elif enc.name == "gpt2+specials":
        obj = {"type": "gpt2", "special_tokens": enc._special_tokens}
    elif enc.name == GPT1Tokenizer.name:
        obj = {"type": "gpt1", "vocab": enc.vocab, "merges": enc.merges, "special_tokens": enc._special_tokens}
    else:
        by_rank = sorted(enc._mergeable_ranks.items(), key=lambda kv: kv[1])
        obj = {"type": "bpe", "name": enc.name, "pattern": enc._pat_str,
               "tokens": [base64.b64encode(b).decode("ascii") for b, _ in by_rank],
               "special_tokens": enc._special_tokens}
    return json.dumps(obj)


def save_tokenizer(enc, path):
    """Write enc as tokenizer.json (tokenizer_json)."""
    write_atomic(path, tokenizer_json(enc))


def load_tokenizer(path):
    """Read a tokenizer written by save_tokenizer."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        if obj["type"] == "gpt2":
            specials = obj.get("special_tokens", {})
            return get_gpt2_with_specials(sorted(specials, key=specials.get))
        if obj["type"] == "gpt1":
            return GPT1Tokenizer(obj["vocab"], obj["merges"], {k: int(v) for k, v in obj["special_tokens"].items()})
        ranks = {base64.b64decode(t): i for i, t in enumerate(obj["tokens"])}
        return tiktoken.Encoding(obj["name"], pat_str=obj["pattern"], mergeable_ranks=ranks,
                                 special_tokens={k: int(v) for k, v in obj["special_tokens"].items()})
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"tokenizer file {path} is missing; run the data step again "
                        f"(python data.py CONFIG) or point dataset_dir at a folder that has it") from None
    except Exception as e:
        raise UserError(f"tokenizer file {path} is corrupt ({type(e).__name__}: {e}); delete it and "
                        f"run the data step again") from None


TOKENIZER_KINDS = ("bpe", "gpt2")


def make_tokenizer(kind, texts, vocab_size, split_digits=False, specials=()):
    """'bpe': a byte-level BPE trained on texts with vocab_size tokens; 'gpt2': GPT-2's own 50,257. Both
    with <|endoftext|>, and specials (names) as further tokens."""
    if kind == "bpe":
        return train_bpe(texts, vocab_size, split_digits, specials)
    if kind == "gpt2":
        return get_gpt2_with_specials(specials)
    raise UserError(f"unknown tokenizer {kind!r}; choose one of {', '.join(TOKENIZER_KINDS)}")



def with_specials(enc, specials):
    """enc with every name in specials it lacks added after its last id: a start model's tokenizer, grown
    for data that needs chat or fill-in-the-middle tokens (the model's token table grows with it)."""
    missing = [name for name in specials if name not in enc._special_tokens]
    if not missing:
        return enc
    grown = _with_specials(enc._special_tokens, missing)
    if enc.name.startswith("gpt2"):
        return get_gpt2_with_specials(sorted(set(grown) - {EOT}, key=grown.get))
    if enc.name == GPT1Tokenizer.name:
        return GPT1Tokenizer(enc.vocab, enc.merges, grown)
    return tiktoken.Encoding(enc.name, pat_str=enc._pat_str, mergeable_ranks=enc._mergeable_ranks, special_tokens=grown)


# -----------------------------------------------------------------------------
# GPT-1's own tokenizer (vocab.json + merges.txt of transformers' openai-gpt folder): BPE over lower-cased
# words whose last symbol carries '</w>'. The original split words with ftfy and spaCy; this is transformers'
# OpenAIGPTTokenizer, which does without them (tokenizers' BertNormalizer and BertPreTokenizer, BERT's
# BasicTokenizer rules), and gives the same ids (tests/test_start_model.py). Where that differs from the
# original: README, "Start from a model".

WORD_END = "</w>"
UNK = "<unk>"
# the blocks BERT counts as Chinese characters: each becomes a word of its own
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # BERT counts $, +, ^ ... as punctuation too


def gpt1_normalize(text):
    """BertNormalizer: control characters dropped, whitespace made spaces, spaces around CJK ideographs,
    accents stripped (NFD, then no combining marks), then lower case, character by character."""
    out = []
    for c in text:
        if c in "\t\n\r" or (c.isspace() and not unicodedata.category(c).startswith("C")):
            out.append(" ")
        elif c in "\x00\ufffd" or unicodedata.category(c).startswith("C"):
            continue
        elif any(lo <= ord(c) <= hi for lo, hi in CJK_RANGES):
            out.append(f" {c} ")
        else:
            out.append(c)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    return "".join(c.lower() for c in decomposed if unicodedata.category(c) != "Mn")


def gpt1_words(text):
    """The words GPT-1's BPE sees: normalized text split at whitespace, each punctuation mark a word."""
    words = []
    for chunk in gpt1_normalize(text).split():
        word = ""
        for c in chunk:
            if c in ASCII_PUNCTUATION or unicodedata.category(c).startswith("P"):
                words += [word, c] if word else [c]
                word = ""
            else:
                word += c
        if word:
            words.append(word)
    return words


class GPT1Tokenizer:
    """GPT-1's BPE behind the part of a tiktoken Encoding this project calls (encode_ordinary, encode, decode,
    decode_single_token_bytes, eot_token, n_vocab, _special_tokens). Special tokens come after the vocabulary:
    GPT-1 had no <|endoftext|>, so a run adds one (as GPT-1's fine-tuning added its start and end tokens).
    A character the vocabulary lacks becomes <unk> when the vocabulary has it, and is left out otherwise."""
    name = "gpt1"

    def __init__(self, vocab, merges, special_tokens):
        self.vocab, self.merges, self._special_tokens = dict(vocab), list(merges), dict(special_tokens)
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(self.merges)}
        self.tokens = {i: t for t, i in {**self.vocab, **self._special_tokens}.items()}
        self.n_vocab = max(self.tokens) + 1
        self.eot_token = self._special_tokens[EOT]
        self.cache = {}

    def word_ids(self, word):
        """One word's ids: its characters (the last with '</w>'), merged pair by pair in the merges' order."""
        if word not in self.cache:
            pieces = list(word[:-1]) + [word[-1] + WORD_END]
            symbols = [p if p in self.vocab else None for p in pieces]  # None: unknown, never merged
            while len(symbols) > 1:
                pairs = [(self.ranks.get(p, math.inf), p) for p in zip(symbols, symbols[1:])]
                rank, best = min(pairs, key=lambda rp: rp[0])
                if rank == math.inf:
                    break
                merged, i = [], 0
                while i < len(symbols):  # every occurrence, left to right
                    if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                        merged.append(best[0] + best[1])
                        i += 2
                    else:
                        merged.append(symbols[i])
                        i += 1
                symbols = merged
            unk = self.vocab.get(UNK)
            ids = [self.vocab.get(s, unk) if s is not None else unk for s in symbols]
            self.cache[word] = [i for i in ids if i is not None]
        return self.cache[word]

    def encode_ordinary(self, text):
        return [i for word in gpt1_words(text) for i in self.word_ids(word)]

    def encode_ordinary_batch(self, texts):
        return [self.encode_ordinary(t) for t in texts]

    def encode(self, text, allowed_special="all"):
        """Like tiktoken's: the special tokens named in text (all of them, or those in allowed_special) are those
        tokens; the rest is encoded as ordinary text."""
        names = self._special_tokens if allowed_special == "all" else set(allowed_special)
        if not names:
            return self.encode_ordinary(text)
        ids = []
        for piece in re.split("(" + "|".join(map(re.escape, names)) + ")", text):
            ids += [self._special_tokens[piece]] if piece in names else self.encode_ordinary(piece)
        return ids

    def decode(self, ids):
        """As transformers' BPEDecoder: each '</w>' is a space, except at the very end."""
        ids = list(ids)
        return "".join(self.tokens[t].replace(WORD_END, "" if i == len(ids) - 1 else " ") for i, t in enumerate(ids))

    def decode_single_token_bytes(self, token):
        return self.tokens[token].replace(WORD_END, " ").encode("utf-8")


def read_gpt1_tokenizer(vocab_path, merges_path, specials=()):
    """GPT-1's tokenizer from vocab.json and merges.txt, with <|endoftext|> and specials added after it."""
    try:
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
        with open(merges_path, encoding="utf-8") as f:
            merges = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
    except (OSError, ValueError) as e:
        raise UserError(f"could not read GPT-1's tokenizer from {vocab_path} and {merges_path} "
                        f"({type(e).__name__}: {e}); download the model's files again") from None
    return GPT1Tokenizer(vocab, merges, _with_specials({EOT: max(vocab.values()) + 1}, specials))
