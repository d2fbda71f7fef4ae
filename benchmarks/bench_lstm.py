"""Benchmark the reference LSTM; the same as ``lstm-teach bench``.

Usage: python benchmarks/bench_lstm.py [--quick] [--json FILE]
"""

import argparse
import sys

from lstm_teach.bench import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    sys.exit(main(parser.parse_args()))
