"""Objects to a JSON document plus arrays, and back, without running code.

Every value becomes a JSON value: ``None``, booleans, integers, finite floats
and strings as themselves, lists as lists, and everything else as an object
``{"$": kind, ...}`` (tuples, dicts with any keys, non-finite floats, numpy
scalars, dtypes and arrays, torch tensors, data frames, trusted objects, the
learned-activation estimators and the compressed activation modules).
Numeric arrays and tensors go to the tensor file and are named from the
document. Decoding builds only what a node's kind allows: a trusted class
found by name (:mod:`._trusted`), filled with decoded data.
"""

import importlib
import math
import re
from collections import OrderedDict

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from ..activations import ACTIVATIONS
from ..compression import SplineActivation, SymbolicActivation
from ..estimators import LearnedActivationEstimator, network_state, restore_network
from ._trusted import (
    ESTIMATORS,
    SCALAR_TYPES,
    default_trusted,
    resolve,
    scalar_type_name,
    type_name,
)

#: dtypes stored as arrays in the tensor file (safetensors' numpy dtypes).
_TENSOR_DTYPES = frozenset(
    np.dtype(t)
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
)


#: Column dtypes a data frame may have in a file (numpy's and pandas' own; a
#: name is never looked up among other libraries' registered dtypes).
_FRAME_DTYPE = re.compile(
    r"object|bool|boolean|category|string|str|u?int(8|16|32|64)|U?Int(8|16|32|64)"
    r"|float(16|32|64)|Float(32|64)"
)


class UnsupportedValueError(TypeError):
    """A value the safe format cannot store (saving fails, naming it)."""


class Encoder:
    """Encodes one object graph: :meth:`encode` gives the document's root,
    ``tensors`` the arrays it names."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self._memo: dict[int, tuple[dict, object]] = {}  # id -> (ref node, object)
        self._n_objects = 0

    # -- helpers -------------------------------------------------------------
    def _array(self, array: np.ndarray) -> str:
        name = f"t{len(self.tensors)}"
        self.tensors[name] = np.ascontiguousarray(array)
        return name

    def _refuse(self, value, where: str, why: str = "") -> UnsupportedValueError:
        return UnsupportedValueError(
            f"Cannot save {where}: a {type(value).__module__}."
            f"{type(value).__qualname__} is not a value a model file stores"
            f"{why}. A model file holds the library's estimators and compressor, "
            "scikit-learn preprocessing, numbers, text, arrays and data frames; "
            "give options as values (e.g. an activation's init by name), or pickle "
            "the model if you must (a pickle runs code when loaded)."
        )

    def _new_id(self, value, node: dict) -> int:
        self._n_objects += 1
        node["id"] = self._n_objects
        self._memo[id(value)] = ({"$": "ref", "id": self._n_objects}, value)
        return self._n_objects

    # -- the dispatch --------------------------------------------------------
    def encode(self, value, where: str = "model"):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.generic):
            return int(value)
        if isinstance(value, float) and not isinstance(value, np.generic):
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if id(value) in self._memo:
            return dict(self._memo[id(value)][0])
        if isinstance(value, np.generic):
            return self._scalar(value, where)
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple) and type(value) is tuple:
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"$": "tuple", "items": items}
        if isinstance(value, dict) and type(value) in (dict, OrderedDict):
            items = [
                [self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                for k, v in value.items()
            ]
            return {"$": "dict", "items": items, "ordered": type(value) is OrderedDict}
        if isinstance(value, (set, frozenset)):
            items = [self.encode(v, f"{where} item") for v in value]
            return {"$": "set", "items": items, "frozen": isinstance(value, frozenset)}
        if isinstance(value, slice):
            parts = (value.start, value.stop, value.step)
            return {"$": "slice", "items": [self.encode(p, where) for p in parts]}
        if type(value) is np.ndarray:  # not a subclass (a masked array...)
            return self._ndarray(value, where)
        if isinstance(value, np.random.RandomState):
            return {"$": "random_state", "state": self.encode(value.get_state(), where)}
        if isinstance(value, np.dtype):
            return {"$": "dtype", "str": value.str}
        if isinstance(value, torch.device):
            return {"$": "device", "str": str(value)}
        if isinstance(value, torch.Tensor):
            return self._tensor(value, where)
        if isinstance(value, pd.DataFrame):
            return self._frame(value, where)
        if isinstance(value, pd.RangeIndex):
            return {"$": "range", "items": [value.start, value.stop, value.step]}
        if isinstance(value, pd.Index):
            return {"$": "index", "values": self._ndarray(value.to_numpy(), where)}
        if isinstance(value, type):
            name = scalar_type_name(value)
            if name is None:
                raise self._refuse(value, where, f" (the type {value.__qualname__})")
            return {"$": "type", "name": name}
        if isinstance(value, LearnedActivationEstimator):
            return self._estimator(value, where)
        if isinstance(value, nn.Module):
            return self._module(value, where)
        if hasattr(value, "__dict__") and (
            isinstance(value, BaseEstimator)
            or type_name(type(value)) in default_trusted()
        ):
            return self._object(value, where)
        raise self._refuse(value, where)

    def _scalar(self, value: np.generic, where: str):
        if value.dtype not in _TENSOR_DTYPES and value.dtype.kind != "U":
            raise self._refuse(value, where)
        return {"$": "scalar", "dtype": value.dtype.str, "v": self.encode(value.item())}

    def _ndarray(self, value: np.ndarray, where: str):
        if value.dtype in _TENSOR_DTYPES:
            return {"$": "ndarray", "tensor": self._array(value)}
        if value.dtype.kind not in "OU":
            raise self._refuse(value, where, f" (an array of dtype {value.dtype})")
        items = [
            self.encode(v, f"{where}[{i}]")
            for i, v in enumerate(value.ravel().tolist())
        ]
        return {
            "$": "ndarray",
            "dtype": value.dtype.str,
            "shape": list(value.shape),
            "items": items,
        }

    def _tensor(self, value: torch.Tensor, where: str):
        array = value.detach().cpu()
        try:
            array = array.numpy()
        except TypeError:  # bfloat16 and the like
            raise self._refuse(value, where, f" (a tensor of {value.dtype})") from None
        node = {"$": "torch", "tensor": self._array(array)}
        if isinstance(value, nn.Parameter):
            node["parameter"] = bool(value.requires_grad)
        return node

    def _frame(self, value: pd.DataFrame, where: str):
        columns = []
        for i in range(value.shape[1]):
            column = value.iloc[:, i]
            dtype = column.dtype
            if isinstance(dtype, np.dtype) and dtype in _TENSOR_DTYPES:
                data = self._ndarray(column.to_numpy(), where)
            else:
                values = column.astype(object).where(column.notna(), None).to_numpy()
                data = self._ndarray(values, f"{where}[{value.columns[i]!r}]")
            columns.append({"dtype": str(dtype), "data": data})
        return {
            "$": "frame",
            "names": self._ndarray(np.asarray(value.columns, dtype=object), where),
            "index": self.encode(value.index, f"{where}.index"),
            "columns": columns,
        }

    def _object(self, value, where: str):
        node = {"$": "object", "type": type_name(type(value))}
        self._new_id(value, node)
        getstate = getattr(value, "__getstate__", None)
        state = getstate() if getstate is not None else vars(value)
        node["state"] = self.encode(state, f"{where}.__dict__")
        return node

    def _estimator(self, value, where: str):
        if type(value) not in ESTIMATORS:
            raise self._refuse(
                value, where, " (a subclass of the library's estimators)"
            )
        node = {"$": "estimator", "type": type_name(type(value))}
        self._new_id(value, node)
        state = dict(value.__getstate__())
        network = network_state(value) if "net_" in state else None
        state.pop("net_", None)
        node["state"] = self.encode(state, where)
        spec = ACTIVATIONS.get(getattr(value, "activation_", value.activation))
        if spec is not None and not spec.builtin:
            node["activation_module"] = getattr(spec.factory, "__module__", None)
        if network is not None:
            node["network"] = self.encode(network, f"{where}.net_")
            for i, module in enumerate(value.activations_):
                self._memo[id(module)] = (
                    {"$": "ref", "id": node["id"], "activation": i},
                    module,
                )
        return node

    def _module(self, value: nn.Module, where: str):
        node = {"$": "module", "tensors": self.encode(value.state_dict(), where)}
        if type(value) is SplineActivation:
            node.update(kind="spline", compiled=bool(value.compiled))
        elif type(value) is SymbolicActivation:
            node.update(kind="symbolic", name=value.name)
        else:
            raise self._refuse(
                value,
                where,
                " (of torch modules, a model file stores the networks, as "
                "tensors, and the compressor's SplineActivation and "
                "SymbolicActivation)",
            )
        self._new_id(value, node)
        return node


class Decoder:
    """Decodes a document; ``tensors`` are the arrays it names."""

    def __init__(self, tensors: dict, trusted: frozenset[str], untrusted) -> None:
        self.tensors, self.trusted, self.untrusted = tensors, trusted, untrusted
        self._objects: dict[int, object] = {}

    def decode(self, node):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        kind = node["$"]
        handler = _KINDS.get(kind)
        if handler is None:
            raise ValueError(f"unknown kind of value {kind!r}")
        return handler(self, node)

    def _keep(self, node, value):
        number = node["id"]
        if not isinstance(number, int) or number in self._objects:
            raise ValueError(f"object number {number!r} is invalid or repeated")
        self._objects[number] = value
        return value

    def _array(self, name: str) -> np.ndarray:
        return np.array(self.tensors[name], copy=True)

    def _float(self, node):
        value = float(node["v"])
        if math.isfinite(value):
            raise ValueError(f"a finite float {value} in a non-finite node")
        return value

    def _random_state(self, node):
        random_state = np.random.RandomState()
        random_state.set_state(self.decode(node["state"]))
        return random_state

    def _range(self, node):
        return pd.RangeIndex(*(int(v) for v in node["items"]))

    def _scalar(self, node):
        dtype = np.dtype(node["dtype"])
        if dtype not in _TENSOR_DTYPES and dtype.kind != "U":
            raise ValueError(f"a scalar of dtype {dtype}")
        return dtype.type(self.decode(node["v"]))

    def _tuple(self, node):
        return tuple(self.decode(v) for v in node["items"])

    def _dict(self, node):
        pairs = [(self.decode(k), self.decode(v)) for k, v in node["items"]]
        return OrderedDict(pairs) if node.get("ordered") else dict(pairs)

    def _set(self, node):
        items = [self.decode(v) for v in node["items"]]
        return frozenset(items) if node["frozen"] else set(items)

    def _slice(self, node):
        return slice(*(self.decode(v) for v in node["items"]))

    def _ndarray(self, node):
        if "tensor" in node:
            return self._array(node["tensor"])
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in "OU":
            raise ValueError(f"an array of items of dtype {dtype}")
        items = [self.decode(v) for v in node["items"]]
        out = np.empty(len(items), dtype=dtype)
        out[:] = items if dtype.kind == "U" else _object_items(items)
        return out.reshape([int(n) for n in node["shape"]])

    def _dtype(self, node):
        dtype = np.dtype(node["str"])
        if dtype.fields is not None:
            raise ValueError("a structured dtype")
        return dtype

    def _device(self, node):
        device = torch.device(node["str"])
        if device.type == "cuda" and not torch.cuda.is_available():
            return torch.device("cpu")
        return device

    def _torch(self, node):
        tensor = torch.from_numpy(self._array(node["tensor"]))
        if "parameter" in node:
            return nn.Parameter(tensor, requires_grad=bool(node["parameter"]))
        return tensor

    def _frame(self, node):
        names = self._ndarray(node["names"]).tolist()
        data = {}
        for i, column in enumerate(node["columns"]):
            values = self._ndarray(column["data"])
            if not _FRAME_DTYPE.fullmatch(column["dtype"]):
                raise ValueError(f"a column of dtype {column['dtype']!r}")
            dtype = pd.api.types.pandas_dtype(column["dtype"])
            data[i] = pd.array(values, dtype=dtype) if len(values) else values
        frame = pd.DataFrame(data, index=self.decode(node["index"]))
        frame.columns = names
        return frame

    def _index(self, node):
        return pd.Index(self._ndarray(node["values"]))

    def _type(self, node):
        found = SCALAR_TYPES.get(node["name"])
        if found is None:
            raise self.untrusted(node["name"])
        return found

    def _ref(self, node):
        value = self._objects[node["id"]]
        if "activation" in node:
            return value.activations_[int(node["activation"])]
        return value

    def _object(self, node):
        cls = resolve(node["type"], self.trusted, self.untrusted)
        if not isinstance(cls, type) or issubclass(
            cls, (nn.Module, torch.Tensor, LearnedActivationEstimator)
        ):
            raise self.untrusted(node["type"])
        value = self._keep(node, cls.__new__(cls))
        state = self.decode(node["state"])
        setstate = getattr(value, "__setstate__", None)
        if setstate is not None:
            setstate(state)
        else:
            vars(value).update(state)
        return value

    def _estimator(self, node):
        cls = resolve(node["type"], self.trusted, self.untrusted)
        if not (isinstance(cls, type) and issubclass(cls, LearnedActivationEstimator)):
            raise self.untrusted(node["type"])
        estimator = self._keep(node, cls.__new__(cls))
        estimator.__setstate__(self.decode(node["state"]))
        if "network" in node:
            self._register(estimator, node.get("activation_module"))
            restore_network(estimator, self.decode(node["network"]))
        return estimator

    def _register(self, estimator, module: str | None) -> None:
        """Import the module that registers a user's activation, if trusted."""
        name = getattr(estimator, "activation_", estimator.activation)
        if name in ACTIVATIONS or module is None:
            return
        if module not in self.trusted:
            raise self.untrusted(module, activation=name)
        try:
            importlib.import_module(module)  # it registers the activation
        except ImportError:
            raise self.untrusted(module, missing=True) from None

    def _module(self, node):
        kind = node["kind"]
        tensors = self.decode(node["tensors"])
        if kind == "spline":
            module = _empty_spline(tensors, bool(node["compiled"]))
        elif kind == "symbolic":
            module = SymbolicActivation(str(node["name"]), 0.0, 0.0, 0.0, 0.0)
        else:
            raise ValueError(f"unknown kind of module {kind!r}")
        module.load_state_dict(tensors, strict=True)
        return self._keep(node, module)


def _object_items(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):  # no broadcasting of a list item
        out[i] = item
    return out


def _empty_spline(tensors: dict, compiled: bool) -> SplineActivation:
    """A SplineActivation of the shapes of ``tensors``, to load them into."""
    table = tensors["table"]
    scale = tensors["scale"]
    channels = 1 if scale.dim() == 0 else int(scale.shape[0])
    rows = int(table.shape[0])
    n_cells = int(table.shape[1]) // channels
    shape = (rows, n_cells) if scale.dim() == 0 else (rows, channels, n_cells)
    ones = torch.ones(()) if scale.dim() == 0 else torch.ones(channels)
    kinks = torch.zeros(shape) if tensors.get("kinks") is not None else None
    return SplineActivation(
        ones * 0, ones, torch.zeros(shape), kinks, compiled=compiled
    )


_KINDS = {
    "float": Decoder._float,
    "scalar": Decoder._scalar,
    "tuple": Decoder._tuple,
    "dict": Decoder._dict,
    "set": Decoder._set,
    "slice": Decoder._slice,
    "ndarray": Decoder._ndarray,
    "dtype": Decoder._dtype,
    "device": Decoder._device,
    "torch": Decoder._torch,
    "frame": Decoder._frame,
    "index": Decoder._index,
    "range": Decoder._range,
    "random_state": Decoder._random_state,
    "type": Decoder._type,
    "ref": Decoder._ref,
    "object": Decoder._object,
    "estimator": Decoder._estimator,
    "module": Decoder._module,
}
