# Math word problems solved step by step: a 12M GPT-1 in about 18 minutes on a 2-core CPU. It learns the
# solution format and the small sums (level 1: 91-98% of held-out problems in three runs), the harder levels
# less well (README, "Models that solve problems", for the accuracy per level).
#   python train.py configs/math_small.py
#   python sample.py --out_dir=<the folder> --eval=math
# The prompt names math, so the data step generates problems of levels 1-5 (the easy ones more often,
# problems.LEVEL_WEIGHTS) with worked solutions checked by their final answer, trains a BPE that keeps every
# digit a token, and trains on the solutions only.
prompt = 'A GPT that solves math word problems step by step'
size = '12M'
# Every generated solution is right by construction and checked. Repeats are kept (a sum drawn twice is
# practice), so the budget is the tokens generated: ~31k problems, about 1.3 passes in the steps below.
initial_tokens = 1_500_000
final_tokens = 1_500_000
# Muon learns the arithmetic in far fewer steps than AdamW here (level 1: 57% after 600 Muon steps, 11%
# after 430 AdamW steps on the same data); it costs a fifth of each step here, and pays for it.
optimizer = 'muon'
block_size = 128  # a document is ~55 tokens: a shorter context is cheaper per token and loses nothing
batch_size = 32
max_iters = 600  # with the data step, the evaluations and the measurement: 18m21s (560 steps: level 1 77%)
dropout = 0.0
learning_rate = 1e-3  # AdamW's, for the embeddings, biases and gains; Muon's is muon_learning_rate (0.02)
min_lr = 1e-4
warmup_iters = 30
eval_interval = 200  # three evaluations: each costs as much as ~8 steps
eval_iters = 8
log_interval = 20
eval_problems = 100  # held-out problems per level measured after training
doc_aligned = False  # as measured: windows start anywhere
patience = 0  # all the steps (the sums are learned late, after val loss has flattened)
