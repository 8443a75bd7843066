"""model.summary(): a str whose repr is the table and which Jupyter shows as an HTML table."""

import re

from tinygrad_cnn.models import LeNet
from tinygrad_cnn.nn.summary_table import Summary


def test_summary_is_the_table_for_print_repr_and_jupyter():
    summary = LeNet().summary(batch_size=2)
    assert isinstance(summary, Summary) and repr(summary) == str(summary)
    lines = str(summary).splitlines()
    assert lines[0] == "LeNet summary, input shape (2, 1, 28, 28)"
    assert lines[2].split() == ["Layer", "Type", "Kernel", "Output", "Shape", "Param", "#"]
    assert lines[4].split()[:3] == ["conv1", "Conv2d", "5x5"] and lines[4].endswith(" 156")
    assert "Total params: 44,426" in summary
    # activations: every layer's output, float32, batch 2
    outputs = [6 * 24 * 24] * 2 + [6 * 12 * 12, 16 * 8 * 8, 16 * 8 * 8, 16 * 4 * 4, 256, 120, 120, 84, 84, 10]
    assert summary.activation_bytes == 2 * 4 * sum(outputs) and summary.param_bytes == 4 * 44426
    page = summary._repr_html_()
    assert page.count("<tr>") == 1 + 12 and "<td>5x5</td>" in page and "Total params: 44,426" in page
    assert not re.search(r"<(script|style)", page)
