# The recipe model at the original product's 'medium' size: a 33M GPT-1 (9 layers, 512 wide, context 512,
# 8,192-token BPE). On a 2-core CPU it sees fewer tokens than cooking_small.py in the same time, so it is
# the size for a GPU; its CPU figures are in the README's preset table.
#   python train.py configs/cooking_medium.py
prompt = 'A fun GPT that generates cooking recipes'
size = 'medium'  # the original product's name for '33M'
# Changes no default: the 33M column of settings.SIZE_DEFAULTS (the 12M data budget; 300 steps of 4 x 512
# tokens, 614k tokens, so a CPU run takes about as long as the 12M preset's; learning rate 6e-4, lower for
# the wider model).
