"""save / load in PyTorch's file format: files real torch wrote (committed fixtures, so this runs
without torch), round trips both ways against torch where it is installed, refused pickles,
damaged files, map_location, paths and file objects."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_cnn.nn import Parameter
from tinygrad_cnn.serialization import load, save
from tinygrad_cnn.tensor import Tensor

FIXTURES = Path(__file__).parent / "fixtures" / "torch_files"
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_, np.uint16]


def tensors(obj: Any, path: str) -> dict[str, Tensor]:
    """Every tensor in ``obj`` by its path, as tests/fixtures/make_torch_files.py names them."""
    if isinstance(obj, Tensor):
        return {path: obj}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    return {k: v for key, value in items for k, v in tensors(value, f"{path}/{key}").items()}


def records(blob: bytes) -> list[str]:
    """The record names of a zip archive, without the archive's folder."""
    return [name.split("/", 1)[1] for name in zipfile.ZipFile(io.BytesIO(blob)).namelist()]


def rezip(blob: bytes, **replace: bytes) -> bytes:
    """The archive ``blob`` with the records named in ``replace`` ('data.pkl' as data_pkl) swapped."""
    source, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            key = name.split("/", 1)[1].replace(".", "_").replace("/", "_")
            target.writestr(name, replace.get(key, source.read(name)))
    return out.getvalue()


def saved(obj: Any) -> bytes:
    buffer = io.BytesIO()
    save(obj, buffer)
    return buffer.getvalue()


arrays = st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(
    dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False)))


def views(array: np.ndarray, how: int) -> np.ndarray:
    """The array itself, transposed, or every other element of its first axis: a non-contiguous view."""
    if how == 1:
        return array.T
    return array[::2] if how == 2 and array.ndim else array


# ----------------------------------------------------------------------- files real torch wrote
def test_every_fixture_loads_with_torchs_values_dtypes_and_shapes():
    expected = np.load(FIXTURES / "expected.npz")
    loaded = {}
    for path in sorted(FIXTURES.glob("*.pt")):
        loaded.update(tensors(load(path), path.name))
    assert sorted(loaded) == sorted(expected.files)
    for key, tensor in loaded.items():
        want = expected[key]
        assert isinstance(tensor, Tensor) and tensor.numpy().dtype == want.dtype and tensor.shape == want.shape, key
        np.testing.assert_array_equal(tensor.numpy(), want, err_msg=key)


def test_fixture_containers_come_back_as_torch_wrote_them():
    state = load(FIXTURES / "state_dict.pt")
    assert type(state) is OrderedDict and list(state)[:2] == ["0.weight", "0.bias"]
    assert state._metadata["1"] == {"version": 2}
    assert state["1.num_batches_tracked"].numpy().dtype == np.int64 and state["1.num_batches_tracked"].shape == ()
    optim = load(FIXTURES / "optimizer.pt")
    group = optim["adam"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and group["params"] == [0, 1, 2, 3, 4, 5] and group["foreach"] is None
    assert sorted(optim["adam"]["state"]) == [0, 1, 2, 3, 4, 5] and optim["epoch"] == 3
    nested = load(FIXTURES / "nested.pt")
    assert (nested["name"], nested["ok"], nested["missing"], nested["ratio"], nested["count"]) == \
        ("model", True, None, 0.25, -7)
    assert nested["big"] == 2 ** 70 and nested["sizes"] == (1, 2, [3, 4.5])
    assert nested["raw"] == b"\x00\xff" and nested["tags"] == {"a", "b"}
    assert nested["shape"] == (2, 3) and nested["dtype"] == np.float64
    assert isinstance(nested["weight"], Parameter) and nested["weight"].requires_grad
    assert isinstance(nested["frozen"], Parameter) and not nested["frozen"].requires_grad
    assert not isinstance(nested["leaf"], Parameter) and nested["leaf"].requires_grad


def test_views_of_one_torch_storage_still_share_memory():
    base, corner, transposed, strided, row, expanded = load(FIXTURES / "views.pt")
    base.numpy()[2, 3] = 100.0
    assert corner.numpy()[1, 1] == transposed.numpy()[3, 2] == row.numpy()[3] == 100.0
    base.numpy()[0, 0] = -9.0
    assert strided.numpy()[0, 0] == -9.0 and (expanded.numpy() == -9.0).all()


def test_fixtures_load_where_torch_cannot_be_imported():
    script = ("import sys; sys.modules['torch'] = None\n"
              "from pathlib import Path\nfrom tinygrad_cnn.serialization import load\n"
              f"for path in sorted(Path({str(FIXTURES)!r}).glob('*.pt')): load(path)\n"
              "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['torch']"  # only the blocking entry: nothing of torch was imported


def test_a_big_endian_file_is_read_in_its_byte_order():
    values = np.arange(4.0) - 1.5
    blob = rezip(saved(Tensor(values)), byteorder=b"big", data_0=values.astype(">f8").tobytes())
    loaded = load(io.BytesIO(blob)).numpy()
    assert loaded.dtype == np.float64 and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


def test_what_we_write_has_torchs_records_layout_and_pickle():
    blob = saved(Tensor(np.arange(24, dtype=np.float32).reshape(4, 6) / 4 - 2))
    assert records(blob) == records((FIXTURES / "tensor.pt").read_bytes())
    archive = zipfile.ZipFile(io.BytesIO(blob))
    assert [archive.read(f"archive/{r}") for r in ("byteorder", "version", ".format_version")] == \
        [b"little", b"3\n", b"1"]
    for info in archive.infolist():  # every record's data starts on a 64-byte boundary, as torch's do
        name_len, extra_len = np.frombuffer(blob[info.header_offset + 26:info.header_offset + 30], np.uint16)
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename
    pkl = archive.read("archive/data.pkl")
    assert pkl.startswith(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n") and b"ctorch\nFloatStorage\n" in pkl


def test_the_archive_folder_is_named_after_the_file(tmp_path):
    save({"a": 1}, tmp_path / "my.model.pt")
    assert zipfile.ZipFile(tmp_path / "my.model.pt").namelist()[0] == "my.model/data.pkl"


# ----------------------------------------------------------------------- round trips here
@given(arrays, st.integers(0, 2), st.booleans())
def test_round_trip_keeps_values_dtype_shape_and_requires_grad(array, how, grad):
    view = views(array, how)
    grad = grad and np.issubdtype(view.dtype, np.floating)
    back = load(io.BytesIO(saved({"t": Tensor(view, requires_grad=grad), "a": view})))
    for value in back.values():
        assert value.numpy().dtype == view.dtype and value.shape == view.shape
        np.testing.assert_array_equal(value.numpy(), view)
    assert back["t"].requires_grad == grad and not back["a"].requires_grad


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_round_trip_of_parameters_numbers_and_containers(protocol):
    weight = Parameter(np.ones((2, 2), np.float32))
    obj = OrderedDict(w=weight, again=weight, step=np.int64(3), lr=np.float32(0.5), dims=(1, [2, None]),
                      flags={"on": True}, text="x", raw=b"\x01", dtype=np.dtype(np.float64))
    buffer = io.BytesIO()
    save(obj, buffer, pickle_protocol=protocol)
    back = load(io.BytesIO(buffer.getvalue()))
    assert isinstance(back["w"], Parameter) and back["w"].requires_grad and back["again"] is back["w"]
    assert (back["step"], back["lr"], back["dims"], back["flags"], back["text"], back["raw"]) == \
        (3, 0.5, (1, [2, None]), {"on": True}, "x", b"\x01")
    assert type(back["step"]) is int and back["dtype"] == np.float64


def test_our_size_is_saved_as_torch_size_and_comes_back():
    method = Tensor(np.ones((2, 3))).size
    size = method() if callable(method) else None
    if not isinstance(size, tuple) or type(size) is tuple:
        pytest.skip("Tensor.size() returns no Size (tuple subclass) yet")
    blob = saved({"shape": size})
    assert b"ctorch\nSize\n" in zipfile.ZipFile(io.BytesIO(blob)).read("archive/data.pkl")
    back = load(io.BytesIO(blob))["shape"]
    assert type(back) is type(size) and back == (2, 3)


def test_saving_the_same_object_twice_gives_the_same_bytes():
    obj = {"w": Tensor(np.arange(5.0)), "n": 1}
    assert saved(obj) == saved(obj)


def test_tensors_holding_one_array_are_saved_as_one_storage():
    array = np.arange(6.0)
    blob = saved([Tensor(array), Tensor(array), Tensor(array.copy())])
    assert [r for r in records(blob) if r.startswith("data/")] == ["data/0", "data/1"]
    first, second, _ = load(io.BytesIO(blob))
    first.numpy()[0] = 7.0
    assert second.numpy()[0] == 7.0


def test_paths_files_and_atomic_writes(tmp_path):
    target = tmp_path / "m.pt"
    save({"w": Tensor(np.ones(3))}, str(target))
    np.testing.assert_array_equal(load(target)["w"].numpy(), np.ones(3))
    with open(target, "rb") as handle:
        assert load(handle)["w"].shape == (3,)
    np.testing.assert_array_equal(load(target, mmap=True)["w"].numpy(), np.ones(3))
    with pytest.raises(TypeError, match="no dtype for NumPy's object"):
        save({"bad": np.array([None])}, target)
    assert load(target)["w"].shape == (3,) and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_bad_arguments_raise_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="pickle_protocol"):
        save(1, tmp_path / "a.pt", pickle_protocol=1)
    with pytest.raises(AttributeError, match="write"):
        save(1, 42)
    with pytest.raises(ValueError, match="file path.*mmap"):
        load(io.BytesIO(saved(1)), mmap=True)
    with pytest.raises(RuntimeError, match="pickle_module"):
        load(io.BytesIO(saved(1)), pickle_module=pickle)

    class Stream(io.RawIOBase):
        def seek(self, *args: Any) -> int:
            raise io.UnsupportedOperation("seek")

    with pytest.raises(io.UnsupportedOperation, match="<Stream>: seek. You can only torch.load from a file that"):
        load(Stream())
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------- map_location
def test_map_location_cpu_forms_load_and_gpus_raise():
    blob = saved({"w": Tensor(np.ones(2))})
    for where in (None, "cpu", "cpu:0", {"cpu": "cpu"}, lambda storage, location: storage):
        assert load(io.BytesIO(blob), map_location=where)["w"].shape == (2,)
    with pytest.raises(RuntimeError, match="CPU only"):
        load(io.BytesIO(blob), map_location="cuda:0")
    cuda = rezip(blob, data_pkl=zipfile.ZipFile(io.BytesIO(blob)).read("archive/data.pkl").replace(
        b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"))
    with pytest.raises(RuntimeError, match="saved on 'cuda:0'.*map_location='cpu'"):
        load(io.BytesIO(cuda))
    for where in ("cpu", {"cuda:0": "cpu"}):
        np.testing.assert_array_equal(load(io.BytesIO(cuda), map_location=where)["w"].numpy(), np.ones(2))


# ----------------------------------------------------------------------- refused and damaged files
class _Evil:
    def __init__(self, func: Any, arg: str) -> None:
        self.func, self.arg = func, arg

    def __reduce__(self) -> tuple:
        return self.func, (self.arg,)


@pytest.mark.parametrize("protocol", [0, 2, 4])
@pytest.mark.parametrize("func,name", [(os.system, "posix.system"), (eval, "builtins.eval"),
                                       (getattr, "builtins.getattr")])
def test_a_pickle_calling_other_globals_is_refused_and_never_runs(tmp_path, protocol, func, name):
    marker = tmp_path / "ran"
    payload = pickle.dumps({"w": _Evil(func, f"open({str(marker)!r}, 'w')" if func is eval else f"touch {marker}")},
                           protocol=protocol)
    blob = rezip(saved({"w": 1}), data_pkl=payload)
    refused = "refused pickle opcode" if protocol == 0 else f"GLOBAL {name} was not an allowed global"
    with pytest.raises(pickle.UnpicklingError, match=f"<BytesIO>: Weights only load failed. .*{refused}"):
        load(io.BytesIO(blob))
    assert not marker.exists()


def test_weights_only_false_trusts_the_file_and_true_names_what_it_refuses():
    from fractions import Fraction

    blob = saved({"w": Tensor(np.ones(2)), "f": Fraction(1, 3)})
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL fractions.Fraction was not an allowed global"):
        load(io.BytesIO(blob))
    back = load(io.BytesIO(blob), weights_only=False)
    assert back["f"] == Fraction(1, 3) and back["w"].shape == (2,)


def test_a_dtype_numpy_lacks_is_refused_by_name():
    blob = saved(Tensor(np.ones(2, np.float32)))
    pkl = zipfile.ZipFile(io.BytesIO(blob)).read("archive/data.pkl")
    bf16 = rezip(blob, data_pkl=pkl.replace(b"ctorch\nFloatStorage\n", b"ctorch\nBFloat16Storage\n"))
    with pytest.raises(RuntimeError, match="torch.BFloat16Storage, a dtype NumPy does not have"):
        load(io.BytesIO(bf16))


def test_damaged_files_raise_naming_the_file(tmp_path):
    blob, ints = saved(Tensor(np.arange(4.0))), saved(Tensor(np.arange(4)))
    pkl, int_pkl = (zipfile.ZipFile(io.BytesIO(b)).read("archive/data.pkl") for b in (blob, ints))
    cases = {
        "truncated.pt": (blob[: len(blob) // 2], RuntimeError, "damaged PyTorch file, the zip archive"),
        "garbage.pt": (rezip(blob, data_pkl=b"\x80\x02}q\x00(X\x01"), pickle.UnpicklingError, "truncated"),
        "nostorage.pt": (blob.replace(b"archive/data/0", b"archive/data/9"), RuntimeError,
                         "it has no record 'archive/data/0'"),
        "short.pt": (rezip(blob, data_0=b"\x00" * 8), RuntimeError, "holds 8 bytes, its tensor needs 32"),
        "text.pt": (b"hello world", pickle.UnpicklingError, "not a PyTorch file"),
        "pastend.pt": (rezip(blob, data_pkl=pkl.replace(b"K\x00K\x04\x85", b"K\x00K\x09\x85")), RuntimeError,
                       r"size \(9,\), stride \(1,\) and offset 0 reaches past the end of storage 0"),
        "intgrad.pt": (rezip(ints, data_pkl=int_pkl.replace(b"\x89", b"\x88")), RuntimeError, "grad"),
        "legacy.pt": (b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little"), RuntimeError, "legacy"),
    }
    for file, (data, error, message) in cases.items():
        (tmp_path / file).write_bytes(data)
        with pytest.raises(error, match=message) as raised:
            load(tmp_path / file)
        assert file in str(raised.value)


_SAMPLE = saved({"w": Tensor(np.arange(6.0).reshape(2, 3)), "o": OrderedDict(a=[1, 2.5, (None, True)]), "b": b"xy"})


@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1, max_size=4))
def test_a_mutated_pickle_loads_or_raises_a_clear_error(edits):
    pkl = bytearray(zipfile.ZipFile(io.BytesIO(_SAMPLE)).read("archive/data.pkl"))
    for kind, where, byte in edits:
        where %= len(pkl)
        if kind < 0.5:
            pkl[where] = byte
        elif kind < 0.75:
            del pkl[where]
        else:
            pkl.insert(where, byte)
    try:
        load(io.BytesIO(rezip(_SAMPLE, data_pkl=bytes(pkl))))
    except (pickle.UnpicklingError, RuntimeError) as error:
        assert str(error).startswith("<BytesIO>: ")


# ----------------------------------------------------------------------- against real torch
@given(arrays, st.integers(0, 2), st.booleans())
def test_torch_loads_what_we_save(array, how, grad):
    torch = pytest.importorskip("torch", reason="compares with PyTorch")
    view = views(array, how)
    grad = grad and np.issubdtype(view.dtype, np.floating)
    theirs = torch.load(io.BytesIO(saved({"t": Tensor(view, requires_grad=grad)})), weights_only=True)["t"]
    assert str(theirs.dtype) == f"torch.{'bool' if view.dtype == np.bool_ else view.dtype.name}"
    assert tuple(theirs.shape) == view.shape and theirs.requires_grad == grad
    np.testing.assert_array_equal(theirs.detach().numpy(), view)


@given(arrays, st.integers(0, 2))
def test_we_load_what_torch_saves(array, how):
    torch = pytest.importorskip("torch", reason="compares with PyTorch")
    base = torch.from_numpy(array.copy())
    protocol = 2 + how  # torch.save's pickle_protocol 2, 3 and 4 all load here
    view = base.permute(tuple(reversed(range(base.ndim)))) if how == 1 else base[1:] if how == 2 and base.ndim else base
    buffer = io.BytesIO()
    torch.save({"base": base, "view": view, "p": torch.nn.Parameter(torch.ones(2))}, buffer, pickle_protocol=protocol)
    ours = load(io.BytesIO(buffer.getvalue()))
    for key in ("base", "view"):
        assert ours[key].shape == tuple(view.shape if key == "view" else base.shape)
        np.testing.assert_array_equal(ours[key].numpy(), (view if key == "view" else base).numpy())
    assert isinstance(ours["p"], Parameter) and ours["p"].requires_grad


def test_torch_reads_our_parameters_and_state_dicts():
    torch = pytest.importorskip("torch", reason="compares with PyTorch")
    state = OrderedDict(weight=Parameter(np.full((2, 3), 0.5, np.float32)), steps=np.int64(4))
    theirs = torch.load(io.BytesIO(saved(state)), weights_only=True)
    assert isinstance(theirs["weight"], torch.nn.Parameter) and theirs["weight"].requires_grad
    assert theirs["steps"] == 4, theirs
    assert np.array_equal(theirs["weight"].detach().numpy(), np.full((2, 3), 0.5, np.float32)), theirs
