# A small general model: the 4M defaults (measured on cooking_small.py) on the general generator.
#   python train.py configs/general_small.py
prompt = 'A GPT that tells short stories for children'
size = '4M'  # 4 layers, 256 wide, 4 heads, context 256, 4,096-token BPE
# Changes no default (settings.SIZE_DEFAULTS, 4M): the same budget and schedule as cooking_small.py.
