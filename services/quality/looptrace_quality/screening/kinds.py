"""What a screening tile can show: no defect, or one of the synthetic defect kinds.

Its own module, without numpy or scikit-learn, so that labelling a screening (HTTP) and the
service's start do not import the model's libraries (they load at the first photo).
"""

from __future__ import annotations

KINDS = ("none", "stain", "hole", "broken_yarn", "misprint", "shade")
DEFECT_KINDS = KINDS[1:]
