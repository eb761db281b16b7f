"""nnkit.mnist: the genuine files (checked against the published counts, checksums and statistics), the
IDX parser on small files written here, the search order, the cache, the error messages, the download
from a local HTTP server, and the training set alone (no test files) with its validation split."""

import gzip
import hashlib
import http.server
import os
import re
import shutil
import stat
import struct
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from nnkit import datasets, mnist
from nnkit.mnist import (
    MNISTChecksumError,
    MNISTDownloadError,
    MNISTFormatError,
    MNISTNotFoundError,
    load_mnist,
    load_mnist_train,
    validation_split,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ENV_VARS = ("NNCOURSE_MNIST_DIR", "NNCOURSE_CONFIG", "NNCOURSE_CACHE_DIR", "NNCOURSE_ALLOW_DOWNLOAD",
            "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


@pytest.fixture(autouse=True)
def isolated_home(monkeypatch, tmp_path):
    """No test sees the real home, config, cache or MNIST variables of the machine."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def default_cache(home: Path) -> Path:
    return home / ".cache" / "nncourse" / "mnist"


# ----------------------------------------------------------------------------------------------------
# Small IDX files written by the tests (independent writer: struct + gzip)
# ----------------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(">u1").tobytes()


def write_gz(path: Path, payload: bytes) -> None:
    path.write_bytes(gzip.compress(payload))


def make_fake_mnist(folder: Path, seed: int, n_train: int = 7, n_test: int = 3):
    """Four small valid MNIST files; returns their arrays and their checksum table."""
    rng = np.random.default_rng(seed)
    arrays = {
        FILES[0]: rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, size=n_train, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_gz(folder / name, idx_bytes(array, 2051 if array.ndim == 3 else 2049))
    return arrays, checksums_of(folder)


def checksums_of(folder: Path):
    return {name: mnist.Checksum(hashlib.md5((folder / name).read_bytes()).hexdigest(),
                                 hashlib.sha256((folder / name).read_bytes()).hexdigest())
            for name in FILES}


def listing(folder: Path):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


# ----------------------------------------------------------------------------------------------------
# The genuine files
# ----------------------------------------------------------------------------------------------------


def genuine_dir() -> Path:
    """``NNCOURSE_MNIST_DIR`` (the Makefile sets it), else ``../shared/data/mnist`` next to the repo."""
    for candidate in (os.environ.get("NNCOURSE_MNIST_DIR"), SHARED_MNIST):
        if candidate and all((Path(candidate) / name).is_file() for name in FILES):
            return Path(candidate)
    pytest.fail(f"the genuine MNIST files are needed: set NNCOURSE_MNIST_DIR or put them in {SHARED_MNIST}")


def readme_checksums(readme: Path):
    """file -> (md5 gz, md5 raw, sha256 gz) from the tables of the data folder's README."""
    table = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in FILES:
            table.setdefault(cells[0], {}).update(
                {"md5": cells[2], "raw_md5": cells[3]} if len(cells) == 5 else {"sha256": cells[1]})
    return table


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """The genuine data loaded raw, then again with the defaults (served from the cache)."""
    folder = genuine_dir()
    cache_root = tmp_path_factory.mktemp("genuine-cache")
    before = listing(folder)
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_VARS:
            patch.delenv(name, raising=False)
        patch.setenv("NNCOURSE_CACHE_DIR", str(cache_root))
        raw = load_mnist(folder, normalize=False, flatten=False, dtype=np.uint8)
        cached_files = sorted((cache_root / "mnist").glob("mnist-*.npz"))
        default = load_mnist(folder)
        # the training files alone, in a folder without the test files (as in the grading sandbox)
        train_only = tmp_path_factory.mktemp("train-only")
        for name in FILES[:2]:
            (train_only / name).symlink_to(folder / name)
        patch.setenv("NNCOURSE_CACHE_DIR", str(tmp_path_factory.mktemp("train-cache")))
        train = load_mnist_train(train_only)
    return {"folder": folder, "raw": raw, "default": default, "cached_files": cached_files,
            "listing_before": before, "train": train}


def test_genuine_shapes_dtypes_and_label_counts(genuine):
    (X_train, y_train), (X_test, y_test) = genuine["raw"]
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert X_train.dtype == np.uint8 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(np.bincount(y_test),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    np.testing.assert_array_equal(y_train[:5], [5, 0, 4, 1, 9])  # the well-known first digits
    np.testing.assert_array_equal(y_test[:5], [7, 2, 1, 0, 4])
    assert X_train.min() == 0 and X_train.max() == 255


def test_genuine_arrays_are_byte_exact(genuine):
    """Rebuilding the uncompressed IDX bytes from the arrays gives the published uncompressed MD5s."""
    published = readme_checksums(genuine["folder"] / "README.md")
    (X_train, y_train), (X_test, y_test) = genuine["raw"]
    rebuilt = {FILES[0]: idx_bytes(X_train, 2051), FILES[1]: idx_bytes(y_train, 2049),
               FILES[2]: idx_bytes(X_test, 2051), FILES[3]: idx_bytes(y_test, 2049)}
    for name, payload in rebuilt.items():
        assert hashlib.md5(payload).hexdigest() == published[name]["raw_md5"], name


def test_official_checksum_table_matches_the_published_values(genuine):
    published = readme_checksums(genuine["folder"] / "README.md")
    assert set(published) == set(FILES) == set(mnist.OFFICIAL_CHECKSUMS)
    for name in FILES:
        assert mnist.OFFICIAL_CHECKSUMS[name] == (published[name]["md5"], published[name]["sha256"])


def test_genuine_defaults_normalized_flat_float32(genuine):
    (X_train, y_train), (X_test, _) = genuine["default"]
    (raw_train, raw_labels), _ = genuine["raw"]
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784) and X_train.dtype == np.float32
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert np.array_equal(X_train, raw_train.reshape(60000, 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(y_train, raw_labels)
    # the normalization constants everyone uses for MNIST (pixels / 255): mean 0.1307, std 0.3081
    counts = np.bincount(raw_train.ravel(), minlength=256)
    levels = np.arange(256) / 255
    mean = counts @ levels / counts.sum()
    std = np.sqrt(counts @ (levels - mean) ** 2 / counts.sum())
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4


def test_genuine_cache_is_written_to_the_cache_and_not_to_the_data_folder(genuine):
    assert [path.name.split("-")[1] for path in genuine["cached_files"]] == ["test", "train"]
    assert genuine["cached_files"][1].stat().st_size > 60000 * 784
    assert listing(genuine["folder"]) == genuine["listing_before"]


def test_genuine_training_set_alone_and_its_validation_split(genuine):
    (X_full, y_full), _ = genuine["default"]
    X_train, y_train = genuine["train"]
    np.testing.assert_array_equal(X_train, X_full)
    np.testing.assert_array_equal(y_train, y_full)
    (X_fit, y_fit), (X_val, y_val) = validation_split(X_train, y_train)
    assert X_fit.shape == (55000, 784) and X_val.shape == (5000, 784) and X_val.dtype == np.float32
    # every class is represented in the validation images roughly as in the training set (1/12 each)
    fraction = np.bincount(y_val, minlength=10) / np.bincount(y_train, minlength=10)
    assert np.all(np.abs(fraction - 1 / 12) < 0.015)
    assert np.bincount(y_fit, minlength=10).sum() + np.bincount(y_val, minlength=10).sum() == 60000


# ----------------------------------------------------------------------------------------------------
# The IDX parser
# ----------------------------------------------------------------------------------------------------


def test_parse_idx_good_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(mnist.parse_idx(idx_bytes(images, 2051), expected_magic=2051), images)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    write_gz(tmp_path / "labels.gz", idx_bytes(labels, 2049))
    parsed = mnist.read_idx_gz(tmp_path / "labels.gz", expected_magic=2049)
    np.testing.assert_array_equal(parsed, labels)
    # another IDX element type: big-endian int32 (type code 0x0C), 2-D
    values = np.array([[1, -2], [70000, 4]], dtype=np.int32)
    payload = struct.pack(">I2I", 0x00000C02, 2, 2) + values.astype(">i4").tobytes()
    parsed = mnist.parse_idx(payload)
    np.testing.assert_array_equal(parsed, values)
    assert parsed.dtype.isnative


@pytest.mark.parametrize(
    ("payload", "expected_magic", "message"),
    [
        (idx_bytes(np.zeros(3, np.uint8), 2049), 2051, "bad magic number 2049, expected 2051"),
        (struct.pack(">I", 0xFFFF0803) + bytes(16), None, "bad magic number"),
        (b"\x00\x00", None, "too short for an IDX header"),
        (struct.pack(">II", 2051, 5), 2051, "truncated header"),
        (idx_bytes(np.zeros((2, 28, 28), np.uint8), 2051)[:-10], 2051, "truncated"),
        (idx_bytes(np.zeros(4, np.uint8), 2049) + b"\x00", 2049, "trailing bytes"),
    ],
    ids=["wrong-kind", "garbage-magic", "no-header", "short-header", "short-body", "extra-bytes"],
)
def test_parse_idx_rejects_bad_files(payload, expected_magic, message):
    with pytest.raises(MNISTFormatError, match=message) as caught:
        mnist.parse_idx(payload, expected_magic=expected_magic, source="some.idx")
    assert "some.idx" in str(caught.value) and isinstance(caught.value, ValueError)


def test_read_idx_gz_rejects_damaged_gzip(tmp_path):
    (tmp_path / "plain.gz").write_bytes(idx_bytes(np.zeros(3, np.uint8), 2049))
    with pytest.raises(MNISTFormatError, match="plain.gz: not a valid gzip file"):
        mnist.read_idx_gz(tmp_path / "plain.gz")
    good = gzip.compress(idx_bytes(np.zeros((5, 28, 28), np.uint8), 2051))
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(MNISTFormatError, match="cut.gz: not a valid gzip file"):
        mnist.read_idx_gz(tmp_path / "cut.gz")


# ----------------------------------------------------------------------------------------------------
# Loading small fake datasets
# ----------------------------------------------------------------------------------------------------


def test_load_fake_dataset_in_every_format(tmp_path):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=0)
    (X_train, y_train), (X_test, y_test) = load_mnist(tmp_path / "data", checksums=checksums)
    assert X_train.shape == (7, 784) and X_test.shape == (3, 784) and X_train.dtype == np.float32
    np.testing.assert_array_equal(X_train, arrays[FILES[0]].reshape(7, 784) / np.float32(255))
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])
    np.testing.assert_array_equal(y_test, arrays[FILES[3]])
    assert y_train.dtype == np.int64
    (X_train, _), _ = load_mnist(tmp_path / "data", checksums=checksums, normalize=False, flatten=False,
                                 dtype=np.float64)
    np.testing.assert_array_equal(X_train, arrays[FILES[0]])
    assert X_train.dtype == np.float64
    with pytest.raises(TypeError, match="normalize=True needs a floating dtype"):
        load_mnist(tmp_path / "data", checksums=checksums, dtype=np.uint8)


def test_checksum_mismatch_names_file_folder_and_digests(tmp_path):
    _, checksums = make_fake_mnist(tmp_path / "data", seed=0)
    write_gz(tmp_path / "data" / FILES[3], idx_bytes(np.array([1, 2, 3], np.uint8), 2049))
    got = hashlib.md5((tmp_path / "data" / FILES[3]).read_bytes()).hexdigest()
    with pytest.raises(MNISTChecksumError) as caught:
        load_mnist(tmp_path / "data", checksums=checksums)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert FILES[3] in message and str(tmp_path / "data") in message
    assert checksums[FILES[3]].md5 in message and got in message
    assert message.startswith(f"Checksum mismatch for {FILES[3]} in {tmp_path / 'data'}: MD5 expected")


def test_sha256_is_checked_as_well_as_md5(tmp_path):
    _, checksums = make_fake_mnist(tmp_path / "data", seed=0)
    wrong_sha = "0" * 64
    checksums[FILES[2]] = mnist.Checksum(checksums[FILES[2]].md5, wrong_sha)
    expected = f"{FILES[2]} in .*: SHA-256 expected {wrong_sha} but got"
    with pytest.raises(MNISTChecksumError, match=expected) as caught:
        load_mnist(tmp_path / "data", checksums=checksums)
    assert "MD5" not in str(caught.value).split("\n")[0]


def test_genuine_checksums_reject_a_fake_dataset(tmp_path):
    make_fake_mnist(tmp_path / "data", seed=0)
    with pytest.raises(MNISTChecksumError, match="f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        load_mnist(tmp_path / "data")


def test_images_and_labels_must_agree(tmp_path):
    make_fake_mnist(tmp_path / "data", seed=0)
    write_gz(tmp_path / "data" / FILES[1], idx_bytes(np.zeros(6, np.uint8), 2049))  # 7 images, 6 labels
    with pytest.raises(MNISTFormatError, match="7 images but the labels file has 6 labels"):
        load_mnist(tmp_path / "data", checksums=checksums_of(tmp_path / "data"))


# ----------------------------------------------------------------------------------------------------
# Search order
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def four_places(tmp_path, isolated_home, monkeypatch):
    """Fake datasets in the argument folder, the env folder, the config folder and the cache."""
    places = {}
    for seed, name in enumerate(("argument", "env", "config", "cache")):
        folder = default_cache(isolated_home) if name == "cache" else tmp_path / name
        places[name] = (folder, *make_fake_mnist(folder, seed=seed))
    monkeypatch.setenv("NNCOURSE_MNIST_DIR", str(places["env"][0]))
    config = isolated_home / ".config" / "nncourse" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'mnist_dir = "{places["config"][0]}"\n')
    return places


def loaded_labels(place, data_dir=None):
    folder, arrays, checksums = place
    (_, y_train), _ = load_mnist(data_dir, checksums=checksums)
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])
    return y_train


def test_search_order(four_places, monkeypatch, isolated_home):
    assert mnist.find_mnist_dir(four_places["argument"][0]) == four_places["argument"][0]
    loaded_labels(four_places["argument"], four_places["argument"][0])
    assert mnist.find_mnist_dir() == four_places["env"][0]
    loaded_labels(four_places["env"])
    monkeypatch.delenv("NNCOURSE_MNIST_DIR")
    assert mnist.find_mnist_dir() == four_places["config"][0]
    loaded_labels(four_places["config"])
    (isolated_home / ".config" / "nncourse" / "config.toml").unlink()
    assert mnist.find_mnist_dir() == default_cache(isolated_home)
    loaded_labels(four_places["cache"])


def test_incomplete_folder_is_skipped(four_places):
    (four_places["argument"][0] / FILES[2]).unlink()
    assert mnist.find_mnist_dir(four_places["argument"][0]) == four_places["env"][0]


def test_config_file_location_and_relative_paths(tmp_path, monkeypatch, isolated_home):
    make_fake_mnist(tmp_path / "configs" / "digits", seed=0)
    config = tmp_path / "configs" / "course.toml"
    config.write_text('mnist_dir = "digits"  # relative to this file\n')
    monkeypatch.setenv("NNCOURSE_CONFIG", str(config))
    assert mnist.find_mnist_dir() == tmp_path / "configs" / "digits"
    monkeypatch.delenv("NNCOURSE_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "configs"))
    (tmp_path / "configs" / "nncourse").mkdir()
    (tmp_path / "configs" / "nncourse" / "config.toml").write_text('mnist_dir = "../digits"\n')
    assert mnist.find_mnist_dir().resolve() == tmp_path / "configs" / "digits"


def test_cache_dir_variables(monkeypatch, isolated_home, tmp_path):
    assert mnist.mnist_cache_dir() == default_cache(isolated_home)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist.mnist_cache_dir() == tmp_path / "xdg" / "nncourse" / "mnist"
    monkeypatch.setenv("NNCOURSE_CACHE_DIR", str(tmp_path / "course"))
    assert mnist.mnist_cache_dir() == tmp_path / "course" / "mnist"


def test_not_found_message_lists_every_place_and_the_remedies(tmp_path, monkeypatch, isolated_home):
    (tmp_path / "partial").mkdir()
    write_gz(tmp_path / "partial" / FILES[1], b"")
    monkeypatch.setenv("NNCOURSE_MNIST_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("NNCOURSE_CONFIG", str(tmp_path / "broken.toml"))
    (tmp_path / "broken.toml").write_text("mnist_dir = [unclosed\n")
    with pytest.raises(MNISTNotFoundError) as caught:
        load_mnist(tmp_path / "partial")
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    for expected in (
        f"{tmp_path / 'partial'} (data_dir argument): missing {FILES[0]}, {FILES[2]}, {FILES[3]}",
        f"{tmp_path / 'nowhere'} (NNCOURSE_MNIST_DIR): folder does not exist",
        f"config file {tmp_path / 'broken.toml'}: unreadable",
        f"{default_cache(isolated_home)} (user cache): folder does not exist",
        "NNCOURSE_MNIST_DIR", "download=True", "NNCOURSE_ALLOW_DOWNLOAD=1", "docs/data.md",
    ):
        assert expected in message
    monkeypatch.delenv("NNCOURSE_MNIST_DIR")
    monkeypatch.delenv("NNCOURSE_CONFIG")
    with pytest.raises(MNISTNotFoundError, match="NNCOURSE_MNIST_DIR: not set") as caught:
        load_mnist()
    assert "config.toml: not found" in str(caught.value)


# ----------------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------------


def test_parsed_arrays_are_cached_and_reused(tmp_path, monkeypatch, isolated_home):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=1)
    first = load_mnist(tmp_path / "data", checksums=checksums)
    cache_files = sorted(default_cache(isolated_home).glob("mnist-*.npz"))
    assert [path.name.split("-")[1] for path in cache_files] == ["test", "train"]  # one file per split
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o644 for path in cache_files)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(mnist, "read_idx_gz", no_parsing)
    second = load_mnist(tmp_path / "data", checksums=checksums)
    for (X1, y1), (X2, y2) in zip(first, second):
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)
    # other files (other checksums) never reuse that cache
    _, other_checksums = make_fake_mnist(tmp_path / "other", seed=2)
    with pytest.raises(AssertionError, match="the cache should have been used"):
        load_mnist(tmp_path / "other", checksums=other_checksums)


def test_damaged_cache_is_rebuilt(tmp_path, isolated_home):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=1)
    load_mnist(tmp_path / "data", checksums=checksums)
    (cache_file,) = default_cache(isolated_home).glob("mnist-train-*.npz")
    cache_file.write_bytes(b"not an npz file")
    (_, y_train), _ = load_mnist(tmp_path / "data", checksums=checksums)
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])
    assert cache_file.stat().st_size > 1000


def test_read_only_data_folder_is_never_written(tmp_path, isolated_home):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=1)
    before = listing(tmp_path / "data")
    (tmp_path / "data").chmod(0o555)
    try:
        (X_train, _), _ = load_mnist(tmp_path / "data", checksums=checksums)
    finally:
        (tmp_path / "data").chmod(0o755)
    assert listing(tmp_path / "data") == before
    assert len(list(default_cache(isolated_home).glob("mnist-*.npz"))) == 2


def test_unwritable_cache_still_loads(tmp_path, monkeypatch):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=1)
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    monkeypatch.setenv("NNCOURSE_CACHE_DIR", str(tmp_path / "blocker"))
    (_, y_train), _ = load_mnist(tmp_path / "data", checksums=checksums)
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])


# ----------------------------------------------------------------------------------------------------
# Download from a local server
# ----------------------------------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # the default handler logs to stderr
        pass

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local HTTP server: ``good/`` holds valid fake files, ``bad/`` damaged ones, ``empty/`` nothing."""
    root = tmp_path / "www"
    arrays, checksums = make_fake_mnist(root / "good", seed=3)
    shutil.copytree(root / "good", root / "bad")
    (root / "bad" / FILES[0]).write_bytes(b"damaged")
    (root / "empty").mkdir()
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    QuietHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    yield {"base": base, "arrays": arrays, "checksums": checksums, "requests": QuietHandler.requests}
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_tries_mirrors_in_order(mirror, isolated_home, capfd):
    mirrors = [mirror["base"] + "empty/", mirror["base"] + "good/"]
    (_, y_train), (_, y_test) = load_mnist(download=True, mirrors=mirrors, checksums=mirror["checksums"])
    np.testing.assert_array_equal(y_train, mirror["arrays"][FILES[1]])
    np.testing.assert_array_equal(y_test, mirror["arrays"][FILES[3]])
    downloaded = [p.name for p in default_cache(isolated_home).iterdir() if p.suffix == ".gz"]
    assert sorted(downloaded) == sorted(FILES)
    assert mirror["requests"][:2] == ["/empty/" + FILES[0], "/good/" + FILES[0]]
    out, err = capfd.readouterr()
    assert err == "" and "Downloading " + mirror["base"] + "good/" + FILES[0] in out
    # next time the cache folder is found by the search: no request at all
    count = len(mirror["requests"])
    load_mnist(mirrors=mirrors, checksums=mirror["checksums"])
    assert len(mirror["requests"]) == count


def test_download_only_when_allowed(mirror, monkeypatch, isolated_home):
    mirrors = [mirror["base"] + "good/"]
    with pytest.raises(MNISTNotFoundError, match="download=True"):
        load_mnist(mirrors=mirrors, checksums=mirror["checksums"])
    monkeypatch.setenv("NNCOURSE_ALLOW_DOWNLOAD", "1")
    with pytest.raises(MNISTNotFoundError):
        load_mnist(download=False, mirrors=mirrors, checksums=mirror["checksums"])
    assert mirror["requests"] == []
    (_, y_train), _ = load_mnist(mirrors=mirrors, checksums=mirror["checksums"])
    np.testing.assert_array_equal(y_train, mirror["arrays"][FILES[1]])


def test_download_rejects_damaged_files_and_reports_every_url(mirror, isolated_home):
    mirrors = [mirror["base"] + "bad/", mirror["base"] + "empty/"]
    with pytest.raises(MNISTDownloadError) as caught:
        load_mnist(download=True, mirrors=mirrors, checksums=mirror["checksums"])
    message = str(caught.value)
    assert isinstance(caught.value, MNISTNotFoundError)
    expected_md5 = mirror["checksums"][FILES[0]].md5
    assert f"{mirror['base']}bad/{FILES[0]}: MD5 expected {expected_md5} but got " in message
    assert re.search(rf"{re.escape(mirror['base'])}empty/{FILES[0]}: HTTPError: HTTP Error 404", message)
    leftovers = [p.name for p in default_cache(isolated_home).iterdir() if FILES[0] in p.name]
    assert leftovers == []  # neither the damaged file nor a temporary file stays behind


# ----------------------------------------------------------------------------------------------------
# The training set alone, and its validation split
# ----------------------------------------------------------------------------------------------------


def make_train_only(folder: Path, seed: int, n_train: int = 7):
    """The two training files of ``make_fake_mnist`` alone; their arrays and a checksum table of them."""
    arrays, checksums = make_fake_mnist(folder, seed=seed, n_train=n_train)
    for name in FILES[2:]:
        (folder / name).unlink()
    return arrays, {name: checksums[name] for name in FILES[:2]}


def test_training_set_loads_from_a_folder_without_the_test_files(tmp_path):
    arrays, checksums = make_train_only(tmp_path / "data", seed=0)
    X, y = load_mnist_train(tmp_path / "data", checksums=checksums)
    assert X.shape == (7, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, arrays[FILES[0]].reshape(7, 784) / np.float32(255))
    np.testing.assert_array_equal(y, arrays[FILES[1]])
    X, _ = load_mnist_train(tmp_path / "data", checksums=checksums, normalize=False, flatten=False, dtype=np.uint8)
    np.testing.assert_array_equal(X, arrays[FILES[0]])
    with pytest.raises(TypeError, match="normalize=True needs a floating dtype"):
        load_mnist_train(tmp_path / "data", checksums=checksums, dtype=np.uint8)
    # the same folder is not enough for load_mnist, which names the missing test files
    unused = {name: mnist.Checksum("0" * 32, "0" * 64) for name in FILES[2:]}  # files that are not there
    with pytest.raises(MNISTNotFoundError, match=f"\\(data_dir argument\\): missing {FILES[2]}, {FILES[3]}\n"):
        load_mnist(tmp_path / "data", checksums={**checksums, **unused})


def test_training_set_never_reads_or_checks_the_test_files(tmp_path, monkeypatch):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=4)
    write_gz(tmp_path / "data" / FILES[2], b"damaged test images")  # would fail both checksums and parsing
    opened = []
    real_read = mnist.read_idx_gz
    monkeypatch.setattr(mnist, "read_idx_gz", lambda path, **kw: opened.append(Path(path).name) or real_read(path, **kw))
    X, y = load_mnist_train(tmp_path / "data", checksums=checksums)  # the full table is accepted too
    np.testing.assert_array_equal(y, arrays[FILES[1]])
    assert opened == list(FILES[:2])
    with pytest.raises(MNISTChecksumError, match=FILES[2]):
        load_mnist(tmp_path / "data", checksums=checksums)


def test_training_set_checks_its_own_checksums(tmp_path):
    _, checksums = make_train_only(tmp_path / "data", seed=0)
    with pytest.raises(MNISTChecksumError, match=f"Checksum mismatch for {FILES[0]}"):
        load_mnist_train(tmp_path / "data")  # the official checksums reject the fake files
    with pytest.raises(ValueError, match="checksums must have the keys"):
        load_mnist_train(tmp_path / "data", checksums={FILES[0]: checksums[FILES[0]]})


def test_training_set_search_and_not_found_message(tmp_path, monkeypatch, isolated_home):
    _, checksums = make_train_only(tmp_path / "train-only", seed=1)
    monkeypatch.setenv("NNCOURSE_MNIST_DIR", str(tmp_path / "train-only"))
    assert mnist.find_mnist_dir(files=mnist.TRAIN_FILES) == tmp_path / "train-only"
    with pytest.raises(MNISTNotFoundError):
        mnist.find_mnist_dir()
    X, _ = load_mnist_train(checksums=checksums)  # found through NNCOURSE_MNIST_DIR
    assert X.shape == (7, 784)
    monkeypatch.setenv("NNCOURSE_MNIST_DIR", str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(MNISTNotFoundError) as caught:
        load_mnist_train(tmp_path / "empty", checksums=checksums)
    message = str(caught.value)
    assert message.startswith(f"Could not find the MNIST files {FILES[0]}, {FILES[1]}.\n")
    assert f"{tmp_path / 'empty'} (data_dir argument): missing {FILES[0]}, {FILES[1]}\n" in message
    assert "t10k" not in message and "NNCOURSE_MNIST_DIR" in message


def test_training_set_cache_is_shared_with_load_mnist(tmp_path, monkeypatch, isolated_home):
    arrays, checksums = make_fake_mnist(tmp_path / "data", seed=5)
    X, y = load_mnist_train(tmp_path / "data", checksums=checksums)
    assert [p.name.split("-")[1] for p in default_cache(isolated_home).glob("mnist-*.npz")] == ["train"]
    opened = []
    real_read = mnist.read_idx_gz
    monkeypatch.setattr(mnist, "read_idx_gz", lambda path, **kw: opened.append(Path(path).name) or real_read(path, **kw))
    (X_train, y_train), (_, y_test) = load_mnist(tmp_path / "data", checksums=checksums)
    assert opened == list(FILES[2:])  # the training set came from the cache
    np.testing.assert_array_equal(X_train, X)
    np.testing.assert_array_equal(y_test, arrays[FILES[3]])


def test_training_set_download_fetches_only_the_training_files(mirror, isolated_home):
    train_checksums = {name: mirror["checksums"][name] for name in FILES[:2]}
    with pytest.raises(MNISTNotFoundError, match="download=True"):
        load_mnist_train(mirrors=[mirror["base"] + "good/"], checksums=train_checksums)
    X, y = load_mnist_train(download=True, mirrors=[mirror["base"] + "good/"], checksums=train_checksums)
    np.testing.assert_array_equal(y, mirror["arrays"][FILES[1]])
    assert mirror["requests"] == ["/good/" + FILES[0], "/good/" + FILES[1]]
    assert sorted(p.name for p in default_cache(isolated_home).glob("*.gz")) == sorted(FILES[:2])


def test_validation_split_is_a_fixed_partition():
    X = np.arange(60000, dtype=np.float32).reshape(-1, 1) * np.ones((1, 3), np.float32)
    y = np.arange(60000) % 10
    X_before, y_before = X.copy(), y.copy()
    (X_fit, y_fit), (X_val, y_val) = validation_split(X, y)
    assert X_fit.shape == (55000, 3) and X_val.shape == (5000, 3) and X_val.dtype == np.float32
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    ids_fit, ids_val = X_fit[:, 0].astype(int), X_val[:, 0].astype(int)
    assert sorted(np.concatenate([ids_fit, ids_val]).tolist()) == list(range(60000))  # a partition
    np.testing.assert_array_equal(y_fit, ids_fit % 10)  # pairs kept
    np.testing.assert_array_equal(y_val, ids_val % 10)
    assert not np.array_equal(np.sort(ids_val), np.arange(5000))  # a random sample, not the first images
    # the same on every call and machine: the permutation of default_rng(0), as train_val_split(…, 1/12, rng=0)
    np.testing.assert_array_equal(ids_val, np.random.default_rng(0).permutation(60000)[:5000])
    (_, y_fit2), (X_val2, _) = datasets.train_val_split(X, y, 1 / 12, rng=0)
    np.testing.assert_array_equal(X_val2, X_val)
    np.testing.assert_array_equal(y_fit2, y_fit)
    (_, _), (X_other, _) = validation_split(X, y, 100, seed=1)
    assert len(X_other) == 100 and not np.array_equal(X_other, X_val[:100])


@pytest.mark.parametrize("n_val", [0, 10, -1, 2.5, True])
def test_validation_split_rejects_bad_sizes(n_val):
    with pytest.raises(ValueError, match="n_val must be an integer between 1 and 9"):
        validation_split(np.zeros((10, 2)), np.zeros(10), n_val)


def test_validation_split_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="one sample per row"):
        validation_split(np.zeros((10, 2)), np.zeros(9), 3)
