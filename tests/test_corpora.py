"""corpora.py: users' files, code, git history and chats as training documents, and the privacy pass.
Every fixture (text files, a code folder, a git repository, chat files) is written by the test itself."""
import json
import os
import random
import subprocess

import pytest

import chats
import corpora
import privacy
from common import UserError
from tokenizer import ASSISTANT, END_TURN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, SYSTEM, USER

FIM_TOKENS = [FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE]


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)
    return str(path)


def write_jsonl(path, records):
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def pieces(doc):
    return [p for p, _ in doc["segments"]]


# -----------------------------------------------------------------------------
# the sources line


def test_parse_sources_reads_kinds_paths_and_weights():
    sources = corpora.parse_sources("files:notes/*.md, code:~/src/app, git:~/src/app@0.5, chat:configs/chat.jsonl@2")
    home = os.path.expanduser("~")
    assert sources == [("files", "notes/*.md", 1.0), ("code", f"{home}/src/app", 1.0),
                       ("git", f"{home}/src/app", 0.5), ("chat", "configs/chat.jsonl", 2.0)]


@pytest.mark.parametrize("spec", ["", " , ", "notes/*.md", "pdf:report.pdf", "files:", "files:@2",
                                  "files:notes@0", "files:notes@-1", "files:notes@heavy", "code:src@nan"])
def test_parse_sources_rejects_a_bad_entry_with_a_user_error(spec):
    with pytest.raises(UserError):
        corpora.parse_sources(spec)


# -----------------------------------------------------------------------------
# files


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "notes"
    write(folder / "a.md", "# Garden\n\nTomatoes need sun.\n\nWater them at dawn.\n")
    write(folder / "sub" / "b.txt", "Basil grows well next to tomatoes.\n")
    write(folder / "ignored.csv", "a,b\n1,2\n")
    write_jsonl(folder / "c.jsonl", [
        {"text": "A record with text."},
        {"messages": [{"role": "user", "content": "How deep do I plant garlic?"},
                      {"role": "assistant", "content": "About five centimetres."}]},
        {"title": "no text here"}])
    return str(folder)


def test_files_folder_reads_markdown_text_and_jsonl_records(notes):
    docs, report = corpora.file_documents(notes, max_chars=1000)
    texts = [d["text"] for d in docs]
    assert "# Garden\n\nTomatoes need sun.\n\nWater them at dawn." in texts
    assert "Basil grows well next to tomatoes." in texts
    assert "A record with text." in texts
    assert not any("a,b" in t for t in texts)
    assert report["files"] == 3 and report["records_skipped"] == 1
    assert all(d["source"] == f"files:{notes}" for d in docs)


def test_files_jsonl_messages_record_becomes_a_chat_document(notes):
    docs, _ = corpora.file_documents(notes, max_chars=1000)
    chats = [d for d in docs if d["kind"] == "chat"]
    assert len(chats) == 1 and "".join(pieces(chats[0])) == chats[0]["text"]
    assert [ASSISTANT, False] in chats[0]["segments"]


def test_files_glob_matches_only_the_named_files(notes):
    docs, _ = corpora.file_documents(os.path.join(notes, "**", "*.txt"), max_chars=1000)
    assert [d["text"] for d in docs] == ["Basil grows well next to tomatoes."]


def test_files_chunks_respect_max_chars_and_keep_every_word(tmp_path):
    rng = random.Random(0)
    paragraphs = [" ".join(rng.choice(["soil", "seed", "rain", "compost"]) for _ in range(rng.randint(3, 40)))
                  for _ in range(30)]
    paragraphs.append("\n".join(["a line of a long paragraph"] * 12))   # longer than max_chars: cut at lines
    paragraphs.append("x" * 250)                                           # one line longer still: hard cut
    text = "\n\n".join(paragraphs)
    docs, _ = corpora.file_documents(write(tmp_path / "long.txt", text), max_chars=100)
    assert len(docs) > 10 and all(len(d["text"]) <= 100 for d in docs)
    assert "".join("".join(d["text"] for d in docs).split()) == "".join(text.split())


def test_files_bad_jsonl_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", '{"text": "fine"}\n\n{"text": oops}\n')
    with pytest.raises(UserError, match=r"bad\.jsonl, line 3"):
        corpora.file_documents(path, max_chars=1000)


def test_files_matching_nothing_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="matches no files"):
        corpora.file_documents(str(tmp_path / "*.md"), max_chars=1000)


# -----------------------------------------------------------------------------
# code


def python_file(n_functions, name):
    return "".join(f"def {name}_{i}(values):\n    total = 0\n    for v in values:\n        total += v * {i}\n"
                   f"    return total\n\n\n" for i in range(n_functions))


@pytest.fixture
def code_folder(tmp_path):
    folder = tmp_path / "app"
    write(folder / "app.py", python_file(30, "scale"))
    write(folder / "lib" / "util.js", "".join(f"function add{i}(a, b) {{\n  return a + b + {i};\n}}\n\n"
                                               for i in range(30)))
    write(folder / "lib" / "shapes.py", python_file(10, "area"))
    write(folder / "node_modules" / "left-pad" / "index.js", python_file(20, "vendored"))
    write(folder / ".git" / "hooks" / "hook.py", python_file(20, "hidden"))
    write(folder / "dist" / "bundle.js", python_file(20, "built"))
    write(folder / "static" / "jquery.min.js", "function a(){return 1}\n" * 20)
    write(folder / "static" / "packed.js", "var a=1;" * 300 + "\n")
    write(folder / "blob.py", b"\x00\x01\x02" * 100 + b"def f(): pass\n", mode="wb")
    write(folder / "latin1.py", ("# caf\xe9\n" * 50).encode("latin-1"), mode="wb")
    write(folder / "tiny.py", "x = 1\n")
    return str(folder)


EXTENSIONS = ("py", "js")


def code_docs(folder, per_file=3, max_chars=200, fim_rate=0.5, seed=0):
    return corpora.code_documents(folder, EXTENSIONS, per_file, max_chars, fim_rate, seed)


def test_code_skips_vendored_hidden_build_minified_binary_and_tiny_files(code_folder):
    docs, report = code_docs(code_folder)
    assert {d["path"] for d in docs} == {"app.py", "lib/util.js", "lib/shapes.py"}
    assert report["files_used"] == 3
    assert dict(report["skipped"]) == {"minified": 2, "binary": 2, "tiny": 1}


def test_code_takes_at_most_per_file_windows_of_at_most_max_chars(code_folder):
    docs, _ = code_docs(code_folder, per_file=2, fim_rate=0.0)
    counts = {path: sum(d["path"] == path for d in docs) for path in ("app.py", "lib/util.js")}
    assert counts == {"app.py": 2, "lib/util.js": 2}
    assert all(len(d["text"]) <= 200 for d in docs)


def test_code_windows_start_at_line_starts(code_folder):
    docs, _ = code_docs(code_folder, per_file=5, fim_rate=0.0)
    sources = {p: open(os.path.join(code_folder, p)).read() for p in ("app.py", "lib/util.js", "lib/shapes.py")}
    for d in docs:
        start = sources[d["path"]].index(d["text"])
        assert start == 0 or sources[d["path"]][start - 1] == "\n"


def test_code_same_seed_gives_same_documents_and_another_seed_differs(code_folder):
    assert code_docs(code_folder, seed=5) == code_docs(code_folder, seed=5)
    assert code_docs(code_folder, seed=5)[0] != code_docs(code_folder, seed=6)[0]


def test_code_fim_rate_zero_gives_only_plain_documents(code_folder):
    docs, report = code_docs(code_folder, fim_rate=0.0)
    assert report["fim_docs"] == 0 and report["plain_docs"] == len(docs)
    assert not any(d["fim"] or "segments" in d or FIM_PREFIX in d["text"] for d in docs)


def test_code_fim_rate_one_gives_only_fim_documents(code_folder):
    docs, report = code_docs(code_folder, fim_rate=1.0)
    assert report["plain_docs"] == 0 and report["fim_docs"] == len(docs)
    assert all(d["fim"] and d["text"].startswith(FIM_PREFIX) for d in docs)


def test_fim_split_round_trips_with_a_non_empty_middle():
    rng = random.Random(0)
    windows = ["a", "ab", "def f():\n    return 1\n", python_file(3, "w")]
    windows += ["".join(rng.choice("ab \n") for _ in range(rng.randint(1, 300))) for _ in range(50)]
    for window in windows:
        for seed in range(40):
            prefix, middle, suffix = corpora.fim_split(window, random.Random(seed))
            assert prefix + middle + suffix == window and middle
            prefix, middle, suffix = corpora.fim_split(window, random.Random(seed), "lines")
            assert prefix + middle + suffix == window and middle
            # whole lines: the gap opens at a line start and closes at one (or at the window's end)
            assert (not prefix or prefix.endswith("\n")) and (not suffix or middle.endswith("\n"))


def test_line_spans_are_mostly_one_line_placed_anywhere():
    window = "".join(f"x{i} = {i}\n" for i in range(20))
    splits = [corpora.fim_split(window, random.Random(seed), "lines") for seed in range(1000)]
    lengths = [middle.count("\n") for _, middle, _ in splits]
    assert 0.42 < lengths.count(1) / 1000 < 0.58 and 0.17 < lengths.count(2) / 1000 < 0.33
    assert {prefix.count("\n") for prefix, middle, _ in splits if middle.count("\n") == 1} == set(range(20))


def test_fim_document_is_prefix_suffix_middle_with_the_three_special_tokens(code_folder):
    docs, _ = code_docs(code_folder, per_file=10, fim_rate=1.0)
    sources = {p: open(os.path.join(code_folder, p)).read() for p in ("app.py", "lib/util.js", "lib/shapes.py")}
    for d in docs:
        parts = pieces(d)
        assert [p for p in parts if p in FIM_TOKENS] == FIM_TOKENS and parts[0] == FIM_PREFIX
        assert all(learned for _, learned in d["segments"]) and "".join(parts) == d["text"]
        prefix, suffix, middle = d["text"][len(FIM_PREFIX):].partition(FIM_SUFFIX)[0], \
            *d["text"].partition(FIM_SUFFIX)[2].split(FIM_MIDDLE)
        assert middle and prefix + middle + suffix in sources[d["path"]]
        assert corpora.code_window(d["text"]) == prefix + middle + suffix  # what the code report cuts lines from
    plain, _ = code_docs(code_folder, per_file=10, fim_rate=0.0)
    assert all(corpora.code_window(d["text"]) == d["text"] for d in plain)


def test_code_folder_without_matching_files_is_a_user_error(tmp_path):
    write(tmp_path / "src" / "main.rb", "puts 'hi'\n" * 50)
    with pytest.raises(UserError, match=r"\.py"):
        corpora.code_documents(str(tmp_path / "src"), ("py",), 3, 200, 0.5, 0)


# -----------------------------------------------------------------------------
# git


def git(repo, *args, day=1):
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "GIT_AUTHOR_DATE": f"2024-01-{day:02d}T12:00:00", "GIT_COMMITTER_DATE": f"2024-01-{day:02d}T12:00:00",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", repo, "-c", "commit.gpgsign=false", *args], env=env, check=True, capture_output=True)


def commit(repo, files, message, day):
    for name, content in files.items():
        write(os.path.join(repo, name), content, mode="wb" if isinstance(content, bytes) else "w")
    git(repo, "add", "-A", day=day)
    git(repo, "commit", "-q", "-m", message, day=day)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = str(tmp_path_factory.mktemp("repo"))
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"parser.py": "def parse(line):\n    return line.split('=')\n"}, "Add a parser for config lines", 1)
    commit(repo, {"parser.py": "def parse(line):\n    return line.split('=', 1)\n"}, "wip", 2)
    commit(repo, {f"m{i}.py": f"x = {i}\n" for i in range(6)}, "Add six tiny modules for the loader", 3)
    commit(repo, {"table.py": "".join(f"V{i} = {i}\n" for i in range(80))}, "Add the table of constant values", 4)
    commit(repo, {"package-lock.json": '{"lockfileVersion": 3}\n'}, "Update the dependency lockfile", 5)
    commit(repo, {"logo.png": b"\x89PNG\x00\x00binary"}, "Add the company logo image", 6)
    git(repo, "checkout", "-q", "-b", "feature", day=7)
    commit(repo, {"flags.py": "FLAGS = {'fast': True}\n"}, "Add feature flags to the loader", 7)
    git(repo, "checkout", "-q", "main", day=8)
    commit(repo, {"README.md": "# Loader\n"}, "Describe the loader in the README", 8)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature", day=9)
    return repo


def git_docs(repo):
    return corpora.git_documents(repo, max_files=5, max_lines=50)


def test_git_meaningful_commit_is_its_message_then_its_diff(repo):
    docs, _ = git_docs(repo)
    first = docs[0]
    assert first["text"].startswith("Add a parser for config lines\n\ndiff --git a/parser.py b/parser.py\n")
    assert "+    return line.split('=')\n" in first["text"] and len(first["commit"]) == 40
    assert first["kind"] == "git" and first["source"] == f"git:{repo}"


def test_git_keeps_meaningful_commits_oldest_first(repo):
    docs, _ = git_docs(repo)
    assert [d["text"].splitlines()[0] for d in docs] == [
        "Add a parser for config lines", "Add feature flags to the loader", "Describe the loader in the README"]


def test_git_report_counts_each_skip_reason(repo):
    _, report = git_docs(repo)
    assert dict(report["skipped"]) == {"merge": 1, "message": 1, "too_many_files": 1, "too_many_lines": 1, "no_diff": 2}
    assert report["commits"] == 9 and report["used"] == 3
    assert report["lockfiles_dropped"] == 1 and report["binaries_dropped"] == 1


def test_git_drops_lockfile_and_binary_diffs_from_a_kept_commit(tmp_path):
    repo = str(tmp_path)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"app.py": "import requests\n", "poetry.lock": "[[package]]\n", "icon.png": b"\x00\x01"},
           "Use requests for the HTTP client", 1)
    docs, _ = git_docs(repo)
    assert "app.py" in docs[0]["text"] and "poetry.lock" not in docs[0]["text"] and "icon.png" not in docs[0]["text"]


@pytest.mark.parametrize("message,meaningful", [
    ("Add retry with backoff to the uploader", True), ("Format dates as ISO 8601 in the API", True),
    ("wip", False), ("WIP: parser", False), ("Bump lodash from 4.17.20 to 4.17.21", False),
    ("chore(deps): update", False), ("Merge branch 'main' into dev", False), ("typo", False), ("Fix typo", False),
    ("formatting", False), ("Format code", False), ("update", False), ("fix bug", False), ("Refactoring", False)])
def test_git_message_that_says_nothing_is_not_meaningful(message, meaningful):
    assert corpora.is_meaningful_message(message) is meaningful


def test_git_on_a_folder_that_is_not_a_repository_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repository above tmp_path
    with pytest.raises(UserError, match="is not a git repository"):
        git_docs(str(tmp_path))


# -----------------------------------------------------------------------------
# chat


CONVERSATION = [{"role": "system", "content": "You are a gardening helper."},
                {"role": "user", "content": "When do I plant garlic?"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
                {"role": "tool", "content": "calendar: autumn"},
                {"role": "assistant", "content": [{"type": "text", "text": "In autumn,"},
                                                  {"type": "text", "text": "before the frost."}]}]


@pytest.fixture
def chat_file(tmp_path):
    return write_jsonl(tmp_path / "chat.jsonl", [{"messages": CONVERSATION},
                                                 {"messages": [{"role": "user", "content": "Anyone there?"}]},
                                                 {"prompt": "not a conversation"}])


def test_chat_keeps_system_user_assistant_turns_and_drops_tool_turns(chat_file):
    docs, report = chats.chat_documents(chat_file)
    assert len(docs) == 1
    assert [m["role"] for m in docs[0]["messages"]] == ["system", "user", "assistant"]
    assert docs[0]["messages"][2]["content"] == "In autumn,\nbefore the frost."
    assert "calendar" not in docs[0]["text"] and "".join(pieces(docs[0])) == docs[0]["text"]
    assert report["turns_dropped"] == 2


def test_chat_conversation_without_an_assistant_turn_is_dropped_and_counted(chat_file):
    _, report = chats.chat_documents(chat_file)
    assert report["conversations"] == 2 and report["dropped"] == 1 and report["records_skipped"] == 1


def test_render_chat_learns_only_the_assistant_content_and_its_end():
    segments = chats.render_chat([{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
                                    {"role": "assistant", "content": "A"}])
    assert segments == [[SYSTEM, False], ["S", False], [END_TURN, False], [USER, False], ["U", False],
                        [END_TURN, False], [ASSISTANT, False], ["A", True], [END_TURN, True]]


def test_render_chat_on_a_partial_conversation_can_open_the_reply():
    segments = chats.render_chat([{"role": "user", "content": "Hi"}], start_reply=True)
    assert segments[-1] == [ASSISTANT, False] and not any(learned for _, learned in segments)


def test_chat_bad_json_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "chat.jsonl", json.dumps({"messages": CONVERSATION}) + "\n{messages: []}\n")
    with pytest.raises(UserError, match=r"chat\.jsonl, line 2"):
        chats.chat_documents(path)


# -----------------------------------------------------------------------------
# privacy


SECRETS = {"email": ["alice.smith@example.com"],
           "phone": ["(555) 123-4567", "+44 20 7946 0958"],
           "ip": ["203.0.113.42", "2001:db8::8a2e:370:7334"],
           "key": ["sk-proj-Ab3dEf5hIj7lMn9pQr1tUv3x", "ghp_aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2",
                   "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiJ9.dG9rZW4xMjM0NTY",
                   "Xy92yW4Acq9GFz6Y1t9EwL56nGisiWgNZq6ITZM5"],
           "user": ["alice", "bob"]}


@pytest.fixture
def leaky_chat(tmp_path):
    user = ("Write to alice.smith@example.com or call (555) 123-4567, in London +44 20 7946 0958. "
            "The server is 203.0.113.42 (2001:db8::8a2e:370:7334).")
    assistant = ("Set OPENAI_API_KEY=sk-proj-Ab3dEf5hIj7lMn9pQr1tUv3x and "
                 "GITHUB_TOKEN=ghp_aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2,\n"
                 "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                 "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.dG9rZW4xMjM0NTY\n"
                 "secret = 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\n"
                 "Logs are in /home/alice/app/logs and C:\\Users\\bob\\AppData.")
    return write_jsonl(tmp_path / "leaky.jsonl", [{"messages": [{"role": "user", "content": user},
                                                                {"role": "assistant", "content": assistant}]}])


def test_redaction_leaves_no_planted_secret_in_text_segments_or_messages(leaky_chat):
    docs, _ = privacy.redact_documents(chats.chat_documents(leaky_chat)[0])
    everything = docs[0]["text"] + "".join(pieces(docs[0])) + json.dumps(docs[0]["messages"])
    for kind, secrets in SECRETS.items():
        for secret in secrets:
            assert secret not in everything, (kind, secret)
        assert f"<{kind}>" in docs[0]["text"]


def test_redaction_counts_each_kind(leaky_chat):
    _, counts = privacy.redact_documents(chats.chat_documents(leaky_chat)[0])
    assert dict(counts) == {kind: len(secrets) for kind, secrets in SECRETS.items()}


def test_redaction_keeps_segments_joining_to_text(leaky_chat):
    docs, _ = privacy.redact_documents(chats.chat_documents(leaky_chat)[0])
    assert "".join(pieces(docs[0])) == docs[0]["text"] and pieces(docs[0])[0] == USER


@pytest.mark.parametrize("text", [
    "It was 2024.", "Python 3.11.7 is out", "We met at 12:30:45 sharp",
    "commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
    "internationalization", "calculate_total_price_with_tax", "getUserProfileByIdAndVersion2ForAdmin",
    "src/components/UserProfile2Card/index.tsx", "on 2024-01-15 or 12.03.2024", "x = values[1::2]",
    "use std::io;", "listen on 127.0.0.1:8080", "see https://example.com/home/about",
    "Decimal('+35236450.6')", "call 911 or wait 30 minutes", "the Bearer token goes in a header"])
def test_redaction_leaves_ordinary_text_alone(text):
    assert privacy.redact(text) == (text, {})


def test_redaction_finds_a_secret_that_the_fim_split_cut_in_two():
    window = "def notify():\n    send('alice.smith@example.com', body)\n    return True\n"
    start = window.index("alice")
    for seed in range(300):
        prefix, middle, suffix = corpora.fim_split(window, random.Random(seed))
        doc = {"text": "", "segments": corpora.fim_segments(prefix, middle, suffix), "fim": True}
        doc["text"] = "".join(pieces(doc))
        (redacted,), counts = privacy.redact_documents([doc])
        parts = pieces(redacted)
        assert counts == {"email": 1} and "alice" not in redacted["text"] and "example" not in redacted["text"]
        assert "".join(parts) == redacted["text"] and [p for p in parts if p in FIM_TOKENS] == FIM_TOKENS
        p, s, m = redacted["text"][len(FIM_PREFIX):].partition(FIM_SUFFIX)[0], \
            *redacted["text"].partition(FIM_SUFFIX)[2].split(FIM_MIDDLE)
        assert p + m + s == window[:start] + "<email>" + window[start + len("alice.smith@example.com"):] and m


# -----------------------------------------------------------------------------
# one source entry


def test_read_source_dispatches_and_reports_documents_and_tokens(code_folder):
    opts = {"code_extensions": "py, .js", "code_per_file": 2, "max_chars": 200, "fim_rate": 0.5, "fim_spans": "chars",
            "git_max_files": 5, "git_max_lines": 50}
    docs, report = corpora.read_source("code", code_folder, opts, seed=1)
    assert {d["path"] for d in docs} == {"app.py", "lib/util.js", "lib/shapes.py"}
    assert all(d["source"] == f"code:{code_folder}" for d in docs)
    assert report["documents"] == len(docs) and report["tokens"] > len(docs)
