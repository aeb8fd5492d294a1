# GPT-1 itself (Radford et al. 2018, section 4.1): 12 layers, 768 wide, 12 heads, context 512, its own
# 40,478-token BPE, Adam at 2.5e-4 warmed up linearly over 2,000 updates then annealed to 0 with a cosine,
# minibatches of 64 x 512 tokens, dropout 0.1, weight decay 0.01 on matrices. A GPU job:
#   python train.py configs/gpt1.py
prompt = 'A GPT that tells short stories'  # GPT-1 read books; the story generator is the nearest domain
size = '117M'
block_size = 512
vocab_size = 40478  # GPT-1's BPE size. Template text runs out of merges far sooner (its word lists are
# finite), and train.py prints the smaller real count; a large corpus of your own (dataset_dir) reaches it.
initial_tokens = 40_000_000  # template text is free: ~20M kept tokens, so the model sees variety
final_tokens = 20_000_000
batch_size = 16
gradient_accumulation_steps = 4  # 16 x 4 = the paper's 64 sequences per update
max_iters = 10_000  # about 330M tokens, 16 passes over the data
learning_rate = 2.5e-4
min_lr = 0.0
warmup_iters = 2000
dropout = 0.1
weight_decay = 0.01
eval_interval = 500
eval_iters = 20
log_interval = 20
patience = 4
