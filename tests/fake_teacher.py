"""A fake teacher server on 127.0.0.1 for tests and bench.py: speaks just enough of Ollama's API
(/api/tags, /api/generate, /api/chat) and the OpenAI API (/v1/models, /v1/chat/completions), with
switchable misbehaviour, and records what it saw (request counts per path, most requests in flight at
once, headers and bodies)."""
import json
import os
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_BEHAVIOUR = {
    "models": ["llama3.1:8b", "qwen2.5:7b"],  # what /api/tags and /v1/models list
    "latency_s": 0.0,       # sleep before answering a chat/generate request
    "fail_500": 0,          # the next N chat/generate requests get HTTP 500
    "fail_429": 0,          # ... HTTP 429
    "malformed": 0,         # ... a 200 whose body is not JSON
    "body_error": 0,        # ... a 200 whose body is {"error": ...}
    "stream_error": 0,      # ... a 200 NDJSON stream that breaks off with an {"error": ...} line
    "reply": "Recipe number {seed}. Whisk two eggs with a cup of milk and a pinch of salt. Pour the mix "
             "into a hot buttered pan and cook for two minutes on each side. Serve warm with fresh fruit.",
    # (a function of the request body instead: tests that need answers which depend on the question)
    "done_reason": "stop",  # "length" pretends the token limit cut the reply
    "judge_replies": ['{"score": 8, "reason": "Clear and on topic."}'],  # cycled through, one per judge request
    "api_key": "",          # when set, requests without "Authorization: Bearer <api_key>" get 401
}
SHORT_REPLY = "Ok."


class FakeTeacherHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server, so sessions reuse connections
    timeout = 30                   # idle keep-alive connections do not hold a thread forever
    disable_nagle_algorithm = True  # headers and body go out as separate writes; do not wait 40 ms between

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def send(self, status, payload, content_type="application/json"):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test); nothing to do

    def answer(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        with server.lock:
            server.counts[self.path] = server.counts.get(self.path, 0) + 1
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        try:
            self.answer_request(body)
        finally:
            with server.lock:
                server.in_flight -= 1

    def answer_request(self, body):
        server, state = self.server, self.server.state
        models = state["models"]
        if state["api_key"] and self.headers.get("Authorization") != "Bearer " + state["api_key"]:
            # a careless server echoes what it got; the client must not repeat it
            return self.send(401, {"error": f"invalid api key: {self.headers.get('Authorization')}"})
        if self.command == "GET" and self.path == "/api/tags":
            return self.send(200, {"models": [{"name": m, "model": m, "size": 1} for m in models]})
        if self.command == "GET" and self.path == "/v1/models":
            return self.send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]})
        if self.path not in ("/api/generate", "/api/chat", "/v1/chat/completions"):
            return self.send(404, {"error": f"no route {self.path}"})
        openai = self.path.startswith("/v1/")
        if state["latency_s"]:
            server.stop_event.wait(state["latency_s"])
        with server.lock:
            failure = next((kind for kind in ("fail_500", "fail_429", "malformed", "body_error", "stream_error")
                            if state[kind] > 0), None)
            if failure:
                state[failure] -= 1
            judging = "format" in body or "response_format" in body
            if judging:
                text = state["judge_replies"][server.judge_count % len(state["judge_replies"])]
                server.judge_count += 1
        if failure == "fail_500":
            return self.send(500, {"error": "model runner crashed"})
        if failure == "fail_429":
            return self.send(429, {"error": "too many requests"})
        if failure == "malformed":
            return self.send(200, b'{"message": {"content": "half', "application/json")
        if failure == "body_error":
            error = {"message": "server overloaded"} if openai else "server overloaded"
            return self.send(200, {"error": error})
        if failure == "stream_error":
            lines = [{"model": body.get("model"), "message": {"role": "assistant", "content": "Whisk two"},
                      "done": False},
                     {"error": "an error was encountered while running the model"}]
            return self.send(200, "".join(json.dumps(line) + "\n" for line in lines).encode(), "application/x-ndjson")
        if body.get("model") not in models and body.get("model", "") + ":latest" not in models:
            return self.send(404, {"error": f"model '{body.get('model')}' not found, try pulling it first"})
        if not judging:
            seed = body.get("seed", body.get("options", {}).get("seed"))
            text = (state["reply"](body) if callable(state["reply"]) else SHORT_REPLY if state["reply"] == "short"
                    else state["reply"].format(seed=seed))
        if openai:
            return self.send(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                "finish_reason": state["done_reason"]}]})
        if self.path == "/api/generate":
            return self.send(200, {"model": body["model"], "response": text, "done": True,
                                   "done_reason": state["done_reason"]})
        return self.send(200, {"model": body["model"], "message": {"role": "assistant", "content": text},
                               "done": True, "done_reason": state["done_reason"], "eval_count": len(text.split())})


def start_fake_teacher(**behaviour):
    """Start the server on an ephemeral 127.0.0.1 port in a daemon thread; server.url is its address,
    server.state its behaviour (change it live under server.lock)."""
    unknown = set(behaviour) - set(DEFAULT_BEHAVIOUR)
    if unknown:
        raise ValueError(f"unknown fake teacher behaviour: {sorted(unknown)}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTeacherHandler)
    server.daemon_threads = True
    server.state = dict(DEFAULT_BEHAVIOUR, **behaviour)
    server.lock = threading.Lock()
    server.stop_event = threading.Event()
    server.counts, server.seen, server.in_flight, server.max_in_flight, server.judge_count = {}, [], 0, 0, 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def stop_fake_teacher(server):
    server.stop_event.set()  # wake handlers sleeping on latency
    server.shutdown()
    server.server_close()


def closed_port():
    """A 127.0.0.1 port that nothing listens on: bound by us, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def teacher_cfg(url, **overrides):
    """A resolved config for teacher.py pointing at `url`, as train.py would pass it."""
    cfg = {"generation_method": "ollama", "teacher_url": url, "gen_model": "llama3.1:8b",
           "judge_model": "qwen2.5:7b", "api_key_env": "", "gen_temperature": 0.8, "num_predict": 150,
           "gen_top_p": 0.9, "concurrency": 4, "fallback": "none", "teacher_device": "gpu",
           "connect_timeout_s": 0.0, "generate_timeout_s": 0.0, "judge_timeout_s": 0.0,
           "prompt": "A fun GPT that generates cooking recipes", "seed": 1337}
    cfg.update(overrides)
    return cfg


def bench_teacher_generation(latency_s=0.1, concurrencies=(1, 8), n_samples=48):
    """Throughput of teacher.generate_samples against a fake server that takes latency_s per reply,
    at each concurrency. Returns {"latency_s", "n_samples", "runs": [{concurrency, samples, tokens,
    elapsed_s, samples_per_s, tokens_per_s, max_in_flight}], "speedup"} where speedup = last / first samples_per_s."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import teacher
    from tokenizer import estimate_tokens
    server = start_fake_teacher(latency_s=latency_s)
    runs = []
    try:
        reply_tokens = estimate_tokens(DEFAULT_BEHAVIOUR["reply"].format(seed=1000000000))
        for concurrency in concurrencies:
            cfg = teacher_cfg(server.url, concurrency=concurrency)
            server.max_in_flight = 0
            with tempfile.TemporaryDirectory() as out_dir:
                started = time.perf_counter()
                samples, stats = teacher.generate_samples(cfg, cfg["prompt"], "cooking", n_samples * reply_tokens,
                                                          out_dir, lambda line: None)
                elapsed = time.perf_counter() - started
            runs.append({"concurrency": concurrency, "samples": len(samples), "tokens": stats["tokens"],
                         "elapsed_s": round(elapsed, 3), "samples_per_s": round(len(samples) / elapsed, 2),
                         "tokens_per_s": round(stats["tokens"] / elapsed, 1), "max_in_flight": server.max_in_flight})
    finally:
        stop_fake_teacher(server)
    return {"latency_s": latency_s, "n_samples": n_samples, "runs": runs,
            "speedup": round(runs[-1]["samples_per_s"] / runs[0]["samples_per_s"], 2)}


if __name__ == "__main__":
    print(json.dumps(bench_teacher_generation(), indent=1))
