# Math word problems and small Python problems, mixed, solved step by step: a 12M GPT-1 on a 2-core CPU in
# about 20 minutes. math_small's recipe (Muon, 32 x 128 windows, every digit a token, repeats kept) with
# generated code problems beside the math ones (README, "Models that solve problems", for what it reaches).
#   python train.py configs/reasoning_small.py
#   python sample.py --out_dir=<the folder> --eval=math
#   python sample.py --out_dir=<the folder> --eval=code
prompt = 'A GPT that solves math word problems and small coding problems step by step'
size = '12M'
# Shares of the kept tokens. Math gets the larger share: its sums are learned late (math_small), while a
# level-1 code problem is one line to copy the names into. Levels within each kind: problems.LEVEL_WEIGHTS
# and problems_code.CODE_LEVEL_WEIGHTS (the easy ones more often).
mix = {'math': 0.6, 'code': 0.4}
# Every generated solution is right by construction and checked (code in the sandbox, many to a process).
# Generated a little over what is kept, so each kind fills its share.
initial_tokens = 1_600_000
final_tokens = 1_500_000
optimizer = 'muon'  # as math_small: far fewer steps to the arithmetic than AdamW
block_size = 128  # a math document is ~55 tokens, a code one ~95: whole documents fit
batch_size = 32
max_iters = 500  # math_small's 600, less the time the code measurement takes after training
dropout = 0.0
learning_rate = 1e-3  # AdamW's, for the embeddings, biases and gains; Muon's is muon_learning_rate (0.02)
min_lr = 1e-4
warmup_iters = 30
eval_interval = 125
eval_iters = 8
log_interval = 20
eval_problems = 100  # held-out problems per level, for math and for code, measured after training
doc_aligned = False  # as math_small: windows start anywhere
patience = 0  # all the steps
