"""Well-known convolutional networks in plain torch.nn, written from their papers.

They exist to check the receptive-field calculator against published figures and to show
effective receptive fields; no weights, no torchvision. ``width`` scales every channel count
(1.0 is the paper's), so that tests and the lab can run the same geometry cheaply. Layer
geometry (kernels, strides, padding) is what the receptive field depends on, and it follows:

* AlexNet: Krizhevsky, Sutskever & Hinton 2012, single tower, 227x227 input (conv1 unpadded;
  torchvision pads conv1 by 2, which shifts the field by 2 pixels but not its size).
* VGG-16: Simonyan & Zisserman 2015, configuration D.
* ResNet-18/50: He et al. 2016. ``stride_on="1x1"`` puts a bottleneck's stride on its first
  1x1 convolution as the paper (and Caffe) did; ``"3x3"`` on the 3x3 as torchvision does
  ("ResNet v1.5"), which changes ResNet-50's field from 483 to 427 pixels.
* GoogLeNet (Inception-v1): Szegedy et al. 2015, Table 1, with a true 5x5 branch (torchvision
  uses 3x3 there) and Caffe's ceil-mode pooling.
* MobileNet-v1: Howard et al. 2017, Table 1.
"""
from __future__ import annotations

import torch
import torch.nn as nn


def _c(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def _conv(cin, cout, k, s=1, p=0, bn=True):
    layers = [nn.Conv2d(cin, cout, k, s, p, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return layers


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, width: float = 1.0):
        super().__init__()
        c = [_c(n, width) for n in (96, 256, 384, 384, 256)]
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], 11, 4), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
            nn.MaxPool2d(3, 2),                                   # overlapping pooling, sec. 3.4
            nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(), nn.Linear(c[4] * 6 * 6, _c(4096, width)), nn.ReLU(inplace=True),
            nn.Dropout(), nn.Linear(_c(4096, width), _c(4096, width)), nn.ReLU(inplace=True),
            nn.Linear(_c(4096, width), num_classes))

    def forward(self, x):  # x: (B, 3, 227, 227)
        return self.classifier(self.features(x))


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG(nn.Module):
    def __init__(self, cfg=VGG16_CFG, num_classes: int = 1000, width: float = 1.0):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, _c(v, width), 3, padding=1), nn.ReLU(inplace=True)]
                cin = _c(v, width)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(cin * 7 * 7, _c(4096, width)), nn.ReLU(inplace=True), nn.Dropout(),
            nn.Linear(_c(4096, width), _c(4096, width)), nn.ReLU(inplace=True), nn.Dropout(),
            nn.Linear(_c(4096, width), num_classes))

    def forward(self, x):  # x: (B, 3, 224, 224)
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, stride_on="1x1"):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes:  # projection shortcut (option B)
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, stride_on="1x1"):
        super().__init__()
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(cin, planes, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, s3, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes: int = 1000, width: float = 1.0, stride_on: str = "1x1"):
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on must be '1x1' or '3x3', got {stride_on!r}")
        self.cin = _c(64, width)
        self.conv1 = nn.Conv2d(3, self.cin, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.cin)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages = []
        for i, n in enumerate(layers):
            planes, stride = _c(64 * 2**i, width), (1 if i == 0 else 2)
            blocks = []
            for b in range(n):
                blocks.append(block(self.cin, planes, stride if b == 0 else 1, stride_on))
                self.cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.cin, num_classes)

    def forward(self, x):  # x: (B, 3, 224, 224)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Inception(nn.Module):
    """Inception module (Szegedy et al. 2015, Fig. 2b): four branches concatenated."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.b1 = nn.Sequential(*_conv(cin, c1, 1, bn=False))
        self.b2 = nn.Sequential(*_conv(cin, c3r, 1, bn=False), *_conv(c3r, c3, 3, 1, 1, bn=False))
        self.b3 = nn.Sequential(*_conv(cin, c5r, 1, bn=False), *_conv(c5r, c5, 5, 1, 2, bn=False))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), *_conv(cin, pp, 1, bn=False))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


# Table 1 of the GoogLeNet paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
GOOGLENET_CFG = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000, width: float = 1.0):
        super().__init__()
        w = lambda n: _c(n, width)  # noqa: E731
        self.stem = nn.Sequential(
            *_conv(3, w(64), 7, 2, 3, bn=False), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.LocalResponseNorm(5), *_conv(w(64), w(64), 1, bn=False),
            *_conv(w(64), w(192), 3, 1, 1, bn=False), nn.LocalResponseNorm(5),
            nn.MaxPool2d(3, 2, ceil_mode=True))
        cin, blocks = w(192), {}
        for name, cfg in GOOGLENET_CFG.items():
            cfg = tuple(w(v) for v in cfg)
            blocks[name] = Inception(cin, *cfg)
            cin = cfg[0] + cfg[2] + cfg[4] + cfg[5]
        self.inception3a, self.inception3b = blocks["3a"], blocks["3b"]
        self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception4a, self.inception4b, self.inception4c = blocks["4a"], blocks["4b"], blocks["4c"]
        self.inception4d, self.inception4e = blocks["4d"], blocks["4e"]
        self.maxpool4 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception5a, self.inception5b = blocks["5a"], blocks["5b"]
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):  # x: (B, 3, 224, 224)
        x = self.inception3b(self.inception3a(self.stem(x)))
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4e(self.inception4d(self.inception4c(self.inception4b(x))))
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class MobileNetV1(nn.Module):
    # (output channels, stride) of the 13 depthwise-separable layers, Table 1
    CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes: int = 1000, width: float = 1.0):
        super().__init__()
        cin = _c(32, width)
        layers = _conv(3, cin, 3, 2, 1)
        for cout, s in self.CFG:
            cout = _c(cout, width)
            layers += [nn.Conv2d(cin, cin, 3, s, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                       nn.ReLU(inplace=True), *_conv(cin, cout, 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(**kw) -> AlexNet:
    return AlexNet(**kw)


def vgg16(**kw) -> VGG:
    return VGG(VGG16_CFG, **kw)


def resnet18(**kw) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], **kw)


def resnet50(**kw) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], **kw)


def resnet50_torchvision(**kw) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], stride_on="3x3", **kw)


def googlenet(**kw) -> GoogLeNet:
    return GoogLeNet(**kw)


def mobilenet_v1(**kw) -> MobileNetV1:
    return MobileNetV1(**kw)


FACTORIES = {"alexnet": alexnet, "vgg16": vgg16, "resnet18": resnet18, "resnet50": resnet50,
             "resnet50_torchvision": resnet50_torchvision, "googlenet": googlenet,
             "mobilenet_v1": mobilenet_v1}
