# A small recipe model: from one sentence to a trained 12M GPT-1 in about 15 minutes on a 2-core CPU.
#   python train.py configs/cooking_small.py
prompt = 'A fun GPT that generates cooking recipes'
size = '12M'  # 6 layers, 384 wide, context 256, 4,096-token BPE
# Templates cost nothing to generate, so take far more than the original 30k -> 15k tokens: a 12M model
# needs a few hundred thousand distinct tokens to learn the recipe format instead of memorising recipes.
initial_tokens = 400_000
final_tokens = 200_000
# Training is the cost: 300 steps of 16 x 256 tokens (1.2M tokens, 6 epochs) fit the time on CPU.
batch_size = 16
max_iters = 300
# Six passes over 200k tokens do not overfit (val loss stays with train loss), and on CPU dropout on the
# attention weights forces the slower unfused attention: without dropout training runs ~35% faster.
dropout = 0.0
learning_rate = 1e-3  # a model this small tolerates (and needs, with so few steps) a higher peak rate
min_lr = 1e-4
warmup_iters = 25
eval_interval = 50
eval_iters = 8
log_interval = 5
