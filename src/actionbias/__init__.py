"""actionbias: measure and mitigate shortcut bias in video action understanding."""

__version__ = "0.1.0"
