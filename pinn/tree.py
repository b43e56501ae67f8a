"""Nested training state as JSON text plus arrays: what run files hold instead of a pickle.

    text, arrays = split(state)      # state: dicts, lists, tuples, tensors, numbers, strings, None
    state == join(text, arrays)

A tree is built of ``dict`` (any str or int keys), ``list``, ``tuple``, ``torch.Tensor`` (on any
device; read back on the CPU with its dtype and shape), ``bool``, ``int``, ``float`` (NaN and
infinities included), ``str`` and ``None``. Anything else, a Python object of a class in
particular, is refused: reading a tree back creates nothing but those types, so a run file
can never make its reader run code.

In the JSON text a tensor is ``{"tensor": k, "dtype": "float32"}`` (``arrays[k]``), a tuple
``{"tuple": [...]}`` and a dict ``{"dict": [[key, value], ...]}``.
"""

from __future__ import annotations

import json

import numpy as np
import torch

DTYPES = {
    name: getattr(torch, name)
    for name in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
}
"""The tensor dtypes a tree may hold, by the names the JSON text gives them."""


def split(tree: object) -> tuple[str, list[np.ndarray]]:
    """``tree`` as JSON text and the list of its tensors as numpy arrays (module docstring)."""
    arrays: list[np.ndarray] = []

    def encode(node: object) -> object:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, torch.Tensor):
            name = str(node.dtype).removeprefix("torch.")
            if name not in DTYPES:
                raise TypeError(f"a run file cannot hold a {node.dtype} tensor; valid dtypes: {', '.join(DTYPES)}")
            arrays.append(node.detach().cpu().numpy().copy())
            return {"tensor": len(arrays) - 1, "dtype": name}
        if isinstance(node, tuple):
            return {"tuple": [encode(item) for item in node]}
        if isinstance(node, list):
            return [encode(item) for item in node]
        if isinstance(node, dict):
            for key in node:
                if isinstance(key, bool) or not isinstance(key, str | int):
                    raise TypeError(f"a run file holds dicts with str or int keys only, got the key {key!r}")
            return {"dict": [[key, encode(value)] for key, value in node.items()]}
        raise TypeError(f"a run file cannot hold a {type(node).__name__}; only tensors, numbers, text and containers")

    return json.dumps(encode(tree)), arrays


def join(text: str, arrays: list[np.ndarray]) -> object:
    """The tree that ``split`` gave as ``text`` and ``arrays``; a malformed text raises ValueError."""

    def decode(node: object) -> object:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, list):
            return [decode(item) for item in node]
        if isinstance(node, dict) and set(node) == {"tensor", "dtype"}:
            return tensor(node["tensor"], node["dtype"])
        if isinstance(node, dict) and set(node) == {"tuple"}:
            return tuple(decode(item) for item in node["tuple"])
        if isinstance(node, dict) and set(node) == {"dict"}:
            return {key: decode(value) for key, value in node["dict"]}
        raise ValueError(f"malformed state entry {str(node)[:80]}")

    def tensor(index: object, dtype: object) -> torch.Tensor:
        if not isinstance(index, int) or not 0 <= index < len(arrays) or dtype not in DTYPES:
            raise ValueError(f"malformed tensor entry (array {index!r} of {len(arrays)}, dtype {dtype!r})")
        return torch.from_numpy(np.array(arrays[index])).to(DTYPES[dtype])

    return decode(json.loads(text))
