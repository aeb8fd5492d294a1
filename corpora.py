"""
Users' own text as training documents: notes and text files, code (as fill-in-the-middle), the commits of
a git repository, and chat conversations (read by chats.py); and what each source says about itself:
licences, commit kinds, languages, Python that parses. The privacy pass is privacy.py.

A document is a dict: text (the whole document), source ("KIND:PATH" as the user wrote it), kind (files,
code, git, chat) and, where only some of it is to be learned, segments: [[piece, learned], ...] in order,
with "".join(pieces) == text; a piece that is exactly a special token name is encoded as that token.
Extra fields: path (files, code), fim (code), commit (git), messages (chat).
"""
import ast
import collections
import glob
import json
import math
import os
import random
import re
import subprocess
import tempfile
import tomllib
import warnings
import zlib

from chats import chat_document, chat_documents, clean_messages, jsonl_records
from common import UserError
from tokenizer import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, estimate_tokens

SOURCE_KINDS = ("files", "code", "git", "chat")
TEXT_EXTENSIONS = ("txt", "md", "jsonl")
MIN_CODE_CHARS = 200        # smaller files are stubs (__init__.py, one-line configs): nothing to learn
MAX_CODE_BYTES = 1_000_000  # larger "code" files are data dumps or generated bundles
MAX_LINE_CHARS = 1000       # a line this long is minified or embedded data, not something a person wrote
MAX_AVG_LINE_CHARS = 200
# vendored, generated and tool folders: other people's code or build output, often many times the user's own
SKIP_DIRS = {"node_modules", "vendor", "third_party", "dist", "build", "__pycache__", "venv", "env",
             "site-packages", "target"}  # and every folder whose name starts with '.' (.git, .venv, .tox, ...)
# lockfiles whose names do not end in .lock (yarn.lock, Cargo.lock, poetry.lock, ... all do)
LOCKFILES = {"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "bun.lockb", "go.sum",
             "packages.lock.json"}


def is_lockfile(name):
    """A package manager's pinned versions: machine-written, nothing to learn (code or git diffs alike)."""
    return name in LOCKFILES or name.endswith(".lock")



# -----------------------------------------------------------------------------
# the sources line of a config


def parse_sources(spec):
    """'files:notes/*.md, git:~/src/app@0.5' -> [(kind, path, weight), ...] with ~ expanded and weight 1.0
    unless @WEIGHT is given. Paths may not contain commas, and text after the last '@' with no path
    separator in it is read as the weight."""
    sources = []
    for entry in (e.strip() for e in (spec or "").split(",")):
        if not entry:
            continue
        kind, sep, path = entry.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in SOURCE_KINDS:
            raise UserError(f"corpus source '{entry}' does not start with a known kind; write KIND:PATH with "
                            f"KIND one of {', '.join(SOURCE_KINDS)}, e.g. files:notes/*.md")
        weight = 1.0
        head, at, tail = path.rpartition("@")
        if at and "/" not in tail and "\\" not in tail:
            try:
                weight = float(tail)
            except ValueError:
                weight = 0.0
            if not 0 < weight < math.inf:  # also refuses nan
                raise UserError(f"corpus source '{entry}' has weight '{tail}'; write a number above 0 after "
                                f"the path, e.g. {kind}:{head.strip()}@2")
            path = head
        path = path.strip()
        if not path:
            raise UserError(f"corpus source '{entry}' has no path; write it as {kind}:PATH, e.g. {kind}:~/notes")
        sources.append((kind, os.path.expanduser(path), weight))
    if not sources:
        raise UserError("the corpus sources are empty; list them as KIND:PATH[@WEIGHT] separated by commas, "
                        "e.g. files:notes/*.md, code:~/src/app")
    return sources


# -----------------------------------------------------------------------------
# reading files: walking folders, text or not, JSON lines, cutting text into pieces


def walk_files(folder, extensions):
    """Paths under folder whose extension is in extensions, in sorted (deterministic) order, leaving out
    hidden files and SKIP_DIRS / hidden folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and extension(name) in extensions:
                yield os.path.join(root, name)


def extension(path):
    return os.path.splitext(path)[1][1:].lower()


def read_text(path):
    """The file's text with line ends made '\\n', or None if it is binary (a NUL byte) or not UTF-8."""
    with open(path, "rb") as f:
        raw = f.read()
    if b"\0" in raw:
        return None
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return None


def line_windows(text, max_chars):
    """Consecutive windows of at most max_chars characters, cut at line starts; a longer line is hard-cut.
    "".join(windows) == text."""
    windows, current = [], ""
    for line in text.splitlines(keepends=True):
        for i in range(0, len(line), max_chars):
            piece = line[i:i + max_chars]
            if len(current) + len(piece) > max_chars:
                windows.append(current)
                current = ""
            current += piece
    return windows + [current] if current else windows


def text_chunks(text, max_chars):
    """Text cut at blank lines into chunks of at most max_chars characters, whole paragraphs packed
    together; a paragraph longer than max_chars is cut at line ends, then hard."""
    pieces = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        paragraph = paragraph.strip("\n")
        if len(paragraph) > max_chars:
            pieces += [w.rstrip("\n") for w in line_windows(paragraph, max_chars) if w.strip()]
        elif paragraph.strip():
            pieces.append(paragraph)
    chunks = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= max_chars:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


# -----------------------------------------------------------------------------
# files: notes, text, markdown and JSONL records


def file_documents(pattern, max_chars):
    """Documents from a file, a folder (every .txt/.md/.jsonl under it) or a glob -> (docs, report).
    Text is cut into chunks of at most max_chars; a JSONL record gives one document from its 'text', or
    a chat document from its 'messages'. Report: files, files_skipped (binary), records_skipped,
    chats_dropped."""
    if os.path.isdir(pattern):
        paths = list(walk_files(pattern, TEXT_EXTENSIONS))
    elif os.path.isfile(pattern):
        paths = [pattern]
    else:
        paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not paths:
        raise UserError(f"files:{pattern} matches no files; give a file, a folder of .txt/.md/.jsonl files "
                        f"or a glob such as notes/**/*.md")
    source = f"files:{pattern}"
    docs, report = [], {"files": 0, "files_skipped": 0, "records_skipped": 0, "chats_dropped": 0}
    for path in paths:
        if extension(path) != "jsonl":
            text = read_text(path)
            report["files_skipped" if text is None else "files"] += 1
            docs += [{"text": chunk, "source": source, "kind": "files", "path": path}
                     for chunk in text_chunks(text or "", max_chars)]
            continue
        report["files"] += 1
        for _, record in jsonl_records(path):
            if isinstance(record, dict) and isinstance(record.get("text"), str) and record["text"].strip():
                docs.append({"text": record["text"], "source": source, "kind": "files", "path": path})
            elif isinstance(record, dict) and isinstance(record.get("messages"), list):
                doc = chat_document(clean_messages(record["messages"]), source)
                report["chats_dropped"] += doc is None
                docs += [doc] if doc else []
            else:
                report["records_skipped"] += 1
    return docs, report


# -----------------------------------------------------------------------------
# code: windows of the user's source files, most as fill-in-the-middle (Bavarian et al. 2022, "Efficient
# Training of Language Models to Fill in the Middle"): the model learns to write a middle given what comes
# before and after, which is what an editor asks of it, and loses nothing at left-to-right writing.


def code_skip_reason(name, text):
    """Why a code file is not worth learning from (lockfile, minified, generated, tiny), or None."""
    if is_lockfile(name):
        return "lockfile"
    if ".min." in name:
        return "minified"
    if len(text) < MIN_CODE_CHARS:
        return "tiny"
    lines = text.splitlines() or [""]
    if max(map(len, lines)) > MAX_LINE_CHARS or len(text) / len(lines) > MAX_AVG_LINE_CHARS:
        return "minified"
    if re.search(r"@generated|DO NOT EDIT", "\n".join(lines[:5])):  # the markers code generators write
        return "generated"
    return None


def fim_split(window, rng, spans="chars"):
    """(prefix, middle, suffix) with prefix + middle + suffix == window and a non-empty middle: two distinct
    cut points drawn uniformly over the character positions, as in the FIM paper and StarCoder; or with
    spans="lines", whole lines: one line half the time, two a quarter, three an eighth..., placed anywhere,
    the gap an editor's line completion leaves (the long spans of uniform cuts teach a small model to write
    on past a one-line gap)."""
    if spans == "lines":
        lines = window.splitlines(keepends=True)
        n = 1
        while n < len(lines) and rng.random() < 0.5:
            n += 1
        first = rng.randrange(len(lines) - n + 1)
        return "".join(lines[:first]), "".join(lines[first:first + n]), "".join(lines[first + n:])
    i, j = sorted(rng.sample(range(len(window) + 1), 2))
    return window[:i], window[i:j], window[j:]


def fim_segments(prefix, middle, suffix):
    """Segments in prefix-suffix-middle order, all learned (FIM paper: PSM, loss on every token); empty
    prefix or suffix pieces are left out, the special tokens never."""
    pieces = [FIM_PREFIX, prefix, FIM_SUFFIX, suffix, FIM_MIDDLE, middle]
    return [[p, True] for p in pieces if p]


def code_window(text):
    """The window a code document's text came from: a fill-in-the-middle text (fim_segments') put back in
    order, prefix + middle + suffix; a plain one as it is."""
    if not text.startswith(FIM_PREFIX) or FIM_SUFFIX not in text or FIM_MIDDLE not in text:
        return text
    prefix, _, rest = text[len(FIM_PREFIX):].partition(FIM_SUFFIX)
    suffix, _, middle = rest.partition(FIM_MIDDLE)
    return prefix + middle + suffix


LANGUAGES = {"py": "Python", "js": "JavaScript", "jsx": "JavaScript", "ts": "TypeScript", "tsx": "TypeScript",
             "sql": "SQL", "css": "CSS", "html": "HTML", "md": "Markdown", "sh": "Shell", "c": "C", "h": "C",
             "cpp": "C++", "hpp": "C++", "cc": "C++", "go": "Go", "rs": "Rust", "java": "Java", "rb": "Ruby"}
PYTHON_BLOCK = re.compile(r"```(?:python|py)[ \t]*\n(.*?)```", re.DOTALL)


def parses_as_python(text):
    """Whether the running Python parses text (warnings about odd escapes are not failures)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def python_blocks_report(docs):
    """Fenced Python blocks in what the model learns to write (a chat's assistant turns, a file's text):
    {checked, valid}. Reported, not dropped: a note's snippet may be a fragment or a doctest on purpose."""
    blocks = [b for d in docs for piece, learned in (d.get("segments") or [[d["text"], True]]) if learned
              for b in PYTHON_BLOCK.findall(piece)]
    return {"checked": len(blocks), "valid": sum(map(parses_as_python, blocks))}


def code_documents(folder, extensions, per_file, max_chars, fim_rate, seed, fim_spans="chars"):
    """Up to per_file windows of at most max_chars characters from each usable code file under folder, a
    share fim_rate of them as fill-in-the-middle documents -> (docs, report). The same seed gives the same
    documents. A Python file that does not parse is dropped (Python 2, a deliberately broken test file).
    Report: files_seen, files_used, skipped {reason: count}, fim_docs, plain_docs, python_files {checked,
    dropped}, languages {language: share of the characters read}, licence (licence_report)."""
    extensions = tuple(e.strip().lstrip(".").lower() for e in extensions if e.strip())
    if not os.path.isdir(folder):
        raise UserError(f"code:{folder} is not a folder; point code: at the folder that holds your source files")
    source = f"code:{folder}"
    docs, skipped, languages, spdx_headers = [], collections.Counter(), collections.Counter(), collections.Counter()
    report = {"files_seen": 0, "files_used": 0, "skipped": skipped, "fim_docs": 0, "plain_docs": 0,
              "python_files": {"checked": 0, "dropped": 0}}
    for path in walk_files(folder, extensions):
        report["files_seen"] += 1
        relpath = os.path.relpath(path, folder).replace(os.sep, "/")
        text = read_text(path) if os.path.getsize(path) <= MAX_CODE_BYTES else False
        reason = ("too_large" if text is False else "binary" if text is None else
                  code_skip_reason(os.path.basename(path), text))
        if not reason and extension(path) == "py":
            report["python_files"]["checked"] += 1
            reason = None if parses_as_python(text) else "python_syntax"
            report["python_files"]["dropped"] += reason is not None
        if reason:
            skipped[reason] += 1
            continue
        report["files_used"] += 1
        languages[LANGUAGES.get(extension(path), extension(path))] += len(text)
        spdx_headers.update(SPDX_HEADER.findall(text[:2000]))
        # crc32 of the path, not hash(): Python salts str hashes per process, which would break determinism
        rng = random.Random(seed + zlib.crc32(relpath.encode()))
        windows = [w for w in line_windows(text, max_chars) if w.strip()]
        for k in sorted(rng.sample(range(len(windows)), min(per_file, len(windows)))):
            doc = {"text": windows[k], "source": source, "kind": "code", "path": relpath, "fim": False}
            if rng.random() < fim_rate:
                doc["segments"] = fim_segments(*fim_split(windows[k], rng, fim_spans))
                doc.update(text="".join(p for p, _ in doc["segments"]), fim=True)
            report["fim_docs" if doc["fim"] else "plain_docs"] += 1
            docs.append(doc)
    if not report["files_seen"]:
        raise UserError(f"code:{folder} has no files ending in {', '.join('.' + e for e in extensions)}; "
                        f"check the folder or set code_extensions")
    if not docs:
        raise UserError(f"code:{folder} has no usable code files (skipped: {dict(skipped)}); point it at "
                        f"your own source, not a build or vendored folder")
    total = sum(languages.values())
    report["languages"] = {lang: round(n / total, 4) for lang, n in languages.most_common()}
    report["licence"] = licence_report(folder, spdx_headers)
    return docs, report


# -----------------------------------------------------------------------------
# licences: whose code the 'code' and 'git' sources read, so the user decides informed (nothing is refused)

# SPDX ids whose terms ask only for attribution, not that a model or its output share the licence
PERMISSIVE_LICENCES = ("MIT", "MIT-0", "0BSD", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "Zlib",
                       "Unlicense", "CC0-1.0", "PSF-2.0", "Python-2.0", "BSL-1.0")
# (SPDX id, phrases of the licence's own text, all present), most specific first: the GPL's text names
# the LGPL, the LGPL's names the GPL, BSD-3 contains BSD-2; titles are matched in their own upper case
LICENCE_TEXTS = [
    ("AGPL-3.0", ("GNU AFFERO GENERAL PUBLIC LICENSE",)),
    ("LGPL-3.0", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3")),
    ("LGPL-2.1", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 2.1")),
    ("LGPL-2.0", ("GNU LIBRARY GENERAL PUBLIC LICENSE",)),
    ("GPL-3.0", ("GNU GENERAL PUBLIC LICENSE", "Version 3")),
    ("GPL-2.0", ("GNU GENERAL PUBLIC LICENSE", "Version 2")),
    ("MPL-2.0", ("Mozilla Public License", "Version 2.0")),
    ("EPL-2.0", ("Eclipse Public License - v 2.0",)),
    ("PSF-2.0", ("PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2",)),
    ("Apache-2.0", ("Apache License", "Version 2.0")),
    ("BSL-1.0", ("Boost Software License - Version 1.0",)),
    ("BSD-3-Clause", ("Redistribution and use in source and binary forms", "Neither the name")),
    ("BSD-2-Clause", ("Redistribution and use in source and binary forms",)),
    ("MIT", ("Permission is hereby granted, free of charge",)),
    ("ISC", ("Permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("Zlib", ("This software is provided 'as-is', without any express or implied warranty",)),
    ("Unlicense", ("This is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("CC0 1.0 Universal",)),
]
LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE)([-._].*)?$", re.IGNORECASE)
SPDX_HEADER = re.compile(r"SPDX-License-Identifier:\s*([\w.+-]+(?:\s+(?:OR|AND|WITH)\s+[\w.+-]+)*)")


def licence_of_text(text):
    """The SPDX id of a licence file's text, or None when it is none of LICENCE_TEXTS."""
    flat = " ".join(text.split())
    return next((spdx for spdx, phrases in LICENCE_TEXTS if all(p in flat for p in phrases)), None)


def is_permissive(expression):
    """'MIT', 'MIT OR Apache-2.0', 'Apache-2.0 WITH LLVM-exception': permissive when some alternative of an
    OR has only permissive ids (an exception only widens a licence)."""
    for alternative in re.split(r"\s+OR\s+", expression.strip("() ")):
        ids = re.split(r"\s+AND\s+", re.sub(r"\s+WITH\s+\S+", "", alternative.strip("() ")))
        if all(i.strip("() ").removesuffix("-only").removesuffix("-or-later") in PERMISSIVE_LICENCES for i in ids):
            return True
    return False


def declared_licences(folder):
    """[(licence, where)] from folder's licence files and package manifests (pyproject.toml, Cargo.toml:
    license = "..." or {text = "..."}; package.json: "license")."""
    found = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if LICENCE_FILE.match(name) and os.path.isfile(path) and os.path.getsize(path) < 1_000_000:
            spdx = licence_of_text(read_text(path) or "")
            if spdx:
                found.append((spdx, name))
            elif not name.upper().startswith("NOTICE"):  # a NOTICE file lists credits, not a licence
                found.append(("unrecognised", name))
    for name in ("pyproject.toml", "Cargo.toml"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                with open(path, "rb") as f:
                    manifest = tomllib.load(f)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            value = (manifest.get("project") or manifest.get("package") or {}).get("license")
            value = value.get("text") if isinstance(value, dict) else value
            if isinstance(value, str) and value.strip() and len(value) < 100:
                found.append((value.strip(), name))
    path = os.path.join(folder, "package.json")
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                value = json.load(f).get("license")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            value = None
        value = value.get("type") if isinstance(value, dict) else value
        if isinstance(value, str) and value.strip():
            found.append((value.strip(), "package.json"))
    return found


def licence_report(folder, spdx_headers=None):
    """The licence of the code under folder, declared in folder or, inside a git repository, in a folder
    above it up to the repository's top -> {licence, found_in, permissive, spdx_headers}. licence is None
    when nothing says; spdx_headers counts the SPDX-License-Identifier lines of the files read."""
    chain = [os.path.abspath(folder)]
    while os.path.dirname(chain[-1]) != chain[-1]:
        chain.append(os.path.dirname(chain[-1]))
    top = next((i for i, p in enumerate(chain) if os.path.exists(os.path.join(p, ".git"))), 0)
    found, here = [], chain[0]
    for here in chain[:top + 1]:
        found = declared_licences(here)
        if found:
            break
    headers = dict((spdx_headers or collections.Counter()).most_common())
    names = list(dict.fromkeys(spdx for spdx, _ in found)) or list(headers)
    return {"licence": " AND ".join(f"({n})" if " OR " in n else n for n in names) if names else None,
            "found_in": [os.path.relpath(os.path.join(here, where), chain[0]) for _, where in found]
            or (["SPDX-License-Identifier headers"] if headers else []),
            "permissive": bool(names) and all(is_permissive(n) for n in names), "spdx_headers": headers}


def licence_warning(source, report):
    """One line for a source whose licence is missing or not permissive, else None."""
    if report["licence"] is None:
        return (f"WARNING: {source}: no licence found (no LICENSE/COPYING file, manifest field or SPDX header); "
                f"make sure you may train on this code")
    if "unrecognised" in report["licence"]:
        return (f"WARNING: {source}: {', '.join(report['found_in'])} holds a licence this does not recognise; "
                f"read it to see whether it allows training on this code")
    if not report["permissive"]:
        return (f"WARNING: {source} is under {report['licence']}, not a permissive licence "
                f"({', '.join(PERMISSIVE_LICENCES)}); check its terms allow training on it and using the model")
    return None


# -----------------------------------------------------------------------------
# git: each meaningful commit as its message followed by its diff, oldest first, so the model learns
# how the project changes and how people describe changes


# first lines that say nothing about the change: work in progress, dependency bumps, chores, merges,
# and a message that is only "typo" / "formatting" / "lint" (optionally "fix ...", "... code")
NOISE_MESSAGE = re.compile(r"^(wip|bump|chore|merge|formatting|reformat\w*|fixup!|squash!)\b"
                           r"|^(fix(es|ed)?\s+)?(a\s+)?(typos?|format(ting)?|lint(ing)?)"
                           r"(\s+(code|files?|fix(es)?))?\W*$", re.IGNORECASE)


def is_meaningful_message(message):
    first = (message.strip().splitlines() or [""])[0].strip()
    return len(first) >= 8 and len(first.split()) > 1 and not NOISE_MESSAGE.search(first)


# what a commit did, from its first line: a Conventional Commits prefix ("fix(parser): ...") or its first words
COMMIT_KINDS = [("fix", r"fix|fixe[sd]|fixing|bug|bugfix|hotfix|patch|resolve[sd]?|repair|correct|crash|regression"),
                ("feature", r"feat|feature|add|adds|added|adding|implement\w*|introduce\w*|support\w*|new|allow\w*|enable\w*"),
                ("docs", r"docs?|document\w*|readme|comments?"),
                ("test", r"tests?|testing|specs?"),
                ("refactor", r"refactor\w*|clean\w*|rename\w*|move[sd]?|simplif\w*|tidy|restructure\w*|extract\w*"),
                ("performance", r"perf|performance|speed\w*|optimi[sz]\w*|faster")]


def commit_kind(message):
    """'fix', 'feature', 'docs', 'test', 'refactor', 'performance' or 'other' for a commit message."""
    first = (message.strip().splitlines() or [""])[0].lower()
    prefix = re.match(r"^(\w+)(\([^)]*\))?!?:", first)
    words = [prefix.group(1)] if prefix else re.findall(r"[a-z]+", first)[:3]
    for kind, pattern in COMMIT_KINDS:
        if any(re.fullmatch(pattern, w) for w in words):
            return kind
    return "other"


def run_git(repo, *args, problem="cannot be read"):
    """git's stdout for a short command in repo; git missing or failing is the user's to fix."""
    try:
        result = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, errors="replace")
    except FileNotFoundError:
        raise UserError("git is not installed; install git or remove the git: corpus source") from None
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise UserError(f"git:{repo} {problem} ({why}); point git: at a git repository with commits")
    return result.stdout


def git_commits(repo):
    """Yields (sha, message, diff lines) per non-merge commit, oldest first, streamed so a long history
    does not have to fit in memory. The options keep the user's git settings (external diff tools, text
    conversion, signatures, colour) out of the text."""
    command = ["git", "-C", repo, "-c", "core.quotepath=off", "log", "-p", "--reverse", "--no-merges",
               "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature", "--find-renames",
               "--src-prefix=a/", "--dst-prefix=b/",
               "--format=%x1e%H%n%B%x1f"]  # \x1e starts a commit, \x1f ends its message: bytes text never holds
    with tempfile.TemporaryFile() as stderr, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                                                             text=True, errors="replace") as process:
        sha, message, diff = None, [], None
        for line in process.stdout:
            if line.startswith("\x1e"):
                if sha:
                    yield sha, "".join(message), diff or []
                sha, message, diff = line[1:].strip(), [], None
            elif diff is None:
                head, end, _ = line.partition("\x1f")
                message.append(head)
                diff = [] if end else None
            elif line.strip() or diff:
                diff.append(line)
        if sha:
            yield sha, "".join(message), diff or []
        if process.wait() != 0:
            stderr.seek(0)
            raise UserError(f"git log failed in {repo} ({stderr.read().decode(errors='replace').strip()[:200]})")


def clean_diff(diff_lines):
    """Splits a commit's diff into files and keeps the ones worth reading -> (kept file diffs, lockfiles
    dropped, binaries dropped, lines changed in the kept ones). 'index' lines go: their hashes are noise."""
    files = []
    for line in diff_lines:
        if line.startswith("diff --git ") or not files:
            files.append([])
        files[-1].append(line)
    kept, lockfiles, binaries, changed = [], 0, 0, 0
    for lines in files:
        name = os.path.basename(lines[0].rstrip("\n").split(" b/")[-1].strip('"'))
        if is_lockfile(name):
            lockfiles += 1
        elif any(l.startswith("Binary files ") or l.startswith("GIT binary patch") for l in lines):
            binaries += 1
        else:
            hunk_start = next((i for i, l in enumerate(lines) if l.startswith("@@")), len(lines))
            changed += sum(l.startswith(("+", "-")) for l in lines[hunk_start:])
            kept.append("".join(l for l in lines if not l.startswith("index ")))
    return kept, lockfiles, binaries, changed


def git_documents(repo, max_files, max_lines):
    """One document per meaningful commit: its message, a blank line, its diff -> (docs, report), oldest
    first. Report: commits, used, skipped {merge, message, no_diff, too_many_files, too_many_lines},
    lockfiles_dropped, binaries_dropped, commit_kinds {fix, feature, ...} of the used commits, licence."""
    run_git(repo, "rev-parse", "--git-dir", problem="is not a git repository")
    merges = int(run_git(repo, "rev-list", "--merges", "--count", "HEAD"))
    skipped = collections.Counter({"merge": merges} if merges else {})
    kinds = collections.Counter()
    report = {"commits": merges, "used": 0, "skipped": skipped, "lockfiles_dropped": 0, "binaries_dropped": 0,
              "commit_kinds": kinds, "licence": licence_report(repo)}
    docs = []
    for sha, message, diff_lines in git_commits(repo):
        report["commits"] += 1
        # counted after lockfiles and binaries go: a dependency bump should not make a small fix "too large"
        kept, lockfiles, binaries, changed = clean_diff(diff_lines)
        report["lockfiles_dropped"] += lockfiles
        report["binaries_dropped"] += binaries
        reason = ("message" if not is_meaningful_message(message) else "no_diff" if not kept else
                  "too_many_files" if len(kept) > max_files else "too_many_lines" if changed > max_lines else None)
        if reason:
            skipped[reason] += 1
            continue
        report["used"] += 1
        kinds[commit_kind(message)] += 1
        text = message.strip() + "\n\n" + "".join(kept).rstrip("\n") + "\n"
        docs.append({"text": text, "source": f"git:{repo}", "kind": "git", "commit": sha})
    return docs, report


# -----------------------------------------------------------------------------
# one entry of the sources line -> documents


def read_source(kind, path, opts, seed):
    """(docs, report) for one source; report also holds documents and tokens (an estimate) for budgets.
    opts: the settings of settings.py it uses: code_extensions ("py,js,..."), code_per_file, max_chars,
    fim_rate, fim_spans, git_max_files, git_max_lines."""
    if kind == "files":
        docs, report = file_documents(path, opts["max_chars"])
    elif kind == "code":
        extensions = opts["code_extensions"]
        extensions = extensions.split(",") if isinstance(extensions, str) else extensions
        docs, report = code_documents(path, extensions, opts["code_per_file"], opts["max_chars"],
                                      opts["fim_rate"], seed, opts["fim_spans"])
    elif kind == "git":
        docs, report = git_documents(path, opts["git_max_files"], opts["git_max_lines"])
    elif kind == "chat":
        docs, report = chat_documents(path)
    else:
        raise UserError(f"unknown corpus source kind '{kind}'; use one of {', '.join(SOURCE_KINDS)}")
    if kind in ("files", "chat"):
        report["python_blocks"] = python_blocks_report(docs)
    report.update(documents=len(docs), tokens=sum(estimate_tokens(d["text"]) for d in docs))
    return docs, report
