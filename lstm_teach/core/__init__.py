"""The readable core: the numerics the lessons teach, written to be read beside them.

Activations, the IIR filter, the simple RNN, the LSTM reference (and its
variants' config), initialisers, losses, the gradient checker and the kit's
error types. Nothing here imports from the other tiers.
"""
