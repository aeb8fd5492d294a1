# The cooking preset with the original product's high-quality path: llama3.1:8b writes the recipes through
# a local Ollama, qwen2.5:7b scores them. First:  ollama pull llama3.1:8b && ollama pull qwen2.5:7b
#   python train.py configs/cooking_small_ollama.py
prompt = 'A fun GPT that generates cooking recipes'
size = '12M'
generation_method = 'ollama'
gen_model = 'llama3.1:8b'
judge_model = 'qwen2.5:7b'
teacher_device = 'cpu'  # Ollama on a CPU: generous timeouts (5 s connect, 300 s generate, 60 s judge); 'gpu' if it has one
concurrency = 4  # start Ollama with OLLAMA_NUM_PARALLEL=4 or more
fallback = 'template'  # Ollama not running: warn and use the templates instead
# The original product's 12M budget: every sample costs a teacher call, so 30k generated -> 15k kept.
initial_tokens = 30_000
final_tokens = 15_000
batch_size = 16
max_iters = 150  # ~40 epochs of 15k tokens: early stopping ends it when the val loss stops improving
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 20
eval_interval = 25
eval_iters = 8
log_interval = 5
patience = 3
