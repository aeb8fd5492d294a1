"""Talking to a teacher server: where it is, how long to wait, and the one function every HTTP call goes through.

Speaks Ollama's native API (/api/tags, /api/chat) and the OpenAI-compatible API (/v1/models,
/v1/chat/completions) that Ollama, vLLM, llama.cpp's server and LM Studio all serve. Failures are retried
with backoff and reported in plain words; requests run on daemon worker threads, so Ctrl-C never waits
for a hung server. What to ask the teacher, and what to keep of its replies, is teacher.py's job.
"""
import json
import os
import queue
import random
import threading
import time
import urllib.parse
from concurrent.futures import Future

import requests

from common import UserError

# -----------------------------------------------------------------------------
# knobs (tests monkeypatch them to keep failure cases fast)

MAX_RETRIES = 5            # re-sends of one request on connection errors, timeouts, 429, 5xx
BACKOFF_BASE_S = 0.5       # first wait between re-sends; doubles each time
BACKOFF_MAX_S = 8.0        # cap on one wait, so a flaky server costs seconds, not minutes

# (connect, generate, judge) seconds, as the original had them: a CPU writes ~5-20 tokens/s
TIMEOUT_PRESETS_S = {"cpu": (5.0, 300.0, 60.0), "gpu": (5.0, 30.0, 10.0)}


class TeacherError(UserError):
    """The teacher server or model cannot do the job; the message says what to fix."""


class TeacherUnreachable(TeacherError):
    """No server answers at the teacher address; the caller may fall back to templates."""


# -----------------------------------------------------------------------------
# where the server is and how long to wait for it

def api_style(cfg):
    return "openai" if cfg["generation_method"] == "openai" else "ollama"


def ollama_base_url(address):
    """Normalise an Ollama address the way Ollama's own client reads OLLAMA_HOST."""
    address = address.strip().rstrip("/")
    if "://" not in address:
        address = "http://" + address
        host_port = address.split("://", 1)[1].split("/", 1)[0]
        if ":" not in host_port.rsplit("]", 1)[-1]:
            address = address.replace(host_port, host_port + ":11434", 1)
    # 0.0.0.0 is where a server listens, not an address a client can reliably reach
    return address.replace("://0.0.0.0", "://127.0.0.1", 1)


def teacher_base_url(cfg):
    """Base URL of the API: .../api lives under it for Ollama, /models and /chat/... for OpenAI."""
    if cfg["teacher_url"]:
        url = cfg["teacher_url"].strip().rstrip("/")
        if api_style(cfg) == "ollama":
            return ollama_base_url(url.removesuffix("/api"))
        url = url if "://" in url else "http://" + url
        # a bare host means the usual /v1 prefix; a URL with a path is taken as the API root
        return url if urllib.parse.urlsplit(url).path else url + "/v1"
    base = ollama_base_url(os.environ.get("OLLAMA_HOST") or "http://localhost:11434")
    return base + "/v1" if api_style(cfg) == "openai" else base


def describe_server(url):
    """The URL with any user:password@ and query string removed, safe for logs and files."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def teacher_timeouts(cfg):
    """(connect_s, generate_s, judge_s): the preset for teacher_device, each overridable (0 = preset)."""
    preset = TIMEOUT_PRESETS_S["gpu" if cfg["teacher_device"] == "gpu" else "cpu"]
    keys = ("connect_timeout_s", "generate_timeout_s", "judge_timeout_s")
    return tuple(float(cfg.get(key) or default) for key, default in zip(keys, preset))


def teacher_headers(cfg):
    """HTTP headers; the key is read from the env var named by api_key_env and kept only in memory."""
    if not cfg.get("api_key_env"):
        return {}
    key = os.environ.get(cfg["api_key_env"], "")
    if not key:
        raise TeacherError(f"api_key_env is '{cfg['api_key_env']}' but that environment variable is not set; "
                           f"export it or set api_key_env=''")
    return {"Authorization": "Bearer " + key}


# -----------------------------------------------------------------------------
# the one function every HTTP call to a teacher server goes through

def start_workers(n, name):
    """n daemon threads that run submitted calls. Returns (submit(fn, *args) -> Future, stop()); stop cancels
    what has not started. ThreadPoolExecutor's threads are joined at exit, so Ctrl-C would wait for every
    request in flight (minutes against a slow server); daemon threads let the process end at once, and
    the replies lost are asked for again by a resumed run."""
    tasks, submitted = queue.SimpleQueue(), []

    def work():
        while (task := tasks.get()) is not None:
            future, fn, args = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as e:
                    future.set_exception(e)

    for i in range(n):
        threading.Thread(target=work, name=f"{name}-{i}", daemon=True).start()

    def submit(fn, *args):
        future = Future()
        submitted.append(future)
        tasks.put((future, fn, args))
        return future

    def stop():
        for future in submitted:
            future.cancel()  # only those not started; the ones in flight end with their request
        for _ in range(n):
            tasks.put(None)
    return submit, stop


_thread_state = threading.local()


def thread_session():
    """One keep-alive connection pool per worker thread: requests.Session is not thread-safe."""
    if not hasattr(_thread_state, "session"):
        session = requests.Session()
        # no proxies or ~/.netrc from the environment: the teacher is a local server, and netrc
        # credentials would silently replace our Authorization header
        session.trust_env = False
        _thread_state.session = session
    return _thread_state.session


def parse_reply_body(text):
    """JSON object of a reply, or (None, problem). Ollama may stream NDJSON and reports failures as an
    {"error": ...} object with status 200, even in the middle of a stream."""
    try:
        objects = [json.loads(text)]
    except ValueError:
        try:
            objects = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            objects = []
    if not objects or not all(isinstance(obj, dict) for obj in objects):
        return None, "malformed JSON reply: " + text[:80].replace("\n", " ")
    for obj in objects:
        if obj.get("error"):
            error = obj["error"]
            return None, "server error: " + str(error.get("message", error) if isinstance(error, dict) else error)
    if len(objects) == 1:
        return objects[0], None
    # a streamed chat reply: join the pieces, keep the final object's done_reason and counts
    reply = dict(objects[-1])
    reply["message"] = {"role": "assistant", "content": "".join(
        obj.get("message", {}).get("content", "") or obj.get("response", "") for obj in objects)}
    return reply, None


def server_message(response):
    reply, problem = parse_reply_body(response.text)
    return problem.removeprefix("server error: ") if problem else response.text[:200]


def call_teacher(method, url, body, headers, timeout, read, max_retries=None):
    """Send one request and return (read(reply_json), retries_used, None), or (None, retries_used, problem)
    once retrying has not helped. Connection errors, timeouts, 429, 5xx, error objects and replies that
    read() cannot use are retried with capped exponential backoff; 400/401/403/404 and other 4xx are the
    caller's mistake and raise TeacherError with the server's message at once."""
    max_retries = MAX_RETRIES if max_retries is None else max_retries
    secret = headers.get("Authorization", "")[len("Bearer "):]
    server = describe_server(url)
    retries = 0
    while True:
        wait_s = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** retries) * random.uniform(0.5, 1.0)
        try:
            response = thread_session().request(method, url, json=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            problem = f"no reply within {timeout[1]:g} s (raise generate_timeout_s / judge_timeout_s?)"
        except requests.ConnectionError as e:
            problem = "cannot connect: " + type(e).__name__
        else:
            status = response.status_code
            if status == 429 or status >= 500:
                problem = f"HTTP {status}: {server_message(response)}"
                if response.headers.get("Retry-After", "").isdigit():
                    wait_s = min(BACKOFF_MAX_S, float(response.headers["Retry-After"]))
            elif status >= 400:
                message = server_message(response).replace(secret or "\0", "***")
                hint = ("; check the key in the variable named by api_key_env" if status in (401, 403)
                        else "; check teacher_url and the model name" if status == 404 else "")
                raise TeacherError(f"the teacher server {server} refused the request (HTTP {status}): {message}{hint}")
            else:
                reply, problem = parse_reply_body(response.text)
                if problem is None:
                    try:
                        return read(reply), retries, None
                    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                        problem = "unexpected reply: " + response.text[:80].replace("\n", " ")
        problem = problem.replace(secret or "\0", "***")
        if retries >= max_retries:
            return None, retries, problem
        time.sleep(wait_s)
        retries += 1


def chat_url(cfg):
    return teacher_base_url(cfg) + ("/chat/completions" if api_style(cfg) == "openai" else "/api/chat")


def chat_body(cfg, model, system, user, temperature, top_p, max_tokens, seed, json_schema=None):
    """A non-streaming chat request. Ollama: https://github.com/ollama/ollama/blob/main/docs/api.md;
    OpenAI: https://platform.openai.com/docs/api-reference/chat (seed is honoured by vLLM and llama.cpp)."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    if api_style(cfg) == "ollama":
        body = {"model": model, "messages": messages, "stream": False,
                "options": {"temperature": temperature, "top_p": top_p, "num_predict": max_tokens, "seed": seed}}
        if json_schema:
            body["format"] = json_schema
        return body
    body = {"model": model, "messages": messages, "stream": False, "temperature": temperature,
            "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
    if json_schema:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "rating", "schema": json_schema, "strict": True}}
    return body


def read_chat_reply(reply):
    """(text, hit_token_limit) from an Ollama /api/chat or OpenAI /v1/chat/completions reply."""
    if "choices" in reply:
        choice = reply["choices"][0]
        return str(choice["message"]["content"] or ""), choice.get("finish_reason") == "length"
    return str(reply["message"]["content"]), reply.get("done_reason") == "length"


def check_teacher(cfg, model, headers):
    """Fail early, in words, when the server is down or lacks the model; never switch model silently."""
    base = teacher_base_url(cfg)
    server = describe_server(base)
    connect_s = teacher_timeouts(cfg)[0]
    if api_style(cfg) == "ollama":
        url, read = base + "/api/tags", lambda reply: [m["name"] for m in reply["models"]]
    else:
        url, read = base + "/models", lambda reply: [m["id"] for m in reply["data"]]
    names, _, problem = call_teacher("GET", url, None, headers, (connect_s, connect_s + 30), read, max_retries=0)
    if problem:
        hint = ("start it with `ollama serve`" if api_style(cfg) == "ollama"
                else "start your OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama)")
        raise TeacherUnreachable(f"no teacher server answers at {server} ({problem}); {hint}, set teacher_url, "
                                 f"or use generation_method='template'")
    if model in names or (":" not in model and model + ":latest" in names):
        return
    if api_style(cfg) == "ollama":
        raise TeacherError(f"model '{model}' is not on the Ollama server at {server}; "
                           f"fetch it with: ollama pull {model}")
    raise TeacherError(f"model '{model}' is not served by {server}; it has: {', '.join(names) or 'no models'} "
                       f"(pick one, or with Ollama: ollama pull {model})")
