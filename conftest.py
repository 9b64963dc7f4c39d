"""Names the docstring examples may use without importing them (pytest --doctest-modules)."""

import os
import pathlib
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace, tmp_path, monkeypatch, request):
    if not isinstance(request.node, pytest.DoctestItem):
        return
    import keras_tuner

    from seqmnist_zoo import get_model_spec
    from seqmnist_zoo.studies.record import example_record

    doctest_namespace.update(np=np, tempfile=tempfile, pathlib=pathlib, kt=keras_tuner,
                             get_model_spec=get_model_spec, example_record=example_record)
