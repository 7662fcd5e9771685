"""A figure is rebuilt only when its data changed: building a plotly figure (validation of
every trace) was most of an insights page's tick, though its data rarely changes between
two ticks. The builders are pure, so the figure of the same arguments is the same; the last
few are kept per builder in this process, found by a fingerprint of the arguments."""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict

KEPT = 16  # figures per builder: every window, account and period a few tabs show


def remembered(build):
    kept: OrderedDict[bytes, object] = OrderedDict()
    guard = threading.Lock()

    @functools.wraps(build)
    def figure(*args, **kwargs):
        try:
            data = pickle.dumps((args, sorted(kwargs.items())), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return build(*args, **kwargs)
        key = hashlib.blake2b(data, digest_size=16).digest()
        with guard:
            if key in kept:
                kept.move_to_end(key)
                return kept[key]
        built = build(*args, **kwargs)
        with guard:
            kept[key] = built
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return built

    return figure
