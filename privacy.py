"""
The privacy pass: e-mail addresses, phone numbers, IP addresses, API keys and tokens, and user names in
home-folder paths are replaced by placeholders (<email>, <phone>, <ip>, <key>, <user>) before anything is
trained, so they cannot be sampled back out. data.py runs it on users' sources (chat and git by default);
fill-in-the-middle documents are stitched back to find a secret their cut points split.
"""
import collections
import math
import re

from corpora import fim_segments
from tokenizer import CORPUS_SPECIALS, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX


DIGITS_NOT_AROUND = r"(?<![\w.+-]){}(?![\w]|[.-]\d)"
OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
HEX4 = r"[0-9A-Fa-f]{1,4}"
# (kind, pattern, check): applied in this order; the named group 's', where there is one, is the part
# replaced; check(match) False keeps a match. Keys and key blocks come first so later patterns never see them.
SECRET_PATTERNS = [
    ("key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)", None),
    ("key", r"(?<![\w-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}"
            r"|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[\w-]{20,})", None),
    ("key", r"\bBearer\s+(?P<s>(?=[\w.~+/-]*\d)[\w.~+/-]{16,}=*)", None),
    ("email", r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", None),
    # /home/NAME, /Users/NAME (not inside a URL such as example.com/home/about), C:\\Users\\NAME, also JSON-escaped
    ("user", r"(?:(?<![\w.-])/(?:home|Users)/|\b[A-Za-z]:(?:\\\\?|/)[Uu]sers(?:\\\\?|/))(?P<s>[^\\/\s:;,*?\"'`<>|)\]}\0]+)",
     lambda m: m["s"] not in ("Shared", "Public", "Default")),
    # full and '::' forms; needing '::' or 8 groups keeps out times (12:30:45), needing a digit and 5 hex
    # digits keeps out C++/Rust paths (std::io) and Python slices (a[1::2])
    ("ip", rf"(?<![\w:])(?:(?:{HEX4}:){{7}}{HEX4}|(?:{HEX4}:){{1,6}}:(?:{HEX4}(?::{HEX4}){{0,5}})?)(?![\w:])",
     lambda m: any(c.isdigit() for c in m[0]) and sum(c != ":" for c in m[0]) >= 5),
    # loopback, 'any' and netmasks are in every tutorial and say nothing about anyone
    ("ip", DIGITS_NOT_AROUND.format(rf"(?:{OCTET}\.){{3}}{OCTET}"),
     lambda m: not m[0].startswith(("127.", "0.", "255."))),
    # E.164 numbers have at most 15 digits; 8 or more tells a number from '+1 2 3'
    ("phone", r"(?<![\w.+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){1,4}[ .-]?\d{2,4}(?!\w|[.-]\d)",
     lambda m: 8 <= sum(c.isdigit() for c in m[0]) <= 15),
    ("phone", DIGITS_NOT_AROUND.format(r"(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}"), None),
    # '=' only as base64's end padding, so "secret=..." keeps its name
    ("key", r"(?<![\w+/-])[\w+/-]{32,}={0,2}(?![\w+/=-])", lambda m: looks_random(m[0])),
]
SECRET_PATTERNS = [(kind, re.compile(p, re.DOTALL), check) for kind, p, check in SECRET_PATTERNS]


def shannon_entropy(s):
    """Bits per character of s's own character distribution."""
    return -sum(n / len(s) * math.log2(n / len(s)) for n in collections.Counter(s).values())


def looks_random(s):
    """True for a key-like string: upper, lower and digits mixed, entropy above 4 bits/char, and not mostly
    words. A git sha (hex: at most 4 bits/char, no upper case) survives, as do camelCase names, paths and
    URLs like src/components/UserProfile2Card or pipermail/2001-September/000316, which pass the entropy
    bar but are 70% or more words and numbers; about 1 random 32-character key in 100 reads so too."""
    if not (re.search(r"[a-z]", s) and re.search(r"[A-Z]", s) and re.search(r"\d", s)):
        return False
    words = sum(map(len, re.findall(r"[A-Z]?[a-z]{3,}|[A-Z]{3,}|\d{3,}", s)))
    return shannon_entropy(s) > 4.0 and words < 0.7 * len(s)


def find_secrets(text):
    """[(start, end, kind)] of what redact replaces, sorted and not overlapping. Each pattern runs on a copy
    in which earlier finds are blanked out with NULs, so positions stay those of text."""
    masked, spans = text, []
    for kind, pattern, check in SECRET_PATTERNS:
        found = [(m.span("s") if "s" in pattern.groupindex else m.span()) for m in pattern.finditer(masked)
                 if check is None or check(m)]
        for start, end in found:
            masked = masked[:start] + "\0" * (end - start) + masked[end:]
        spans += [(start, end, kind) for start, end in found]
    return sorted(spans)


def replace_spans(text, spans, offset=0):
    """text with each (start, end, kind) span (positions offset by offset) replaced by '<kind>'."""
    out, pos = [], 0
    for start, end, kind in spans:
        out += [text[pos:start - offset], f"<{kind}>"]
        pos = end - offset
    return "".join(out) + text[pos:]


def redact(text):
    """(text with e-mails, phone numbers, IP addresses, keys and home-folder user names replaced by
    <email>, <phone>, <ip>, <key>, <user>, Counter of replacements by kind)."""
    spans = find_secrets(text)
    return replace_spans(text, spans), collections.Counter(kind for _, _, kind in spans)


def redact_fim(segments):
    """A FIM document's segments redacted as the window they came from, so a secret cut in two by the
    split is still found. A cut point inside a secret moves to its start (both cuts in one secret: the
    middle becomes the whole secret) -> (segments, Counter)."""
    parts, current = {FIM_PREFIX: "", FIM_SUFFIX: "", FIM_MIDDLE: ""}, None
    for piece, _ in segments:
        if piece in parts:
            current = piece
        else:
            parts[current] += piece
    prefix, middle, suffix = parts[FIM_PREFIX], parts[FIM_MIDDLE], parts[FIM_SUFFIX]
    window, i, j = prefix + middle + suffix, len(prefix), len(prefix) + len(middle)
    spans = find_secrets(window)
    for start, end, _ in spans:
        i = start if start < i < end else i
        j = start if start < j < end else j
    if i == j:
        j = next(end for start, end, _ in spans if start == i)
    cuts = ((0, i), (i, j), (j, len(window)))
    prefix, middle, suffix = (replace_spans(window[a:b], [s for s in spans if a <= s[0] < b], a) for a, b in cuts)
    return fim_segments(prefix, middle, suffix), collections.Counter(kind for _, _, kind in spans)


def redact_documents(docs):
    """(copies of docs with text, segments and messages redacted, Counter of replacements by kind).
    "".join(segment pieces) == text still holds; special tokens are left alone."""
    out, total = [], collections.Counter()
    for doc in docs:
        doc = dict(doc)
        if doc.get("fim") and doc.get("segments"):
            doc["segments"], counts = redact_fim(doc["segments"])
        elif doc.get("segments"):
            counts, segments = collections.Counter(), []
            for piece, learned in doc["segments"]:
                if piece not in CORPUS_SPECIALS:
                    piece, found = redact(piece)
                    counts += found
                segments.append([piece, learned])
            doc["segments"] = segments
        else:
            doc["text"], counts = redact(doc["text"])
        if doc.get("segments"):
            doc["text"] = "".join(p for p, _ in doc["segments"])
        if doc.get("messages"):  # the same strings as the content pieces, so the same replacements
            doc["messages"] = [{**m, "content": redact(m["content"])[0]} for m in doc["messages"]]
        total += counts
        out.append(doc)
    return out, total
