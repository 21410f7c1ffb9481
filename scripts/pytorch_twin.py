#!/usr/bin/python3
"""The article's network in PyTorch: stepgrad's twin, checked equal to it.

The network 784-128-64-10 without biases, sigmoid hidden layers, softmax output, in float64, as a
torch.nn.Module whose parameters carry stepgrad's names and shapes: W0 (128, 784), W1 (64, 128),
W2 (10, 64), each out x in, and column vectors, Z1 = W0 @ O0 (docs/next_pytorch.md).

Usage:
  pytorch_twin.py evaluate [--model out/model.npz] [--data DIR] [--compare CSV] [--write CSV]
      Loads a model written by 10_train into the Module (its state_dict), evaluates the test set
      of the model's own split and prints the cost and accuracy. --compare CSV (from
      11_evaluate --predictions CSV) checks that every prediction is 11_evaluate's.
  pytorch_twin.py gradcheck DUMP.npz
      From a 09_gradcheck --dump file: autograd's gradients of C = -Y . log softmax(Z3) must equal
      the dump's (stepgrad's tape) to 1e-10 relative; torch.autograd.gradcheck checks autograd
      by finite differences; the article's recipe (erratum E1) is rebuilt as a
      torch.autograd.Function and measured against the true gradient.
  pytorch_twin.py train [--nproc N] [--limit 49000] [--batch 32] [--epochs 1] [--steps K]
                        [--lr 0.001] [--seed 42] [--data DIR] [--save OUT.npz] [--timeout 120]
      Minibatch SGD on the article split's first LIMIT training images, in their order, with
      DistributedDataParallel on the gloo backend (CPU): N processes on this machine
      (torch.multiprocessing), or as many as torchrun starts. --batch is the global minibatch
      (10_train's --batch); each process takes BATCH / N of it. --save writes a model file that
      11_evaluate (and `evaluate` here) reads. A process whose peers send nothing for --timeout
      seconds (one stopped or hung) fails with one line, and the others are killed; workers die
      with the process that started them, and a killed run's rendezvous folder goes at the next.
  pytorch_twin.py compare A.npz B.npz [C.npz ...] [--rtol 1e-10]
      The largest difference between A's W0, W1, W2 and each other file's, against the weights
      and against what training changed; fails above RTOL of the change.

Exits 0 on success, 1 on a failed check or an error (one line on stderr), 2 on bad usage.
Inputs are read as strictly as stepgrad reads them (io/npz.cpp, io/idx.cpp): a FIFO, a folder or a
device is refused at once, sizes are checked before anything of that size is read or allocated,
and an .npz file must hold the arrays expected, each once, in C order, with nothing after them.
"""
import argparse
import ast
import ctypes
import datetime
import fcntl
import hashlib
import io
import math
import os
import shutil
import signal
import stat
import struct
import sys
import tempfile
import time
import zipfile
import zlib

PROG = "pytorch_twin"
SIZES = [784, 128, 64, 10]  # the article's layers
SHAPES = {"W0": (128, 784), "W1": (64, 128), "W2": (10, 64)}  # out x in
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
RTOL_GRAD = 1e-10  # autograd vs stepgrad's tape: max |a - b| / max |b|, per matrix


class TwinError(Exception):
    """A problem of the user's input: one line on stderr, exit 1."""


try:
    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import torch.nn.functional as F
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
except ImportError as _e:
    print(f"{PROG}: error: {_e}; the twin needs Debian's python3-torch, run by /usr/bin/python3",
          file=sys.stderr)
    sys.exit(1)

torch.set_default_dtype(torch.float64)


# ---- the network ------------------------------------------------------------------------------

class ArticleNetwork(nn.Module):
    """784-128-64-10, no biases, sigmoid, sigmoid, softmax: eqs. (1)-(4) on column vectors.

    The parameters are named as in the article and in stepgrad's model files, so the state_dict
    of this Module and the arrays of a model.npz have the same keys: W0, W1, W2.
    """

    def __init__(self, seed=42):
        super().__init__()
        # stepgrad's initialisation (nn/network.hpp, R18): np.random.seed(seed), then
        # randn(out, in) * sqrt(1 / out) for W0, W1, W2 in that order (erratum E4: fan-out).
        rng = np.random.RandomState(seed)
        for l in range(3):
            w = rng.randn(SIZES[l + 1], SIZES[l]) * np.sqrt(1.0 / SIZES[l + 1])
            self.register_parameter(f"W{l}", nn.Parameter(torch.from_numpy(w)))

    def forward(self, O0, sigmoid2=torch.sigmoid):
        """O0: (784, n), one image per column. Returns Z3 (10, n); O3 = softmax(Z3, dim=0)."""
        Z1 = self.W0 @ O0  # eq. (2)
        O1 = torch.sigmoid(Z1)
        Z2 = self.W1 @ O1  # eq. (3)
        O2 = sigmoid2(Z2)
        return self.W2 @ O2  # eq. (4): Z3


def cross_entropy(Z3, labels):
    """C = -Y . log softmax(Z3), the mean over the columns: what stepgrad trains on."""
    return F.cross_entropy(Z3.T, labels)  # F.cross_entropy wants one row per sample


class ArticleSigmoidE1(torch.autograd.Function):
    """Layer 2's sigmoid with the article's backward rule: erratum E1.

    Forward is sigmoid(Z2). Backward multiplies by s (1 - s) with s = softmax(Z2), the diagonal
    of softmax's Jacobian, where sigmoid'(Z2) belongs (eq. 9 as the article's code has it). No loss
    has this gradient, so autograd reproduces the article's recipe only with its rule written in.
    """

    @staticmethod
    def forward(ctx, Z2):
        ctx.save_for_backward(Z2)
        return torch.sigmoid(Z2)

    @staticmethod
    def backward(ctx, grad_O2):
        (Z2,) = ctx.saved_tensors
        s = torch.softmax(Z2, dim=0)
        return grad_O2 * s * (1 - s)  # d = g * s (1 - s): the article's, not sigmoid's


# ---- files ------------------------------------------------------------------------------------

# The caps of stepgrad's readers (io/npz.hpp's NpzLimits, io/idx.cpp): checked before reading.
NPZ_MAX_ENTRIES = 64
NPZ_MAX_BYTES = 64 << 20  # one .npy and all of them together, uncompressed
NPZ_MAX_HEADER = 4096
NPZ_FILE_CAP = NPZ_MAX_BYTES + NPZ_MAX_BYTES // 8 + (NPZ_MAX_ENTRIES + 1) * (256 << 10)
IDX_MAX_BYTES = 64 << 20  # MNIST's largest file is 47,040,016 bytes
# What a model file may hold (nn/model.cpp): the biases are read, then refused by options_of.
MODEL_ARRAYS = ["W0", "W1", "W2", "b0", "b1", "b2", "options"]


def kind_of(mode):
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def open_input(path):
    """(file, size): `path` opened for reading without ever blocking (a FIFO with no writer would
    wait forever), and refused at once unless it is a regular file, as io/files.hpp's open_input."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except IsADirectoryError:
        raise TwinError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise TwinError(f"{path}: cannot open it: {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise TwinError(f"{path}: is {kind_of(st.st_mode)}, not a file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), st.st_size


def read_file(path, cap):
    """The whole file, when it holds at most `cap` bytes: the size is checked before reading."""
    f, size = open_input(path)
    with f:
        if size > cap:
            raise TwinError(f"{path}: {size} bytes, more than the {cap} bytes such a file can hold")
        try:
            data = f.read(cap + 1)
        except OSError as e:
            raise TwinError(f"{path}: cannot read it: {e.strerror}") from None
    if len(data) > cap:
        raise TwinError(f"{path}: grew past {cap} bytes while being read")
    return data


def inflate_bounded(path, f, cap):
    """A gzip stream's content, at most `cap` bytes: inflated as it is read, never past the cap."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        while not d.eof:
            chunk = d.unconsumed_tail or f.read(1 << 16)
            if not chunk:
                raise TwinError(f"{path}: the gzip stream ends early (cut short?)")
            out += d.decompress(chunk, cap + 1 - len(out))
            if len(out) > cap:
                raise TwinError(f"{path}: inflates to more than the {cap} bytes an IDX file of "
                                "MNIST can hold")
    except zlib.error as e:
        raise TwinError(f"{path}: corrupt gzip data: {e}") from None
    if d.unused_data or f.read(1):
        raise TwinError(f"{path}: bytes after the gzip stream")
    return bytes(out)


def read_idx(path, ndim):
    """An IDX file of unsigned bytes (raw or gzip) with `ndim` dimensions, as a numpy array; its
    size is checked before it is read, and a gzip file is inflated only up to the cap."""
    f, size = open_input(path)
    with f:
        try:
            if f.read(2) == b"\x1f\x8b":
                f.seek(0)
                raw = inflate_bounded(path, f, IDX_MAX_BYTES)
            else:
                if size > IDX_MAX_BYTES:
                    raise TwinError(f"{path}: {size} bytes, more than the {IDX_MAX_BYTES} bytes an "
                                    "IDX file of MNIST can hold")
                f.seek(0)
                raw = f.read(IDX_MAX_BYTES + 1)
        except OSError as e:
            raise TwinError(f"{path}: cannot read it: {e.strerror}") from None
    if len(raw) < 4 + 4 * ndim:
        raise TwinError(f"{path}: header: expected {4 + 4 * ndim} bytes, found {len(raw)}")
    zero, type_code, dims_found = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code != 0x08 or dims_found != ndim:
        raise TwinError(f"{path}: header: expected an IDX file of unsigned bytes with {ndim} "
                        f"dimensions, found magic {raw[:4].hex()}")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        raise TwinError(f"{path}: payload: expected {math.prod(dims)} bytes for {dims}, "
                        f"found {data.size}")
    return data.reshape(dims)


def find_file(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.lexists(path):  # whatever it is: open_input names a FIFO or a folder
            return path
    raise TwinError(f"{folder}: no {name} (raw or .gz); scripts/fetch-mnist fetches MNIST")


def load_pair(folder, images_name, labels_name):
    images = read_idx(find_file(folder, images_name), 3)
    labels = read_idx(find_file(folder, labels_name), 1)
    if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0] or labels.max() > 9:
        raise TwinError(f"{folder}: {images_name} {images.shape} and {labels_name} "
                        f"{labels.shape} are not 28x28 images with labels 0-9")
    return images.reshape(-1, 784), labels


def load_split(folder, split="article"):
    """(train images, train labels, test images, test labels, description), as io/mnist.cpp.

    standard: the files as they are. article: train then test file pooled (70,000, OpenML's
    order), RandomState(42).permutation(n), the first ceil(0.3 n) to test and the rest, in
    permutation order, to train: scikit-learn's train_test_split(test_size=0.3, random_state=42).
    """
    if not os.path.isdir(folder):
        raise TwinError(f"{folder}: expected a folder with the four MNIST IDX files")
    train_x, train_y = load_pair(folder, MNIST_FILES[0], MNIST_FILES[1])
    test_x, test_y = load_pair(folder, MNIST_FILES[2], MNIST_FILES[3])
    if split == "standard":
        return train_x, train_y, test_x, test_y, f"MNIST from {folder}, standard split"
    pool_x = np.concatenate([train_x, test_x])
    pool_y = np.concatenate([train_y, test_y])
    n = len(pool_y)
    perm = np.random.RandomState(42).permutation(n)
    n_test = (3 * n + 9) // 10
    test, train = perm[:n_test], perm[n_test:]
    return (pool_x[train], pool_y[train], pool_x[test], pool_y[test],
            f"MNIST from {folder}, article split: {len(train)} train / {len(test)} test")


def inputs(pixels):
    """(784, n) float64 columns, pixel / 255 (eq. 1), from (n, 784) bytes."""
    return torch.from_numpy(pixels.T / 255.0)


def parse_npy(path, member, raw):
    """One .npy member as stepgrad's loader takes it (io/npz.cpp): npy 1.0-3.0, '<f8' of rank 0-2
    in C order or a 0-d '<U<n>' string, the payload exactly as long as the header says."""
    def bad(why):
        return TwinError(f"{path}: entry '{member}': {why}")
    if len(raw) < 10 or raw[:6] != b"\x93NUMPY":
        raise bad("not an .npy array (no \\x93NUMPY magic)")
    major, minor = raw[6], raw[7]
    if major not in (1, 2, 3) or minor != 0:
        raise bad(f"npy version {major}.{minor}: expected 1.0, 2.0 or 3.0")
    if major == 1:
        (hlen,), start = struct.unpack("<H", raw[8:10]), 10
    else:
        if len(raw) < 12:
            raise bad("cut short in its header")
        (hlen,), start = struct.unpack("<I", raw[8:12]), 12
    if hlen > NPZ_MAX_HEADER or start + hlen > len(raw):
        raise bad(f"a header of {hlen} bytes (at most {NPZ_MAX_HEADER}, within the entry)")
    try:
        text = raw[start:start + hlen].decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text)  # literals only: never code, never pickle
    except (ValueError, SyntaxError, UnicodeDecodeError, RecursionError, MemoryError, TypeError):
        raise bad("its header is not a Python dict literal") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise bad("its header must hold exactly 'descr', 'fortran_order' and 'shape'")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if fortran is not False:
        raise bad("fortran_order: only C order (False) is read")
    if (not isinstance(shape, tuple) or len(shape) > 2
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise bad(f"shape {shape!r}: expected at most 2 whole numbers")
    payload = len(raw) - start - hlen
    if descr == "<f8":
        need = math.prod(shape) * 8
        if payload != need:
            raise bad(f"shape {shape} needs {need} bytes of '<f8', the entry holds {payload}")
        return np.frombuffer(raw, dtype="<f8", offset=start + hlen).reshape(shape).copy()
    if isinstance(descr, str) and descr.startswith("<U") and descr[2:].isdigit() and shape == ():
        need = int(descr[2:]) * 4
        if payload != need:
            raise bad(f"a string of {descr} needs {need} bytes, the entry holds {payload}")
        try:
            return np.array(raw[start + hlen:].decode("utf-32-le").rstrip("\0"))
        except UnicodeDecodeError:
            raise bad("its string is not UTF-32") from None
    raise bad(f"dtype {descr!r} with shape {shape}: expected '<f8' or a 0-d '<U<n>' string")


def check_manifest(path, data):
    """A file its folder's MANIFEST lists (written last by stepgrad's runs, Note [One set of
    outputs] in io/output_set.hpp) must hold the bytes listed: else a later run did not finish."""
    manifest = os.path.join(os.path.dirname(path) or ".", "MANIFEST")
    if not os.path.lexists(manifest):
        return
    text = read_file(manifest, 1 << 20).decode("utf-8", "replace").split("\n")
    if not text or text[0] != "stepgrad manifest 1":
        raise TwinError(f"{manifest}: not a stepgrad manifest")
    run = None
    for line in text[1:]:
        key, _, value = line.partition(" ")
        if key == "run":
            run = value
        elif key == "file":
            sha, _, name = value.partition(" ")
            if name == os.path.basename(path) and hashlib.sha256(data).hexdigest() != sha:
                raise TwinError(f"{path}: not the file run {run} wrote ({manifest} lists other "
                                "bytes): a later run did not finish, or it was changed since")


def load_npz(path, names, allowed=None):
    """The arrays of an .npz file, as strictly as stepgrad's loader: every member a named .npy,
    stored or deflated, each once; sizes checked before anything is inflated (a member that
    claims 2 GiB is refused from its directory entry, and no member is read past its claim);
    nothing after the archive; the arrays `names`, and no other than `allowed` (default: names)."""
    data = read_file(path, NPZ_FILE_CAP)
    check_manifest(path, data)
    end = data.rfind(b"PK\x05\x06")  # the end of central directory record
    if end < 0 or end + 22 > len(data):
        raise TwinError(f"{path}: not a zip file (an .npz is a zip of .npy files)")
    if end + 22 + struct.unpack("<H", data[end + 20:end + 22])[0] != len(data):
        raise TwinError(f"{path}: bytes after the end of the zip archive")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise TwinError(f"{path}: not a readable zip file: {e}") from None
    if len(infos) > NPZ_MAX_ENTRIES:
        raise TwinError(f"{path}: {len(infos)} members, more than {NPZ_MAX_ENTRIES}")
    arrays, total = {}, 0
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or "/" in name:
            raise TwinError(f"{path}: member '{name}' is not a NAME.npy array")
        key = name[:-4]
        if key in arrays:
            raise TwinError(f"{path}: member '{name}' appears twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TwinError(f"{path}: member '{name}': compression method {info.compress_type} "
                            "(stored or deflated only)")
        total += info.file_size
        if info.file_size > NPZ_MAX_BYTES or total > NPZ_MAX_BYTES:
            raise TwinError(f"{path}: member '{name}' inflates to {info.file_size} bytes, more "
                            f"than the {NPZ_MAX_BYTES} a model or dump file can hold")
        try:
            with zf.open(info) as m:
                raw = m.read(info.file_size + 1)  # never past its claim (+1 tells a lie)
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError,
                NotImplementedError) as e:
            raise TwinError(f"{path}: member '{name}': {e}") from None
        if len(raw) != info.file_size:
            raise TwinError(f"{path}: member '{name}' holds {len(raw)} bytes, its entry says "
                            f"{info.file_size}")
        arrays[key] = parse_npy(path, name, raw)
    missing = [k for k in names if k not in arrays]
    if missing:
        raise TwinError(f"{path}: no array {', '.join(missing)} (it holds {', '.join(arrays)})")
    extra = [k for k in arrays if k not in (allowed or names)]
    if extra:
        raise TwinError(f"{path}: unexpected array {', '.join(extra)}")
    return arrays


def options_of(path, arrays):
    """The file's options line as a dict; refuses any network but the article's."""
    line = str(arrays.get("options", ""))
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in line):  # it is printed: no fake lines
        raise TwinError(f"{path}: options: a control character; refused")
    options = dict(w.split("=", 1) for w in line.split() if "=" in w)
    if options.get("bias") != "false" or options.get("activation") != "sigmoid":
        raise TwinError(f"{path}: options \"{line}\": the twin is the article's network "
                        "(bias=false activation=sigmoid)")
    return line, options


def weights_of(path, arrays):
    """The state_dict of ArticleNetwork from a model or dump file's W0, W1, W2."""
    state = {}
    for k, shape in SHAPES.items():
        a = arrays[k]
        if a.dtype != np.float64 or a.shape != shape:
            raise TwinError(f"{path}: {k}: expected float64 {shape}, found {a.dtype} {a.shape}")
        if not np.all(np.isfinite(a)):
            raise TwinError(f"{path}: {k}: holds NaN or Inf")
        state[k] = torch.from_numpy(a.copy())
    return state


# ---- evaluate ---------------------------------------------------------------------------------

def evaluate(args):
    arrays = load_npz(args.model, list(SHAPES) + ["options"], MODEL_ARRAYS)
    line, options = options_of(args.model, arrays)
    model = ArticleNetwork()
    model.load_state_dict(weights_of(args.model, arrays))  # stepgrad's arrays, PyTorch's names
    split = options.get("split", "article")
    if split not in ("article", "standard") or options.get("dataset", "mnist") != "mnist":
        raise TwinError(f"{args.model}: split={split} dataset={options.get('dataset')}: the twin "
                        "reads MNIST's article or standard split")
    *_, test_x, test_y, description = load_split(args.data, split)
    print(f"model: {args.model} ({line})")
    print(f"data: {description}")
    print(f"torch {torch.__version__}, {torch.get_default_dtype()}")

    labels = torch.from_numpy(test_y.astype(np.int64))
    with torch.no_grad():
        Z3 = model(inputs(test_x))  # (10, 21000): one forward pass
        O3 = torch.softmax(Z3, dim=0)
        cost = float(cross_entropy(Z3, labels))
        predicted = torch.argmax(O3, dim=0).numpy()  # the first maximum, as 11_evaluate
    accuracy = float(np.mean(predicted == test_y))
    print(f"\ntest set: {len(test_y)} images")
    print(f"  mean cross-entropy -Y·log O3: {cost:.4f}")
    print(f"  accuracy:                     {accuracy:.4f}")

    if args.write:
        with open(args.write, "w") as f:
            f.write("index,label,predicted\n")
            f.writelines(f"{i},{t},{p}\n" for i, (t, p) in enumerate(zip(test_y, predicted)))
        print(f"wrote {args.write}")
    if not args.compare:
        return 0
    try:
        text = read_file(args.compare, 16 << 20).decode("ascii")
        theirs = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise TwinError(f"{args.compare}: not a predictions file of 11_evaluate: {e}") from None
    if theirs.shape != (len(test_y), 3) or not np.array_equal(theirs[:, 0], np.arange(len(test_y))):
        raise TwinError(f"{args.compare}: expected {len(test_y)} lines index,label,predicted, "
                        f"found {theirs.shape[0]}")
    if not np.array_equal(theirs[:, 1], test_y):
        raise TwinError(f"{args.compare}: its labels are not this test set's (another split?)")
    differ = np.flatnonzero(theirs[:, 2] != predicted)
    print(f"\npredictions: {len(test_y) - len(differ)} of {len(test_y)} equal to {args.compare}")
    for i in differ[:10]:
        print(f"  test image {i}: 11_evaluate {theirs[i, 2]}, PyTorch {predicted[i]}, "
              f"label {test_y[i]}")
    return 1 if len(differ) else 0


# ---- gradcheck --------------------------------------------------------------------------------

def gradcheck(args):
    d = load_npz(args.dump, ["X", "Y", "C", "gW0", "gW1", "gW2", "options"] + list(SHAPES))
    line, _ = options_of(args.dump, d)
    X, Y = d["X"], d["Y"]
    if X.shape != (784,) or Y.shape != (10,) or sorted(Y.tolist()) != [0.0] * 9 + [1.0]:
        raise TwinError(f"{args.dump}: X {X.shape} and Y {Y.shape}: expected one image and one "
                        "one-hot label")
    model = ArticleNetwork()
    model.load_state_dict(weights_of(args.dump, d))
    O0 = torch.from_numpy(X).reshape(784, 1)  # a column, as in the article
    label = torch.tensor([int(np.argmax(Y))])
    print(f"dump: {args.dump} ({line})")
    print(f"torch {torch.__version__}, {torch.get_default_dtype()}")

    # 1. The fixed recipe: the tape's gradients are those of C = -Y . log softmax(Z3), and so are
    # autograd's: the same function, differentiated by another engine.
    C = cross_entropy(model(O0), label)
    model.zero_grad()
    C.backward()
    failures = 0
    c_rel = abs(float(C) - float(d["C"])) / abs(float(d["C"]))
    print(f"\n1. C = -Y·log softmax(Z3) = {float(C):.12f} (stepgrad {float(d['C']):.12f}, "
          f"rel {c_rel:.1e})")
    failures += not c_rel <= RTOL_GRAD
    print("   autograd's W.grad vs stepgrad's tape gW (the dump), max |a-b| / max |b|:")
    for k in SHAPES:
        ours, theirs = getattr(model, k).grad.numpy(), d["g" + k]
        rel = np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))
        ok = rel <= RTOL_GRAD
        failures += not ok
        print(f"   {k}  {rel:8.1e}  {'ok' if ok else 'FAILED'} (<= {RTOL_GRAD:.0e})")

    # 2. torch.autograd.gradcheck: autograd against finite differences (fast mode: a random
    # direction per matrix, the counterpart of stepgrad's gradcheck).
    print("\n2. torch.autograd.gradcheck: autograd vs finite differences (fast mode)")
    for k in SHAPES:
        def c_of(w, k=k):
            W = dict(model.named_parameters())
            W = {n: (w if n == k else p.detach()) for n, p in W.items()}
            Z3 = W["W2"] @ torch.sigmoid(W["W1"] @ torch.sigmoid(W["W0"] @ O0))
            return cross_entropy(Z3, label)
        w = getattr(model, k).detach().clone().requires_grad_(True)
        ok = torch.autograd.gradcheck(c_of, (w,), fast_mode=True, raise_exception=False)
        failures += not ok
        print(f"   C as a function of {k}: {'ok' if ok else 'FAILED'}")

    # 3. The article's recipe: autograd with layer 2's backward replaced by eq. (9) as the
    # article's code has it (erratum E1). Measured as 09_gradcheck's section 3 measures it.
    true = {k: getattr(model, k).grad.clone() for k in SHAPES}
    model.zero_grad()
    cross_entropy(model(O0, sigmoid2=ArticleSigmoidE1.apply), label).backward()
    print("\n3. The article's recipe (erratum E1) against the true gradient:")
    print(f"{'':13}|article| / |true|   cosine")
    for l in (2, 1, 0):
        a, t = getattr(model, f"W{l}").grad.flatten(), true[f"W{l}"].flatten()
        ratio = float(a.norm() / t.norm())
        cosine = float(a @ t / (a.norm() * t.norm()))
        print(f"Delta{l}  {ratio:14.4f} (1/{1 / ratio:<5.1f})  {cosine:7.4f}")
    print("-> " + ("autograd's gradients equal stepgrad's to 1e-10" if not failures
                   else f"{failures} check(s) FAILED"))
    return 1 if failures else 0


# ---- train ------------------------------------------------------------------------------------

def train_worker(rank, world, args, init_method, split=None):
    """One process of the run: rank `rank` of `world` (1 = plain training, no DDP); `split` is
    load_split's result when the parent has read the data already. A process of several ends
    here, whatever happens: with torch 1.13 a process could be left spinning in gloo's I/O thread
    once its peer had gone, in destroy_process_group() and at interpreter exit (seen under
    torchrun), so it prints its error, if any, flushes and leaves with os._exit."""
    if world == 1:
        return run_worker(rank, world, args, init_method, split)
    die_with_parent()
    status = 0
    try:
        run_worker(rank, world, args, init_method, split)
    except BaseException as e:  # noqa: B036 -- every way out must reach os._exit below
        detail = str(e) if isinstance(e, (TwinError, OSError)) else f"{type(e).__name__}: {e}"
        if "Timed out" in detail or "timed out" in detail:
            detail = (f"a peer process sent nothing for {args.timeout:g} s (--timeout): stopped "
                      "or hung")
        print(f"{PROG}: error: process {rank}: {' '.join(detail.split())[:300]}",
              file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            status = 1
    os._exit(status)


def run_worker(rank, world, args, init_method, split):
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # one core per process: the processes are the parallelism
    if world > 1:
        if init_method.startswith("file://"):
            # --nproc's processes are all on this machine: gloo binds to the loopback interface.
            # Left to itself it looks up the host name, and where that does not resolve (a
            # container without /etc/hosts) it warns on stderr in every process, every run.
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        # A peer that stops answering (stopped, hung, killed) ends every collective after
        # --timeout seconds, with an error, instead of a wait forever.
        dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=args.timeout))
    train_x, train_y, test_x, test_y, description = split or load_split(args.data, "article")
    train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    data = TensorDataset(inputs(train_x).T, torch.from_numpy(train_y.astype(np.int64)))
    local_batch = args.batch // world
    # DistributedSampler without shuffling gives rank r the samples r, r + world, ...: its
    # local minibatch k and the others' make up samples [k B, (k + 1) B) of the training order,
    # global minibatch k of one process with --batch B.
    sampler = DistributedSampler(data, world, rank, shuffle=False) if world > 1 else None
    loader = DataLoader(data, batch_size=local_batch, sampler=sampler, shuffle=False)

    model = ArticleNetwork(args.seed)
    # DDP averages the gradients of the processes (all-reduce sum / world). With each process's
    # loss the mean over its B / world samples, the average is the mean over all B: the gradient
    # of one process's mean loss over the combined minibatch, the same number up to rounding.
    net = DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)  # eq. (12)
    steps_per_epoch = args.limit // args.batch
    steps = args.steps or args.epochs * steps_per_epoch
    if rank == 0:
        print(f"data: {description}; the first {args.limit} training images")
        print(f"torch {torch.__version__}, {torch.get_default_dtype()}; {world} process(es), "
              f"gloo backend" if world > 1 else f"torch {torch.__version__}, one process")
        print(f"minibatch SGD: {steps} steps of {args.batch} images ({local_batch} per process), "
              f"lr {args.lr}, seed {args.seed}")
    step = 0
    epoch = 0
    while step < steps:
        if sampler is not None:
            sampler.set_epoch(epoch)
        loss_sum, epoch_steps = 0.0, 0
        for X, labels in loader:  # X (b, 784): one image per row, as DataLoader stacks them
            loss = cross_entropy(net(X.T), labels)  # the mean over this process's b images
            optimizer.zero_grad()
            loss.backward()  # DDP: all-reduces the gradients, averaging them over processes
            optimizer.step()
            loss_sum += float(loss)
            epoch_steps += 1
            step += 1
            if step == steps:
                break
        epoch += 1
        if rank == 0:
            print(f"epoch {epoch}: {step} steps, mean loss of process 0's minibatches "
                  f"{loss_sum / epoch_steps:.6f}")

    if world > 1:
        # Every replica must hold the same weights: rank 0's, bit for bit.
        for name, p in model.named_parameters():
            ref = p.detach().clone()
            dist.broadcast(ref, src=0)
            if not torch.equal(ref, p.detach()):
                raise TwinError(f"process {rank}: {name} differs from process 0's")
        dist.barrier()
    if rank == 0:
        if world > 1:
            print(f"the {world} processes' weights are identical, bit for bit")
        with torch.no_grad():
            Z3 = model(inputs(test_x))
            accuracy = float(np.mean(torch.argmax(Z3, dim=0).numpy() == test_y))
        print(f"test accuracy: {accuracy:.4f} ({len(test_y)} images)")
        if args.save:
            save_model(args.save, model, args, world, steps)
            print(f"wrote {args.save}")
    if world > 1:
        dist.barrier()  # every process leaves together (train_worker: without tearing down)


def save_model(path, model, args, world, steps):
    """A model file as stepgrad's save_model writes it: W0-W2 float64 and an options line."""
    options = (f"trainer=pytorch_twin nproc={world} steps={steps} lr={args.lr} batch={args.batch} "
               f"shuffle=false bias=false activation=sigmoid init=fan-out seed={args.seed} "
               f"split=article dataset=mnist limit={args.limit}")
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        try:
            np.savez(tmp, **{k: v.detach().numpy() for k, v in model.state_dict().items()},
                     options=np.array(options))
            tmp.close()
            os.replace(tmp.name, path)  # atomic: the old file or the new one
        except BaseException:
            os.unlink(tmp.name)
            raise


def train(args):
    if not 1 <= args.limit <= 49000:
        raise TwinError(f"--limit {args.limit}: expected a whole number from 1 to 49000")
    if args.batch < 1 or args.limit % args.batch:
        raise TwinError(f"--batch {args.batch}: must divide --limit {args.limit} (every step a "
                        "whole minibatch)")
    if args.save:  # writable before the work starts
        try:
            tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(args.save))).close()
        except OSError as e:
            raise TwinError(f"--save {args.save}: cannot write in its folder: {e.strerror}") from None
    if not args.lr > 0 or not math.isfinite(args.lr):
        raise TwinError(f"--lr {args.lr}: expected a positive number")
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # started by torchrun
        if args.nproc != 1:
            raise TwinError("--nproc: torchrun starts the processes (--nproc_per_node)")
        world = int(os.environ["WORLD_SIZE"])
        check_batch(args, world)
        train_worker(int(os.environ["RANK"]), world, args, "env://")
        return 0
    check_batch(args, args.nproc)
    split = load_split(args.data, "article")  # once, before the processes start
    if args.nproc == 1:
        train_worker(0, 1, args, None, split)
        return 0
    remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX) as folder:
        # "A live run": the lock is held by this process and inherited by its workers, so a
        # killed run's folder is known by its free lock and removed by the next run.
        lock = open(os.path.join(folder, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # The processes meet through a file: no port to choose on one machine.
        init_method = "file://" + os.path.join(folder, "rendezvous")
        # fork: the processes inherit torch and the data instead of loading them again
        context = mp.start_processes(train_worker, args=(args.nproc, args, init_method, split),
                                     nprocs=args.nproc, start_method="fork", join=False)
        wait_for_workers(context.processes)
        lock.close()
    return 0


FOLDER_PREFIX = "pytorch_twin."


def remove_stale_folders():
    """Removes the rendezvous folders of killed runs: those whose lock no live process holds."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if not name.startswith(FOLDER_PREFIX) or os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, ".lock"), "r") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive, not ours, or being made
        shutil.rmtree(path, ignore_errors=True)


def wait_for_workers(processes):
    """Waits for the workers; when one fails, kills the others with SIGKILL (which also ends a
    stopped one: torch's join sends SIGTERM, which a stopped process never acts on) and raises."""
    while True:
        codes = [p.exitcode for p in processes]
        failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            for p in processes:
                if p.exitcode is None:
                    os.kill(p.pid, signal.SIGKILL)
            for p in processes:
                p.join()
            i, c = failed[0]
            how = f"was killed by signal {-c}" if c < 0 else f"exited with code {c}"
            raise TwinError(f"process {i} {how}; the others were stopped")
        if all(c == 0 for c in codes):
            return
        time.sleep(0.05)


def die_with_parent():
    """A worker dies with the process that started it (prctl PR_SET_PDEATHSIG): a killed run
    leaves no worker waiting for peers that will never come."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent went before the prctl
        os._exit(1)


def check_batch(args, world):
    if world < 1 or args.batch % world:
        raise TwinError(f"--batch {args.batch}: must be a multiple of the {world} processes")


# ---- compare ----------------------------------------------------------------------------------

def compare(args):
    """Model files' weights against the first's: the largest difference against the weights and
    against what training changed (W - W_init, W_init from the seed in the first file's
    options)."""
    first = load_npz(args.first, list(SHAPES) + ["options"], MODEL_ARRAYS)
    wa = weights_of(args.first, first)
    _, options = options_of(args.first, first)
    initial = ArticleNetwork(int(options.get("seed", 42))).state_dict()
    failures = 0
    for other in args.others:
        wb = weights_of(other, load_npz(other, list(SHAPES) + ["options"], MODEL_ARRAYS))
        print(f"{args.first} vs {other}")
        print(f"{'':4} {'max |a - b|':>12} {'/ max |b|':>10} {'/ max |b - b_init|':>19}")
        failed = 0
        for k in SHAPES:
            diff = float((wa[k] - wb[k]).abs().max())
            scale = float(wb[k].abs().max())
            change = float((wb[k] - initial[k]).abs().max())
            rel = diff / change if change > 0 else math.inf
            failed += not rel <= args.rtol
            print(f"{k:4} {diff:12.2e} {diff / scale:10.2e} {rel:19.2e}")
        print("-> " + (f"equal to {args.rtol:.0e} of what training changed" if not failed
                       else f"{failed} matrix(es) differ by more than {args.rtol:.0e}"))
        failures += failed
    return 1 if failures else 0


# ---- command line -----------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"{PROG}: error: {message} (--help for usage)", file=sys.stderr)
        sys.exit(2)


def main(argv):
    parser = Parser(prog=PROG, description="the article's network in PyTorch, checked equal to "
                    "stepgrad", formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog=__doc__.split("\n\n", 2)[2])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    e = sub.add_parser("evaluate", help="a stepgrad model.npz on the test set")
    e.add_argument("--model", default="out/model.npz", help="written by 10_train")
    e.add_argument("--data", default="data/mnist", help="folder with the four IDX files")
    e.add_argument("--compare", help="11_evaluate --predictions CSV: every prediction must match")
    e.add_argument("--write", help="write the twin's own predictions to this CSV")
    g = sub.add_parser("gradcheck", help="autograd against a 09_gradcheck --dump file")
    g.add_argument("dump", help="written by 09_gradcheck --dump")
    t = sub.add_parser("train", help="minibatch SGD with DistributedDataParallel")
    t.add_argument("--nproc", type=int, default=1, help="processes on this machine")
    t.add_argument("--data", default="data/mnist", help="folder with the four IDX files")
    t.add_argument("--limit", type=int, default=49000, help="the first N training images")
    t.add_argument("--batch", type=int, default=32, help="global minibatch (all processes)")
    t.add_argument("--epochs", type=int, default=1, help="passes over the LIMIT images")
    t.add_argument("--steps", type=int, default=0, help="stop after K steps (0: the epochs)")
    t.add_argument("--lr", type=float, default=0.001, help="lambda in eq. (12)")
    t.add_argument("--seed", type=int, default=42, help="np.random.seed of the initial weights")
    t.add_argument("--save", help="write the trained weights as a stepgrad model file")
    t.add_argument("--timeout", type=float, default=120,
                   help="seconds a process waits for its peers before it gives up")
    c = sub.add_parser("compare", help="model files' weights, to --rtol of the change")
    c.add_argument("first", help="a model file (its seed= gives W_init)")
    c.add_argument("others", nargs="+", metavar="other", help="model files to compare with it")
    c.add_argument("--rtol", type=float, default=1e-10,
                   help="max |a - b| / max |b - b_init| allowed per matrix")
    args = parser.parse_args(argv)
    if args.command == "train" and (args.nproc < 1 or args.nproc > 64):
        parser.error(f"--nproc {args.nproc}: expected a whole number from 1 to 64")
    if args.command == "train" and (args.epochs < 1 or args.steps < 0):
        parser.error("--epochs must be at least 1 and --steps at least 0")
    if args.command == "train" and not 0 <= args.seed < 2**32:
        parser.error(f"--seed {args.seed}: expected a whole number from 0 to 4294967295")
    if args.command == "train" and not (0 < args.timeout <= 86400):
        parser.error(f"--timeout {args.timeout}: expected seconds from 1 to 86400")
    if args.command == "train" and args.epochs * 49000 > 10**9:
        parser.error(f"--epochs {args.epochs}: too many")
    if args.command == "compare" and not (args.rtol > 0 and math.isfinite(args.rtol)):
        parser.error(f"--rtol {args.rtol}: expected a positive number")
    try:
        return {"evaluate": evaluate, "gradcheck": gradcheck, "train": train,
                "compare": compare}[args.command](args)
    except TwinError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a file that cannot be written, a disk full ...
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 -- one line, never a traceback
        print(f"{PROG}: error: {type(err).__name__}: {' '.join(str(err).split())[:300]}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
