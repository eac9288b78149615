"""Photo pre-screening: an advisory look at a stage photo for visible fabric defects.

``image`` decodes and downscales, ``features`` describes each tile, ``synth`` draws synthetic
fabrics with defects (the baseline's training data), ``model`` trains and applies the tile
classifier, ``report`` turns tile probabilities into a score, flagged tiles and actions, and
``overlay`` draws the flagged tiles. Plain Python and numpy: no I/O beyond bytes in, bytes out.
"""
