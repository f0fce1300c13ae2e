"""Model store: the catalogue, the cache folder, and preparing CTranslate2 weights as ONNX."""

from dictate.modelstore.errors import ModelError

__all__ = ["ModelError"]
