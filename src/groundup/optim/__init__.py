"""Optimizers: SGD, Adam/AdamW and stochastic approximation (Robbins-Monro and friends)."""
