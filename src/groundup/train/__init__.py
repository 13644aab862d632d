"""Training: the shared engine, checkpoints and metric losses."""
