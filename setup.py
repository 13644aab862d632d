"""The one compiled extension: the n-gram scoring pass in C (src/groundup/text/ngram/_scorer.c).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the
install still succeeds and groundup scores with the numba kernels it is checked against
(groundup.text.ngram.native says which one runs).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("groundup.text.ngram._scorer", ["src/groundup/text/ngram/_scorer.c"],
                             optional=True)])
