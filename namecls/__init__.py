"""namecls: which language does a surname come from? A character-level RNN classifier."""

__version__ = "0.1.0"
