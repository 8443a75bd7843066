"""The old ``models`` import path of a source checkout is the package's own tinygrad_cnn.models."""

import models
import models.lenet
import tinygrad_cnn.models


def test_the_repository_models_folder_is_a_shim_for_tinygrad_cnn_models():
    assert models is tinygrad_cnn.models and models.lenet is tinygrad_cnn.models.lenet
    assert models.get_model("lenet").get_params_count() == 44_426
