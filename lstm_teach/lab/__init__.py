"""The lab: what goes beyond the standard cell and BPTT (variants, RTRL and the 1997
rule, Evolino, ConvLSTM, and the variant lab's experiments)."""
