"""Vision techniques: receptive fields (analytic, traced from a model, and by the gradient)."""
from .receptive_field import Layer, ReceptiveField, receptive_field, stack_receptive_field, top_down_sizes

__all__ = ["Layer", "ReceptiveField", "receptive_field", "stack_receptive_field", "top_down_sizes"]
