"""N-gram language models: vectorised counting, five smoothing methods (MLE, add-k, Katz,
Kneser-Ney, modified Kneser-Ney matching KenLM's lmplz), ARPA files, KenLM-compatible scoring,
ranking, sampling and n-gram features. See docs/ngram.md."""
from .model import SMOOTHING, Evaluation, NgramModel, estimate

__all__ = ["NgramModel", "Evaluation", "SMOOTHING", "estimate"]
