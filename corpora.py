"""
Users' own text as training documents: notes and text files, code (as fill-in-the-middle), the commits of
a git repository, and chat conversations; plus the privacy pass that takes e-mails, phone numbers, IP
addresses, keys and user names out of them before anything is trained.

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
import zipfile
import zlib

from common import UserError
from tokenizer import (ASSISTANT, CORPUS_SPECIALS, END_TURN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, SYSTEM,
                       USER, estimate_tokens)

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


ROLE_TOKENS = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT}

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


def jsonl_records(path):
    """Yields (line number, record) for each non-blank line; a line that is not JSON is the user's to fix."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}, line {n}: not JSON ({e.msg}); fix the line or remove it") from None


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


def fim_split(window, rng):
    """(prefix, middle, suffix) with prefix + middle + suffix == window and a non-empty middle: two distinct
    cut points drawn uniformly over the character positions, as in the FIM paper and StarCoder."""
    i, j = sorted(rng.sample(range(len(window) + 1), 2))
    return window[:i], window[i:j], window[j:]


def fim_segments(prefix, middle, suffix):
    """Segments in prefix-suffix-middle order, all learned (FIM paper: PSM, loss on every token); empty
    prefix or suffix pieces are left out, the special tokens never."""
    pieces = [FIM_PREFIX, prefix, FIM_SUFFIX, suffix, FIM_MIDDLE, middle]
    return [[p, True] for p in pieces if p]


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


def code_documents(folder, extensions, per_file, max_chars, fim_rate, seed):
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
                doc["segments"] = fim_segments(*fim_split(windows[k], rng))
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
# chat: conversations in the OpenAI messages format; the model learns to write the assistant's turns only


def clean_messages(messages):
    """The turns worth learning from, as [{"role", "content"}]: roles system, user and assistant ('developer'
    is OpenAI's newer name for system), content a string or the text parts of a content list joined; other
    roles (tool, function) and turns without text are dropped; a tool call in a content list is a marker."""
    turns = []
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict):
            continue
        role, content = {"developer": "system"}.get(m.get("role"), m.get("role")), m.get("content")
        if isinstance(content, list):
            content = blocks_text(content)
        if role in ROLE_TOKENS and isinstance(content, str) and content.strip():
            turns.append({"role": role, "content": content})
    return turns


def render_chat(messages, start_reply=False):
    """Segments for a conversation, whole or partial: per turn [ROLE, False], [content, learned],
    [END_TURN, learned], learned only for the assistant. The assistant's role token is not learned because
    at inference the chat loop writes it; start_reply=True ends with it, so the model writes the reply."""
    segments = []
    for m in messages:
        learned = m["role"] == "assistant"
        segments += [[ROLE_TOKENS[m["role"]], False], [m["content"], learned], [END_TURN, learned]]
    return segments + [[ASSISTANT, False]] if start_reply else segments


def chat_document(turns, source):
    """A chat document from cleaned turns, or None if it lacks a user turn or an assistant turn."""
    if not {"user", "assistant"} <= {t["role"] for t in turns}:
        return None
    segments = render_chat(turns)
    return {"text": "".join(p for p, _ in segments), "source": source, "kind": "chat",
            "segments": segments, "messages": turns}


def merged_turns(turns):
    """Consecutive turns of one role joined into one (an assistant's text, tool call and text again is one
    reply), so every conversation alternates the way the chat loop asks."""
    merged = []
    for t in turns:
        if merged and merged[-1]["role"] == t["role"]:
            merged[-1]["content"] += "\n\n" + t["content"]
        else:
            merged.append(dict(t))
    return merged


def block_text(block):
    """The text of one content block of any of the chat shapes: text as it is, a tool call as a one-line
    marker (what the assistant did, not its arguments: they can hold paths and secrets), None for tool
    results, thinking, images and everything else."""
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return None
    if block.get("type") in ("text", "input_text", "output_text") and isinstance(block.get("text"), str):
        return block["text"]
    if block.get("type") in ("tool_use", "server_tool_use", "function_call", "custom_tool_call"):
        return f"[tool call: {block.get('name') or 'tool'}]"
    return None


def blocks_text(content):
    """A message's content (a string or a list of blocks) as one text; '' when nothing in it is text."""
    if isinstance(content, str):
        return content.strip()
    parts = [block_text(b) for b in content] if isinstance(content, list) else []
    return "\n".join(p.strip() for p in parts if p and p.strip())


def chatgpt_turns(conversation):
    """ChatGPT's data export: the message tree in 'mapping' (nodes with parent, children and a message
    with author.role and content.parts), read along the path from the root to current_node, the branch
    the user last saw: regenerated replies and edited prompts on other branches are left out. Keeps user
    and assistant text (content_type text or multimodal_text, string parts only); system, tool and hidden
    messages, and messages to a tool (recipient other than 'all'), are dropped. -> (turns, dropped)"""
    mapping = conversation.get("mapping") if isinstance(conversation.get("mapping"), dict) else {}
    node_id = conversation.get("current_node")
    if node_id not in mapping:  # older exports: from the root, follow the newest child
        node_id = next((k for k, n in mapping.items() if isinstance(n, dict) and not n.get("parent")), None)
        while node_id in mapping and mapping[node_id].get("children"):
            node_id = mapping[node_id]["children"][-1]
    path, seen = [], set()
    while node_id in mapping and node_id not in seen and isinstance(mapping[node_id], dict):
        seen.add(node_id)
        path.append(mapping[node_id].get("message"))
        node_id = mapping[node_id].get("parent")
    turns, dropped = [], 0
    for m in reversed(path):
        if not isinstance(m, dict):
            continue  # the root node holds no message
        role = (m.get("author") or {}).get("role")
        content = m.get("content") if isinstance(m.get("content"), dict) else {}
        text = "\n".join(p.strip() for p in content.get("parts") or [] if isinstance(p, str) and p.strip())
        if (role in ("user", "assistant") and content.get("content_type") in ("text", "multimodal_text")
                and m.get("recipient", "all") == "all" and text
                and not (m.get("metadata") or {}).get("is_visually_hidden_from_conversation")):
            turns.append({"role": role, "content": text})
        else:
            dropped += 1
    return merged_turns(turns), dropped


def claude_turns(conversation):
    """Claude.ai's data export: 'chat_messages' in order, sender 'human' or 'assistant', the text in
    content blocks (or 'text' in older exports). Tool calls become a marker line, tool results and
    thinking are dropped, attachments are named in one line before the message. -> (turns, dropped)"""
    turns, dropped = [], 0
    for m in conversation.get("chat_messages") or []:
        if not isinstance(m, dict):
            continue
        role = {"human": "user", "user": "user", "assistant": "assistant"}.get(m.get("sender"))
        content = m.get("content") if isinstance(m.get("content"), list) and m.get("content") else m.get("text")
        text = blocks_text(content)
        names = [a.get("file_name") for a in (m.get("attachments") or []) + (m.get("files") or [])
                 if isinstance(a, dict) and isinstance(a.get("file_name"), str)]
        if names and text:
            text = f"[attached: {', '.join(names)}]\n{text}"
        if role and text:
            turns.append({"role": role, "content": text})
        else:
            dropped += 1
    return merged_turns(turns), dropped


# text an assistant program puts in the user's turn on its own (slash commands, their output, reminders,
# environment context): whole turns that are only such tags were not written by the user
PROGRAM_TAGS = re.compile(r"^(\s*<([\w-]+)(\s[^>]*)?>.*?</\2>\s*)+$", re.DOTALL)


def session_turn(event):
    """(session id or None, role, content) of one line of a coding assistant's session log, or None when
    the line is not a turn. Claude Code: {"type": "user"|"assistant", "sessionId", "message": {"role",
    "content"}}, sub-agent (isSidechain) and meta lines left out. Codex CLI: {"type": "response_item",
    "payload": {"type": "message", "role", "content"}} and function calls; "session_meta" starts a session."""
    if not isinstance(event, dict) or event.get("isSidechain") or event.get("isMeta"):
        return None
    if event.get("type") in ("user", "assistant") and isinstance(event.get("message"), dict):
        m = event["message"]
        return event.get("sessionId"), m.get("role"), m.get("content")
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    if event.get("type") == "session_meta":
        return payload.get("id") or "session", None, None
    if event.get("type") == "response_item" and payload.get("type") == "message":
        return None, payload.get("role"), payload.get("content")
    if event.get("type") == "response_item" and payload.get("type") in ("function_call", "custom_tool_call",
                                                                        "local_shell_call"):
        return None, "assistant", [{"type": "tool_use", "name": payload.get("name") or "shell"}]
    return None


def session_conversations(records):
    """A session log's lines -> [(turns, dropped)], one conversation per session: a new session id starts
    a new conversation. Tool results and the program's own tags are dropped, tool calls become markers,
    the pieces of one reply are joined."""
    conversations, turns, dropped, session = [], [], 0, None
    for event in records:
        turn = session_turn(event)
        if turn is None:
            continue
        sid, role, content = turn
        if sid and sid != session:
            if turns or dropped:
                conversations.append((merged_turns(turns), dropped))
            turns, dropped, session = [], 0, sid
        if role is None:
            continue
        text = blocks_text(content)
        if role in ("user", "assistant") and text and not (role == "user" and PROGRAM_TAGS.match(text)):
            turns.append({"role": role, "content": text})
        elif role != "user" or not isinstance(content, list):  # a user line of tool results is not a turn
            dropped += 1
    if turns or dropped:
        conversations.append((merged_turns(turns), dropped))
    return conversations


# lines of a session log that are not turns (titles, file snapshots, token counts, settings)
SESSION_EVENT_TYPES = ("summary", "file-history-snapshot", "system", "event_msg", "turn_context", "session_meta")
CHAT_SHAPES = ('{"messages": [...]} JSONL', "ChatGPT's conversations.json (or its export .zip)",
               "Claude.ai's conversations.json (or its export .zip)",
               "a coding assistant's session-log JSONL file or folder (Claude Code, Codex CLI)")


def chat_shape_error(path, what):
    return UserError(f"chat:{path} {what}; the chat source reads " + "; ".join(CHAT_SHAPES))


def load_export(path):
    """The JSON of an export: the file itself, or conversations.json inside the .zip the app sends."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if os.path.basename(n) == "conversations.json"]
            if not names:
                raise chat_shape_error(path, "is a .zip without a conversations.json")
            return json.loads(z.read(min(names, key=len)).decode("utf-8-sig"))
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def messages_conversation(messages):
    turns = clean_messages(messages)
    return turns, len(messages) - len(turns)


def chat_file_conversations(path):
    """(shape, [(turns, dropped) or None per record]) of one chat file, its shape told by its structure:
    None stands for a record that is no conversation. Raises with the accepted shapes when it fits none."""
    try:
        data = load_export(path)
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None  # JSON lines, or not JSON at all
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        data = data["conversations"]
    if isinstance(data, list):
        first = next((c for c in data if isinstance(c, dict)), {})
        if "mapping" in first:
            return "chatgpt", [chatgpt_turns(c) if isinstance(c, dict) else None for c in data]
        if "chat_messages" in first:
            return "claude.ai", [claude_turns(c) if isinstance(c, dict) else None for c in data]
        if "messages" not in first:
            raise chat_shape_error(path, "is a JSON list in none of the shapes it reads")
        records = data  # messages records as one JSON list instead of lines
    else:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            head = next((line for line in f if line.strip()), "")
        try:
            json.loads(head)
        except json.JSONDecodeError:
            raise chat_shape_error(path, "is not JSON or JSON lines") from None
        records = [r for _, r in jsonl_records(path)]  # a later broken line is named by its number
    if any(isinstance(r, dict) and "messages" in r for r in records[:50]):
        return "messages", [messages_conversation(r["messages"])
                            if isinstance(r, dict) and isinstance(r.get("messages"), list) else None
                            for r in records]
    if any(session_turn(r) is not None or isinstance(r, dict) and r.get("type") in SESSION_EVENT_TYPES
           for r in records[:50]):
        return "session log", session_conversations(records)
    raise chat_shape_error(path, "is in none of the shapes it reads")


def chat_documents(path):
    """One document per conversation in a chat file or folder, in any of CHAT_SHAPES -> (docs, report).
    A folder is read file by file (its .jsonl and .json files; files in no chat shape are skipped and
    counted). Report: shapes {shape: files}, conversations, dropped (no user or no assistant turn),
    turns_dropped, records_skipped, files_skipped."""
    if os.path.isdir(path):
        paths = list(walk_files(path, ("jsonl", "json")))
    elif os.path.isfile(path):
        paths = [path]
    else:
        raise UserError(f"chat:{path} is not a file or folder; give a chat export, a messages JSONL file, "
                        f"or a folder of session logs")
    docs, shapes = [], collections.Counter()
    report = {"shapes": shapes, "conversations": 0, "dropped": 0, "turns_dropped": 0, "records_skipped": 0,
              "files_skipped": 0}
    for file in paths:
        try:
            shape, conversations = chat_file_conversations(file)
        except UserError:
            if len(paths) == 1:
                raise
            report["files_skipped"] += 1
            continue
        shapes[shape] += 1
        for conversation in conversations:
            if conversation is None:
                report["records_skipped"] += 1
                continue
            turns, dropped = conversation
            report["conversations"] += 1
            report["turns_dropped"] += dropped
            doc = chat_document(turns, f"chat:{path}")
            report["dropped"] += doc is None
            docs += [doc] if doc else []
    if not shapes:
        raise chat_shape_error(path, "holds no file in a chat shape")
    return docs, report


# -----------------------------------------------------------------------------
# privacy: what must not be learned (and so cannot be sampled back out) is replaced by a placeholder

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


# -----------------------------------------------------------------------------
# one entry of the sources line -> documents


def read_source(kind, path, opts, seed):
    """(docs, report) for one source; report also holds documents and tokens (an estimate) for budgets.
    opts: the settings of settings.py it uses: code_extensions ("py,js,..."), code_per_file, max_chars,
    fim_rate, git_max_files, git_max_lines."""
    if kind == "files":
        docs, report = file_documents(path, opts["max_chars"])
    elif kind == "code":
        extensions = opts["code_extensions"]
        extensions = extensions.split(",") if isinstance(extensions, str) else extensions
        docs, report = code_documents(path, extensions, opts["code_per_file"], opts["max_chars"],
                                      opts["fim_rate"], seed)
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
