# GPT-2 (124M parameters, OpenAI 2019) fine-tuned on the conversations this project ships,
# configs/chat_small.jsonl (configs/chat_small.py trains a 4M model on them from scratch). A run never
# downloads: fetch GPT-2 once with your own tools, then train and talk to it:
#   huggingface-cli download gpt2 config.json model.safetensors
#   python train.py configs/chat_gpt2_finetune.py
#   python sample.py --out_dir=<the folder> --chat
# GPT-2's tokenizer is tiktoken's 'gpt2'; the chat roles are seven new tokens, so its token table grows by
# seven rows (each starts as the mean of the others). The 117M column of settings.FINETUNE_DEFAULTS applies
# (rate 1e-4, 20 warm-up steps, two passes with early stopping); what this file sets, and why, is below.
# Add --lora_rank=8 to train adapters only (README, "Start from a model": memory and speed of each).
init_from = 'hf:gpt2'
sources = 'chat:configs/chat_small.jsonl'  # relative to where you run train.py: the repository root
block_size = 640  # GPT-2 reads 1,024 tokens; the longest chat here is 610 (GPT-2 tokens), so 640 holds every one whole
# ~780k training tokens: 8 windows a step (not the column's 32), and 70 steps, not two passes (~300 steps):
# the file grew from 1,000 chats to 3,000 when chat_small moved to 4M, and a 124M step is slow on a CPU, so
# this keeps the run's length as it was (~65 steps); GPT-2 knows English and needs fewer steps than a new model
batch_size = 8
max_iters = 70
gradient_accumulation_steps = 1
eval_interval = 10
eval_iters = 4  # a 124M forward pass is slow on a CPU; 4 x 8 windows a split
