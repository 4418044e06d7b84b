"""Built-in networks as layer lists, each built from the shapes given in its paper.

Identical consecutive layers are merged with ``count`` (it does not change any result: layers are
costed independently and summed). Pooling, normalisation, activation and softmax layers carry no
MACs and are left out, as in Timeloop/ZigZag workload files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..workloads import Layer, Network, block, conv2d, decode_step, gemm, load_model


def alexnet(batch: int = 1) -> Network:
    """AlexNet (Krizhevsky et al., NeurIPS 2012) on 227x227 inputs, grouped CONV2/4/5 as published."""
    layers = [
        conv2d("conv1", 3, 96, 227, 11, stride=4, batch=batch),
        conv2d("conv2", 96, 256, 27, 5, padding=2, groups=2, batch=batch),
        conv2d("conv3", 256, 384, 13, 3, padding=1, batch=batch),
        conv2d("conv4", 384, 384, 13, 3, padding=1, groups=2, batch=batch),
        conv2d("conv5", 384, 256, 13, 3, padding=1, groups=2, batch=batch),
        gemm("fc6", batch, 4096, 256 * 6 * 6),
        gemm("fc7", batch, 4096, 4096),
        gemm("fc8", batch, 1000, 4096),
    ]
    return Network("alexnet", tuple(layers), "Krizhevsky, Sutskever, Hinton, NeurIPS 2012")


def vgg16(batch: int = 1) -> Network:
    """VGG-16, configuration D (Simonyan & Zisserman, ICLR 2015), 224x224."""
    layers: list[Layer] = []
    size, cin = 224, 3
    for stage, (cout, reps) in enumerate(
        ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1
    ):
        layers.append(conv2d(f"conv{stage}_1", cin, cout, size, 3, padding=1, batch=batch))
        if reps > 1:
            layers.append(
                conv2d(
                    f"conv{stage}_2", cout, cout, size, 3, padding=1, batch=batch, count=reps - 1
                )
            )
        cin, size = cout, size // 2
    layers += [
        gemm("fc6", batch, 4096, 512 * 7 * 7),
        gemm("fc7", batch, 4096, 4096),
        gemm("fc8", batch, 1000, 4096),
    ]
    return Network("vgg16", tuple(layers), "Simonyan & Zisserman, ICLR 2015 (configuration D)")


def resnet18(batch: int = 1) -> Network:
    """ResNet-18 (He et al., CVPR 2016, Table 1), 224x224."""
    layers = [conv2d("conv1", 3, 64, 224, 7, stride=2, padding=3, batch=batch)]
    layers.append(conv2d("layer1.conv3x3", 64, 64, 56, 3, padding=1, batch=batch, count=4))
    size, cin = 56, 64
    for stage, cout in ((2, 128), (3, 256), (4, 512)):
        layers += [
            conv2d(f"layer{stage}.0.conv1", cin, cout, size, 3, stride=2, padding=1, batch=batch),
            conv2d(f"layer{stage}.0.downsample", cin, cout, size, 1, stride=2, batch=batch),
            conv2d(
                f"layer{stage}.conv3x3", cout, cout, size // 2, 3, padding=1, batch=batch, count=3
            ),
        ]
        cin, size = cout, size // 2
    layers.append(gemm("fc", batch, 1000, 512))
    return Network("resnet18", tuple(layers), "He et al., CVPR 2016, Table 1")


def resnet50(batch: int = 1) -> Network:
    """ResNet-50 (He et al., CVPR 2016), stride on the 3x3 convolution (the torchvision "v1.5" form)."""
    layers = [conv2d("conv1", 3, 64, 224, 7, stride=2, padding=3, batch=batch)]
    size, cin = 56, 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=1):
        cout = width * 4
        stride = 1 if stage == 1 else 2
        out = size // stride
        pre = f"layer{stage}"
        layers += [
            conv2d(f"{pre}.0.conv1", cin, width, size, 1, batch=batch),
            conv2d(f"{pre}.0.conv2", width, width, size, 3, stride=stride, padding=1, batch=batch),
            conv2d(f"{pre}.0.conv3", width, cout, out, 1, batch=batch),
            conv2d(f"{pre}.0.downsample", cin, cout, size, 1, stride=stride, batch=batch),
            conv2d(f"{pre}.conv1", cout, width, out, 1, batch=batch, count=blocks - 1),
            conv2d(f"{pre}.conv2", width, width, out, 3, padding=1, batch=batch, count=blocks - 1),
            conv2d(f"{pre}.conv3", width, cout, out, 1, batch=batch, count=blocks - 1),
        ]
        cin, size = cout, out
    layers.append(gemm("fc", batch, 1000, 2048))
    return Network(
        "resnet50", tuple(layers), "He et al., CVPR 2016, Table 1 (bottleneck, stride on 3x3)"
    )


def mobilenet_v2(batch: int = 1) -> Network:
    """MobileNetV2 1.0x (Sandler et al., CVPR 2018, Table 2), 224x224; depthwise as grouped conv."""
    layers = [conv2d("conv_stem", 3, 32, 224, 3, stride=2, padding=1, batch=batch)]
    size, cin = 112, 32
    index = 0
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):  # fmt: skip
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            pre = f"block{index}"
            if t != 1:
                layers.append(conv2d(f"{pre}.expand", cin, hidden, size, 1, batch=batch))
            layers.append(conv2d(f"{pre}.depthwise", hidden, hidden, size, 3, stride=stride, padding=1,
                                 groups=hidden, batch=batch))  # fmt: skip
            size = (size + 2 - 3) // stride + 1
            layers.append(conv2d(f"{pre}.project", hidden, c, size, 1, batch=batch))
            cin, index = c, index + 1
    layers.append(conv2d("conv_head", cin, 1280, size, 1, batch=batch))
    layers.append(gemm("classifier", batch, 1000, 1280))
    return Network("mobilenet_v2", tuple(layers), "Sandler et al., CVPR 2018, Table 2")


def _block(name: str, model: str, seq_len: int, batch: int) -> Network:
    net = block(load_model(model), batch=batch, seq_len=seq_len)
    return dataclasses.replace(net, name=name)


def bert_base_layer(seq_len: int = 128, batch: int = 1) -> Network:
    """One BERT-base encoder layer (Devlin et al., NAACL 2019: d=768, 12 heads, FFN 3072)."""
    return _block("bert_base_layer", "bert_base", seq_len, batch)


def gpt2_layer(seq_len: int = 1024, batch: int = 1) -> Network:
    """One GPT-2 small decoder layer over a full 1024-token context (Radford et al., 2019)."""
    return _block("gpt2_layer", "gpt2", seq_len, batch)


def llama7b_decode(context: int = 2048, batch: int = 1) -> Network:
    """One decode step (one new token) of Llama-7B with a KV cache of ``context`` tokens.

    Llama-2 7B's shapes (the same as LLaMA 7B, Touvron et al., 2023: d=4096, 32 layers, 32
    heads, SwiGLU FFN 11008, vocab 32000). Every weight GEMM is GEMV-shaped (m = batch).
    """
    net = decode_step(load_model("llama2_7b"), batch=batch, context=context)
    return dataclasses.replace(net, name="llama7b_decode")


BUILTIN_NETWORKS: dict[str, Callable[[], Network]] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenet_v2": mobilenet_v2,
    "bert_base_layer": bert_base_layer,
    "gpt2_layer": gpt2_layer,
    "llama7b_decode": llama7b_decode,
}
