"""Fields traced from plain-torch networks against published figures.

Reference: the table of the library that accompanies Araujo, Norris & Sim, "Computing Receptive
Fields of Convolutional Neural Networks", Distill 2019 (google-research/receptive_field,
README and RECEPTIVE_FIELD_TABLE.md, computed on the TF-Slim models). Columns: RF, effective
stride (our jump) and effective padding P (our (r-1)/2 - start). TF-Slim's "SAME" padding puts
the odd pixel at the end for even inputs, so its P at 224 differs for stride-2 layers; at 321
(odd sizes all the way) it is symmetric like torch's, and that is the column we compare P to.

Models are built on the meta device: tracing needs shapes only.
"""
import pytest
import torch

from groundup.vision import receptive_field, zoo


def build(factory, **kw):
    with torch.device("meta"):
        return factory(**kw)


def padding_of(row):
    return tuple((r - 1) / 2 - s for r, s in zip(row.size, row.start))


@pytest.fixture(scope="module")
def traced():
    cache = {}

    def get(name, size=224, method="fx"):
        key = (name, size, method)
        if key not in cache:
            cache[key] = receptive_field(build(zoo.FACTORIES[name]), (size, size), method=method)
        return cache[key]
    return get


def test_alexnet(traced):
    # alexnet_v2 (Slim): conv1 11/4 VALID ... pool5: RF 195, stride 32, P 64 (224 and 321)
    rf = traced("alexnet", 227)
    published = {"features.0": (11, 4, 0), "features.3": (19, 8, 0), "features.4": (51, 8, 16),
                 "features.8": (99, 16, 32), "features.10": (131, 16, 48),
                 "features.12": (163, 16, 64), "features.14": (195, 32, 64)}
    for name, (r, j, p) in published.items():
        row = rf.row(name)
        assert row.size == (r, r) and row.jump == (j, j) and padding_of(row) == (p, p), name


def test_vgg16(traced):
    rf = traced("vgg16")
    # vgg_16 end-points conv1_1, pool1, conv2_1, pool2, conv3_1, conv3_2, pool3, conv4_1,
    # conv4_2, pool4, conv5_1, conv5_2, pool5 (torch indices of our features Sequential)
    published = {0: (3, 1, 1), 4: (6, 2, 2), 5: (10, 2, 4), 9: (16, 4, 6), 10: (24, 4, 10),
                 12: (32, 4, 14), 16: (44, 8, 18), 17: (60, 8, 26), 19: (76, 8, 34),
                 23: (100, 16, 42), 24: (132, 16, 58), 26: (164, 16, 74), 30: (212, 32, 90)}
    for i, (r, j, p) in published.items():
        row = rf.row(f"features.{i}")
        assert row.size == (r, r) and row.jump == (j, j) and padding_of(row) == (p, p), i


def test_resnet50_paper_placement(traced):
    # resnet_v1_50 blocks 1-4: RF 35, 99, 291, 483; P at 321: 17, 49, 145, 241. Slim puts
    # each block's stride on its LAST unit, the paper on the next stage's first 1x1: same RF and
    # P at the end of every stage, jump one stage earlier (Slim block1 stride 8 = our layer2 input).
    rf = traced("resnet50")
    ends = {"layer1": ("add_2", 35, 17), "layer2": ("add_6", 99, 49),
            "layer3": ("add_12", 291, 145), "layer4": ("add_15", 483, 241)}
    jumps = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}
    for stage, (node, r, p) in ends.items():
        row = rf.row(node)
        assert row.size == (r, r) and padding_of(row) == (p, p) and row.jump == (jumps[stage],) * 2, stage
    assert rf.aligned


def test_resnet50_torchvision_placement_differs(traced):
    # stride on the 3x3 (torchvision, "v1.5"): the strided 3x3 sits at the finer jump, so
    # layer4 ends at 427 = 483 - (16 + 8 + 4) * 2: hand calculation in docs/receptive_field.md
    assert traced("resnet50_torchvision").row("add_15").size == (427, 427)


def test_resnet18(traced):
    # 7/2 -> 7; pool -> 11 (j 4); layer1 +4*8 -> 43; layer2 +8 +3*16 -> 99; layer3 +16 +3*32
    # -> 211; layer4 +32 +3*64 -> 435 (jump 32)
    row = traced("resnet18").row("add_7")
    assert row.size == (435, 435) and row.jump == (32, 32)


def test_mobilenet_v1(traced):
    # mobilenet_v1 Conv2d_13_pointwise: RF 315, stride 32, P 157 at 321 (126 at 224, TF SAME)
    rf = traced("mobilenet_v1")
    row = rf.row("features.78")
    assert row.size == (315, 315) and row.jump == (32, 32) and padding_of(row) == (157, 157)
    assert rf.row("features.0").size == (3, 3)  # Conv2d_0
    assert rf.row("features.6").size == (7, 7)  # Conv2d_1_pointwise (after the first depthwise)


def test_googlenet(traced):
    # The stem and first two Inception modules match Slim's inception_v2 (MaxPool_3a 27/8,
    # Mixed_3b 59, Mixed_3c 91: a 5x5 branch and a double 3x3 branch grow the field alike).
    # Beyond that inception_v2 differs (stride-2 Inception modules); GoogLeNet's own values are
    # the hand calculation 107, 427, 459, 715.
    rf = traced("googlenet")
    assert rf.row("stem.9").size == (27, 27) and rf.row("stem.9").jump == (8, 8)
    assert rf.row("cat").size == (59, 59) and rf.row("cat_1").size == (91, 91)
    assert rf.row("maxpool3").size == (107, 107)
    assert rf.row("cat_6").size == (427, 427)
    assert rf.row("maxpool4").size == (459, 459)
    assert rf.row("cat_8").size == (715, 715) and rf.row("cat_8").jump == (32, 32)
    assert rf.aligned


@pytest.mark.parametrize("name", ["vgg16", "resnet50", "googlenet"])
def test_fx_and_run_tracers_agree(traced, name):
    a, b = traced(name, 224, "fx"), traced(name, 224, "run")
    assert (a.size, a.jump, a.start) == (b.size, b.jump, b.start)
    assert [(r.kind, r.size, r.jump, r.start) for r in a.layers] == \
           [(r.kind, r.size, r.jump, r.start) for r in b.layers]


def test_whole_model_with_classifier_covers_the_image(traced):
    # after global pooling the single output unit sees the whole map: r = r_in + (n - 1) j_in
    rf = traced("resnet50")
    assert rf.size == (483 + 6 * 32,) * 2
    (lo, hi), _ = rf.region(0)
    assert lo <= 0 and hi >= 223
