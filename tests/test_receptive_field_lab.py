"""The lab experiment's cheap pieces (the whole quick run takes ~20 s of CPU; see docs)."""
from groundup.lab import receptive_field as lab
from groundup.lab import registry
from groundup.lab.base import Result


def test_registered_with_claim():
    assert registry.load("receptive-field") is lab
    assert lab.NAME == "receptive-field" and "RF_(n-1)" in lab.CLAIM


def test_published_table_matches(tmp_path):
    res = Result(name=lab.NAME, title=lab.TITLE)
    ok, growth = lab._published(res)
    assert ok and all(row[-1] == "yes" for row in res.tables[0].rows)
    assert growth["vgg16"][-1] == 212 and growth["resnet50"][-1] == 483


def test_image_is_the_bundled_photo_or_synthetic():
    img, source = lab._image()
    assert tuple(img.shape) == (3, 224, 224) and 0 <= float(img.min()) and float(img.max()) <= 1
    assert source in ("chelsea.png (CC0)", "synthetic pattern")
