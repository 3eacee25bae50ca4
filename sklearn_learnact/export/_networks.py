"""The networks as ONNX graphs: dense and convolutional layers around the
activations' converters."""

import numpy as np
from torch import nn

from ..nets import CNN, MLP
from ._activations import as_numpy

__all__ = ["network"]


def _linear(b, x: str, layer: nn.Linear) -> str:
    weight = b.const(as_numpy(layer.weight))
    inputs = [x, weight] + ([] if layer.bias is None else [b.const(layer.bias)])
    return b.op("Gemm", *inputs, transB=1)


def _conv2d(b, x: str, conv: nn.Conv2d) -> str:
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise NotImplementedError(
            f"Cannot export {conv!r} to ONNX: only numeric zero padding is converted."
        )
    ph, pw = conv.padding
    inputs = [x, b.const(conv.weight)]
    if conv.bias is not None:
        inputs.append(b.const(conv.bias))
    return b.op(
        "Conv",
        *inputs,
        kernel_shape=list(conv.kernel_size),
        strides=list(conv.stride),
        dilations=list(conv.dilation),
        pads=[ph, pw, ph, pw],
        group=conv.groups,
    )


def _max_pool(b, x: str, pool: nn.MaxPool2d) -> str:
    def pair(v):
        return [v, v] if isinstance(v, int) else list(v)

    if pool.dilation not in (1, (1, 1)) or pool.return_indices:
        raise NotImplementedError(f"Cannot export {pool!r} to ONNX.")
    ph, pw = pair(pool.padding)
    return b.op(
        "MaxPool",
        x,
        kernel_shape=pair(pool.kernel_size),
        strides=pair(pool.stride),
        pads=[ph, pw, ph, pw],
        ceil_mode=int(pool.ceil_mode),
    )


def _hidden(b, x: str, act: nn.Module, layer: int, rank: int) -> str:
    b.layer, b.rank = layer, rank
    return b.activation(act, x)


def _mlp(b, x: str, net: MLP) -> str:
    for i, (linear, act) in enumerate(zip(net.hidden, net.activations)):
        x = _hidden(b, _linear(b, x, linear), act, i, rank=2)
    return _linear(b, x, net.output)


def _cnn(b, x: str, net: CNN) -> str:
    x = b.op("Reshape", x, b.const([-1, *net.image_shape], np.int64))
    acts = iter(enumerate(net.activations))
    for conv in net.convs:
        i, act = next(acts)
        x = _max_pool(b, _hidden(b, _conv2d(b, x, conv), act, i, rank=4), net.pool)
    x = b.op("Flatten", x, axis=1)
    for linear in net.hidden:
        i, act = next(acts)
        x = _hidden(b, _linear(b, x, linear), act, i, rank=2)
    return _linear(b, x, net.output)


#: Converter of each network type: ``fn(builder, x, module) -> outputs``.
_NETWORKS = {MLP: _mlp, CNN: _cnn}


def network(b, x: str, module: nn.Module) -> str:
    convert = _NETWORKS.get(type(module))
    if convert is None:
        raise NotImplementedError(
            f"Cannot export a {type(module).__name__} network to ONNX: the "
            f"converters handle {', '.join(t.__name__ for t in _NETWORKS)}."
        )
    return convert(b, x, module)
