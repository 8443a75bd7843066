"""CNNClassifier: a scikit-learn classifier that trains a tinygrad_cnn network.

```python
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from tinygrad_cnn.estimator import CNNClassifier

X, y = load_digits(return_X_y=True)              # (1797, 64): 8x8 images, one per row
clf = CNNClassifier(epochs=10, random_state=0)   # "auto" picks a small CNN for 8x8 inputs
print(cross_val_score(clf, X / 16, y, cv=3))
```

Everything scikit-learn offers around a classifier works with it: Pipeline,
cross_val_score, GridSearchCV, clone, pickle. Training is ``tinygrad_cnn.train.fit``;
this module adds input checking, label encoding and the scikit-learn protocol. It imports
scikit-learn when it is imported, so the rest of the package does not import it (only
``data.load_digits`` and ``MNISTDataLoader.load_data`` do, inside those functions).

The package: ``classifier`` (the estimator), ``networks`` (``small_cnn`` and the check that
a network maps a sample to one score per class), ``validation`` (numbers, label encoding,
sample shapes).
"""

from tinygrad_cnn.extras import install_command

try:
    import sklearn  # noqa: F401
except ImportError as exc:
    raise ImportError(f"tinygrad_cnn.estimator needs scikit-learn, which is not installed; install the extra: "
                      f"{install_command('sklearn')}") from exc

from tinygrad_cnn.estimator.classifier import CNNClassifier  # noqa: E402
from tinygrad_cnn.estimator.networks import small_cnn  # noqa: E402

__all__ = ["CNNClassifier", "small_cnn"]
