"""The progress bar and log formatting of :meth:`Sequential.fit`."""

from __future__ import annotations


class _Progress:
    """tqdm.auto bar per epoch (verbose=1), one line per epoch (verbose=2), or nothing."""

    def __init__(self, verbose, epochs, n_batches):
        self.verbose, self.epochs, self.n_batches = verbose, epochs, n_batches
        self.bar = None

    def epoch_begin(self, epoch):
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.n_batches, desc=f"Epoch {epoch + 1}/{self.epochs}",
                            unit="batch", leave=True)

    def batch_end(self, logs):
        if self.bar is not None:
            self.bar.set_postfix(_format_logs(logs), refresh=False)
            self.bar.update(1)

    def epoch_end(self, epoch, logs):
        if self.bar is not None:
            self.bar.set_postfix(_format_logs(logs), refresh=True)
            self.close()
        elif self.verbose == 2:
            text = "  ".join(f"{k}={v}" for k, v in _format_logs(logs).items())
            print(f"Epoch {epoch + 1}/{self.epochs}  {text}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _format_logs(logs) -> dict:
    return {k: f"{v:.4g}" for k, v in logs.items() if k != "size"}
