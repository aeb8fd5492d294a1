# A small general model: the 12M defaults (measured on cooking_small.py) on the general generator.
#   python train.py configs/general_small.py
prompt = 'A GPT that tells short stories for children'
size = '12M'  # 6 layers, 384 wide, context 256, 4,096-token BPE
# Changes no default (settings.SIZE_DEFAULTS, 12M): the same budget and schedule as cooking_small.py.
