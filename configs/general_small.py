# A small general model: the cooking preset's budget and schedule on the general generator.
#   python train.py configs/general_small.py
prompt = 'A GPT that tells short stories for children'
size = '12M'  # 6 layers, 384 wide, context 256, 4,096-token BPE
# Templates are cheap: generate well past the original 30k -> 15k tokens (see cooking_small.py).
initial_tokens = 400_000
final_tokens = 200_000
batch_size = 16
max_iters = 300  # 1.2M tokens, 6 epochs
dropout = 0.0  # no overfitting to fight at this budget, and ~35% faster on CPU (see cooking_small.py)
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 25
eval_interval = 50
eval_iters = 8
log_interval = 5
