"""corpora.py's chat source on the exports people really have: ChatGPT's and Claude.ai's conversations.json
and coding assistants' session logs, each told apart by its structure and turned into exactly the messages
expected. Every fixture is written here, in the field names of the apps' exports (ChatGPT: mapping tree,
author.role, content.parts, current_node; Claude.ai: chat_messages, sender, content blocks; Claude Code:
one event per line with sessionId and message; Codex CLI: response_item payloads)."""
import json
import os
import zipfile

import pytest

import chats
import data
from common import UserError

from test_corpus_pipeline import cfg_for


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def write_jsonl(path, records):
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def node(node_id, parent, children, role=None, parts=None, content_type="text", **message):
    m = None if role is None else {"id": node_id, "author": {"role": role, "name": None, "metadata": {}},
                                   "create_time": 1700000000.0,
                                   "content": {"content_type": content_type, "parts": parts},
                                   "status": "finished_successfully", "metadata": {}, **message}
    return {"id": node_id, "message": m, "parent": parent, "children": children}


def chatgpt_export():
    """Two conversations: one with an edited branch, a hidden system message, an image part, a call to the
    Python tool and its output; one with only a user message."""
    hidden = {"metadata": {"is_visually_hidden_from_conversation": True}}
    mapping = [
        node("root", None, ["sys"]),
        node("sys", "root", ["u1"], "system", [""], **hidden),
        node("u1", "sys", ["a1-old", "a1"], "user", ["How long do I boil an egg?"]),
        node("a1-old", "u1", [], "assistant", ["An answer the user regenerated."]),
        node("a1", "u1", ["ctx"], "assistant", ["Nine minutes for a hard egg."]),
        node("ctx", "a1", ["u2"], "user", None, "user_editable_context", **hidden),
        node("u2", "ctx", ["call"], "user",
             [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, "And soft?"],
             "multimodal_text"),
        node("call", "u2", ["out"], "assistant", None, "code", recipient="python"),
        node("out", "call", ["a2"], "tool", ["6.0"], "execution_output"),
        node("a2", "out", [], "assistant", ["Six minutes.", ""]),
    ]
    for n in mapping:
        if n["id"] == "call":
            n["message"]["content"] = {"content_type": "code", "language": "python", "text": "print(6.0)"}
    lonely = [node("r", None, ["q"]), node("q", "r", [], "user", ["Hello?"])]
    return [{"title": "Eggs", "create_time": 1700000000.0, "current_node": "a2",
             "mapping": {n["id"]: n for n in mapping}, "conversation_id": "c1"},
            {"title": "Nobody answered", "current_node": "q", "mapping": {n["id"]: n for n in lonely}}]


CHATGPT_MESSAGES = [{"role": "user", "content": "How long do I boil an egg?"},
                    {"role": "assistant", "content": "Nine minutes for a hard egg."},
                    {"role": "user", "content": "And soft?"},
                    {"role": "assistant", "content": "Six minutes."}]


def claude_export():
    return [{"uuid": "c-1", "name": "Museum", "created_at": "2025-05-01T10:00:00Z", "chat_messages": [
        {"uuid": "m1", "sender": "human", "text": "When does the museum open?",
         "content": [{"type": "text", "text": "When does the museum open?"}],
         "attachments": [{"file_name": "visit.txt", "file_size": 12, "extracted_content": "day trip"}], "files": []},
        {"uuid": "m2", "sender": "assistant", "text": "",
         "content": [{"type": "thinking", "thinking": "The user wants hours."},
                     {"type": "text", "text": "Let me look."},
                     {"type": "tool_use", "name": "web_search", "input": {"query": "museum hours"}},
                     {"type": "tool_result", "name": "web_search", "content": [{"type": "text", "text": "9-17"}]},
                     {"type": "text", "text": "It opens at nine."}]},
        {"uuid": "m3", "sender": "human", "text": "Thanks!", "content": []}]},
        {"uuid": "c-2", "name": "empty", "chat_messages": []}]


CLAUDE_MESSAGES = [{"role": "user", "content": "[attached: visit.txt]\nWhen does the museum open?"},
                   {"role": "assistant", "content": "Let me look.\n[tool call: web_search]\nIt opens at nine."},
                   {"role": "user", "content": "Thanks!"}]


def claude_code_events():
    def event(kind, content, session="s-1", **extra):
        return {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/home/ann/app",
                "sessionId": session, "version": "1.0.3", "type": kind, "uuid": "u",
                "message": {"role": kind, "content": content}, "timestamp": "2025-05-26T07:27:40Z", **extra}
    return [
        {"type": "summary", "summary": "Fixing the tests", "leafUuid": "x"},
        event("user", "<command-name>/clear</command-name>\n<command-args></command-args>"),
        event("user", "Caveat: the messages below were generated by the user", isMeta=True),
        event("user", "Why does the test fail?"),
        event("assistant", [{"type": "thinking", "thinking": "look at it"}, {"type": "text", "text": "Let me run it."}]),
        event("assistant", [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "pytest -x"}}]),
        event("user", [{"type": "tool_result", "tool_use_id": "t1", "content": "1 failed"}]),
        event("assistant", [{"type": "text", "text": "A missing import; I added it."}]),
        event("user", "Explore the repo", isSidechain=True),
        event("user", "Now commit it.", session="s-2"),
        event("assistant", [{"type": "text", "text": "Committed."}], session="s-2"),
    ]


def codex_events():
    def item(payload):
        return {"timestamp": "2025-10-29T00:59:38Z", "type": "response_item", "payload": payload}
    return [
        {"timestamp": "2025-10-29T00:59:38Z", "type": "session_meta", "payload": {"id": "s-3", "cwd": "/tmp/x"}},
        item({"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "<environment_context>\n<cwd>/tmp/x</cwd>\n</environment_context>"}]}),
        item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List the files."}]}),
        {"timestamp": "2025-10-29T00:59:39Z", "type": "event_msg", "payload": {"type": "agent_reasoning", "text": "ls"}},
        item({"type": "function_call", "name": "shell", "arguments": "{\"command\": [\"ls\"]}", "call_id": "c"}),
        item({"type": "function_call_output", "call_id": "c", "output": "a.py"}),
        item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One file: a.py."}]}),
    ]


SESSION_MESSAGES = [
    [{"role": "user", "content": "Why does the test fail?"},
     {"role": "assistant", "content": "Let me run it.\n\n[tool call: Bash]\n\nA missing import; I added it."}],
    [{"role": "user", "content": "Now commit it."}, {"role": "assistant", "content": "Committed."}],
    [{"role": "user", "content": "List the files."},
     {"role": "assistant", "content": "[tool call: shell]\n\nOne file: a.py."}]]


def messages_of(path):
    docs, report = chats.chat_documents(str(path))
    return [d["messages"] for d in docs], report


def test_chatgpt_export_follows_the_current_branch_and_keeps_only_user_and_assistant_text(tmp_path):
    got, report = messages_of(write(tmp_path / "conversations.json", json.dumps(chatgpt_export())))
    assert got == [CHATGPT_MESSAGES]
    assert report["shapes"] == {"chatgpt": 1} and report["conversations"] == 2 and report["dropped"] == 1
    assert report["turns_dropped"] == 4  # the system message, the custom-instructions context, the tool call and its output


def test_chatgpt_export_without_current_node_follows_the_newest_children(tmp_path):
    export = chatgpt_export()[:1]
    del export[0]["current_node"]
    got, _ = messages_of(write(tmp_path / "conversations.json", json.dumps(export)))
    assert got == [CHATGPT_MESSAGES]


def test_claude_export_keeps_text_marks_tool_calls_and_names_attachments(tmp_path):
    got, report = messages_of(write(tmp_path / "conversations.json", json.dumps(claude_export())))
    assert got == [CLAUDE_MESSAGES]
    assert report["shapes"] == {"claude.ai": 1} and report["conversations"] == 2 and report["dropped"] == 1


def test_an_export_zip_is_read_as_the_app_sends_it(tmp_path):
    path = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("user.json", json.dumps({"email": "ann@example.com"}))
        z.writestr("conversations.json", json.dumps(chatgpt_export()))
    got, _ = messages_of(path)
    assert got == [CHATGPT_MESSAGES]


def test_session_log_folder_splits_sessions_drops_tool_results_and_program_text(tmp_path):
    folder = tmp_path / "sessions"
    write_jsonl(folder / "-home-ann-app" / "s-1.jsonl", claude_code_events())
    write_jsonl(folder / "2025" / "10" / "29" / "rollout-s-3.jsonl", codex_events())
    write(folder / "notes.json", json.dumps({"theme": "dark"}))  # a settings file: skipped, counted
    got, report = messages_of(folder)
    assert sorted(got, key=json.dumps) == sorted(SESSION_MESSAGES, key=json.dumps)
    assert report["shapes"] == {"session log": 2} and report["files_skipped"] == 1


def test_messages_jsonl_is_still_read_as_before(tmp_path):
    path = write_jsonl(tmp_path / "chat.jsonl", [{"messages": CHATGPT_MESSAGES}])
    got, report = messages_of(path)
    assert got == [CHATGPT_MESSAGES] and report["shapes"] == {"messages": 1}


@pytest.mark.parametrize("content", [json.dumps([{"title": "x", "turns": []}]), json.dumps({"a": 1}) + "\n",
                                     "plain text, not JSON\n"])
def test_a_file_in_no_chat_shape_is_one_line_naming_the_shapes(tmp_path, content):
    path = write(tmp_path / "mystery.json", content)
    with pytest.raises(UserError) as e:
        chats.chat_documents(path)
    message = str(e.value)
    assert "\n" not in message and "ChatGPT" in message and "Claude.ai" in message and "session" in message


def test_secrets_in_every_export_shape_are_redacted(tmp_path):
    secret, email = "sk-proj-Ab3dEf5hIj7lMn9pQr1tUv3x", "ann.lee@example.com"
    chatgpt = chatgpt_export()
    chatgpt[0]["mapping"]["a2"]["message"]["content"]["parts"] = [f"Use OPENAI_API_KEY={secret} and write {email}."]
    claude = claude_export()
    claude[0]["chat_messages"][1]["content"][1]["text"] = f"Your key {secret} is set; mail {email}."
    events = claude_code_events()
    events[7]["message"]["content"][0]["text"] = f"Exported OPENAI_API_KEY={secret} for {email}."
    paths = [write(tmp_path / "gpt" / "conversations.json", json.dumps(chatgpt)),
             write(tmp_path / "claude" / "conversations.json", json.dumps(claude)),
             write_jsonl(tmp_path / "logs" / "s.jsonl", events)]
    docs, report, _ = data.corpus_documents(cfg_for(", ".join(f"chat:{p}" for p in paths)), log=lambda *a: None)
    assert len({d["source"] for d in docs}) == 3
    everything = json.dumps([[d["text"], d["segments"], d["messages"]] for d in docs])
    assert secret not in everything and email not in everything and "<key>" in everything
    assert report["redactions"]["key"] >= 3 and report["redactions"]["email"] >= 3
