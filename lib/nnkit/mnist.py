"""The MNIST handwritten digits, read from the four official IDX files.

``load_mnist()`` returns the training and the test set and needs all four files
``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
``t10k-labels-idx1-ubyte.gz``. ``load_mnist_train()`` returns the 60000 training images alone and needs
only the two ``train-*`` files (a graded notebook sees no others: the test set belongs to the grader);
``validation_split(X, y)`` splits them, always the same way, into 55000 images to train on and 5000 to
tune on. The files are looked for in these places, in order:

1. the ``data_dir`` argument;
2. the folder named by the environment variable ``NNCOURSE_MNIST_DIR``;
3. ``mnist_dir`` in the config file ``NNCOURSE_CONFIG`` (default ``~/.config/nncourse/config.toml``);
4. the user cache ``~/.cache/nncourse/mnist`` (``$XDG_CACHE_HOME/nncourse/mnist``, or
   ``$NNCOURSE_CACHE_DIR/mnist``).

The first folder holding all the files needed is used. Every file is checked against the official MD5
and SHA-256 before it is read, the parsed arrays are cached as a ``.npz`` file in the user cache
(named after the checksums, so a different copy of the data never reuses a stale cache), and the
data folder itself is never written to. When no folder has the files, they are downloaded into the
user cache only if allowed (``download=True`` or ``NNCOURSE_ALLOW_DOWNLOAD=1``). Problems raise
``MNISTNotFoundError`` (a ``FileNotFoundError``) or ``MNISTChecksumError`` / ``MNISTFormatError``
(``ValueError``) with a message that says what to do. See ``docs/data.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import struct
import tempfile
import tomllib
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "load_mnist",
    "load_mnist_train",
    "validation_split",
    "VALIDATION_SIZE",
    "VALIDATION_SEED",
    "download_mnist",
    "find_mnist_dir",
    "parse_idx",
    "read_idx_gz",
    "mnist_cache_dir",
    "Checksum",
    "MNIST_FILES",
    "OFFICIAL_CHECKSUMS",
    "OFFICIAL_MIRRORS",
    "MNISTNotFoundError",
    "MNISTDownloadError",
    "MNISTChecksumError",
    "MNISTFormatError",
]


class Checksum(NamedTuple):
    """Expected digests of one ``.gz`` file (lower-case hex)."""

    md5: str
    sha256: str


TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
MNIST_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
TRAIN_FILES = (TRAIN_IMAGES, TRAIN_LABELS)
_SPLIT_FILES = {"train": TRAIN_FILES, "test": (TEST_IMAGES, TEST_LABELS)}

# ``validation_split``'s defaults: 5000 of the 60000 training images, drawn by this seed.
VALIDATION_SIZE = 5000
VALIDATION_SEED = 0

# MD5: torchvision's official values. SHA-256: TensorFlow Datasets' url_checksums/mnist.txt.
OFFICIAL_CHECKSUMS: Mapping[str, Checksum] = {
    TRAIN_IMAGES: Checksum(
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    TRAIN_LABELS: Checksum(
        "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    TEST_IMAGES: Checksum(
        "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    TEST_LABELS: Checksum(
        "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

OFFICIAL_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)

# IDX type code (third magic byte) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# Temporary files are private (0600); the finished files are readable by everyone, like a download.
_SHARED_FILE_MODE = 0o644

_HOW_TO_GET = (
    "How to get the data (see docs/data.md):\n"
    "  - download the four .gz files from https://ossci-datasets.s3.amazonaws.com/mnist/ and pass\n"
    "    load_mnist(data_dir='that/folder'), or set the environment variable NNCOURSE_MNIST_DIR to it\n"
    "    (or put mnist_dir = \"that/folder\" in ~/.config/nncourse/config.toml);\n"
    "  - or let the loader download them: load_mnist(download=True), or NNCOURSE_ALLOW_DOWNLOAD=1."
)


class MNISTNotFoundError(FileNotFoundError):
    """No folder holds all the MNIST files needed (and downloading was not allowed)."""


class MNISTDownloadError(MNISTNotFoundError):
    """Downloading was allowed but no mirror delivered a file with the right checksums."""


class MNISTChecksumError(ValueError):
    """A file's MD5 or SHA-256 differs from the expected value."""


class MNISTFormatError(ValueError):
    """A file is not a valid (gzip-compressed) IDX file, or the files do not fit together."""


# ----------------------------------------------------------------------------------------------------
# IDX parsing
# ----------------------------------------------------------------------------------------------------


def parse_idx(data: bytes, *, expected_magic: int | None = None, source: str = "data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array.

    Layout: a 4-byte big-endian magic number ``0x0000TTNN`` (``TT`` the element type, ``NN`` the number
    of dimensions), ``NN`` big-endian uint32 sizes, then the elements in C order. MNIST images have
    magic 2051 (uint8, 3-D: count × 28 × 28), labels 2049 (uint8, 1-D).

    Raises ``MNISTFormatError`` naming ``source`` for a wrong magic number, a truncated header or
    body, or trailing bytes. Returns a native-endian array of shape given by the header.
    """
    if len(data) < 4:
        raise MNISTFormatError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    (magic,) = struct.unpack(">I", data[:4])
    zero, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if expected_magic is not None and magic != expected_magic:
        raise MNISTFormatError(
            f"{source}: bad magic number {magic}, expected {expected_magic} "
            f"(is this the right file, and is it an IDX file?)"
        )
    if zero != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise MNISTFormatError(f"{source}: bad magic number {magic} (0x{magic:08x}) for an IDX file")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MNISTFormatError(
            f"{source}: truncated header: {ndim} dimensions need {header_size} bytes, got {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected_size = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected_size:
        problem = "truncated" if len(data) < expected_size else "has trailing bytes"
        raise MNISTFormatError(
            f"{source}: {problem}: the header announces shape {shape} ({expected_size} bytes in "
            f"all), the file has {len(data)} bytes"
        )
    body = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return body.astype(dtype.newbyteorder("="))


def read_idx_gz(path, *, expected_magic: int | None = None) -> np.ndarray:
    """Read a gzip-compressed IDX file (see ``parse_idx``); a damaged gzip stream is a format error."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise MNISTFormatError(f"{path}: not a valid gzip file ({error})") from None
    return parse_idx(data, expected_magic=expected_magic, source=str(path))


# ----------------------------------------------------------------------------------------------------
# Where the files are
# ----------------------------------------------------------------------------------------------------


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def mnist_cache_dir() -> Path:
    """The user cache folder: ``$NNCOURSE_CACHE_DIR/mnist``, else ``$XDG_CACHE_HOME/nncourse/mnist``,
    else ``~/.cache/nncourse/mnist``. It is where downloads and the parsed ``.npz`` go."""
    root = _env_path("NNCOURSE_CACHE_DIR")
    if root is None:
        root = (_env_path("XDG_CACHE_HOME") or Path.home() / ".cache") / "nncourse"
    return root / "mnist"


def _config_path() -> Path:
    explicit = _env_path("NNCOURSE_CONFIG")
    if explicit is not None:
        return explicit
    return (_env_path("XDG_CONFIG_HOME") or Path.home() / ".config") / "nncourse" / "config.toml"


def _config_mnist_dir() -> tuple[Path | None, str]:
    """``mnist_dir`` from the config file (relative paths are relative to the file), and a note."""
    path = _config_path()
    if not path.is_file():
        return None, f"config file {path}: not found"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return None, f"config file {path}: unreadable ({error})"
    value = config.get("mnist_dir")
    if not isinstance(value, str) or not value.strip():
        return None, f"config file {path}: no string key mnist_dir"
    return path.parent / Path(value).expanduser(), f"config file {path}: mnist_dir"


def _candidates(data_dir) -> tuple[list[tuple[str, Path]], list[str]]:
    """The folders to search, each with where it came from, plus notes about skipped sources."""
    folders, notes = [], []
    if data_dir is not None:
        folders.append(("data_dir argument", Path(data_dir).expanduser()))
    env_dir = _env_path("NNCOURSE_MNIST_DIR")
    if env_dir is not None:
        folders.append(("NNCOURSE_MNIST_DIR", env_dir))
    else:
        notes.append("NNCOURSE_MNIST_DIR: not set")
    config_dir, config_note = _config_mnist_dir()
    if config_dir is not None:
        folders.append((config_note, config_dir))
    else:
        notes.append(config_note)
    folders.append(("user cache", mnist_cache_dir()))
    return folders, notes


def _missing_files(folder: Path, files: Sequence[str] = MNIST_FILES) -> list[str]:
    return [name for name in files if not (folder / name).is_file()]


def _search_report(folders, notes, files: Sequence[str] = MNIST_FILES) -> str:
    lines = ["Looked in:"]
    for origin, folder in folders:
        if not folder.is_dir():
            status = "folder does not exist"
        else:
            status = "missing " + ", ".join(_missing_files(folder, files))
        lines.append(f"  - {folder} ({origin}): {status}")
    lines += [f"  - {note}" for note in notes]
    return "\n".join(lines)


def find_mnist_dir(data_dir=None, *, files: Sequence[str] = MNIST_FILES) -> Path:
    """The first folder, in the search order of this module, that holds all of ``files`` (default:
    the four MNIST files; ``TRAIN_FILES`` for the training set alone).

    Raises ``MNISTNotFoundError`` listing every place it looked and how to get the files.
    """
    folders, notes = _candidates(data_dir)
    for _, folder in folders:
        if folder.is_dir() and not _missing_files(folder, files):
            return folder
    raise MNISTNotFoundError(
        "Could not find the MNIST files " + ", ".join(files) + ".\n"
        + _search_report(folders, notes, files) + "\n" + _HOW_TO_GET
    )


# ----------------------------------------------------------------------------------------------------
# Checksums and download
# ----------------------------------------------------------------------------------------------------


def _digests(path: Path) -> Checksum:
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            md5.update(block)
            sha256.update(block)
    return Checksum(md5.hexdigest(), sha256.hexdigest())


def _checksum_problem(path: Path, expected: Checksum) -> str | None:
    """None when ``path`` has the expected digests, else which digests differ, expected vs got."""
    expected = Checksum(*expected)
    got = _digests(path)
    wrong = [
        f"{kind} expected {want} but got {have}"
        for kind, want, have in (("MD5", expected.md5, got.md5), ("SHA-256", expected.sha256, got.sha256))
        if want.lower() != have
    ]
    return "; ".join(wrong) + f" ({path.stat().st_size} bytes)" if wrong else None


def _verify(folder: Path, checksums: Mapping[str, Checksum]) -> None:
    for name, expected in checksums.items():
        problem = _checksum_problem(folder / name, expected)
        if problem is not None:
            raise MNISTChecksumError(
                f"Checksum mismatch for {name} in {folder}: {problem}.\nThe file is damaged or is not "
                f"the official MNIST file. Delete it and copy or download it again.\n{_HOW_TO_GET}"
            )


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("NNCOURSE_ALLOW_DOWNLOAD", "").strip().lower() in ("1", "true", "yes")


def download_mnist(
    dest_dir=None,
    *,
    mirrors: Sequence[str] = OFFICIAL_MIRRORS,
    checksums: Mapping[str, Checksum] = OFFICIAL_CHECKSUMS,
    timeout: float = 30.0,
) -> Path:
    """Download the files named in ``checksums`` into ``dest_dir`` (default: the user cache).

    Each missing file is tried on every mirror in order (URL = mirror + file name) and kept only when
    its MD5 and SHA-256 match; it is written to a temporary file first, so an interrupted download
    never leaves a partial file. Files already present are left alone. ``mirrors`` and ``checksums``
    can be replaced, e.g. by a local mirror. Raises ``MNISTDownloadError`` listing every URL tried and
    why it failed. Returns the destination folder.
    """
    dest = Path(dest_dir).expanduser() if dest_dir is not None else mnist_cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for name, expected in checksums.items():
        if (dest / name).is_file():
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            print(f"Downloading {url}")  # stdout, never stderr: nbgrader fails cells that use stderr
            problem = _fetch_verified(url, dest / name, expected, timeout)
            if problem is None:
                break
            failures.append(f"  - {url}: {problem}")
        else:
            raise MNISTDownloadError(
                f"Could not download {name} into {dest}:\n" + "\n".join(failures) + "\n" + _HOW_TO_GET
            )
    return dest


def _fetch_verified(url: str, target: Path, expected: Checksum, timeout: float) -> str | None:
    """Download ``url`` to ``target`` if its checksums match; return None or what went wrong."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(temporary)
    try:
        with os.fdopen(handle, "wb") as sink, urllib.request.urlopen(url, timeout=timeout) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                sink.write(block)
        problem = _checksum_problem(temporary, expected)
        if problem is None:
            temporary.chmod(_SHARED_FILE_MODE)
            os.replace(temporary, target)
        return problem
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        temporary.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------------
# Parsing with a cache
# ----------------------------------------------------------------------------------------------------


def _cache_key(checksums: Mapping[str, Checksum], split: str) -> str:
    joined = "".join(f"{name}:{Checksum(*checksums[name]).sha256.lower()};" for name in _SPLIT_FILES[split])
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _parse_split(folder: Path, split: str) -> dict[str, np.ndarray]:
    images_file, labels_file = _SPLIT_FILES[split]
    images = read_idx_gz(folder / images_file, expected_magic=IMAGES_MAGIC)
    labels = read_idx_gz(folder / labels_file, expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise MNISTFormatError(
            f"{folder}: the {split} images file has {len(images)} images but the labels file has "
            f"{len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise MNISTFormatError(f"{folder}: {split} labels must be digits 0..9, found {labels.max()}")
    return {"images": images, "labels": labels}


def _load_cached(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when it is missing or unreadable (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as cached:
            return {key: cached[key] for key in ("images", "labels")}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def _save_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the cache atomically (parallel processes may race); silently skip when not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
        with os.fdopen(handle, "wb") as sink:
            np.savez(sink, **arrays)
        Path(temporary).chmod(_SHARED_FILE_MODE)
        os.replace(temporary, path)
    except OSError:
        return


def _parsed_split(folder: Path, split: str, checksums: Mapping[str, Checksum]) -> dict[str, np.ndarray]:
    """The ``images`` and ``labels`` of one split, from the cache ``mnist-<split>-<key>.npz`` or parsed."""
    cache_file = mnist_cache_dir() / f"mnist-{split}-{_cache_key(checksums, split)}.npz"
    arrays = _load_cached(cache_file)
    if arrays is None:
        arrays = _parse_split(folder, split)
        _save_cache(cache_file, arrays)
    return arrays


def _prepare(images: np.ndarray, *, normalize: bool, flatten: bool, dtype) -> np.ndarray:
    if flatten:
        images = images.reshape(len(images), -1)
    out = images.astype(dtype)
    if normalize:
        out /= 255
    return out


def _check_options(normalize: bool, dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if normalize and not np.issubdtype(dtype, np.floating):
        raise TypeError(f"normalize=True needs a floating dtype (pixels / 255), got dtype={dtype}")
    return dtype


def _verified_folder(data_dir, files: Sequence[str], checksums: Mapping[str, Checksum], download, mirrors) -> Path:
    """The folder holding ``files`` (downloaded into the user cache if allowed), checksums verified."""
    wanted = {name: checksums[name] for name in files}
    try:
        folder = find_mnist_dir(data_dir, files=files)
    except MNISTNotFoundError:
        if not _download_allowed(download):
            raise
        folder = download_mnist(mirrors=mirrors, checksums=wanted)
    _verify(folder, wanted)
    return folder


def _split_arrays(folder, split, checksums, *, normalize, flatten, dtype):
    arrays = _parsed_split(folder, split, checksums)
    return (_prepare(arrays["images"], normalize=normalize, flatten=flatten, dtype=dtype),
            arrays["labels"].astype(np.int64))


def load_mnist(
    data_dir=None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    dtype=np.float32,
    download: bool | None = None,
    mirrors: Sequence[str] = OFFICIAL_MIRRORS,
    checksums: Mapping[str, Checksum] = OFFICIAL_CHECKSUMS,
):
    """Load MNIST: ``((X_train, y_train), (X_test, y_test))``; needs all four files.

    ``X`` has one image per row: shape ``(60000, 784)`` / ``(10000, 784)`` with ``flatten=True``, else
    ``(N, 28, 28)``, dtype ``dtype``, pixel values divided by 255 into [0, 1] with ``normalize=True``
    (else 0..255). ``y`` is int64 ``(N,)`` with the digits 0..9.

    ``data_dir`` is searched first, then ``NNCOURSE_MNIST_DIR``, the config file and the user cache
    (module docstring). ``download=None`` downloads missing files only when
    ``NNCOURSE_ALLOW_DOWNLOAD=1``; ``True``/``False`` overrides it. ``mirrors`` and ``checksums``
    (file name -> ``Checksum(md5, sha256)``) default to the official ones. For the training set
    alone (no test files needed), use ``load_mnist_train``.
    """
    dtype = _check_options(normalize, dtype)
    if set(checksums) != set(MNIST_FILES):
        raise ValueError(f"checksums must have exactly the keys {MNIST_FILES}, got {sorted(checksums)}")
    folder = _verified_folder(data_dir, MNIST_FILES, checksums, download, mirrors)
    return tuple(_split_arrays(folder, split, checksums, normalize=normalize, flatten=flatten, dtype=dtype)
                 for split in ("train", "test"))


def load_mnist_train(
    data_dir=None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    dtype=np.float32,
    download: bool | None = None,
    mirrors: Sequence[str] = OFFICIAL_MIRRORS,
    checksums: Mapping[str, Checksum] = OFFICIAL_CHECKSUMS,
):
    """Load MNIST's training set alone: ``(X_train, y_train)``, shapes ``(60000, 784)`` and ``(60000,)``.

    Needs only ``train-images-idx3-ubyte.gz`` and ``train-labels-idx1-ubyte.gz``: a folder without the
    test files qualifies (a grading sandbox mounts no others), and the test files are never opened.
    The options are those of ``load_mnist``; ``checksums`` must hold (at least) the two training files.
    Split the result with ``validation_split`` to tune hyper-parameters on held-out images.
    """
    dtype = _check_options(normalize, dtype)
    missing = [name for name in TRAIN_FILES if name not in checksums]
    if missing:
        raise ValueError(f"checksums must have the keys {TRAIN_FILES}, missing {missing}")
    folder = _verified_folder(data_dir, TRAIN_FILES, checksums, download, mirrors)
    return _split_arrays(folder, "train", checksums, normalize=normalize, flatten=flatten, dtype=dtype)


def validation_split(X, y, n_val: int = VALIDATION_SIZE, *, seed: int = VALIDATION_SEED):
    """Split a training set into a part to train on and a validation part, the same way every time.

    The validation part is ``order[:n_val]`` and the training part ``order[n_val:]`` for
    ``order = np.random.default_rng(seed).permutation(len(X))``: a fixed random sample of the images,
    the same on every machine. For MNIST's 60000 training images the defaults hold out 5000 (55000
    remain); it is the split of ``nnkit.datasets.train_val_split(X, y, 1 / 12, rng=0)``.

    Returns ``((X_train, y_train), (X_val, y_val))``, new arrays; the inputs are not modified.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X and y must have one sample per row, got X shape {X.shape}, y shape {y.shape}")
    if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) or not 0 < n_val < len(X):
        raise ValueError(f"n_val must be an integer between 1 and {len(X) - 1} (len(X) - 1), got {n_val!r}")
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return (X[train], y[train]), (X[val], y[val])
