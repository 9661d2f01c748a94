"""namecls: which language does a surname come from? A character-level RNN classifier.

`from namecls import Classifier` loads torch on first use, not at import.
"""

__version__ = "0.1.0"
__all__ = ["Classifier", "Prediction", "__version__"]


def __getattr__(name: str):
    if name in ("Classifier", "Prediction"):
        from namecls import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'namecls' has no attribute {name!r}")
