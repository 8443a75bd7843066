"""Install hints name the command for where the package runs from; the estimator names its extra."""

import subprocess
import sys

from tinygrad_cnn import extras


def test_install_command_in_a_checkout_and_outside_one(monkeypatch, tmp_path):
    assert extras.install_command("train") == 'pip install -e ".[train]"'  # this is a source checkout
    monkeypatch.setattr(extras, "_CHECKOUT", tmp_path / "pyproject.toml")
    assert extras.install_command("train") == 'pip install "tinygrad_cnn[train]"'


def test_importing_the_estimator_without_scikit_learn_names_the_extra():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import tinygrad_cnn.estimator\nexcept ImportError as exc:\n    print(exc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ('tinygrad_cnn.estimator needs scikit-learn, which is not installed; install the extra: '
                           'pip install -e ".[sklearn]"')
