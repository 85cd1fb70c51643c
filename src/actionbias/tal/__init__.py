"""Temporal action localisation: feature datasets, an ActionFormer-style detector,
losses, soft-NMS, training and inference (the language branch lives in `language`).

Submodules are imported directly (``from actionbias.tal.detector import ActionFormer``)
so that importing the package stays cheap and free of cycles.
"""
