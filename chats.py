"""
Chat conversations as training documents: the logs people have, told apart by their structure (OpenAI-style
messages JSONL, ChatGPT's and Claude.ai's exports, coding assistants' session logs), cleaned to user,
assistant and system turns, and rendered with role tokens so the model learns to write the assistant's
turns only. corpora.py's 'chat' source and the files source's JSONL chats read through here; sample.py's
chat loop and serve.py render turns with render_chat, so training and inference format alike.
"""
import collections
import json
import os
import re
import zipfile

from common import UserError
from tokenizer import ASSISTANT, END_TURN, SYSTEM, USER

ROLE_TOKENS = {"system": SYSTEM, "user": USER, "assistant": ASSISTANT}


def jsonl_records(path):
    """Yields (line number, record) for each non-blank line; a line that is not JSON is the user's to fix."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}, line {n}: not JSON ({e.msg}); fix the line or remove it") from None




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
        paths = chat_files(path)
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


def chat_files(folder):
    """The .jsonl and .json files under folder in sorted (deterministic) order, hidden folders left out."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, n) for n in sorted(files) if n.endswith((".jsonl", ".json"))]
    return paths
